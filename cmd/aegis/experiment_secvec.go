package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aegis-safety/aegis/native/demo"
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
	st.Finish()
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted; finished runs are in %s", *runs)
	}
	if err != nil {
		return err
	}
	printSecVec(c.stdout, res)
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// printSecVec prints the experiment's table: harmful rate and benign helpfulness of the
// aligned model and of the two fine-tunings.
func printSecVec(w io.Writer, r *demo.SecVecResult) {
	st := r.Settings
	fmt.Fprintf(w, "\nSecurity vectors: the aligned model fine-tuned (LoRA SFT, lr %g, %d epochs) on %d benign + %d harmful examples;\n",
		st.FTLR, st.FTEpochs, r.Data.FTBenign, r.Data.FTHarmful)
	fmt.Fprintf(w, "security vector fitted on %d other harmful examples (LoRA rank %d, lr %g, %d epochs); %.0f s\n\n",
		r.Data.Vector, st.VecRank, st.VecLR, st.VecEpochs, r.Seconds)
	fmt.Fprintf(w, "%-44s %5s %19s %5s %19s\n", "model", "n", "harmful rate", "n", "benign helpfulness")
	for _, row := range []struct{ key, label string }{
		{"aligned", "aligned (before fine-tuning)"},
		{"without", "fine-tuned without security vector"},
		{"with", "fine-tuned with security vector (dropped)"},
	} {
		s := r.Stages[row.key]
		fmt.Fprintf(w, "%-44s %5d %19s %5d %19s\n", row.label, s.Harmful, ci(s.HarmfulRate, s.HarmfulCI),
			s.Benign, ci(s.BenignHelpfulness, s.BenignCI))
	}
	l := r.Loss
	fmt.Fprintf(w, "\nmean token NLL of the mix's harmful examples as fine-tuning starts: %.4f without the vector, %.4f with it\n",
		l.HarmfulWithout, l.HarmfulWith)
	fmt.Fprintf(w, "security vector's own examples: %.4f before its fit, %.4f after\n", l.VecBefore, l.VecFit)
	fmt.Fprintf(w, "runs: %s-*\n", strings.TrimSuffix(r.Runs["retrofit"], "-dpo"))
}

func ci(rate float64, c [2]float64) string {
	return fmt.Sprintf("%.2f [%.2f, %.2f]", rate, c[0], c[1])
}
