package main

import (
	"context"
	"fmt"
)

// experiments are the method comparisons on the embedded model (`aegis experiment NAME`).
var experiments = map[string]func(ctx context.Context, c *cli, args []string) error{
	"secvec":  runExperimentSecvec,
	"compare": runExperimentCompare,
}

func runExperiment(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(c.stdout, `Usage: aegis experiment secvec|compare [flags]

Experiments on the embedded model, each a set of run folders that 'aegis serve' shows:
  secvec   fine-tune the retrofitted model on benign data mixed with harmful examples, with
           and without security vectors, and compare the harmful rates
  compare  base vs DPO, PT-ALIGN, APL, TSDI and security vectors on the same splits

Run 'aegis experiment NAME --help' for its flags.
`)
		if len(args) == 0 {
			return fmt.Errorf("%w: name an experiment", errUsage)
		}
		return nil
	}
	run, ok := experiments[args[0]]
	if !ok {
		return fmt.Errorf("%w: unknown experiment %q (secvec, compare)", errUsage, args[0])
	}
	return run(ctx, c, args[1:])
}
