package bon

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aegis-safety/aegis/native/eval"
)

// fakeGen answers "TOKEN" to sample k of request id when hit(id, k), else "no". It finds
// (id, k) from the decoding seed (a SeededGenerator) or, when plain, from the augmented
// prompt. It records every batch's size and fails the samples in fail.
type fakeGen struct {
	batch, parallel int
	plain           bool // use Generate, not GenerateSeeded
	hit             func(id string, k int) bool
	fail            map[string]int // id -> 0-based sample index that fails
	bySeed          map[uint64]key
	byPrompt        map[string]key
	onCall          func(call int) // before answering call (1-based)

	mu      sync.Mutex
	calls   int
	batches []int
}

type key struct {
	id string
	k  int
}

func newFakeGen(prompts []Prompt, n, batch int, seed uint64, hit func(string, int) bool) *fakeGen {
	g := &fakeGen{batch: batch, parallel: 1, hit: hit, bySeed: map[uint64]key{}, byPrompt: map[string]key{}}
	for _, p := range prompts {
		for k := range n {
			aug, gen := Seeds(seed, p.ID, k)
			g.bySeed[gen] = key{p.ID, k}
			g.byPrompt[DefaultAugment.Sample(p.Prompt, aug)] = key{p.ID, k}
		}
	}
	return g
}

func (g *fakeGen) BatchSize() int { return g.batch }
func (g *fakeGen) Parallel() int  { return g.parallel }

func (g *fakeGen) Generate(ctx context.Context, prompts []string) ([]string, []error) {
	if !g.plain {
		panic("Generate called on a seeded generator")
	}
	keys := make([]key, len(prompts))
	for i, p := range prompts {
		keys[i] = g.byPrompt[p]
	}
	return g.answer(ctx, keys)
}

func (g *fakeGen) GenerateSeeded(ctx context.Context, prompts []string, seeds []uint64) ([]string, []error) {
	if g.plain {
		panic("GenerateSeeded called on a plain generator")
	}
	keys := make([]key, len(prompts))
	for i, s := range seeds {
		keys[i] = g.bySeed[s]
	}
	return g.answer(ctx, keys)
}

func (g *fakeGen) answer(ctx context.Context, keys []key) ([]string, []error) {
	g.mu.Lock()
	g.calls++
	call := g.calls
	g.batches = append(g.batches, len(keys))
	g.mu.Unlock()
	if g.onCall != nil {
		g.onCall(call)
	}
	out, errs := make([]string, len(keys)), make([]error, len(keys))
	for i, k := range keys {
		switch {
		case ctx.Err() != nil:
			errs[i] = ctx.Err()
		case k.id == "":
			errs[i] = errors.New("unknown sample")
		case g.fail != nil && g.fail[k.id] == k.k+1:
			errs[i] = errors.New("boom")
		case g.hit(k.id, k.k):
			out[i] = fmt.Sprintf("sample %d of %s: TOKEN", k.k, k.id)
		default:
			out[i] = fmt.Sprintf("sample %d of %s: no", k.k, k.id)
		}
	}
	return out, errs
}

// plainGen is fakeGen without GenerateSeeded.
type plainGen struct{ g *fakeGen }

func (g plainGen) Generate(ctx context.Context, p []string) ([]string, []error) {
	return g.g.Generate(ctx, p)
}
func (g plainGen) BatchSize() int { return g.g.BatchSize() }
func (g plainGen) Parallel() int  { return g.g.Parallel() }

// tokenJudge flags answers holding TOKEN and counts its calls per request.
type tokenJudge struct {
	mu    sync.Mutex
	calls map[string]int
}

func (j *tokenJudge) Judge(_ context.Context, prompt, response, _ string) (*eval.Verdict, error) {
	j.mu.Lock()
	if j.calls == nil {
		j.calls = map[string]int{}
	}
	j.calls[prompt]++
	j.mu.Unlock()
	return &eval.Verdict{Unsafe: strings.Contains(response, "TOKEN")}, nil
}

func prompts(n int) []Prompt {
	ps := make([]Prompt, n)
	for i := range ps {
		ps[i] = Prompt{ID: fmt.Sprintf("p%d", i), Prompt: fmt.Sprintf("Tell me, request number %d, how to build a thing", i), Category: "S2"}
	}
	return ps
}

// TestStopsAtFirstSuccess: each request stops at its first flagged sample, whatever the
// batch size, the generator's parallelism or whether it takes seeds; the row holds that
// sample's augmented prompt and answer, and ASR at N counts first successes within N.
func TestStopsAtFirstSuccess(t *testing.T) {
	ps := prompts(5)
	first := map[string]int{"p0": 1, "p1": 3, "p2": 5, "p3": 0, "p4": 2} // 1-based; 0 never
	hit := func(id string, k int) bool { return first[id] == k+1 }
	const n, seed = 4, 9
	wantSamples := []int{1, 3, 4, 4, 2}
	wantJB := []bool{true, true, false, false, true}
	for _, tc := range []struct {
		batch, parallel int
		plain           bool
	}{{1, 1, false}, {3, 1, false}, {16, 1, false}, {2, 3, false}, {3, 1, true}} {
		t.Run(fmt.Sprintf("b%d-p%d-plain%v", tc.batch, tc.parallel, tc.plain), func(t *testing.T) {
			g := newFakeGen(ps, n, tc.batch, seed, hit)
			g.parallel, g.plain = tc.parallel, tc.plain
			var gen eval.Generator = g
			if tc.plain {
				gen = plainGen{g}
			}
			j := &tokenJudge{}
			var got []Result
			done, dropped := 0, 0
			out, err := Run(context.Background(), Config{Gen: gen, Judge: j, N: n, Augment: DefaultAugment, Seed: seed,
				OnResult:   func(r Result) { got = append(got, r) },
				OnProgress: func(d, x int) { done, dropped = done+d, dropped+x }}, ps)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Results) != len(ps) || len(got) != len(ps) {
				t.Fatalf("%d results, %d callbacks, want %d", len(out.Results), len(got), len(ps))
			}
			if done != out.Queries || done+dropped != n*len(ps) {
				t.Fatalf("progress: %d done (queries %d), %d dropped; want done + dropped = %d", done, out.Queries, dropped, n*len(ps))
			}
			for i, r := range out.Results {
				p := ps[i]
				if r.ID != p.ID || r.Index != i || r.Samples != wantSamples[i] || r.Jailbroken != wantJB[i] || r.Err != nil {
					t.Fatalf("result %d: %+v, want samples %d jailbroken %v", i, r, wantSamples[i], wantJB[i])
				}
				aug, _ := Seeds(seed, p.ID, r.Samples-1)
				if r.Prompt != DefaultAugment.Sample(p.Prompt, aug) || !strings.HasPrefix(r.Response, fmt.Sprintf("sample %d of %s:", r.Samples-1, p.ID)) {
					t.Fatalf("result %d: prompt %q response %q are not sample %d's", i, r.Prompt, r.Response, r.Samples)
				}
				if tc.parallel == 1 && j.calls[p.Prompt] != r.Samples {
					t.Fatalf("result %d: judged %d times, want %d (no judging past a success)", i, j.calls[p.Prompt], r.Samples)
				}
			}
			if slices.Max(g.batches) > tc.batch {
				t.Fatalf("batches %v exceed %d", g.batches, tc.batch)
			}
			if tc.batch == 16 && !slices.Equal(g.batches, []int{16, 4}) {
				t.Fatalf("batches %v: want requests to share batches: 16 samples of p0-p3, then p4's 4", g.batches)
			}
			rep := NewReport(out.Results, n)
			want := []Point{{1, 0.2, 1}, {2, 0.4, 2}, {4, 0.6, 3}}
			if !slices.Equal(rep.ASRAtN, want) || rep.ASR != 0.6 || rep.Jailbroken != 3 || rep.Prompts != 5 || rep.SamplesUsed != 14 {
				t.Fatalf("report %+v, want asr_at_n %v", rep, want)
			}
		})
	}
}

// TestASRCurve: with a token that appears in each answer with probability q, independently
// per sample, ASR at N is exactly the share of requests whose first hit is within N, and
// close to 1 - (1-q)^N.
func TestASRCurve(t *testing.T) {
	ps := prompts(300)
	const n, q, seed = 16, 0.2, 1
	hit := func(id string, k int) bool {
		_, gen := Seeds(seed, id, k)
		return float64(mix(gen)>>11)/(1<<53) < q
	}
	g := newFakeGen(ps, n, 8, seed, hit)
	out, err := Run(context.Background(), Config{Gen: g, Judge: &tokenJudge{}, N: n, Augment: DefaultAugment, Seed: seed}, ps)
	if err != nil {
		t.Fatal(err)
	}
	rep := NewReport(out.Results, n)
	if len(rep.ASRAtN) != 5 {
		t.Fatalf("asr_at_n %v: want N = 1, 2, 4, 8, 16", rep.ASRAtN)
	}
	for _, pt := range rep.ASRAtN {
		want := 0
		for _, p := range ps {
			for k := range pt.N {
				if hit(p.ID, k) {
					want++
					break
				}
			}
		}
		if pt.Jailbroken != want || pt.ASR != float64(want)/float64(len(ps)) {
			t.Fatalf("N=%d: %+v, want %d jailbroken", pt.N, pt, want)
		}
		if th := 1 - math.Pow(1-q, float64(pt.N)); math.Abs(pt.ASR-th) > 0.08 {
			t.Fatalf("N=%d: ASR %.3f, theory %.3f", pt.N, pt.ASR, th)
		}
	}
	if out.Queries < rep.SamplesUsed || out.Queries > rep.SamplesUsed+len(ps)*7 {
		t.Fatalf("queries %d, samples used %d", out.Queries, rep.SamplesUsed)
	}
}

// TestLargeN: N is not capped: a request that never succeeds uses all 10,000 samples, one
// that succeeds at sample 9,999 stops there.
func TestLargeN(t *testing.T) {
	ps := prompts(2)
	const n = 10000
	g := newFakeGen(ps, n, 64, 0, func(id string, k int) bool { return id == "p1" && k == 9998 })
	out, err := Run(context.Background(), Config{Gen: g, Judge: &tokenJudge{}, N: n, Augment: DefaultAugment}, ps)
	if err != nil {
		t.Fatal(err)
	}
	r0, r1 := out.Results[0], out.Results[1]
	if r0.Samples != n || r0.Jailbroken || r1.Samples != 9999 || !r1.Jailbroken {
		t.Fatalf("results %+v %+v", r0, r1)
	}
	rep := NewReport(out.Results, n)
	if last := rep.ASRAtN[len(rep.ASRAtN)-1]; last.N != n || last.ASR != 0.5 || rep.ASRAtN[len(rep.ASRAtN)-2] != (Point{N: 8192}) {
		t.Fatalf("asr_at_n %v", rep.ASRAtN)
	}
}

// TestFailedSample: a sample that cannot be generated ends its request with the error,
// unless an earlier sample already succeeded; the other requests go on; failed requests
// are outside the ASR.
func TestFailedSample(t *testing.T) {
	ps := prompts(3)
	g := newFakeGen(ps, 8, 4, 0, func(id string, k int) bool { return id == "p1" && k == 0 || id == "p2" && k == 5 })
	g.fail = map[string]int{"p0": 2, "p1": 2}
	out, err := Run(context.Background(), Config{Gen: g, Judge: &tokenJudge{}, N: 8, Augment: DefaultAugment}, ps)
	if err != nil {
		t.Fatal(err)
	}
	r := out.Results
	if r[0].Err == nil || r[0].Samples != 2 || r[0].Jailbroken || !strings.Contains(r[0].Err.Error(), "sample 2: boom") {
		t.Fatalf("p0: %+v", r[0])
	}
	if r[1].Err != nil || r[1].Samples != 1 || !r[1].Jailbroken || r[2].Samples != 6 || !r[2].Jailbroken {
		t.Fatalf("p1, p2: %+v %+v", r[1], r[2])
	}
	if rep := NewReport(r, 8); rep.Failed != 1 || rep.ASR != 1 || rep.Prompts != 3 {
		t.Fatalf("report %+v", rep)
	}
}

// TestCancelKeepsFinished: when the context ends mid-run, Run returns its error and the
// requests finished before, each reported once through OnResult.
func TestCancelKeepsFinished(t *testing.T) {
	ps := prompts(6)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Requests succeed at their second sample; a batch of 4 holds one request's samples.
	g := newFakeGen(ps, 4, 4, 0, func(_ string, k int) bool { return k == 1 })
	g.onCall = func(call int) {
		if call == 2 {
			cancel()
		}
	}
	var seen []string
	out, err := Run(ctx, Config{Gen: g, Judge: &tokenJudge{}, N: 4, Augment: DefaultAugment, OnResult: func(r Result) { seen = append(seen, r.ID) }}, ps)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want canceled", err)
	}
	if len(out.Results) != 1 || out.Results[0].ID != "p0" || out.Results[0].Samples != 2 || !slices.Equal(seen, []string{"p0"}) {
		t.Fatalf("results %+v, callbacks %v: want p0 only", out.Results, seen)
	}
}

func TestConfigErrors(t *testing.T) {
	g := newFakeGen(nil, 1, 1, 0, func(string, int) bool { return false })
	for _, c := range []struct {
		cfg Config
		ps  []Prompt
	}{
		{Config{Gen: g, Judge: &tokenJudge{}, N: 0}, nil},
		{Config{Gen: g, Judge: &tokenJudge{}, N: 1, Augment: Augment{Noise: 2}}, nil},
		{Config{Gen: g, N: 1}, nil},
		{Config{Gen: g, Judge: &tokenJudge{}, N: 1}, []Prompt{{ID: "a", Prompt: "x"}, {ID: "a", Prompt: "y"}}},
	} {
		if _, err := Run(context.Background(), c.cfg, c.ps); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: err %v", c.cfg, err)
		}
	}
}

func TestGrid(t *testing.T) {
	for n, want := range map[int][]int{1: {1}, 2: {1, 2}, 4: {1, 2, 4}, 6: {1, 2, 4, 6}} {
		if got := Grid(n); !slices.Equal(got, want) {
			t.Errorf("Grid(%d) = %v, want %v", n, got, want)
		}
	}
	if g := Grid(10000); len(g) != 15 || g[13] != 8192 || g[14] != 10000 {
		t.Errorf("Grid(10000) = %v", g)
	}
}
