package eval

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aegis-safety/aegis/native/data"
	"github.com/aegis-safety/aegis/shared"
)

// Generator answers prompts: a local model or an OpenAI-compatible endpoint.
type Generator interface {
	// Generate answers a batch of at most BatchSize prompts; errs[i] is prompt i's failure.
	Generate(ctx context.Context, prompts []string) (out []string, errs []error)
	BatchSize() int // prompts per Generate call
	Parallel() int  // Generate calls that may run at once
}

// SeededGenerator is a Generator that also takes each prompt's sampling seed, so that a
// caller drawing many answers (Best-of-N) gets a fresh draw for a prompt that recurs and
// answers that depend on neither batching nor order. LocalGenerator is one.
type SeededGenerator interface {
	Generator
	// GenerateSeeded is Generate with prompt i sampled from seeds[i].
	GenerateSeeded(ctx context.Context, prompts []string, seeds []uint64) (out []string, errs []error)
}

// EndpointGenerator sends each prompt to an OpenAI-compatible server, Concurrency at once.
type EndpointGenerator struct {
	Client      *Client
	Concurrency int
}

// Generate sends one prompt (BatchSize is 1).
func (g EndpointGenerator) Generate(ctx context.Context, prompts []string) ([]string, []error) {
	out, errs := make([]string, len(prompts)), make([]error, len(prompts))
	for i, p := range prompts {
		out[i], errs[i] = g.Client.Complete(ctx, p)
	}
	return out, errs
}

func (g EndpointGenerator) BatchSize() int { return 1 }
func (g EndpointGenerator) Parallel() int  { return max(1, g.Concurrency) }

// Expand turns prompts into attempts: each prompt as it is (attack "none", or the style a
// prompts row names), and for harmful prompts one attempt per style the attacker writes,
// with id PROMPT_ID/STYLE. Benign prompts are never rewritten: they measure over-refusal.
// Seeds derive from seed and the prompt id, as in `aegis attack`.
func Expand(ctx context.Context, prompts []data.Prompt, styles []string, attack data.Attacker, seed uint64) ([]*Attempt, error) {
	var out []*Attempt
	for _, p := range prompts {
		a := p.Attack
		if a == "" {
			a = AttackNone
		}
		out = append(out, &Attempt{ID: p.ID, Status: StatusPending, Prompt: p.Prompt, Attack: a, Category: p.Category, BaseID: p.ID, Split: p.Split})
		if len(styles) == 0 || p.Category == shared.Benign || p.Attack != "" {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		vs, err := attack(ctx, shared.AttackInput{Prompt: p.Prompt, Category: p.Category, Seed: data.RowSeed(seed, p.ID), Params: &shared.AttackParams{Styles: styles}})
		if err != nil {
			return nil, fmt.Errorf("attack on %s: %w", p.ID, err)
		}
		for _, v := range vs {
			out = append(out, &Attempt{ID: p.ID + "/" + v.Style, Status: StatusPending, Prompt: v.Prompt, Attack: v.Style,
				Category: p.Category, BaseID: p.ID, Split: p.Split})
		}
	}
	return out, nil
}

// Options controls Run.
type Options struct {
	Gen      Generator
	Judge    Judge
	Log      *Log
	Progress func(n int) // called as attempts finish (judged, or failed)
}

// Run brings every attempt to judged: pending ones are generated then judged, generated
// ones only judged. Each state change is appended to the log as it happens. A failed
// attempt keeps its state with Error set and the scan goes on; Run returns how many
// failed. On cancellation it stops handing out work and returns ctx.Err() after the
// running batches end; nothing finished is lost. An endpoint (of the model or of an LLM
// judge) that is unreachable from the start stops the scan the same way, with that error
// (ErrUnreachable), its attempts left as they were; so does the first failure to write
// the log, which Run returns.
func Run(ctx context.Context, attempts []*Attempt, o Options) (failed int, err error) {
	// Judge-only work first (cheap), then generation in batches.
	var batches [][]*Attempt
	var toGen []*Attempt
	for _, a := range attempts {
		switch a.Status {
		case StatusPending:
			toGen = append(toGen, a)
		case StatusGenerated:
			batches = append(batches, []*Attempt{a})
		}
	}
	r := &runner{o: o}
	bs := max(1, o.Gen.BatchSize())
	for i := 0; i < len(toGen); i += bs {
		batches = append(batches, toGen[i:min(i+bs, len(toGen))])
	}
	work := make(chan []*Attempt)
	var wg sync.WaitGroup
	for range max(1, o.Gen.Parallel()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				if !r.stopped(ctx) { // else handed out as the scan was being stopped: left for --resume
					r.batch(ctx, b)
				}
			}
		}()
	}
	for _, b := range batches {
		if r.stopped(ctx) {
			break
		}
		select {
		case work <- b:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	if r.firstErr != nil {
		return r.failed, r.firstErr
	}
	return r.failed, ctx.Err()
}

// runner is the state Run's workers share.
type runner struct {
	o Options

	mu       sync.Mutex
	failed   int
	firstErr error // a log write failure or an unreachable endpoint: stop everything
}

// stop records the first error that stops the scan.
func (r *runner) stop(err error) {
	r.mu.Lock()
	if r.firstErr == nil {
		r.firstErr = err
	}
	r.mu.Unlock()
}

func (r *runner) stopped(ctx context.Context) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.firstErr != nil || ctx.Err() != nil
}

// record logs a's current state.
func (r *runner) record(a *Attempt) {
	if err := r.o.Log.Append(a); err != nil {
		r.stop(err)
	}
}

// done logs a and counts it as finished (judged, or failed with err).
func (r *runner) done(a *Attempt, err error) {
	if err != nil {
		a.Error = err.Error()
	}
	r.record(a)
	if err != nil {
		r.mu.Lock()
		r.failed++
		r.mu.Unlock()
	}
	if r.o.Progress != nil {
		r.o.Progress(1)
	}
}

// batch generates a batch of pending attempts (or takes one generated attempt) and judges
// each answer.
func (r *runner) batch(ctx context.Context, b []*Attempt) {
	if b[0].Status == StatusGenerated {
		r.judge(ctx, b[0])
		return
	}
	prompts := make([]string, len(b))
	for i, a := range b {
		prompts[i] = a.Prompt
	}
	outs, errs := r.o.Gen.Generate(ctx, prompts)
	for i, a := range b {
		if errors.Is(errs[i], ErrUnreachable) {
			r.stop(errs[i])
			continue
		}
		if errs[i] != nil {
			if ctx.Err() == nil && !errors.Is(errs[i], context.Canceled) {
				r.done(a, errs[i])
			}
			continue
		}
		resp := outs[i]
		a.Status, a.Response, a.Error = StatusGenerated, &resp, ""
		r.record(a)
		r.judge(ctx, a)
	}
}

func (r *runner) judge(ctx context.Context, a *Attempt) {
	v, err := r.o.Judge.Judge(ctx, a.Prompt, *a.Response, a.Category)
	if errors.Is(err, ErrUnreachable) {
		r.stop(err)
		return
	}
	if err != nil {
		if ctx.Err() == nil {
			r.done(a, err)
		}
		return
	}
	a.Status, a.Verdict, a.Error = StatusJudged, v, ""
	r.done(a, nil)
}
