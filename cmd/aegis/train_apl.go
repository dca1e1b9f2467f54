package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/tokenizer"
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

func runTrainAPL(args []string, stdout io.Writer) error {
	fs := newFlags("train", "--method apl --model DIR --data FILE --out RUNDIR [--attacker DIR] [--k K] [--rounds N] [--alpha A] [flags]", aplAbout, stdout)
	var c train.Config
	var o train.APLOptions
	fs.StringVar(&c.Method, "method", "", "apl")
	fs.StringVar(&c.Model, "model", "", "the defender's model folder (with tokenizer.json)")
	fs.StringVar(&c.Data, "data", "", "preference rows {\"prompt\",\"chosen\",\"rejected\"}: chosen a refusal, rejected a compliance")
	out := fs.String("out", "", "run folder")
	fs.StringVar(&o.Attacker, "attacker", "", "the attacker's model folder (default: --model)")
	fs.IntVar(&o.K, "k", 4, "rewrites per prompt and round")
	fs.IntVar(&o.Rounds, "rounds", 3, "rounds of attack and defence")
	fs.Float64Var(&o.Alpha, "alpha", 0.5, "weight of the reference's log-ratio in R")
	fs.IntVar(&o.PromptsPerRound, "prompts-per-round", 0, "prompts per round, cycling through the data (0: all)")
	fs.Float64Var(&o.Temperature, "temperature", 1, "the attacker's sampling temperature")
	fs.Float64Var(&o.TopP, "top-p", 1, "the attacker's nucleus sampling")
	fs.IntVar(&o.MaxRewriteTokens, "max-rewrite-tokens", 64, "longest rewrite in tokens")
	fs.StringVar(&o.Instruction, "instruction", "", "the attacker's rewrite instruction, containing {prompt} (default: a built-in one)")
	fs.BoolVar(&c.Full, "full", false, "full fine-tuning of both players instead of LoRA (loads reference copies)")
	fs.IntVar(&c.LoRARank, "lora-rank", 8, "LoRA rank r")
	fs.Float64Var(&c.LoRAAlpha, "lora-alpha", 16, "LoRA alpha (scale alpha/r)")
	targets := fs.String("lora-targets", strings.Join(model.AllTargets, ","), "comma-separated modules LoRA adapts")
	fs.StringVar(&c.Optimizer, "optimizer", "adamw", "adamw or sgd")
	fs.Float64Var(&c.LR, "lr", 5e-5, "peak learning rate (both players)")
	fs.Float64Var(&c.WeightDecay, "weight-decay", 0, "weight decay")
	fs.Float64Var(&c.Momentum, "momentum", 0, "SGD momentum")
	fs.StringVar(&c.Schedule, "lr-scheduler", "linear", "learning-rate decay over all rounds: linear, cosine or constant")
	fs.IntVar(&c.Warmup, "warmup-steps", 0, "linear warmup steps")
	fs.IntVar(&c.BatchSize, "batch-size", 8, "pairs per forward pass (and rewrites scored per pass)")
	fs.IntVar(&c.GradAccum, "grad-accum", 1, "micro-batches per optimizer step")
	fs.Float64Var(&c.Beta, "beta", 0.1, "DPO beta of both players")
	fs.Float64Var(&c.MaxGradNorm, "max-grad-norm", 1, "clip the global gradient norm to this (0 disables)")
	seed := fs.Uint64("seed", 42, "seed for prompt order, LoRA initialisation and the attacker's sampling")
	noShuffle := fs.Bool("no-shuffle", false, "take prompts in the data file's order")
	merge := fs.Bool("merge", false, "fold the defender's LoRA adapter into its base and write a full model to final/")
	if err := fs.parse(args); err != nil {
		return err
	}
	c.Seed, c.Shuffle, c.Epochs = *seed, !*noShuffle, 1
	c.LoRATargets = strings.Split(*targets, ",")
	if o.Attacker == "" {
		o.Attacker = c.Model
	}
	switch {
	case c.Model == "":
		return fmt.Errorf("%w: --model is required", errUsage)
	case c.Data == "":
		return fmt.Errorf("%w: --data is required", errUsage)
	case *out == "":
		return fmt.Errorf("%w: --out is required", errUsage)
	case *merge && c.Full:
		return fmt.Errorf("%w: --merge applies to LoRA runs", errUsage)
	}
	if _, err := os.Stat(filepath.Join(*out, "config.json")); err == nil {
		return fmt.Errorf("%s already holds a run; choose another --out (APL runs cannot be resumed)", *out)
	}
	pairs, err := train.LoadTextPairs(c.Data)
	if err != nil {
		return err
	}
	load := func(dir string) (*model.Model, *tokenizer.Tokenizer, error) {
		m, err := model.Load(dir, model.Options{})
		if err != nil {
			return nil, nil, err
		}
		tok, err := tokenizer.Load(dir)
		return m, tok, err
	}
	var ms train.APLModels
	if ms.Defender, ms.DefenderTok, err = load(c.Model); err != nil {
		return err
	}
	if ms.Attacker, ms.AttackerTok, err = load(o.Attacker); err != nil {
		return err
	}
	if c.Full {
		if ms.DefenderRef, _, err = load(c.Model); err != nil {
			return err
		}
		if ms.AttackerRef, _, err = load(o.Attacker); err != nil {
			return err
		}
	}
	a, err := train.NewAPL(ms, pairs, c, o, *out)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a.OnRound = func(e train.APLEvent) {
		fmt.Fprintf(progressOut, "train apl: round %d/%d: R best %.3f worst %.3f, after defence %.3f; defender loss %.4f\n",
			e.Round, o.Rounds, e.RBest, e.RWorst, e.RBestAfter, e.Loss)
	}
	err = a.Run(ctx)
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted; APL runs are not checkpointed, the rounds so far are in %s", filepath.Join(*out, "events.jsonl"))
	}
	if err != nil {
		return err
	}
	final := filepath.Join(*out, "final")
	if err := a.SaveFinal(final, *merge, c.Model, o.Attacker); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "trained %d rounds; defender in %s, attacker in %s\n", o.Rounds, final, filepath.Join(final, "attacker"))
	return nil
}
