package gcg

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/tokenizer"
)

// Options are the attack's settings; zero values take the defaults.
type Options struct {
	Steps      int    // optimisation steps (default 100; negative: none)
	SuffixLen  int    // suffix tokens (default 20)
	TopK       int    // substitutions kept per position (default 256, capped at the allowed tokens)
	Candidates int    // candidates scored per step, B (default 512)
	Seed       uint64 // seed of the candidate sampling
	// Init is the initial suffix text; its first SuffixLen tokens (after the separating
	// space) start the search. Default: "! ! ! ..." with SuffixLen exclamation marks.
	Init string
	// Template is the chat template (a built-in name or source; "" the tokenizer's). A
	// tokenizer with no template gets the request as plain text with special tokens.
	Template string
	// BatchTokens bounds the tokens of one batched forward when scoring candidates
	// (default: what keeps the activations near 512 MiB).
	BatchTokens int
}

// Defaults of Options.
const (
	DefaultSteps      = 100
	DefaultSuffixLen  = 20
	DefaultTopK       = 256
	DefaultCandidates = 512
)

func (o *Options) fill() {
	if o.Steps == 0 {
		o.Steps = DefaultSteps
	}
	o.Steps = max(o.Steps, 0)
	if o.SuffixLen <= 0 {
		o.SuffixLen = DefaultSuffixLen
	}
	if o.TopK <= 0 {
		o.TopK = DefaultTopK
	}
	if o.Candidates <= 0 {
		o.Candidates = DefaultCandidates
	}
	if o.Init == "" {
		o.Init = strings.TrimSpace(strings.Repeat("! ", o.SuffixLen))
	}
}

// Goal is one request to attack and the answer the attack wants to force.
type Goal struct {
	Request, Target string
}

// Step is the state after one optimisation step.
type Step struct {
	Step       int     // 1-based
	Loss       float64 // the current suffix's loss (summed over goals)
	Best       float64 // the best loss so far
	Candidates int     // candidates scored (after the re-tokenization filter)
	Tokens     int     // tokens of the sequences scored: the gradient pass and the candidates (cached shared tokens included)
	Seconds    float64 // this step's time
}

// Result is the best suffix found and its losses.
type Result struct {
	Suffix    string    // the suffix text: the user sends Goal.Request + " " + Suffix
	IDs       []int32   // its tokens
	LossStart []float64 // each goal's mean target loss with the initial suffix
	Loss      []float64 // each goal's mean target loss with Suffix
	Steps     int       // steps run
	Seconds   float64   // time of the steps
}

// Prompt is the user message the attack optimises: request + " " + suffix.
func Prompt(request, suffix string) string { return request + " " + suffix }

// Attacker runs GCG against one model. It is not safe for concurrent use.
type Attacker struct {
	m        *model.Model
	tok      *tokenizer.Tokenizer
	o        Options
	allowed  []int32 // tokens a suffix may hold
	allowed0 []int32 // tokens the suffix may begin with: allowed ones that begin with a space
	topK     int
}

// New prepares an attack on m, whose tokenizer is tok. The model's weights and adapters
// are used as they are and never changed; its trainable state should be frozen (as
// model.Load leaves it), or Backward accumulates weight gradients for nothing.
func New(m *model.Model, tok *tokenizer.Tokenizer, o Options) (*Attacker, error) {
	o.fill()
	a := &Attacker{m: m, tok: tok, o: o}
	V := min(m.Config.VocabSize, tok.VocabSize())
	for id := range int32(V) {
		b := tok.TokenBytes(id, false)
		if len(b) == 0 || tok.IsSpecial(id) || !printable(b) {
			continue
		}
		a.allowed = append(a.allowed, id)
		if b[0] == ' ' {
			a.allowed0 = append(a.allowed0, id)
		}
	}
	if len(a.allowed0) == 0 {
		return nil, errors.New("gcg: the tokenizer has no printable token that begins with a space to start a suffix")
	}
	a.topK = min(o.TopK, len(a.allowed))
	return a, nil
}

// printable reports whether b is printable ASCII (nanoGCG's default: no non-ASCII tokens).
func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// Run optimises one suffix for the goals (one goal: the individual attack; several: the
// universal one), calling onStep (when set) after every step. It stops early when ctx
// ends, returning ctx's error and no result.
func (a *Attacker) Run(ctx context.Context, goals []Goal, onStep func(Step)) (*Result, error) {
	if len(goals) == 0 {
		return nil, errors.New("gcg: no goals")
	}
	init, err := a.initSuffix()
	if err != nil {
		return nil, err
	}
	obj, err := a.objective(goals, init)
	if err != nil {
		return nil, err
	}
	L, V := len(init), a.m.Config.VocabSize
	grad := make([]float32, L*V)
	cur := slices.Clone(init)
	start, err := obj.lossGrad(cur, grad)
	if err != nil {
		return nil, err
	}
	res := &Result{IDs: slices.Clone(cur), LossStart: start, Loss: slices.Clone(start)}
	best, loss := sum(start), sum(start)
	rng := rand.New(rand.NewPCG(a.o.Seed, 0x676367))
	t0 := time.Now()
	for step := 1; step <= a.o.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ts := time.Now()
		if step > 1 {
			if _, err := obj.lossGrad(cur, grad); err != nil {
				return nil, err
			}
		}
		cands := a.filter(goals, obj, a.sample(rng, cur, a.topTokens(grad, L, V)))
		if len(cands) > 0 {
			losses, err := obj.losses(ctx, cands)
			if err != nil {
				return nil, err
			}
			G := len(goals)
			c := argminSum(losses, G)
			cur = cands[c]
			loss = sum(losses[c*G : (c+1)*G])
			if loss < best {
				best = loss
				res.IDs, res.Loss = slices.Clone(cur), slices.Clone(losses[c*G:(c+1)*G])
			}
		}
		res.Steps = step
		if onStep != nil {
			G, T := len(goals), obj.width()
			onStep(Step{Step: step, Loss: loss, Best: best, Candidates: len(cands), Tokens: (1 + len(cands)) * G * T,
				Seconds: time.Since(ts).Seconds()})
		}
	}
	res.Seconds = time.Since(t0).Seconds()
	res.Suffix = strings.TrimPrefix(a.text(res.IDs), " ")
	return res, nil
}

// initSuffix is the first SuffixLen tokens of " " + Options.Init.
func (a *Attacker) initSuffix() ([]int32, error) {
	ids := a.tok.Encode(" "+a.o.Init, false)
	if len(ids) < a.o.SuffixLen {
		return nil, fmt.Errorf("gcg: the initial suffix %q is %d tokens, fewer than the suffix length %d", a.o.Init, len(ids), a.o.SuffixLen)
	}
	return ids[:a.o.SuffixLen], nil
}

// text is the suffix's text as it follows the request: its tokens' bytes, the first
// token's leading space included.
func (a *Attacker) text(ids []int32) string {
	var b []byte
	for _, id := range ids {
		b = append(b, a.tok.TokenBytes(id, false)...)
	}
	return string(b)
}

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

// argminSum returns the row of losses [n, G] with the least sum.
func argminSum(losses []float64, G int) int {
	best, arg := 0.0, 0
	for c := 0; c < len(losses)/G; c++ {
		if s := sum(losses[c*G : (c+1)*G]); c == 0 || s < best {
			best, arg = s, c
		}
	}
	return arg
}
