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
	"time"

	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/tokenizer"
	"github.com/aegis-safety/aegis/native/train"
)

const trainAbout = `Fine-tunes a model with an alignment objective and writes a run folder:
  config.json      the run's settings
  events.jsonl     one JSON object per optimizer step: step, loss, lr, grad_norm, tokens,
                   and TRL's rewards/chosen, rewards/rejected, rewards/margins,
                   rewards/accuracies, logps/chosen, logps/rejected (dpo, ipo) or mle, ul
                   (ptalign)
  ref_logps.json   the reference log-probs (dpo, ipo), computed once at the start
  checkpoint-N/    trainable weights, optimizer state, step, data position and RNG
  final/           the result: a PEFT adapter (adapter_model.safetensors +
                   adapter_config.json), or with --full or --merge an HF model folder
                   (model.safetensors float32, config.json, tokenizer files)

Methods:
  sft      mean over response tokens of -log p ({"prompt","completion"}, {"messages"}, or
           preference rows trained on "chosen")
  dpo      TRL's DPO: mean over pairs of -log sigmoid(beta*h), h = (logp_c - ref_c) -
           (logp_r - ref_r), reference = the model at the start of training
  ipo      TRL's IPO: mean over pairs of (h - 1/(2 beta))^2 on length-averaged log-probs
  ptalign  MLE on chosen tokens + alpha * mean -log(1-p) over rejected tokens whose id is
           not in the chosen response (or flagged by "toxic_token_mask")
  secvec   fits a LoRA security vector on harmful examples (SFT rows, or preference rows
           trained on "rejected"), base frozen; pass its final/ to later runs with
           --security-vectors to keep it active and frozen there and out of the result

Data is JSONL: TRL preference rows {"prompt","chosen","rejected"} (strings, or message
lists with the chat template applied; without "prompt", the common start of chosen and
rejected is the prompt, as in TRL) or pre-tokenized rows {"prompt_input_ids",
"chosen_input_ids","rejected_input_ids"} (or "completion_input_ids"), which need no
tokenizer. Errors in the data name FILE:LINE. Ctrl-C writes a checkpoint; --resume
continues the run bit-exactly. A NaN or infinite loss, gradient or weight stops the run
without saving that state, so the last checkpoint stays good.`

func runTrain(args []string, stdout io.Writer) error {
	if isAPL(args) {
		return runTrainAPL(args, stdout) // APL has its own flags: train_apl.go
	}
	fs := newFlags("train", "--method sft|dpo|ipo|ptalign|secvec --model DIR --data FILE --out RUNDIR [flags]", trainAbout, stdout)
	var c train.Config
	fs.StringVar(&c.Method, "method", "", "objective: sft, dpo, ipo, ptalign or secvec")
	fs.StringVar(&c.Model, "model", "", "model folder (config.json, model.safetensors, tokenizer.json for text data)")
	fs.StringVar(&c.Data, "data", "", "training data (JSONL)")
	out := fs.String("out", "", "run folder")
	fs.BoolVar(&c.Full, "full", false, "full fine-tuning of every base weight instead of LoRA")
	fs.IntVar(&c.LoRARank, "lora-rank", 8, "LoRA rank r")
	fs.Float64Var(&c.LoRAAlpha, "lora-alpha", 16, "LoRA alpha (scale alpha/r)")
	targets := fs.String("lora-targets", strings.Join(model.AllTargets, ","), "comma-separated modules LoRA adapts")
	fs.StringVar(&c.Optimizer, "optimizer", "adamw", "adamw or sgd")
	fs.Float64Var(&c.LR, "lr", 5e-5, "peak learning rate")
	fs.Float64Var(&c.WeightDecay, "weight-decay", 0, "weight decay (AdamW: decoupled; SGD: L2)")
	fs.Float64Var(&c.Momentum, "momentum", 0, "SGD momentum")
	fs.StringVar(&c.Schedule, "lr-scheduler", "linear", "learning-rate decay after warmup: linear, cosine or constant")
	fs.IntVar(&c.Warmup, "warmup-steps", 0, "linear warmup steps (0: the first step uses the full rate)")
	fs.IntVar(&c.Steps, "steps", 0, "optimizer steps (overrides --epochs)")
	fs.IntVar(&c.Epochs, "epochs", 1, "passes over the data when --steps is 0")
	fs.IntVar(&c.BatchSize, "batch-size", 8, "examples (pairs) per forward pass")
	fs.IntVar(&c.GradAccum, "grad-accum", 1, "micro-batches per optimizer step")
	fs.Float64Var(&c.Beta, "beta", 0.1, "DPO/IPO beta")
	fs.Float64Var(&c.RPOAlpha, "rpo-alpha", 0, "DPO/IPO: add this times the NLL of the chosen responses (TRL's rpo_alpha; 0 leaves it out)")
	fs.Float64Var(&c.Alpha, "alpha", 1, "PT-ALIGN weight of the unlikelihood term")
	fs.Float64Var(&c.MaxGradNorm, "max-grad-norm", 1, "clip the global gradient norm to this (0 disables)")
	seed := fs.Uint64("seed", 42, "seed for data order and LoRA initialisation")
	noShuffle := fs.Bool("no-shuffle", false, "keep the data file's order")
	fs.IntVar(&c.SaveSteps, "save-steps", 100, "checkpoint every N steps (also at the end and on Ctrl-C)")
	fs.IntVar(&c.SaveLimit, "save-total-limit", 2, "keep only the newest N checkpoints (0 keeps all)")
	fs.StringVar(&c.SecVec, "security-vectors", "", "PEFT folder of a security vector (from --method secvec) kept active and frozen")
	resume := fs.Bool("resume", false, "continue the run in --out from its latest checkpoint")
	merge := fs.Bool("merge", false, "fold the LoRA adapter into the base and write a full model to final/")
	maxLen := fs.Int("max-length", 0, "longest prompt+response in tokens (0: the model's max_position_embeddings)")
	truncate := fs.Bool("truncate", false, "truncate over-long rows (prompt from the start, response from the end) instead of failing")
	bf16 := fs.Bool("bf16", false, "hold the frozen base in bfloat16 (LoRA only)")
	template := fs.String("chat-template", "", "chat template for conversational rows (built-in name or source; default the tokenizer's)")
	if err := fs.parse(args); err != nil {
		return err
	}
	c.Seed, c.Shuffle = *seed, !*noShuffle
	c.LoRATargets = strings.Split(*targets, ",")
	switch {
	case c.Method == "":
		return fmt.Errorf("%w: --method is required (sft, dpo, ipo, ptalign or secvec)", errUsage)
	case c.Model == "":
		return fmt.Errorf("%w: --model is required", errUsage)
	case c.Data == "":
		return fmt.Errorf("%w: --data is required", errUsage)
	case *out == "":
		return fmt.Errorf("%w: --out is required", errUsage)
	case *bf16 && (c.Full || *merge):
		return fmt.Errorf("%w: --bf16 keeps the base frozen; it cannot go with --full or --merge", errUsage)
	case *merge && (c.Full || c.Method == "secvec"):
		return fmt.Errorf("%w: --merge applies to LoRA runs of sft, dpo, ipo or ptalign", errUsage)
	case c.SecVec != "" && c.Method == "secvec":
		return fmt.Errorf("%w: --security-vectors is for the fine-tuning that follows a secvec run", errUsage)
	}
	if _, err := os.Stat(filepath.Join(*out, "config.json")); err == nil && !*resume {
		return fmt.Errorf("%s already holds a run; pass --resume to continue it or choose another --out", *out)
	}
	m, err := model.Load(c.Model, model.Options{BF16Base: *bf16})
	if err != nil {
		return err
	}
	if c.SecVec != "" {
		if _, err := m.LoadAdapter(c.SecVec, train.SecurityVectorName); err != nil {
			return err
		}
	}
	var tok *tokenizer.Tokenizer
	if _, err := os.Stat(filepath.Join(c.Model, "tokenizer.json")); err == nil {
		if tok, err = tokenizer.Load(c.Model); err != nil {
			return err
		}
	}
	ml := *maxLen
	if ml == 0 {
		ml = m.Config.MaxPositions
	}
	data, err := train.LoadData(c.Data, train.DataOptions{Pairs: c.Pairs(), Harmful: c.Method == "secvec",
		Tokenizer: tok, ChatTemplate: *template, Vocab: m.Config.VocabSize, MaxLen: ml, Truncate: *truncate})
	if err != nil {
		return err
	}
	tr, err := train.NewTrainer(m, data, c, *out)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *resume {
		step, err := tr.Resume()
		if err != nil {
			return err
		}
		fmt.Fprintf(progressOut, "train: resuming %s at step %d of %d\n", *out, step, tr.TotalSteps())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	bar := newTrainBar(progressOut, c.Method, tr.TotalSteps(), tr.StepsDone())
	tr.OnStep = bar.step
	err = tr.Run(ctx)
	bar.done()
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted at step %d; checkpoint written, continue with --resume", tr.StepsDone())
	}
	if err != nil {
		return err
	}
	final := filepath.Join(*out, "final")
	if err := tr.SaveFinal(final, *merge, c.Model); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "trained %d steps; result in %s\n", tr.StepsDone(), final)
	return nil
}

// trainBar is the training progress line: a bar with steps, loss, tokens/s and ETA on
// a terminal, a plain line every few seconds otherwise.
type trainBar struct {
	p      *progress
	tokens int
	loss   float64
	first  int // steps done before this process started
}

func newTrainBar(w io.Writer, method string, total, done int) *trainBar {
	p := newProgress(w, "train "+method, total, "steps")
	p.done, p.drawn = done, done
	return &trainBar{p: p, first: done}
}

func (b *trainBar) step(e train.Event) {
	b.tokens += e.Tokens
	b.loss = e.Loss
	p := b.p
	p.done++
	now := time.Now()
	every := 2 * time.Second
	if p.tty {
		every = 100 * time.Millisecond
	}
	if now.Sub(p.last) >= every || p.done == p.total {
		p.last = now
		b.draw(now)
	}
}

func (b *trainBar) draw(now time.Time) {
	p := b.p
	p.drawn = p.done
	el := now.Sub(p.start).Seconds()
	tps := 0.0
	if el > 0 {
		tps = float64(b.tokens) / el
	}
	if p.tty {
		p.draw(now)
		fmt.Fprintf(p.w, " loss %.4f  %.0f tok/s ", b.loss, tps)
		return
	}
	eta := "?"
	if n := p.done - b.first; n > 0 && el > 0 {
		eta = (time.Duration(float64(p.total-p.done)*el/float64(n)) * time.Second).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "%s: %d/%d steps, loss %.4f, %.0f tokens/s, ETA %s\n", p.label, p.done, p.total, b.loss, tps, eta)
}

func (b *trainBar) done() {
	if b.p.tty {
		fmt.Fprintln(b.p.w)
	}
}
