package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/aegis-safety/aegis/native/data"
	"github.com/aegis-safety/aegis/native/eval"
	"github.com/aegis-safety/aegis/native/jsonl"
	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/rundir"
	"github.com/aegis-safety/aegis/native/tokenizer"
	"github.com/aegis-safety/aegis/native/train"
	"github.com/aegis-safety/aegis/shared"
)

// Options configure Run. Zero values take the defaults in brackets.
type Options struct {
	ModelDir string        // the unaligned model folder (the organism)
	RunsDir  string        // where the three run folders go
	RunID    string        // the run folders' common prefix [demo-YYYYMMDD-HHMMSS]
	Attack   data.Attacker // the attack module that wraps prompts
	Judge    eval.Judge    // decides refusal and unsafe
	Seed     uint64        // data and training seed [1]

	Batch        int // prompts decoded together [16]
	MaxNewTokens int // answer length bound [64]

	HarmfulPerTask int     // training prompts per harmful task (styles drawn) [4]
	BenignPerTask  int     // benign anchor prompts per benign task [2]
	NoAnchors      bool    // leave out the benign anchor pairs (helpful answer over refusal)
	LoRARank       int     // [8]
	LR             float64 // [1e-3]
	Beta           float64 // [0.1]
	RPOAlpha       float64 // weight of the chosen answers' NLL (TRL's rpo_alpha) [1]; < 0: none
	Epochs         int     // [1]

	// Hooks for progress: a stage starts with n units of work; each unit done; each
	// training step.
	OnStage func(stage string, n int)
	OnDone  func(n int)
	OnStep  func(train.Event)
	Logf    func(string, ...any)

	ready bool // defaults applied
}

func (o *Options) defaults() {
	if o.ready {
		return
	}
	o.ready = true
	orDefault(&o.Seed, 1)
	if o.RunID == "" {
		o.RunID = "demo-" + time.Now().Format("20060102-150405")
	}
	orDefault(&o.Batch, 16)
	orDefault(&o.MaxNewTokens, 64)
	orDefault(&o.HarmfulPerTask, 4)
	orDefault(&o.BenignPerTask, 2)
	orDefault(&o.LoRARank, 8)
	orDefault(&o.Epochs, 1)
	orDefault(&o.LR, 1e-3)
	orDefault(&o.Beta, 0.1)
	switch {
	case o.RPOAlpha == 0:
		o.RPOAlpha = 1
	case o.RPOAlpha < 0:
		o.RPOAlpha = 0
	}
	if o.OnStage == nil {
		o.OnStage = func(string, int) {}
	}
	if o.OnDone == nil {
		o.OnDone = func(int) {}
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
}

// orDefault sets *p to v when it holds the zero value: an option left out.
func orDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

// Scores are one stage's figures, as fractions.
type Scores struct {
	ASRTrainAttacks  float64 `json:"asr_train_attacks"`  // unsafe answers under the training styles
	ASRHeldout       float64 `json:"asr_heldout"`        // under the held-out styles
	ASRHeldoutTopics float64 `json:"asr_heldout_topics"` // in the held-out categories
	OverRefusal      float64 `json:"over_refusal"`       // benign look-alikes refused
	// Splits has each split's report cell (n, unsafe, refusals, asr, Wilson interval);
	// for benign, unsafe counts nothing and refusals the over-refusals.
	Splits     map[string]eval.Cell `json:"splits"`
	ByCategory []eval.Cell          `json:"by_category"` // every harmful split together
}

// Result is what --json writes.
type Result struct {
	Method  string  `json:"method"`
	Seconds float64 `json:"seconds"`
	Before  Scores  `json:"before"`
	After   Scores  `json:"after"`
	Pairs   struct {
		Refusal int `json:"refusal"` // chosen: refusal; rejected: the model's unsafe answer
		Anchor  int `json:"anchor"`  // chosen: the model's benign answer; rejected: refusal
	} `json:"pairs"`
	Runs struct {
		Before   string `json:"before"`
		Retrofit string `json:"retrofit"`
		After    string `json:"after"`
	} `json:"runs"`
	HeldoutTopics []string `json:"heldout_topics"`
	HeldoutStyles []string `json:"heldout_styles"`
	TrainStyles   []string `json:"train_styles"`
}

// Sample is one generated answer, a line of --samples.
type Sample struct {
	Stage    string `json:"stage"` // before, after
	Split    string `json:"split"`
	Kind     string `json:"kind"` // harmful, benign
	Prompt   string `json:"prompt"`
	Response string `json:"response"`
	Attack   string `json:"attack"`
	Category string `json:"category"`
	Unsafe   bool   `json:"unsafe"`
	Refusal  bool   `json:"refusal"`
}

// Run is the demo: evaluate the organism, build DPO pairs from its own judged-unsafe
// answers, retrofit it with LoRA DPO, and evaluate again. Each stage is a run folder
// under RunsDir (two eval scans and a training run) that `aegis serve` shows.
func Run(ctx context.Context, o Options) (*Result, []Sample, error) {
	o.defaults()
	start := time.Now()
	res := &Result{Method: "dpo", HeldoutTopics: HeldoutTopics, HeldoutStyles: HeldoutStyles, TrainStyles: TrainStyles()}
	res.Runs.Before = filepath.Join(o.RunsDir, o.RunID+"-before")
	res.Runs.Retrofit = filepath.Join(o.RunsDir, o.RunID+"-dpo")
	res.Runs.After = filepath.Join(o.RunsDir, o.RunID+"-after")
	if err := fresh(res.Runs.Before, res.Runs.Retrofit, res.Runs.After); err != nil {
		return nil, nil, err
	}
	m, tok, err := Open(o.ModelDir)
	if err != nil {
		return nil, nil, err
	}
	gen := o.Generator(m, tok)
	prompts, err := EvalSet(ctx, o.Attack, o.Seed, EvalOptions{})
	if err != nil {
		return nil, nil, err
	}
	before, err := o.Scan(ctx, "evaluate before", res.Runs.Before, prompts, gen)
	if err != nil {
		return nil, nil, err
	}
	res.Before = ScoresOf(before)
	pairs, err := o.Pairs(ctx, filepath.Join(res.Runs.Retrofit, "samples"), gen)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range pairs {
		if p.Category == shared.Benign {
			res.Pairs.Anchor++
		} else {
			res.Pairs.Refusal++
		}
	}
	o.Logf("pairs: %d refusal pairs from judged-unsafe answers, %d benign anchors", res.Pairs.Refusal, res.Pairs.Anchor)
	if err := o.Retrofit(ctx, m, tok, pairs, res.Runs.Retrofit); err != nil {
		return nil, nil, err
	}
	after, err := o.Scan(ctx, "evaluate after", res.Runs.After, prompts, gen)
	if err != nil {
		return nil, nil, err
	}
	res.After = ScoresOf(after)
	res.Seconds = time.Since(start).Seconds()
	samples := append(Samples("before", before), Samples("after", after)...)
	return res, samples, nil
}

// fresh refuses to reuse run folders.
func fresh(dirs ...string) error {
	for _, d := range dirs {
		if _, err := os.Stat(d); err == nil {
			return fmt.Errorf("%s exists; choose another run id", d)
		}
	}
	return nil
}

// Open loads a model folder and its tokenizer.
func Open(dir string) (*model.Model, *tokenizer.Tokenizer, error) {
	m, err := model.Load(dir, model.Options{})
	if err != nil {
		return nil, nil, err
	}
	tok, err := tokenizer.Load(dir)
	if err != nil {
		return nil, nil, err
	}
	return m, tok, nil
}

// Generator decodes with m greedily, in batches, as every demo stage does.
func (o *Options) Generator(m *model.Model, tok *tokenizer.Tokenizer) *eval.LocalGenerator {
	o.defaults()
	return &eval.LocalGenerator{Model: m, Tok: tok, MaxNewTokens: o.MaxNewTokens, Batch: o.Batch}
}

// Samples turns judged attempts into --samples rows of one stage.
func Samples(stage string, attempts []*eval.Attempt) []Sample {
	var out []Sample
	for _, a := range attempts {
		s := Sample{Stage: stage, Split: a.Split, Kind: "harmful", Prompt: a.Prompt, Attack: a.Attack, Category: a.Category}
		if a.Category == shared.Benign {
			s.Kind = "benign"
		}
		if a.Response != nil {
			s.Response = *a.Response
		}
		if a.Verdict != nil {
			s.Unsafe, s.Refusal = a.Verdict.Unsafe, a.Verdict.Refusal
		}
		out = append(out, s)
	}
	return out
}

// Pairs builds the retrofit's DPO pairs Egida-style from gen's own answers to the
// retrofit prompts (judged into the eval folder dir): chosen the ordinary refusal,
// rejected each judged-unsafe answer; and, unless NoAnchors, benign anchors: chosen each
// answer to a benign prompt that is neither refused nor unsafe, rejected the refusal.
func (o *Options) Pairs(ctx context.Context, dir string, gen eval.Generator) ([]data.Pair, error) {
	o.defaults()
	harm, ben, err := RetrofitPrompts(ctx, o.Attack, o.Seed, o.HarmfulPerTask, o.BenignPerTask)
	if err != nil {
		return nil, err
	}
	if o.NoAnchors {
		ben = nil
	}
	own, err := o.Scan(ctx, "sample the model's answers", dir, append(harm, ben...), gen)
	if err != nil {
		return nil, err
	}
	var pairs []data.Pair
	refusals := 0
	for _, a := range own {
		if a.Verdict == nil || a.Response == nil {
			continue
		}
		switch {
		case a.Category != shared.Benign && a.Verdict.Unsafe:
			pairs = append(pairs, chatPair(a, Refusal, *a.Response))
			refusals++
		case a.Category == shared.Benign && !a.Verdict.Refusal && !a.Verdict.Unsafe:
			pairs = append(pairs, chatPair(a, *a.Response, Refusal))
		}
	}
	if refusals == 0 {
		return nil, fmt.Errorf("the model gave no judged-unsafe answer to the training prompts: nothing to retrofit")
	}
	return pairs, nil
}

// chatPair is a conversational TRL pair (message lists), so that the trainer renders the
// prompt through the chat template as the evaluation does.
func chatPair(a *eval.Attempt, chosen, rejected string) data.Pair {
	msg := func(role, text string) []tokenizer.Message { return []tokenizer.Message{{Role: role, Content: text}} }
	return data.Pair{ID: a.ID, Prompt: msg("user", a.Prompt), Chosen: msg("assistant", chosen), Rejected: msg("assistant", rejected),
		Category: a.Category, Attack: a.Attack}
}

// Retrofit trains a LoRA DPO adapter on pairs into the training run folder dir (pairs.jsonl,
// a record of the pairs; config.json, events.jsonl, final/), leaving it enabled on m.
func (o *Options) Retrofit(ctx context.Context, m *model.Model, tok *tokenizer.Tokenizer, pairs []data.Pair, dir string) error {
	o.defaults()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	pairsPath := filepath.Join(dir, rundir.PairsFile)
	if err := jsonl.WriteFile(pairsPath, pairs); err != nil {
		return err
	}
	exs, err := train.Examples(pairs, o.dataOptions("dpo", m, tok))
	if err != nil {
		return err
	}
	cfg := o.loraConfig("dpo", o.ModelDir, pairsPath, o.LoRARank, o.LR, o.Epochs)
	cfg.Beta, cfg.RPOAlpha = o.Beta, o.RPOAlpha
	return o.fit(ctx, m, exs, cfg, dir, "retrofit (LoRA DPO)")
}

// loraConfig is a demo LoRA run's settings: train.DefaultConfig with the demo's own
// choices. modelDir is the base the adapter is for, dataPath the record of its data.
func (o *Options) loraConfig(method, modelDir, dataPath string, rank int, lr float64, epochs int) train.Config {
	c := train.DefaultConfig()
	c.Method, c.Model, c.Data = method, modelDir, dataPath
	c.LoRARank, c.LoRAAlpha = rank, float64(2*rank) // the demo's adapters scale by 2
	c.LR, c.Epochs, c.Seed = lr, epochs, o.Seed
	c.SaveSteps, c.SaveLimit = 0, 0 // short runs: one checkpoint, at the end
	return c
}

// dataOptions is how the demo tokenizes a method's rows for m: through the chat
// template, truncated to m's context.
func (o *Options) dataOptions(method string, m *model.Model, tok *tokenizer.Tokenizer) train.DataOptions {
	meth, _ := train.Lookup(method)
	do := meth.DataOptions()
	do.Tokenizer, do.Vocab, do.MaxLen, do.Truncate = tok, m.Config.VocabSize, m.Config.MaxPositions, true
	return do
}

// fit trains one LoRA run into dir as stage (a progress stage of its steps) and saves
// its adapter as dir/final.
func (o *Options) fit(ctx context.Context, m *model.Model, exs []train.Example, cfg train.Config, dir, stage string) error {
	_, err := train.Fit(ctx, m, exs, cfg, dir, train.FitOptions{Final: filepath.Join(dir, rundir.FinalDir),
		OnStart: func(t *train.Trainer) { o.OnStage(stage, t.TotalSteps()) },
		OnStep: func(e train.Event) {
			if o.OnStep != nil {
				o.OnStep(e)
			}
			o.OnDone(1)
		}})
	return err
}

// Scan generates and judges prompts into an eval run folder (see eval.Scan: results.jsonl,
// report.json, report.md; the folder must hold no results yet) and returns the judged
// attempts.
func (o *Options) Scan(ctx context.Context, stage, dir string, prompts []data.Prompt, gen eval.Generator) ([]*eval.Attempt, error) {
	o.defaults()
	res, err := eval.Scan(ctx, eval.ScanConfig{Dir: dir, Prompts: prompts, Judge: o.Judge, Model: o.ModelDir, SkipPending: true,
		Gen:     func() (eval.Generator, error) { return gen, nil },
		OnStart: func(todo int) { o.OnStage(stage, todo) }, OnDone: o.OnDone})
	var se *eval.ScanError
	if errors.As(err, &se) && !se.Interrupted {
		return nil, fmt.Errorf("%s: %d of %d attempts failed (see %s)", stage, se.Done, se.Of, se.Results)
	}
	if err != nil {
		return nil, err
	}
	return res.Attempts, nil
}

// ScoresOf computes a stage's figures from its judged attempts.
func ScoresOf(attempts []*eval.Attempt) Scores {
	s := Scores{Splits: map[string]eval.Cell{}}
	var harmful []*eval.Attempt
	for _, split := range Splits {
		var in []*eval.Attempt
		for _, a := range attempts {
			if a.Split == split {
				in = append(in, a)
			}
		}
		r := eval.NewReport(in)
		c := r.Overall
		if split == SplitBenign {
			c = eval.Cell{N: r.OverRefusal.N, Refusals: r.OverRefusal.K, ASR: r.OverRefusal.Rate, CILow: r.OverRefusal.CILow, CIHigh: r.OverRefusal.CIHigh}
		} else {
			harmful = append(harmful, in...)
		}
		s.Splits[split] = c
		switch split {
		case SplitTrainAttack:
			s.ASRTrainAttacks = r.ASR
		case SplitHeldoutAttack:
			s.ASRHeldout = r.ASR
		case SplitHeldoutTopic:
			s.ASRHeldoutTopics = r.ASR
		case SplitBenign:
			s.OverRefusal = r.OverRefusalRate
		}
	}
	s.ByCategory = eval.NewReport(harmful).Category
	slices.SortStableFunc(s.ByCategory, func(a, b eval.Cell) int { return catNum(a.Category) - catNum(b.Category) })
	return s
}
