package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	base "github.com/aegis-safety/aegis/internal/cli"
	"github.com/aegis-safety/aegis/internal/progress"
	"github.com/aegis-safety/aegis/native/rundir"
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

// trainRun is one `aegis train` invocation: the run's Config and the flags around it.
type trainRun struct {
	cfg                           train.Config
	out, template                 string
	resume, merge, truncate, bf16 bool
	maxLen                        int
}

func runTrain(ctx context.Context, c *cli, args []string) error {
	if isAPL(args) {
		return runTrainAPL(ctx, c, args) // APL has its own flags: train_apl.go
	}
	r, err := parseTrain(args, c.stdout)
	if err != nil {
		return err
	}
	m, data, err := train.Load(r.cfg, train.LoadOptions{BF16: r.bf16, ChatTemplate: r.template, MaxLen: r.maxLen, Truncate: r.truncate})
	if err != nil {
		return err
	}
	c.handleInterrupt()
	var bar *progress.Train
	final := filepath.Join(r.out, rundir.FinalDir)
	tr, err := train.Fit(ctx, m, data, r.cfg, r.out, train.FitOptions{Resume: r.resume, Final: final, Merge: r.merge,
		OnStart: func(t *train.Trainer) {
			if r.resume {
				fmt.Fprintf(c.progress, "train: resuming %s at step %d of %d\n", r.out, t.StepsDone(), t.TotalSteps())
			}
			bar = progress.NewTrain(c.progress, "train "+r.cfg.Method, t.TotalSteps(), t.StepsDone())
		},
		OnStep: func(e train.Event) { bar.Step(e.Loss, e.Tokens) }})
	if bar != nil {
		bar.Done()
	}
	switch {
	case tr == nil && err != nil:
		return fmt.Errorf("%w: %v", errUsage, err) // the settings or the data were refused
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("interrupted at step %d; checkpoint written, continue with --resume", tr.StepsDone())
	case err != nil:
		return err
	}
	fmt.Fprintf(c.stdout, "trained %d steps; result in %s\n", tr.StepsDone(), final)
	return nil
}

// parseTrain reads the flags of `aegis train` (every method but APL).
func parseTrain(args []string, stdout io.Writer) (*trainRun, error) {
	var names, mergeable []string
	for _, m := range train.Methods(true) {
		names = append(names, m.Name)
		if !m.SecurityVector {
			mergeable = append(mergeable, m.Name)
		}
	}
	fs := newFlags("train", "--method "+strings.Join(names, "|")+" --model DIR --data FILE --out RUNDIR [flags]", trainAbout, stdout)
	r := &trainRun{}
	cf := bindConfig(fs, &r.cfg, nil)
	fs.StringVar(&r.out, "out", "", "run folder")
	fs.BoolVar(&r.resume, "resume", false, "continue the run in --out from its latest checkpoint")
	fs.BoolVar(&r.merge, "merge", false, "fold the LoRA adapter into the base and write a full model to final/")
	fs.IntVar(&r.maxLen, "max-length", 0, "longest prompt+response in tokens (0: the model's max_position_embeddings)")
	fs.BoolVar(&r.truncate, "truncate", false, "truncate over-long rows (prompt from the start, response from the end) instead of failing")
	fs.BoolVar(&r.bf16, "bf16", false, "hold the frozen base in bfloat16 (LoRA only)")
	fs.StringVar(&r.template, "chat-template", "", "chat template for conversational rows (built-in name or source; default the tokenizer's)")
	if err := fs.parse(args); err != nil {
		return nil, err
	}
	cf.done()
	c := &r.cfg
	m, _ := train.Lookup(c.Method)
	if c.Method == "" {
		return nil, fmt.Errorf("%w: --method is required (%s)", errUsage, train.MethodNames(true))
	}
	if err := fs.Required("model", "data", "out"); err != nil {
		return nil, err
	}
	switch {
	case r.bf16 && (c.Full || r.merge):
		return nil, fmt.Errorf("%w: --bf16 keeps the base frozen; it cannot go with --full or --merge", errUsage)
	case r.merge && (c.Full || m.SecurityVector):
		return nil, fmt.Errorf("%w: --merge applies to LoRA runs of %s", errUsage, base.OrList(mergeable))
	case c.SecVec != "" && m.SecurityVector:
		return nil, fmt.Errorf("%w: --security-vectors is for the fine-tuning that follows a %s run", errUsage, c.Method)
	}
	if _, err := os.Stat(filepath.Join(r.out, rundir.ConfigFile)); err == nil && !r.resume {
		return nil, fmt.Errorf("%s already holds a run; pass --resume to continue it or choose another --out", r.out)
	}
	return r, nil
}
