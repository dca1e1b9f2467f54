package data

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"

	"github.com/aegis-safety/aegis/shared"
)

// PT-ALIGN's data side: from fewer than 50 seed annotations (safety domains with a few
// positive and toxic constraints) the model itself writes topics, instructions, and a
// positive and a toxic answer per instruction, refines both over rounds, and a judge
// filters the pairs. Every stage is one batch of prompts to a TextGenerator, so a
// scripted generator can check exactly what each stage asks.

// MaxSeedAnnotations bounds the seeds: the method's point is to need fewer than 50.
const MaxSeedAnnotations = 49

//go:embed seed/selfalign_seeds.json
var defaultSelfAlignSeeds []byte

// SafetyDomain is one seed annotation group.
type SafetyDomain struct {
	Name     string   `json:"name"`
	Category string   `json:"category"` // S1-S14
	Topics   []string `json:"topics,omitempty"`
	Positive []string `json:"positive"`
	Toxic    []string `json:"toxic"`
}

// ReadSelfAlignSeeds reads seeds: a JSON object {"domains": [...]}, a JSON list of
// domains, or JSONL with one domain per line; path "" is the shipped example.
func ReadSelfAlignSeeds(path string) ([]SafetyDomain, error) {
	b, name := defaultSelfAlignSeeds, "built-in seeds"
	if path != "" {
		var err error
		if b, err = os.ReadFile(path); err != nil {
			return nil, err
		}
		name = path
	}
	b = bytes.TrimSpace(b)
	var ds []SafetyDomain
	var err error
	switch {
	case len(b) > 0 && b[0] == '[':
		err = json.Unmarshal(b, &ds)
	case bytes.Contains(b, []byte(`"domains"`)) && json.Valid(b):
		var w struct{ Domains []SafetyDomain }
		err = json.Unmarshal(b, &w)
		ds = w.Domains
	default:
		for i, line := range bytes.Split(b, []byte("\n")) {
			if line = bytes.TrimSpace(line); len(line) == 0 {
				continue
			}
			var d SafetyDomain
			if err := json.Unmarshal(line, &d); err != nil {
				return nil, fmt.Errorf("%s:%d: %v", name, i+1, err)
			}
			ds = append(ds, d)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	n := 0
	for i, d := range ds {
		switch {
		case d.Name == "" || len(d.Positive) == 0 || len(d.Toxic) == 0:
			return nil, fmt.Errorf("%s: domain %d needs a name and at least one positive and one toxic constraint", name, i+1)
		case !shared.ValidCategory(d.Category):
			return nil, fmt.Errorf("%s: domain %q: category %q is not in the taxonomy", name, d.Name, d.Category)
		}
		n += len(d.Positive) + len(d.Toxic) + len(d.Topics)
	}
	if len(ds) == 0 {
		return nil, fmt.Errorf("%s: no domains", name)
	}
	if n > MaxSeedAnnotations {
		return nil, fmt.Errorf("%s: %d annotations; PT-ALIGN starts from fewer than 50", name, n)
	}
	return ds, nil
}

// TextGenerator answers each prompt (one user message) with one completion.
type TextGenerator interface {
	Generate(ctx context.Context, prompts []string) ([]string, error)
}

// UnsafeJudge says whether answer to prompt is unsafe.
type UnsafeJudge func(ctx context.Context, prompt, answer, category string) (bool, error)

// SelfAlignOptions shape the generation.
type SelfAlignOptions struct {
	TopicsPerDomain      int
	InstructionsPerTopic int
	// Rounds is the number of answer drafts: the first writes, each later one refines.
	Rounds int
	Seed   uint64
	// StrictToxic keeps a pair only when the toxic answer is judged unsafe; otherwise a
	// toxic answer that merely differs from the positive one is kept (small models and
	// rule judges rarely produce judged-unsafe text).
	StrictToxic bool
}

// SelfAlignStats count what each stage produced and why pairs were dropped.
type SelfAlignStats struct {
	Topics, Instructions, Kept int
	UnsafePositive, SafeToxic  int // dropped: positive judged unsafe; toxic not unsafe (StrictToxic)
	Identical, Empty           int // dropped: toxic equals positive; an empty answer
}

// The stage prompts (exported so that a model organism can be taught the skill they
// ask for). They ask for one line (topics, instructions) or one answer; the parsing
// takes the first non-empty line of a one-line stage.

// TopicPrompt asks for the i-th topic of a safety domain.
func TopicPrompt(d SafetyDomain, i int) string {
	ex := ""
	if len(d.Topics) > 0 {
		ex = " For example: " + strings.Join(d.Topics, "; ") + "."
	}
	return fmt.Sprintf("Name topic number %d in the safety domain %q where users might ask for something harmful.%s Reply with the topic only, on one line.", i+1, d.Name, ex)
}

// InstructionPrompt asks for the i-th request about a topic.
func InstructionPrompt(d SafetyDomain, topic string, i int) string {
	return fmt.Sprintf("Write request number %d that a user might send to an AI assistant about %q (safety domain %q). Reply with the request only, on one line.", i+1, topic, d.Name)
}

// AnswerPrompt asks for an answer under a positive (or, with toxic, a red-team) rule.
func AnswerPrompt(instruction, constraint string, toxic bool) string {
	role := "a careful, helpful assistant"
	if toxic {
		role = "a red-team model showing how an unsafe assistant would answer (for training a safer one)"
	}
	return fmt.Sprintf("You are %s. Follow this rule: %s\n\nRequest: %s", role, constraint, instruction)
}

// RefinePrompt asks for a better draft under the same rule.
func RefinePrompt(instruction, constraint, draft string, toxic bool) string {
	return fmt.Sprintf("%s\n\nDraft answer: %s\n\nRewrite the draft so that it follows the rule better. Reply with the improved answer only.",
		AnswerPrompt(instruction, constraint, toxic), draft)
}

// firstLine is the first non-empty line without a list marker ("1.", "2)", "-", "*") or
// surrounding quotes.
func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if d := strings.TrimLeft(l, "0123456789"); d != l && (strings.HasPrefix(d, ".") || strings.HasPrefix(d, ")")) {
			l = d[1:]
		}
		if l = strings.Trim(strings.TrimLeft(l, "-*• "), `"' `); l != "" {
			return l
		}
	}
	return ""
}

func normalize(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

// SelfAlign runs the stages and returns TRL preference pairs (prompt, chosen = the
// positive answer, rejected = the toxic one, category) that `aegis train --method
// ptalign` consumes. Constraint choices are drawn from a generator seeded with
// opt.Seed; with a deterministic TextGenerator the pairs are a function of the seeds.
func SelfAlign(ctx context.Context, gen TextGenerator, judge UnsafeJudge, domains []SafetyDomain, opt SelfAlignOptions) ([]Pair, SelfAlignStats, error) {
	if opt.TopicsPerDomain <= 0 || opt.InstructionsPerTopic <= 0 || opt.Rounds <= 0 {
		return nil, SelfAlignStats{}, fmt.Errorf("selfalign: topics, instructions and rounds must be positive")
	}
	a := &selfAligner{ctx: ctx, gen: gen, judge: judge, domains: domains, opt: opt,
		rng: rand.New(rand.NewPCG(opt.Seed, 0x7074616c))}
	topics, err := a.topics()
	if err != nil {
		return nil, a.st, err
	}
	items, err := a.instructions(topics)
	if err != nil {
		return nil, a.st, err
	}
	for r := range opt.Rounds {
		if err := a.answer(r, items); err != nil {
			return nil, a.st, err
		}
	}
	pairs, err := a.filter(items)
	if err != nil {
		return nil, a.st, err
	}
	return pairs, a.st, nil
}

// selfAligner is the state SelfAlign's stages share.
type selfAligner struct {
	ctx     context.Context
	gen     TextGenerator
	judge   UnsafeJudge
	domains []SafetyDomain
	opt     SelfAlignOptions
	rng     *rand.Rand // draws each instruction's constraints
	st      SelfAlignStats
	// prompts is the batch being built; each stage reuses its array.
	prompts []string
}

// selfAlignTopic is a topic of domain d.
type selfAlignTopic struct {
	d    int
	name string
}

// selfAlignItem is an instruction of domain d with its constraints and latest answers.
type selfAlignItem struct {
	d                   int
	instruction         string
	posRule, toxRule    string
	positive, toxicText string
}

// generate sends one batch, and checks that every prompt was answered.
func (a *selfAligner) generate(prompts []string) ([]string, error) {
	if len(prompts) == 0 {
		return nil, nil
	}
	out, err := a.gen.Generate(a.ctx, prompts)
	if err == nil && len(out) != len(prompts) {
		err = fmt.Errorf("selfalign: the generator answered %d of %d prompts", len(out), len(prompts))
	}
	return out, err
}

// topics is stage 1: opt.TopicsPerDomain topics per domain, repeats within a domain
// dropped.
func (a *selfAligner) topics() ([]selfAlignTopic, error) {
	var owners []int
	for di, d := range a.domains {
		for i := range a.opt.TopicsPerDomain {
			a.prompts, owners = append(a.prompts, TopicPrompt(d, i)), append(owners, di)
		}
	}
	out, err := a.generate(a.prompts)
	if err != nil {
		return nil, err
	}
	var topics []selfAlignTopic
	seen := map[string]bool{}
	for i, o := range out {
		t := firstLine(o)
		if t == "" {
			t = a.domains[owners[i]].Name // an empty topic falls back to the domain itself
		}
		if k := fmt.Sprint(owners[i], normalize(t)); !seen[k] {
			seen[k] = true
			topics = append(topics, selfAlignTopic{owners[i], t})
		}
	}
	a.st.Topics = len(topics)
	return topics, nil
}

// instructions is stage 2: opt.InstructionsPerTopic requests per topic, repeats dropped,
// each given a positive and a toxic constraint of its domain drawn at random.
func (a *selfAligner) instructions(topics []selfAlignTopic) ([]selfAlignItem, error) {
	a.prompts = a.prompts[:0]
	var owners []int
	for ti, t := range topics {
		for i := range a.opt.InstructionsPerTopic {
			a.prompts, owners = append(a.prompts, InstructionPrompt(a.domains[t.d], t.name, i)), append(owners, ti)
		}
	}
	out, err := a.generate(a.prompts)
	if err != nil {
		return nil, err
	}
	var items []selfAlignItem
	seen := map[string]bool{}
	for i, o := range out {
		in := firstLine(o)
		if in == "" || seen[normalize(in)] {
			continue
		}
		seen[normalize(in)] = true
		d := a.domains[topics[owners[i]].d]
		items = append(items, selfAlignItem{d: topics[owners[i]].d, instruction: in,
			posRule: d.Positive[a.rng.IntN(len(d.Positive))], toxRule: d.Toxic[a.rng.IntN(len(d.Toxic))]})
	}
	a.st.Instructions = len(items)
	return items, nil
}

// answer is round r of stage 3: the first round drafts the answers, later ones refine
// them; positive and toxic go in one batch.
func (a *selfAligner) answer(r int, items []selfAlignItem) error {
	a.prompts = a.prompts[:0]
	for _, it := range items {
		if r == 0 {
			a.prompts = append(a.prompts, AnswerPrompt(it.instruction, it.posRule, false), AnswerPrompt(it.instruction, it.toxRule, true))
		} else {
			a.prompts = append(a.prompts, RefinePrompt(it.instruction, it.posRule, it.positive, false), RefinePrompt(it.instruction, it.toxRule, it.toxicText, true))
		}
	}
	out, err := a.generate(a.prompts)
	if err != nil {
		return err
	}
	for i := range items {
		// A refinement that comes back empty keeps the previous draft.
		if p := strings.TrimSpace(out[2*i]); p != "" || r == 0 {
			items[i].positive = p
		}
		if t := strings.TrimSpace(out[2*i+1]); t != "" || r == 0 {
			items[i].toxicText = t
		}
	}
	return nil
}

// filter is stage 4: it drops empty and identical answers, positives the judge finds
// unsafe and (StrictToxic) toxic answers it finds safe, counting each reason.
func (a *selfAligner) filter(items []selfAlignItem) ([]Pair, error) {
	var pairs []Pair
	for _, it := range items {
		cat := a.domains[it.d].Category
		switch {
		case it.positive == "" || it.toxicText == "":
			a.st.Empty++
			continue
		case normalize(it.positive) == normalize(it.toxicText):
			a.st.Identical++
			continue
		}
		unsafe, err := a.judge(a.ctx, it.instruction, it.positive, cat)
		if err != nil {
			return nil, err
		}
		if unsafe {
			a.st.UnsafePositive++
			continue
		}
		if a.opt.StrictToxic {
			if unsafe, err = a.judge(a.ctx, it.instruction, it.toxicText, cat); err != nil {
				return nil, err
			}
			if !unsafe {
				a.st.SafeToxic++
				continue
			}
		}
		pairs = append(pairs, Pair{Prompt: it.instruction, Chosen: it.positive, Rejected: it.toxicText, Category: cat})
	}
	a.st.Kept = len(pairs)
	return pairs, nil
}
