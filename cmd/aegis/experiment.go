package main

// experimentGroup is `aegis experiment`: the method comparisons on the embedded model,
// each a set of run folders that 'aegis serve' shows.
var experimentGroup = group{name: "experiment", note: "Run 'aegis experiment NAME --help' for its flags.", subs: []subcommand{
	{"secvec", "fine-tune the retrofitted model on benign data mixed with harmful examples, with\nand without security vectors, and compare the harmful rates", runExperimentSecvec},
	{"compare", "base vs DPO, PT-ALIGN, APL, TSDI and security vectors on the same splits", runExperimentCompare},
}}
