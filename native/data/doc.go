// Package data builds and converts safety datasets: the prompts format every aegis command
// reads ({"id","prompt","category","source","split"}), the seed data the project ships
// (short harmful requests per harm category, benign look-alike prompts for over-refusal,
// safe refusals; never harmful answers), the Egida-style builder that crosses seeds with
// attack styles and holds out topics and styles, importers for the public benchmark
// formats, and exporters of preference pairs to TRL and OpenRLHF.
//
// Readers never drop a row silently: a malformed row is an error naming FILE:LINE, or,
// when the caller asks to skip bad rows, a counted and reported skip.
package data
