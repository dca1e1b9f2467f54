package main

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aegis-safety/aegis/internal/progress"
	"github.com/aegis-safety/aegis/native/attack/gcg"
	"github.com/aegis-safety/aegis/native/jsonl"
	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/tokenizer"
)

// gcgRow is a line of `aegis attack gcg --in`: an attack row with an optional target.
type gcgRow struct {
	ID       string `json:"id"`
	Prompt   string `json:"prompt"`
	Category string `json:"category"`
	Target   string `json:"target,omitempty"`
}

// gcgVariant is a line of `aegis attack gcg --out`.
type gcgVariant struct {
	ID        string  `json:"id"`
	BaseID    string  `json:"base_id"`
	Prompt    string  `json:"prompt"`
	Attack    string  `json:"attack"`
	Category  string  `json:"category"`
	Target    string  `json:"target"`
	Suffix    string  `json:"suffix"`
	LossStart float64 `json:"loss_start"`
	Loss      float64 `json:"loss"`
	Steps     int     `json:"steps"`
}

// gcgReport is `aegis attack gcg --json`.
type gcgReport struct {
	Prompts         int       `json:"prompts"`
	Steps           int       `json:"steps"` // per prompt (per run in universal mode)
	Universal       bool      `json:"universal"`
	SuffixLen       int       `json:"suffix_len"`
	TopK            int       `json:"topk"`
	Candidates      int       `json:"candidates"`
	MedianLossStart float64   `json:"median_loss_start"`
	MedianLoss      float64   `json:"median_loss"`
	Ratio           float64   `json:"ratio"` // median_loss / median_loss_start
	Seconds         float64   `json:"seconds"`
	SecondsPerStep  float64   `json:"seconds_per_step"`
	Model           gcgShape  `json:"model"`
	losses          []float64 // loss_start, loss of each row
	steps           int       // steps run over all runs
}

// gcgShape is the attacked model's shape in the report.
type gcgShape struct {
	Type         string `json:"model_type"`
	Layers       int    `json:"layers"`
	Hidden       int    `json:"hidden"`
	Heads        int    `json:"heads"`
	KVHeads      int    `json:"kv_heads"`
	Intermediate int    `json:"intermediate"`
	Vocab        int    `json:"vocab"`
	Params       int    `json:"params"`
	Adapter      bool   `json:"adapter"`
}

const gcgAbout = `Greedy coordinate gradient (Zou et al. 2023): optimises an adversarial suffix of
--suffix-len tokens that makes a local model (--model, with an optional LoRA --adapter)
answer each prompt with a target, minimising the target's mean token cross-entropy after
the user message request + " " + suffix rendered through the model's chat template. Each
step takes the gradient with respect to the one-hot suffix tokens, keeps the --topk most
promising substitutions per position, scores --candidates single-token swaps in batched
forwards (dropping those that do not re-tokenize to the same ids) and moves to the best;
the best suffix seen is kept. Input rows are {"id","prompt","category"[,"target"]}; the
target is the row's, else --target, else one derived from the request ("How do I X?" →
"Sure, here is how to X"; see native/attack/gcg DefaultTarget). Output rows, written as
each prompt finishes: {"id","base_id","prompt","attack":"gcg","category","target","suffix",
"loss_start","loss","steps"} with id BASE_ID/gcg and prompt request + " " + suffix.
--universal optimises one suffix for all prompts (summed loss). Ctrl-C keeps every
finished prompt's row.`

func runAttackGCG(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("attack gcg", "--model DIR [--adapter DIR] --in prompts.jsonl --out variants.jsonl [--target TEXT] [--steps N] [--suffix-len L] [--topk K] [--candidates B] [--seed S] [--universal] [--json report.json]", gcgAbout, c.stdout)
	var mf modelFlags
	mf.register(fs)
	in := fs.String("in", "", "input JSONL of prompts")
	out := fs.String("out", "", "output JSONL of variants")
	target := fs.String("target", "", "the target of every prompt without its own (default: derived from the request)")
	var o gcg.Options
	gcgSearchFlags(fs, &o, gcg.DefaultSteps, "optimisation steps per prompt")
	fs.Uint64Var(&o.Seed, "seed", 0, "seed of the candidate sampling")
	fs.StringVar(&o.Init, "init", "", `initial suffix text (default "! ! ! ...")`)
	fs.StringVar(&o.Template, "chat-template", "", "chat template: a built-in name (llama3, chatml, mistral) or a file; default the tokenizer's")
	universal := fs.Bool("universal", false, "optimise one suffix for all prompts")
	jsonOut := fs.String("json", "", `write a summary to this file: {"prompts","steps","median_loss_start","median_loss","ratio","seconds","seconds_per_step","model",...}`)
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := fs.Required("in", "out", "model"); err != nil {
		return err
	}
	if err := checkGCGSearch(o); err != nil {
		return err
	}
	rows, err := readGCGRows(*in)
	if err != nil {
		return err
	}
	if o.Template != "" {
		if o.Template, err = readTemplateFlag(o.Template); err != nil {
			return err
		}
	}
	a, m, err := loadGCG(&mf, o)
	if err != nil {
		return err
	}
	goals := make([]gcg.Goal, len(rows))
	for i, r := range rows {
		goals[i] = gcg.Goal{Request: r.Row.Prompt, Target: gcgTarget(r.Row, *target)}
		if err := a.Check(goals[i]); err != nil {
			return fmt.Errorf("%s: %v", r.Pos, err)
		}
	}
	rep := &gcgReport{Steps: o.Steps, Universal: *universal, SuffixLen: o.SuffixLen, TopK: o.TopK, Candidates: o.Candidates,
		Model: gcgModelShape(m, mf.adapter != "")}
	c.handleInterrupt()
	done, err := c.gcgWrite(ctx, a, rows, goals, *out, *universal, o.Steps, rep, nil)
	if errors.Is(err, context.Canceled) {
		err = fmt.Errorf("interrupted after %d of %d prompts; their rows are in %s", done, len(rows), *out)
	}
	if *jsonOut != "" && rep.Prompts > 0 {
		rep.finish()
		if jerr := jsonl.WriteJSON(*jsonOut, rep); err == nil {
			err = jerr
		}
	}
	return err
}

// gcgSearchFlags registers the search's sizes, shared by attack gcg and bench gcg.
func gcgSearchFlags(fs *flagSet, o *gcg.Options, steps int, stepsUsage string) {
	fs.IntVar(&o.Steps, "steps", steps, stepsUsage)
	fs.IntVar(&o.SuffixLen, "suffix-len", gcg.DefaultSuffixLen, "suffix tokens")
	fs.IntVar(&o.TopK, "topk", gcg.DefaultTopK, "substitutions kept per position (capped at the vocabulary)")
	fs.IntVar(&o.Candidates, "candidates", gcg.DefaultCandidates, "candidates scored per step")
}

// checkGCGSearch refuses search sizes below 1.
func checkGCGSearch(o gcg.Options) error {
	if o.Steps < 1 || o.SuffixLen < 1 || o.TopK < 1 || o.Candidates < 1 {
		return fmt.Errorf("%w: --steps, --suffix-len, --topk and --candidates must be at least 1", errUsage)
	}
	return nil
}

// readGCGRows reads and checks the input rows.
func readGCGRows(path string) ([]jsonl.Line[gcgRow], error) {
	return jsonl.ReadLines(path, func(r *gcgRow) error {
		return (&attackRow{ID: r.ID, Prompt: r.Prompt, Category: r.Category}).check()
	})
}

// gcgTarget is a row's target: its own, else the flag's, else derived from the request.
func gcgTarget(r gcgRow, flag string) string {
	switch {
	case r.Target != "":
		return r.Target
	case flag != "":
		return flag
	}
	return gcg.DefaultTarget(r.Prompt)
}

// loadGCG loads the model, its adapter and tokenizer and prepares the attack.
func loadGCG(mf *modelFlags, o gcg.Options) (*gcg.Attacker, *model.Model, error) {
	m, err := mf.load()
	if err != nil {
		return nil, nil, err
	}
	tok, err := tokenizer.Load(mf.dir)
	if err != nil {
		return nil, nil, err
	}
	a, err := gcg.New(m, tok, o)
	if err != nil {
		return nil, nil, fmt.Errorf("model %s: %v", mf.dir, err)
	}
	return a, m, nil
}

// gcgWrite runs the attack, one run per prompt (or one for all with universal), and
// writes each finished prompt's row to out, calling finished (when set) with the count
// of finished prompts after each run; it returns that count. The rows written are kept
// when ctx ends.
func (c *cli) gcgWrite(ctx context.Context, a *gcg.Attacker, rows []jsonl.Line[gcgRow], goals []gcg.Goal, out string,
	universal bool, steps int, rep *gcgReport, finished func(int)) (int, error) {
	w, err := jsonl.Create(out)
	if err != nil {
		return 0, err
	}
	defer w.Abort()
	runs := [][]int{}
	if universal {
		runs = append(runs, make([]int, len(rows)))
		for i := range rows {
			runs[0][i] = i
		}
	} else {
		for i := range rows {
			runs = append(runs, []int{i})
		}
	}
	bar := progress.NewTrain(c.progress, "gcg", steps*len(runs), 0)
	done := 0
	for _, run := range runs {
		gs := make([]gcg.Goal, len(run))
		for k, i := range run {
			gs[k] = goals[i]
		}
		res, rerr := a.Run(ctx, gs, func(s gcg.Step) { bar.Step(s.Loss, s.Tokens) })
		if rerr != nil {
			err = rerr
			break
		}
		for k, i := range run {
			r := rows[i].Row
			v := gcgVariant{ID: r.ID + "/gcg", BaseID: r.ID, Prompt: gcg.Prompt(r.Prompt, res.Suffix), Attack: "gcg", Category: r.Category,
				Target: gs[k].Target, Suffix: res.Suffix, LossStart: res.LossStart[k], Loss: res.Loss[k], Steps: res.Steps}
			if err = w.Encode(v); err != nil {
				break
			}
			rep.add(v)
		}
		if err != nil {
			break
		}
		done += len(run)
		rep.Seconds += res.Seconds
		rep.steps += res.Steps
		if finished != nil {
			finished(done)
		}
	}
	bar.Done()
	if cerr := w.Commit(); err == nil {
		err = cerr
	}
	return done, err
}

func (r *gcgReport) add(v gcgVariant) {
	r.Prompts++
	r.losses = append(r.losses, v.LossStart, v.Loss)
}

// finish computes the medians and the time per step.
func (r *gcgReport) finish() {
	var start, end []float64
	for i := 0; i+1 < len(r.losses); i += 2 {
		start, end = append(start, r.losses[i]), append(end, r.losses[i+1])
	}
	r.MedianLossStart, r.MedianLoss = gcgMedian(start), gcgMedian(end)
	if r.MedianLossStart > 0 {
		r.Ratio = r.MedianLoss / r.MedianLossStart
	}
	if r.steps > 0 {
		r.SecondsPerStep = r.Seconds / float64(r.steps)
	}
}

func gcgMedian(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// gcgModelShape is m's shape for a report.
func gcgModelShape(m *model.Model, adapter bool) gcgShape {
	c := &m.Config
	return gcgShape{Type: c.ModelType, Layers: c.NumLayers, Hidden: c.HiddenSize, Heads: c.NumHeads, KVHeads: c.NumKVHeads,
		Intermediate: c.IntermediateSize, Vocab: c.VocabSize, Params: m.NumParams(), Adapter: adapter}
}
