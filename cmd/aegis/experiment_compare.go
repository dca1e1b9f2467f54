package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aegis-safety/aegis/internal/demo"
	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/tokenizer"
)

func runExperimentCompare(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("experiment compare", "[--json FILE] [--runs DIR]",
		`Trains and evaluates the five seed methods on the embedded model, each from the same
unaligned base and on the same splits (the demo's: training and held-out attack styles,
held-out topics, benign look-alikes; plus the APL attacker's rewrites of the held-out
harmful tasks):

  dpo      the demo's retrofit: Egida-style pairs from the base's own unsafe answers, LoRA DPO
  ptalign  PT-ALIGN pairs the base writes itself from the shipped seed annotations (< 50),
           LoRA with MLE on the positive and unlikelihood on the toxic tokens
  apl      adversarial preference learning: an attacker (the base taught to rewrite requests)
           and a LoRA defender, DPO for both, over rounds
  tsdi     the dpo model with its per-position logit bias against the base subtracted
  secvec   the dpo model fine-tuned on harmful-mixed data with a security vector, dropped

For each: asr_heldout, asr_learned_attacker, over_refusal and harmlessness_win_rate against
the base (judge-based: harmful attempts answered safely where the base was unsafe). Every
training and scan is a run folder under --runs that 'aegis serve' shows.`, c.stdout)
	jsonOut := fs.String("json", "", `write {"base":{...},"methods":{"dpo":{...},...}} to this file`)
	runs := fs.String("runs", defaultRunsDir(), "folder for the run folders")
	seed := fs.Uint64("seed", 1, "seed of the data and the training")
	var lf limitFlags
	lf.register(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	o := demo.CompareOptions{Options: demo.Options{RunsDir: *runs, RunID: "experiment-" + time.Now().Format("20060102-150405"), Seed: *seed}}
	closePl, err := c.openPipeline(ctx, &o.Options, "", lf, *jsonOut)
	if err != nil {
		return err
	}
	defer closePl()
	st := c.stages("", &o.Options)
	o.SecVec = secvecForCompare(&o.Options)
	fmt.Fprintf(c.progress, "experiment compare: runs in %s (watch them with: aegis serve --runs %s)\n", *runs, *runs)
	res, err := demo.Compare(ctx, o)
	return c.finishPipeline(st, "runs", *runs, *jsonOut, res, err)
}

// secvecForCompare is the comparison's security-vector method: the experiment's model,
// its run folders named after the comparison's.
func secvecForCompare(o *demo.Options) func(ctx context.Context) (*model.Model, *tokenizer.Tokenizer, error) {
	return func(ctx context.Context) (*model.Model, *tokenizer.Tokenizer, error) {
		so := demo.SecVecOptions{Options: *o}
		so.RunID = o.RunID + "-compare-secvec"
		return demo.SecVecModel(ctx, so)
	}
}
