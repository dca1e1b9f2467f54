package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
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
  apl      adversarial preference learning: an attacker model rewrites each harmful
           prompt, the defender's own log-probs score the rewrites, and both players
           train by DPO, for --rounds (its own flags are listed at the end; 'aegis train
           --method apl --help' describes it)

Data is JSONL: TRL preference rows {"prompt","chosen","rejected"} (strings, or message
lists with the chat template applied; without "prompt", the common start of chosen and
rejected is the prompt, as in TRL) or pre-tokenized rows {"prompt_input_ids",
"chosen_input_ids","rejected_input_ids"} (or "completion_input_ids"), which need no
tokenizer. Errors in the data name FILE:LINE. Ctrl-C writes a checkpoint; --resume
continues the run bit-exactly with the settings of its config.json (flags that contradict
them are refused), from the newest intact checkpoint (a damaged one is moved aside with a
warning); a run interrupted before its first step is resumed, or started again without
--resume, from the beginning. A NaN or infinite loss, gradient or weight stops the run
without saving that state, so the last checkpoint stays good.`

// trainRun is one `aegis train` invocation: the run's Config and the flags around it.
type trainRun struct {
	cfg                           train.Config
	cf                            *configFlags
	out, template                 string
	resume, merge, truncate, bf16 bool
	maxLen                        int
}

func runTrain(ctx context.Context, c *cli, args []string) error {
	if isAPL(args) {
		return runTrainAPL(ctx, c, args) // APL has its own flags: train_apl.go
	}
	r, err := parseTrain(args, c.stdout)
	if errors.Is(err, flag.ErrHelp) {
		printAPLFlags(c.stdout)
	}
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
		Warn: func(msg string) { fmt.Fprintf(c.progress, "train: %s\n", msg) },
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
	case errors.Is(err, context.Canceled) && tr.StepsDone() == 0:
		return fmt.Errorf("interrupted before the first step; nothing to keep: run the command again (with or without --resume) to start it")
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("interrupted at step %d; checkpoint written, continue with --resume", tr.StepsDone())
	case err != nil:
		return err
	}
	fmt.Fprintf(c.stdout, "trained %d steps; result in %s\n", tr.StepsDone(), final)
	return nil
}

// newTrainFlags is the flag set of `aegis train` (every method but APL), bound to a new
// trainRun.
func newTrainFlags(stdout io.Writer) (*flagSet, *trainRun) {
	var names []string
	for _, m := range train.Methods(true) {
		names = append(names, m.Name)
	}
	fs := newFlags("train", "--method "+strings.Join(names, "|")+"|apl --model DIR --data FILE --out RUNDIR [flags]", trainAbout, stdout)
	r := &trainRun{}
	r.cf = bindConfig(fs, &r.cfg, nil)
	fs.StringVar(&r.out, "out", "", "run folder")
	fs.BoolVar(&r.resume, "resume", false, "continue the run in --out from its latest checkpoint, with its settings (only --out is needed)")
	fs.BoolVar(&r.merge, "merge", false, "fold the LoRA adapter into the base and write a full model to final/")
	fs.IntVar(&r.maxLen, "max-length", 0, "longest prompt+response in tokens (0: the model's max_position_embeddings)")
	fs.BoolVar(&r.truncate, "truncate", false, "truncate over-long rows (prompt from the start, response from the end) instead of failing")
	fs.BoolVar(&r.bf16, "bf16", false, "hold the frozen base in bfloat16 (LoRA only)")
	fs.StringVar(&r.template, "chat-template", "", "chat template for conversational rows (built-in name or source; default the tokenizer's)")
	return fs, r
}

// parseTrain reads the flags of `aegis train` (every method but APL).
func parseTrain(args []string, stdout io.Writer) (*trainRun, error) {
	var mergeable []string
	for _, m := range train.Methods(true) {
		if !m.SecurityVector {
			mergeable = append(mergeable, m.Name)
		}
	}
	fs, r := newTrainFlags(stdout)
	if err := fs.parse(args); err != nil {
		return nil, err
	}
	r.cf.done()
	c := &r.cfg
	if r.resume {
		if err := fs.Required("out"); err != nil {
			return nil, err
		}
		if err := r.restore(fs); err != nil {
			return nil, err
		}
	}
	m, _ := train.Lookup(c.Method)
	if c.Method == "" {
		return nil, fmt.Errorf("%w: --method is required (%s)", errUsage, train.MethodNames(true))
	}
	if err := fs.Required("model", "data", "out"); err != nil && !r.resume {
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
	if _, err := os.Stat(filepath.Join(r.out, rundir.ConfigFile)); err == nil && !r.resume && train.Started(r.out) {
		return nil, fmt.Errorf("%s already holds a run; pass --resume to continue it or choose another --out", r.out)
	}
	return r, nil
}

// restore makes the run's settings those of the run in --out (its config.json), which
// --resume continues: a flag that sets one of them may repeat it but not contradict it.
func (r *trainRun) restore(fs *flagSet) error {
	path := filepath.Join(r.out, rundir.ConfigFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: --resume: %s holds no run (no %s)", errUsage, r.out, rundir.ConfigFile)
	} else if err != nil {
		return err
	}
	var saved train.Config
	if err := json.Unmarshal(b, &saved); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	if saved.Method == "apl" {
		return fmt.Errorf("%w: %s is an APL run, which cannot be resumed", errUsage, r.out)
	}
	was := &configFlags{c: &saved, targets: strings.Join(saved.LoRATargets, ","), noShuffle: !saved.Shuffle}
	var diffs []string
	for _, f := range configFlagList {
		if !fs.IsSet(f.name) {
			continue
		}
		now, then := flagValue(f.field(r.cf)), flagValue(f.field(was))
		if now != then && !(pathFlags[f.name] && samePath(now, then)) {
			diffs = append(diffs, fmt.Sprintf("--%s %s (the run has %s)", f.name, now, then))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%w: --resume continues %s with the settings of its %s, and these flags contradict them: %s; leave them out, or start a new run in another --out",
			errUsage, r.out, rundir.ConfigFile, strings.Join(diffs, ", "))
	}
	r.cfg = saved
	return nil
}

// pathFlags are the configFlagList flags that name files or folders.
var pathFlags = map[string]bool{"model": true, "data": true, "security-vectors": true}

// flagValue is a configFlag's value as the command line writes it.
func flagValue(p any) string {
	switch v := p.(type) {
	case *string:
		return *v
	case *int:
		return fmt.Sprint(*v)
	case *float64:
		return fmt.Sprint(*v)
	case *bool:
		return fmt.Sprint(*v)
	case *uint64:
		return fmt.Sprint(*v)
	}
	return fmt.Sprint(p)
}

// samePath reports whether two paths name the same file: equal when cleaned or made
// absolute, or the same file on disk.
func samePath(a, b string) bool {
	if a == "" || b == "" {
		return a == b
	}
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	sa, erra := os.Stat(a)
	sb, errb := os.Stat(b)
	return erra == nil && errb == nil && os.SameFile(sa, sb)
}
