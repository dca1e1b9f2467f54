package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/aegis-safety/aegis/native/data"
	"github.com/aegis-safety/aegis/native/debias"
	"github.com/aegis-safety/aegis/native/eval"
	"github.com/aegis-safety/aegis/native/jsonl"
	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/rundir"
	"github.com/aegis-safety/aegis/native/tokenizer"
	"github.com/aegis-safety/aegis/native/train"
	"github.com/aegis-safety/aegis/shared"
)

// SplitLearnedAttacker holds the APL attacker's rewrites of the held-out harmful tasks.
const SplitLearnedAttacker = "learned_attacker"

// CompareOptions configure Compare. Zero values take the defaults in brackets.
type CompareOptions struct {
	Options

	APLRounds       int     // [3]
	APLK            int     // rewrites per prompt and round [4]
	APLPrompts      int     // prompts per round [48]
	APLAlpha        float64 // [0.5]
	APLLR           float64 // [1e-3]
	LearnedRewrites int     // attacker rewrites per held-out prompt [2]

	TSDIPositions int     // generated positions whose bias is estimated [8]
	TSDIPrompts   int     // random prompts of the fit [64]
	TSDIScale     float64 // [1]

	SelfAlign      data.SelfAlignOptions // PT-ALIGN self-generation [4 topics a domain, 4 requests a topic, 2 rounds]
	SelfAlignSeeds []data.SafetyDomain   // nil: the shipped seeds (< 50 annotations)
	PTAlignEpochs  int                   // [3]

	// SecVec, when set, returns the security-vector method's model: the aligned model
	// fine-tuned on harmful-mixed user data with a security vector active, then dropped.
	SecVec func(ctx context.Context) (*model.Model, *tokenizer.Tokenizer, error)
}

func (o *CompareOptions) defaults() {
	o.Options.defaults()
	orDefault(&o.APLRounds, 3)
	orDefault(&o.APLK, 4)
	orDefault(&o.APLPrompts, 48)
	orDefault(&o.LearnedRewrites, 2)
	orDefault(&o.TSDIPositions, 8)
	orDefault(&o.TSDIPrompts, 64)
	orDefault(&o.PTAlignEpochs, 3)
	orDefault(&o.SelfAlign.TopicsPerDomain, 4)
	orDefault(&o.SelfAlign.InstructionsPerTopic, 4)
	orDefault(&o.SelfAlign.Rounds, 2)
	orDefault(&o.APLAlpha, 0.5)
	orDefault(&o.APLLR, 1e-3)
	orDefault(&o.TSDIScale, 1)
}

// MethodScores are one method's figures on the shared splits, as fractions.
type MethodScores struct {
	ASRTrainAttacks    float64 `json:"asr_train_attacks"`
	ASRHeldout         float64 `json:"asr_heldout"` // held-out attack styles
	ASRHeldoutTopics   float64 `json:"asr_heldout_topics"`
	ASRLearnedAttacker float64 `json:"asr_learned_attacker"` // under the APL attacker's rewrites
	OverRefusal        float64 `json:"over_refusal"`
	// HarmlessnessWinRate is the share of harmful attempts answered safely where the
	// base answered unsafely (judge-based; ties count as neither); TieRate the rest of
	// the agreeing attempts.
	HarmlessnessWinRate  float64 `json:"harmlessness_win_rate"`
	HarmlessnessLossRate float64 `json:"harmlessness_loss_rate"`
	Run                  string  `json:"run"` // the eval scan's run folder
	Notes                string  `json:"notes,omitempty"`
}

// Comparison is what `aegis experiment compare --json` writes.
type Comparison struct {
	Seconds float64                 `json:"seconds"`
	Base    MethodScores            `json:"base"`
	Methods map[string]MethodScores `json:"methods"`
	Order   []string                `json:"order"`
	Runs    []string                `json:"runs"`
}

// Compare trains and evaluates the five methods on the embedded model, each from the
// same base and on the same splits (the demo's evaluation set plus the APL attacker's
// rewrites of the held-out harmful tasks):
//
//   - dpo: the demo's retrofit (Egida-style pairs, LoRA DPO);
//   - ptalign: PT-ALIGN pairs the base writes itself from fewer than 50 seed annotations,
//     LoRA training with MLE on the positive and unlikelihood on the toxic tokens;
//   - apl: adversarial preference learning, a LoRA defender against an attacker, both
//     copies of the base (which rewrites requests when asked with APL's instruction);
//   - tsdi: the dpo model with its per-position logit bias against the base subtracted;
//   - secvec: the model CompareOptions.SecVec returns.
//
// Every training and scan is a run folder under RunsDir named RunID-compare-*.
func Compare(ctx context.Context, o CompareOptions) (*Comparison, error) {
	o.defaults()
	start := time.Now()
	c := &comparison{o: &o, res: &Comparison{Methods: map[string]MethodScores{}}}
	base, tok, err := Open(o.ModelDir)
	if err != nil {
		return nil, err
	}
	c.tok = tok
	prompts, err := EvalSet(ctx, o.Attack, o.Seed, EvalOptions{})
	if err != nil {
		return nil, err
	}

	// The attacker first: the learned-attacker split needs it.
	o.Logf("compare: apl (%d rounds)", o.APLRounds)
	aplDef, aplAtt, err := o.apl(ctx, c.dir("apl-train"))
	if err != nil {
		return nil, fmt.Errorf("apl: %w", err)
	}
	learned, err := o.learnedPrompts(ctx, aplAtt, tok)
	if err != nil {
		return nil, err
	}
	c.prompts = append(slices.Clone(prompts), learned...)
	if c.base, err = c.scan(ctx, "base", base, nil); err != nil {
		return nil, err
	}
	c.res.Base = methodScores(c.base, c.base, c.lastRun())

	dpoM, err := c.dpo(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.ptalign(ctx); err != nil {
		return nil, err
	}
	as, err := c.scan(ctx, "apl", aplDef, nil)
	if err != nil {
		return nil, err
	}
	c.record("apl", as, fmt.Sprintf("%d rounds, k=%d, alpha %g", o.APLRounds, o.APLK, o.APLAlpha))
	if err := c.tsdi(ctx, dpoM, base); err != nil {
		return nil, err
	}
	if err := c.secvec(ctx); err != nil {
		return nil, err
	}
	c.res.Seconds = time.Since(start).Seconds()
	return c.res, nil
}

// comparison is Compare's state: the run folders so far, the shared prompts and the
// base's attempts that every method is scored against.
type comparison struct {
	o       *CompareOptions
	res     *Comparison
	tok     *tokenizer.Tokenizer
	prompts []data.Prompt
	base    []*eval.Attempt
}

// dir names the next run folder and records it.
func (c *comparison) dir(name string) string {
	d := filepath.Join(c.o.RunsDir, c.o.RunID+"-compare-"+name)
	c.res.Runs = append(c.res.Runs, d)
	return d
}

func (c *comparison) lastRun() string { return c.res.Runs[len(c.res.Runs)-1] }

// scan evaluates m (through gen when set) on the shared prompts into a new run folder.
func (c *comparison) scan(ctx context.Context, name string, m *model.Model, gen *eval.LocalGenerator) ([]*eval.Attempt, error) {
	if gen == nil {
		gen = c.o.Generator(m, c.tok)
	}
	return c.o.Scan(ctx, "compare: evaluate "+name, c.dir(name), c.prompts, gen)
}

// record scores a method's attempts from the last scan against the base's.
func (c *comparison) record(name string, as []*eval.Attempt, notes string) {
	s := methodScores(as, c.base, c.lastRun())
	s.Notes = notes
	c.res.Methods[name] = s
	c.res.Order = append(c.res.Order, name)
}

// dpo is the demo's retrofit; the model it returns is also TSDI's aligned model.
func (c *comparison) dpo(ctx context.Context) (*model.Model, error) {
	c.o.Logf("compare: dpo")
	m, _, err := Open(c.o.ModelDir)
	if err != nil {
		return nil, err
	}
	pairs, err := c.o.Pairs(ctx, c.dir("dpo-samples"), c.o.Generator(m, c.tok))
	if err != nil {
		return nil, err
	}
	if err := c.o.Retrofit(ctx, m, c.tok, pairs, c.dir("dpo-train")); err != nil {
		return nil, fmt.Errorf("dpo: %w", err)
	}
	as, err := c.scan(ctx, "dpo", m, nil)
	if err != nil {
		return nil, err
	}
	c.record("dpo", as, fmt.Sprintf("%d pairs: Egida-style refusal pairs from the base's own unsafe answers and benign anchors", len(pairs)))
	return m, nil
}

// ptalign trains on pairs the base writes itself from the seed annotations.
func (c *comparison) ptalign(ctx context.Context) error {
	c.o.Logf("compare: ptalign (self-generated pairs)")
	m, n, err := c.o.ptalign(ctx, c.dir("ptalign-train"))
	if err != nil {
		return fmt.Errorf("ptalign: %w", err)
	}
	as, err := c.scan(ctx, "ptalign", m, nil)
	if err != nil {
		return err
	}
	c.record("ptalign", as, fmt.Sprintf("%d pairs the base wrote from the seed annotations", n))
	return nil
}

// tsdi evaluates the DPO model with its logit bias against the base subtracted.
func (c *comparison) tsdi(ctx context.Context, dpoM, base *model.Model) error {
	c.o.Logf("compare: tsdi (bias of the dpo model against the base)")
	bias, err := c.o.tsdi(ctx, dpoM, base, c.tok)
	if err != nil {
		return fmt.Errorf("tsdi: %w", err)
	}
	gen := c.o.Generator(dpoM, c.tok)
	gen.Debias = bias.Scaled(c.o.TSDIScale)
	as, err := c.scan(ctx, "tsdi", dpoM, gen)
	if err != nil {
		return err
	}
	if err := bias.Save(filepath.Join(c.lastRun(), "bias.safetensors")); err != nil {
		return err
	}
	c.record("tsdi", as, fmt.Sprintf("dpo with a %d-position bias from %d random prompts subtracted", c.o.TSDIPositions, c.o.TSDIPrompts))
	return nil
}

// secvec evaluates the model CompareOptions.SecVec returns, when set.
func (c *comparison) secvec(ctx context.Context) error {
	if c.o.SecVec == nil {
		return nil
	}
	c.o.Logf("compare: secvec")
	m, _, err := c.o.SecVec(ctx)
	if err != nil {
		return fmt.Errorf("secvec: %w", err)
	}
	as, err := c.scan(ctx, "secvec", m, nil)
	if err != nil {
		return err
	}
	c.record("secvec", as, "the dpo model fine-tuned on harmful-mixed data with a security vector, dropped")
	return nil
}

// methodScores reads a method's figures from its attempts and its harmlessness win rate
// against the base's.
func methodScores(as, baseAtt []*eval.Attempt, run string) MethodScores {
	s := ScoresOf(as)
	m := MethodScores{ASRTrainAttacks: s.ASRTrainAttacks, ASRHeldout: s.ASRHeldout, ASRHeldoutTopics: s.ASRHeldoutTopics,
		OverRefusal: s.OverRefusal, Run: run}
	var learned, harmful []*eval.Attempt
	for _, a := range as {
		if a.Split == SplitLearnedAttacker {
			learned = append(learned, a)
		}
		if a.Category != shared.Benign {
			harmful = append(harmful, a)
		}
	}
	m.ASRLearnedAttacker = eval.NewReport(learned).ASR
	w := eval.Compare("method", harmful, "base", baseAtt)
	m.HarmlessnessWinRate, m.HarmlessnessLossRate = w.WinA, w.WinB
	return m
}

// learnedPrompts are the attacker's rewrites of the held-out harmful tasks (each task's
// plain request), LearnedRewrites each.
func (o *CompareOptions) learnedPrompts(ctx context.Context, att *model.Model, tok *tokenizer.Tokenizer) ([]data.Prompt, error) {
	g := newGen(ctx, o.Attack, o.Seed, 4)
	var out []data.Prompt
	for _, c := range categories() {
		for ti, task := range evalTasks(c) {
			r, err := g.harmful(c, task, "none")
			if err != nil {
				return nil, err
			}
			rs, err := train.Rewrites(att, tok, r.Prompt, o.LearnedRewrites, o.aplOptions(), o.Seed^uint64(catNum(c)*100+ti))
			if err != nil {
				return nil, err
			}
			for k, x := range rs {
				out = append(out, data.Prompt{ID: fmt.Sprintf("%s/%s/%d/%d", SplitLearnedAttacker, c, ti, k), Prompt: x,
					Category: c, Source: "aegis-demo+apl-attacker", Split: SplitLearnedAttacker, Attack: "apl_attacker"})
			}
		}
	}
	return out, nil
}

func (o *CompareOptions) aplOptions() train.APLOptions {
	return train.APLOptions{K: o.APLK, Rounds: o.APLRounds, Alpha: o.APLAlpha, PromptsPerRound: o.APLPrompts,
		Temperature: 1, TopP: 0.95, MaxRewriteTokens: 160}
}

// apl runs adversarial preference learning with two copies of the base: the attacker
// (the organism can rewrite requests when asked with APL's instruction) and a LoRA
// defender, on the training tasks' plain requests. It returns the defender (adapter
// enabled) and the attacker.
func (o *CompareOptions) apl(ctx context.Context, dir string) (def, att *model.Model, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	if att, _, err = Open(o.ModelDir); err != nil {
		return nil, nil, err
	}
	def, tok, err := Open(o.ModelDir)
	if err != nil {
		return nil, nil, err
	}
	g := newGen(ctx, o.Attack, o.Seed, 5)
	var pairs []train.TextPair
	for _, c := range categories() {
		if slices.Contains(HeldoutTopics, c) {
			continue
		}
		for _, task := range trainTasks(c) {
			plain, err := g.harmful(c, task, "none")
			if err != nil {
				return nil, nil, err
			}
			pairs = append(pairs, train.TextPair{Prompt: plain.Prompt, Chosen: Refusal, Rejected: plain.Response, Category: c})
		}
	}
	cfg := o.loraConfig("dpo", o.ModelDir, "", o.LoRARank, o.APLLR, 1)
	cfg.Schedule, cfg.Beta = "constant", o.Beta // APL's rounds are short: no decay
	cfg.Alpha = 0                               // PT-ALIGN's weight; APL's own alpha is in its options
	a, err := train.NewAPL(train.APLModels{Defender: def, DefenderTok: tok, Attacker: att, AttackerTok: tok}, pairs, cfg, o.aplOptions(), dir)
	if err != nil {
		return nil, nil, err
	}
	o.OnStage("compare: APL rounds", o.APLRounds)
	a.OnRound = func(e train.APLEvent) {
		o.Logf("compare: apl round %d: R best %.3f, mean %.3f", e.Round, e.RBest, e.RMean)
		o.OnDone(1)
	}
	if err := a.Run(ctx); err != nil {
		return nil, nil, err
	}
	return def, att, a.SaveFinal(filepath.Join(dir, "final"), false, o.ModelDir, o.ModelDir)
}

// ptalign has the base write PT-ALIGN pairs from the seed annotations (judge-filtered),
// then trains a LoRA adapter with the ptalign objective on them.
func (o *CompareOptions) ptalign(ctx context.Context, dir string) (*model.Model, int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, 0, err
	}
	m, tok, err := Open(o.ModelDir)
	if err != nil {
		return nil, 0, err
	}
	domains := o.SelfAlignSeeds
	if domains == nil {
		if domains, err = data.ReadSelfAlignSeeds(""); err != nil {
			return nil, 0, err
		}
	}
	gen := &eval.LocalGenerator{Model: m, Tok: tok, MaxNewTokens: o.MaxNewTokens, Batch: o.Batch,
		Sampling: model.Sampling{Temperature: 0.7, TopP: 1}, Seed: o.Seed}
	judge := func(ctx context.Context, prompt, answer, category string) (bool, error) {
		v, err := o.Judge.Judge(ctx, prompt, answer, category)
		if err != nil {
			return false, err
		}
		return v.Unsafe, nil
	}
	sa := o.SelfAlign
	sa.Seed = o.Seed
	o.OnStage("compare: PT-ALIGN self-generation", 1)
	pairs, st, err := data.SelfAlign(ctx, eval.Texts{Gen: gen}, judge, domains, sa)
	if err != nil {
		return nil, 0, err
	}
	o.OnDone(1)
	o.Logf("compare: ptalign: %d topics, %d instructions, kept %d pairs", st.Topics, st.Instructions, st.Kept)
	if len(pairs) == 0 {
		return nil, 0, fmt.Errorf("the base wrote no usable pair")
	}
	path := filepath.Join(dir, rundir.PairsFile)
	if err := jsonl.WriteFile(path, pairs); err != nil {
		return nil, 0, err
	}
	exs, err := train.Examples(pairs, o.dataOptions("ptalign", m, tok))
	if err != nil {
		return nil, 0, err
	}
	cfg := o.loraConfig("ptalign", o.ModelDir, path, o.LoRARank, o.LR, o.PTAlignEpochs)
	if err := o.fit(ctx, m, exs, cfg, dir, "compare: PT-ALIGN training"); err != nil {
		return nil, 0, err
	}
	return m, len(pairs), nil
}

// tsdi fits the aligned model's per-position logit bias against the base over random
// prompts drawn from the benign requests' tokens.
func (o *CompareOptions) tsdi(ctx context.Context, aligned, base *model.Model, tok *tokenizer.Tokenizer) (*debias.Bias, error) {
	var texts []string
	for _, t := range append(slices.Clone(benignTasks), lookalikes...) {
		texts = append(texts, t.task, t.answer)
	}
	prompts, err := debias.RandomPrompts(tok, texts, o.TSDIPrompts, 8, 32, o.Seed)
	if err != nil {
		return nil, err
	}
	o.OnStage("compare: TSDI fit", len(prompts))
	return debias.Fit(aligned, base, prompts, debias.FitOptions{Positions: o.TSDIPositions, Seed: o.Seed,
		StopIDs: tok.StopIDs(aligned.Config.EOSIDs()), OnPrompt: func(int) { o.OnDone(1) }})
}
