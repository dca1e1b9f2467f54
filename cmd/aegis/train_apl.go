package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/aegis-safety/aegis/native/rundir"
	"github.com/aegis-safety/aegis/native/train"
)

const aplAbout = `APL (adversarial preference learning). A conditional attacker, a language model
(--attacker, default the defender's model), writes --k rewrites x' of each harmful prompt
by sampling from a rewrite instruction. Each rewrite is scored with the defender's own
log-probabilities, no judge:

  R = log pi(y_dis|x')/pi(y_pre|x') - alpha * log pi_ref(y_dis|x')/pi_ref(y_pre|x')

with y_pre the row's "chosen" (refusal) and y_dis its "rejected" (compliance), pi_ref the
defender at the start. The best and worst rewrite train the attacker by DPO (best
preferred), the best trains the defender by DPO on (x'_best, chosen, rejected); repeat for
--rounds. With alpha = 1, R is 0 for every rewrite until the defender moves, so the first
round teaches the attacker nothing; the default 0.5 keeps part of the reference's own
log-ratio in the score.

The run folder holds config.json (method "apl" with an "apl" object), events.jsonl (one
line per round: round, loss (the defender's), R/best, R/worst, R/mean, R/best_after (the
best rewrites re-scored after the defender's update), attacker/... and defender/...
loss, rewards/chosen, rewards/rejected, rewards/margins, rewards/accuracies, pairs),
final/ (the defender, as other methods write it) and final/attacker/ (the attacker as a
full model folder). APL runs are not checkpointed and cannot be resumed.`

// isAPL reports whether train's arguments select --method apl, which has its own flags.
func isAPL(args []string) bool {
	for i, a := range args {
		switch {
		case a == "--method=apl" || a == "-method=apl":
			return true
		case (a == "--method" || a == "-method") && i+1 < len(args) && args[i+1] == "apl":
			return true
		}
	}
	return false
}

// aplUsage is the usage of the shared training flags whose meaning APL's two players
// change.
var aplUsage = map[string]string{
	"method":       "apl",
	"model":        "the defender's model folder (with tokenizer.json)",
	"data":         `preference rows {"prompt","chosen","rejected"}: chosen a refusal, rejected a compliance`,
	"full":         "full fine-tuning of both players instead of LoRA (loads reference copies)",
	"lr":           "peak learning rate (both players)",
	"weight-decay": "weight decay",
	"lr-scheduler": "learning-rate decay over all rounds: linear, cosine or constant",
	"warmup-steps": "linear warmup steps",
	"batch-size":   "pairs per forward pass (and rewrites scored per pass)",
	"beta":         "DPO beta of both players",
	"seed":         "seed for prompt order, LoRA initialisation and the attacker's sampling",
	"no-shuffle":   "take prompts in the data file's order",
}

// aplRun is one `aegis train --method apl` invocation.
type aplRun struct {
	cfg   train.Config
	opt   train.APLOptions
	out   string
	merge bool
}

func runTrainAPL(ctx context.Context, c *cli, args []string) error {
	r, err := parseTrainAPL(args, c.stdout)
	if err != nil {
		return err
	}
	cfg, o := &r.cfg, &r.opt
	pairs, err := train.LoadTextPairs(cfg.Data)
	if err != nil {
		return err
	}
	ms, err := train.LoadAPLModels(cfg.Model, o.Attacker, cfg.Full)
	if err != nil {
		return err
	}
	a, err := train.NewAPL(ms, pairs, *cfg, *o, r.out)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	c.handleInterrupt()
	a.OnRound = func(e train.APLEvent) {
		fmt.Fprintf(c.progress, "train apl: round %d/%d: R best %.3f worst %.3f, after defence %.3f; defender loss %.4f\n",
			e.Round, o.Rounds, e.RBest, e.RWorst, e.RBestAfter, e.Loss)
	}
	err = a.Run(ctx)
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted; APL runs are not checkpointed, the rounds so far are in %s", filepath.Join(r.out, rundir.EventsFile))
	}
	if err != nil {
		return err
	}
	final := filepath.Join(r.out, rundir.FinalDir)
	if err := a.SaveFinal(final, r.merge, cfg.Model, o.Attacker); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "trained %d rounds; defender in %s, attacker in %s\n", o.Rounds, final, filepath.Join(final, "attacker"))
	return nil
}

// printAPLFlags ends `aegis train --help` with the flags of --method apl that the other
// methods lack, and --alpha, which means something else there.
func printAPLFlags(w io.Writer) {
	main, _ := newTrainFlags(io.Discard)
	apl, _, _ := newAPLFlags(io.Discard)
	only := flag.NewFlagSet("apl", flag.ContinueOnError)
	apl.VisitAll(func(f *flag.Flag) {
		if main.Lookup(f.Name) == nil || f.Name == "alpha" {
			only.Var(f.Value, f.Name, f.Usage)
		}
	})
	fmt.Fprintf(w, "\n--method apl takes most of the flags above (for both players; 'aegis train --method apl\n--help' lists them) and these:\n")
	only.SetOutput(w)
	only.PrintDefaults()
}

// parseTrainAPL reads APL's flags: the shared training flags APL uses (defaults from
// train.DefaultConfig) and its own.
func parseTrainAPL(args []string, stdout io.Writer) (*aplRun, error) {
	fs, r, cf := newAPLFlags(stdout)
	if err := fs.parse(args); err != nil {
		return nil, err
	}
	cf.done()
	c, o := &r.cfg, &r.opt
	// APL has no flag for these settings and does not use them: config.json records 0.
	c.Alpha, c.SaveSteps, c.SaveLimit = 0, 0, 0
	if o.Attacker == "" {
		o.Attacker = c.Model
	}
	if err := fs.Required("model", "data", "out"); err != nil {
		return nil, err
	}
	switch {
	case r.merge && c.Full:
		return nil, fmt.Errorf("%w: --merge applies to LoRA runs", errUsage)
	}
	if _, err := os.Stat(filepath.Join(r.out, rundir.ConfigFile)); err == nil {
		return nil, fmt.Errorf("%s already holds a run; choose another --out (APL runs cannot be resumed)", r.out)
	}
	return r, nil
}

// newAPLFlags is the flag set of `aegis train --method apl`, bound to a new aplRun.
func newAPLFlags(stdout io.Writer) (*flagSet, *aplRun, *configFlags) {
	fs := newFlags("train", "--method apl --model DIR --data FILE --out RUNDIR [--attacker DIR] [--k K] [--rounds N] [--alpha A] [flags]", aplAbout, stdout)
	r := &aplRun{}
	cf := bindConfig(fs, &r.cfg, aplUsage, "method", "model", "data", "full", "lora-rank", "lora-alpha", "lora-targets",
		"optimizer", "lr", "weight-decay", "momentum", "lr-scheduler", "warmup-steps", "batch-size", "grad-accum", "beta",
		"max-grad-norm", "seed", "no-shuffle")
	o := &r.opt
	fs.StringVar(&r.out, "out", "", "run folder")
	fs.StringVar(&o.Attacker, "attacker", "", "the attacker's model folder (default: --model)")
	fs.IntVar(&o.K, "k", 4, "rewrites per prompt and round")
	fs.IntVar(&o.Rounds, "rounds", 3, "rounds of attack and defence")
	fs.Float64Var(&o.Alpha, "alpha", 0.5, "weight of the reference's log-ratio in R")
	fs.IntVar(&o.PromptsPerRound, "prompts-per-round", 0, "prompts per round, cycling through the data (0: all)")
	fs.Float64Var(&o.Temperature, "temperature", 1, "the attacker's sampling temperature")
	fs.Float64Var(&o.TopP, "top-p", 1, "the attacker's nucleus sampling")
	fs.IntVar(&o.MaxRewriteTokens, "max-rewrite-tokens", 64, "longest rewrite in tokens")
	fs.StringVar(&o.Instruction, "instruction", "", "the attacker's rewrite instruction, containing {prompt} (default: a built-in one)")
	fs.BoolVar(&r.merge, "merge", false, "fold the defender's LoRA adapter into its base and write a full model to final/")
	return fs, r, cf
}
