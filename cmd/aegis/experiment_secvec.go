package main

import (
	"context"
	"fmt"

	"github.com/aegis-safety/aegis/internal/demo"
)

func runExperimentSecvec(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("experiment secvec", "[--json FILE] [--runs DIR]",
		`Security vectors (Zhou et al.) on the embedded model, with no network. A user fine-tunes
an aligned model on their own data, benign examples with harmful ones mixed in, and the
fine-tuning undoes the alignment; a security vector, a LoRA adapter fitted beforehand on a
small harmful set with the base frozen, loaded enabled and frozen during the fine-tuning,
keeps the harmful examples' loss low, so the model learns little harm. It is dropped
afterwards. The experiment:

  1. aligns the organism as 'aegis demo' does (Egida-style pairs, LoRA DPO), with the DPO
     adapter merged into the base (the -dpo run's aligned/ folder), and evaluates it;
  2. fits a security vector (LoRA, method secvec) on --vector-examples harmful examples:
     training tasks' prompts, plain and under training attack styles, with the organism's
     placeholder compliance as the answer;
  3. fine-tunes the aligned model with LoRA SFT on a mix of benign examples (everyday
     requests with their helpful answers) and harmful ones on other training tasks, once
     without and once with the security vector, and evaluates both with it dropped.

The evaluation is the demo's (tasks neither set holds): harmful_rate is the judged-unsafe
share of the harmful attempts (training and held-out attack styles, held-out topics),
benign_helpfulness the share of benign look-alikes answered rather than refused, both by
the built-in judge. Every training and scan is a run folder under --runs, named
secvec-TIME-*, that 'aegis serve --runs DIR' shows live.`, c.stdout)
	jsonOut := fs.String("json", "", `write {"harmful_rate_without","harmful_rate_with",...,"runs":{...}} to this file`)
	runs := fs.String("runs", defaultRunsDir(), "folder for the run folders")
	modelDir := fs.String("model", "", "use this (unaligned) model folder instead of the embedded model")
	seed := fs.Uint64("seed", 1, "seed of the data and the training")
	vecN := fs.Int("vector-examples", 0, "harmful examples the security vector is fitted on (default 100)")
	vecLR := fs.Float64("vector-lr", 0, "security vector learning rate (default 2e-3)")
	vecEpochs := fs.Int("vector-epochs", 0, "security vector epochs (default 6)")
	ftHarmful := fs.Int("ft-harmful", 0, "harmful examples in the fine-tuning mix (default 56, one per fine-tuning task)")
	ftBenign := fs.Int("ft-benign", 0, "benign examples in the fine-tuning mix (default twice --ft-harmful)")
	ftLR := fs.Float64("ft-lr", 0, "fine-tuning learning rate (default 1e-3)")
	ftEpochs := fs.Int("ft-epochs", 0, "fine-tuning epochs (default 3)")
	var lf limitFlags
	lf.register(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	o := demo.SecVecOptions{Options: demo.Options{RunsDir: *runs, Seed: *seed},
		VecExamples: *vecN, VecLR: *vecLR, VecEpochs: *vecEpochs,
		FTHarmful: *ftHarmful, FTBenign: *ftBenign, FTLR: *ftLR, FTEpochs: *ftEpochs}
	closePl, err := c.openPipeline(ctx, &o.Options, *modelDir, lf, *jsonOut)
	if err != nil {
		return err
	}
	defer closePl()
	st := c.stages("secvec: ", &o.Options)
	fmt.Fprintf(c.progress, "experiment secvec: model %s; runs in %s (watch them with: aegis serve --runs %s)\n", o.ModelDir, *runs, *runs)
	res, err := demo.SecVec(ctx, o)
	return c.finishPipeline(st, "runs", *runs, *jsonOut, res, err)
}
