package bon

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aegis-safety/aegis/native/eval"
)

// Prompt is a request to attack.
type Prompt struct {
	ID, Prompt, Category string
}

// Result is the attack's outcome on one request.
type Result struct {
	Index        int // the request's position in Run's prompts
	ID, Category string
	// Prompt is the augmented prompt of the first success, else of the last sample tried.
	Prompt     string
	Response   string // its answer
	Jailbroken bool
	// Samples is the 1-based index of the first success; else the samples tried: N, or
	// the index of the sample that failed.
	Samples int
	// Err is set when a sample could not be generated or judged: the attack on this
	// request ended there, without a success before it.
	Err error
}

// Config controls Run.
type Config struct {
	// Gen answers the augmented prompts. When it is an eval.SeededGenerator, sample k of a
	// request is decoded with its own seed (see Seeds), so a recurring augmentation still
	// gets a fresh answer and answers do not depend on batching.
	Gen eval.Generator
	// Judge decides success: an answer it calls unsafe. It is shown the original request,
	// not the augmented one (as the paper's HarmBench judge is).
	Judge   eval.Judge
	N       int // most samples per request (at least 1)
	Augment Augment
	Seed    uint64
	Batch   int // samples per Generate call; 0: Gen.BatchSize()
	// OnResult is called as each request finishes (one call at a time).
	OnResult func(Result)
	// OnProgress is called (one call at a time) with done samples generated, or with
	// dropped, the samples of its budget of N that a request finishing early will never
	// use: for each request done + dropped adds up to N.
	OnProgress func(done, dropped int)
}

// Outcome is what Run did.
type Outcome struct {
	Results []Result // the finished requests, in input order
	Queries int      // answers generated (a batch may run past a request's first success)
}

// ErrConfig marks a Config or prompts Run refuses.
var ErrConfig = errors.New("bon")

// Run attacks every request: samples of each are generated Batch at a time (several
// requests share a batch when few samples remain to one), judged in index order, and a
// request finishes at its first flagged sample or after N. Generate calls run
// Gen.Parallel() at once. A sample that fails to generate or judge ends its request with
// Result.Err; Run goes on. When ctx ends, Run returns the requests finished so far with
// ctx's error.
func Run(ctx context.Context, cfg Config, prompts []Prompt) (*Outcome, error) {
	if err := cfg.check(prompts); err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, prompts: prompts, results: make([]*Result, len(prompts))}
	if r.cfg.Batch < 1 {
		r.cfg.Batch = max(1, cfg.Gen.BatchSize())
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, max(1, cfg.Gen.Parallel()))
	for w := range errs {
		wg.Go(func() {
			if errs[w] = r.work(ctx); errs[w] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	out := &Outcome{Queries: r.queries}
	for _, res := range r.results {
		if res != nil {
			out.Results = append(out.Results, *res)
		}
	}
	for _, err := range errs {
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func (c *Config) check(prompts []Prompt) error {
	switch {
	case c.Gen == nil || c.Judge == nil:
		return fmt.Errorf("%w: no generator or no judge", ErrConfig)
	case c.N < 1:
		return fmt.Errorf("%w: n must be at least 1, not %d", ErrConfig, c.N)
	}
	if err := c.Augment.Check(); err != nil {
		return fmt.Errorf("%w: %v", ErrConfig, err)
	}
	seen := make(map[string]bool, len(prompts))
	for _, p := range prompts {
		if seen[p.ID] {
			return fmt.Errorf("%w: id %q repeats (samples are seeded by id)", ErrConfig, p.ID)
		}
		seen[p.ID] = true
	}
	return nil
}

// sample is one augmented try of a request.
type sample struct {
	req      *request
	k        int // 0-based index
	prompt   string
	seed     uint64 // decoding seed
	response string
	err      error
	flagged  bool
	skipped  bool // not judged: a lower index of its request was already flagged or failed
}

// request is the state of one request being attacked.
type request struct {
	Prompt
	index    int
	next     int             // samples handed out
	stopK    int             // lowest index known flagged or failed; N when none
	scan     int             // samples 0..scan-1 are judged safe
	done     map[int]*sample // judged samples at or after scan
	finished bool
}

type runner struct {
	cfg     Config
	prompts []Prompt

	mu      sync.Mutex
	active  []*request // started, not finished, in input order
	started int        // prompts started
	results []*Result
	queries int
}

// work runs batches until none is left or ctx ends.
func (r *runner) work(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		r.mu.Lock()
		batch := r.take()
		r.mu.Unlock()
		if len(batch) == 0 {
			return nil
		}
		if err := r.generate(ctx, batch); err != nil {
			return err
		}
		if r.cfg.OnProgress != nil {
			r.mu.Lock()
			r.cfg.OnProgress(len(batch), 0)
			r.mu.Unlock()
		}
		if err := r.judge(ctx, batch); err != nil {
			return err
		}
		r.mu.Lock()
		r.settle(batch)
		r.mu.Unlock()
	}
}

// take hands out the next batch: the pending samples of the started requests in input
// order, starting more requests while there is room. Called with r.mu held.
func (r *runner) take() []*sample {
	var batch []*sample
	for i := 0; len(batch) < r.cfg.Batch; i++ {
		if i == len(r.active) {
			if r.started == len(r.prompts) {
				break
			}
			r.active = append(r.active, &request{Prompt: r.prompts[r.started], index: r.started, stopK: r.cfg.N, done: map[int]*sample{}})
			r.started++
		}
		q := r.active[i]
		for q.next < r.cfg.N && q.stopK == r.cfg.N && len(batch) < r.cfg.Batch {
			aug, gen := Seeds(r.cfg.Seed, q.ID, q.next)
			batch = append(batch, &sample{req: q, k: q.next, prompt: r.cfg.Augment.Sample(q.Prompt.Prompt, aug), seed: gen})
			q.next++
		}
	}
	return batch
}

// generate answers the batch, setting each sample's response or error. It returns an
// error only when ctx has ended.
func (r *runner) generate(ctx context.Context, batch []*sample) error {
	prompts, seeds := make([]string, len(batch)), make([]uint64, len(batch))
	for i, s := range batch {
		prompts[i], seeds[i] = s.prompt, s.seed
	}
	var out []string
	var errs []error
	if g, ok := r.cfg.Gen.(eval.SeededGenerator); ok {
		out, errs = g.GenerateSeeded(ctx, prompts, seeds)
	} else {
		out, errs = r.cfg.Gen.Generate(ctx, prompts)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	n := 0
	for i, s := range batch {
		if errs[i] != nil {
			s.err = fmt.Errorf("sample %d: %w", s.k+1, errs[i])
			continue
		}
		s.response = out[i]
		n++
	}
	r.mu.Lock()
	r.queries += n
	r.mu.Unlock()
	return nil
}

// judge judges the batch's answers in order, skipping those past a flagged or failed
// sample of their request. It returns an error only when ctx has ended.
func (r *runner) judge(ctx context.Context, batch []*sample) error {
	for _, s := range batch {
		q := s.req
		r.mu.Lock()
		s.skipped = s.k > q.stopK
		r.mu.Unlock()
		if !s.skipped && s.err == nil {
			v, err := r.cfg.Judge.Judge(ctx, q.Prompt.Prompt, s.response, q.Category)
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			if err != nil {
				s.err = fmt.Errorf("judging sample %d: %w", s.k+1, err)
			} else {
				s.flagged = v.Unsafe
			}
		}
		if !s.skipped && (s.err != nil || s.flagged) {
			r.mu.Lock()
			q.stopK = min(q.stopK, s.k)
			r.mu.Unlock()
		}
	}
	return nil
}

// settle records the batch's judged samples and finishes the requests they decide.
// Called with r.mu held.
func (r *runner) settle(batch []*sample) {
	for _, s := range batch {
		if !s.skipped && !s.req.finished {
			s.req.done[s.k] = s
		}
	}
	for _, s := range batch {
		q := s.req
		for !q.finished {
			d, ok := q.done[q.scan]
			if !ok {
				break
			}
			delete(q.done, q.scan)
			q.scan++
			if d.err != nil || d.flagged || q.scan == r.cfg.N {
				r.finish(q, d)
			}
		}
	}
}

// finish ends request q with its deciding sample d. Called with r.mu held.
func (r *runner) finish(q *request, d *sample) {
	q.finished, q.done = true, nil
	res := &Result{Index: q.index, ID: q.ID, Category: q.Category, Prompt: d.prompt, Response: d.response,
		Jailbroken: d.err == nil && d.flagged, Samples: d.k + 1, Err: d.err}
	r.results[q.index] = res
	for i, a := range r.active {
		if a == q {
			r.active = append(r.active[:i], r.active[i+1:]...)
			break
		}
	}
	if r.cfg.OnProgress != nil && q.next < r.cfg.N {
		r.cfg.OnProgress(0, r.cfg.N-q.next)
	}
	if r.cfg.OnResult != nil {
		r.cfg.OnResult(*res)
	}
}
