package train

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aegis-safety/aegis/native/align"
	"github.com/aegis-safety/aegis/native/model"
)

// golden mirrors testdata/optim_golden.json, written by
// scripts/torch_optim_golden.py.
type golden struct {
	Shapes       map[string][]int
	Params       map[string][]float32
	Grads        []map[string][]float32
	LRs          []float64 `json:"lrs"`
	AdamW        optGolden
	SGDMomentum  optGolden `json:"sgd_momentum"`
	SGDNesterov  optGolden `json:"sgd_nesterov"`
	SGDDampening optGolden `json:"sgd_dampening"`
	Clip         []struct {
		MaxNorm float64 `json:"max_norm"`
		Total   float64
		Grads   map[string][]float32
	}
	CE struct {
		Rows, Vocab int
		Logits      []float32
		Targets     []int32
		MeanLoss    float64   `json:"mean_loss"`
		SumLoss     float64   `json:"sum_loss"`
		Count       int       `json:"count"`
		MeanGrad    []float64 `json:"mean_grad"`
	}
}

type optGolden struct {
	Beta1, Beta2, Eps float64
	WeightDecay       float64 `json:"weight_decay"`
	Momentum          float64
	Dampening         float64
	Nesterov          bool
	After             []map[string][]float32
	State             map[string][]float32
}

var paramOrder = []string{"w", "b"}

func loadGolden(t *testing.T) *golden {
	t.Helper()
	b, err := os.ReadFile("testdata/optim_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	g := new(golden)
	if err := json.Unmarshal(b, g); err != nil {
		t.Fatal(err)
	}
	return g
}

// params returns fresh copies of the golden initial parameters.
func (g *golden) params() []*model.Param {
	var ps []*model.Param
	for _, name := range paramOrder {
		d := g.Params[name]
		ps = append(ps, &model.Param{Name: name, Shape: g.Shapes[name], Data: slices.Clone(d), Grad: make([]float32, len(d))})
	}
	return ps
}

// setGrads loads step k's gradients into ps.
func (g *golden) setGrads(ps []*model.Param, k int) {
	for _, p := range ps {
		copy(p.Grad, g.Grads[k][p.Name])
	}
}

// closeTo reports whether got is within rtol (relative) or atol of want.
func closeTo(got, want, rtol, atol float64) bool {
	return math.Abs(got-want) <= atol+rtol*math.Abs(want)
}

func compare(t *testing.T, what string, got, want []float32, rtol, atol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !closeTo(float64(got[i]), float64(want[i]), rtol, atol) {
			t.Errorf("%s[%d] = %.9g, want %.9g", what, i, got[i], want[i])
		}
	}
}

const (
	optRtol = 1e-5
	optAtol = 1e-7 // for values that pass near zero
)

// runGolden steps opt over golden steps [from, to) and checks the params
// after each step.
func runGolden(t *testing.T, g *golden, og *optGolden, opt Optimizer, ps []*model.Param, from, to int) {
	t.Helper()
	for k := from; k < to; k++ {
		g.setGrads(ps, k)
		opt.Step(ps, g.LRs[k])
		for _, p := range ps {
			compare(t, fmt.Sprintf("step %d %s", k, p.Name), p.Data, og.After[k][p.Name], optRtol, optAtol)
		}
	}
}

func compareState(t *testing.T, got, want map[string][]float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("state has %d entries, want %d", len(got), len(want))
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("state lacks %q", k)
			continue
		}
		compare(t, "state "+k, g, w, optRtol, optAtol)
	}
}

func newGoldenAdamW(og *optGolden) *AdamW {
	return &AdamW{Beta1: og.Beta1, Beta2: og.Beta2, Eps: og.Eps, WeightDecay: og.WeightDecay}
}

func TestAdamWGolden(t *testing.T) {
	g := loadGolden(t)
	opt := newGoldenAdamW(&g.AdamW)
	ps := g.params()
	runGolden(t, g, &g.AdamW, opt, ps, 0, len(g.LRs))
	compareState(t, opt.State(), g.AdamW.State)
}

func TestNewAdamWDefaults(t *testing.T) {
	o := NewAdamW()
	if o.Beta1 != 0.9 || o.Beta2 != 0.999 || o.Eps != 1e-8 || o.WeightDecay != 0.01 {
		t.Errorf("NewAdamW() = %+v, want torch defaults", o)
	}
}

// TestAdamWStateRoundTrip saves the state after two steps, restores it into
// a new optimizer and checks the remaining steps still match torch.
func TestAdamWStateRoundTrip(t *testing.T) {
	g := loadGolden(t)
	ps := g.params()
	first := newGoldenAdamW(&g.AdamW)
	runGolden(t, g, &g.AdamW, first, ps, 0, 2)
	saved := first.State()
	if got := saved["w.step"]; len(got) != 1 || got[0] != 2 {
		t.Fatalf("w.step = %v, want [2]", got)
	}
	second := newGoldenAdamW(&g.AdamW)
	if err := second.LoadState(saved); err != nil {
		t.Fatal(err)
	}
	clear(saved["w.exp_avg"]) // LoadState must have copied
	runGolden(t, g, &g.AdamW, second, ps, 2, len(g.LRs))
	compareState(t, second.State(), g.AdamW.State)
}

func TestAdamWLoadStateErrors(t *testing.T) {
	ok := func() map[string][]float32 {
		return map[string][]float32{"w.exp_avg": {1, 2}, "w.exp_avg_sq": {3, 4}, "w.step": {7}}
	}
	var o AdamW
	if err := o.LoadState(ok()); err != nil {
		t.Fatalf("valid state: %v", err)
	}
	cases := map[string]func(map[string][]float32){
		"missing exp_avg_sq": func(s map[string][]float32) { delete(s, "w.exp_avg_sq") },
		"missing step":       func(s map[string][]float32) { delete(s, "w.step") },
		"length mismatch":    func(s map[string][]float32) { s["w.exp_avg"] = []float32{1} },
		"fractional step":    func(s map[string][]float32) { s["w.step"] = []float32{1.5} },
		"negative step":      func(s map[string][]float32) { s["w.step"] = []float32{-1} },
		"unknown entry":      func(s map[string][]float32) { s["w.momentum_buffer"] = []float32{0, 0} },
	}
	for name, mutate := range cases {
		s := ok()
		mutate(s)
		if err := o.LoadState(s); err == nil {
			t.Errorf("%s: LoadState accepted %v", name, s)
		}
	}
}

func TestSGDGolden(t *testing.T) {
	g := loadGolden(t)
	for name, og := range map[string]*optGolden{
		"momentum":  &g.SGDMomentum,
		"nesterov":  &g.SGDNesterov,
		"dampening": &g.SGDDampening,
	} {
		t.Run(name, func(t *testing.T) {
			opt := &SGD{Momentum: og.Momentum, Dampening: og.Dampening, WeightDecay: og.WeightDecay, Nesterov: og.Nesterov}
			ps := g.params()
			runGolden(t, g, og, opt, ps, 0, 2)
			// Round-trip the momentum buffers mid-run.
			restored := &SGD{Momentum: og.Momentum, Dampening: og.Dampening, WeightDecay: og.WeightDecay, Nesterov: og.Nesterov}
			if err := restored.LoadState(opt.State()); err != nil {
				t.Fatal(err)
			}
			runGolden(t, g, og, restored, ps, 2, len(g.LRs))
			compareState(t, restored.State(), og.State)
		})
	}
}

// TestSGDPlain checks momentum-free SGD, which keeps no state, by hand.
func TestSGDPlain(t *testing.T) {
	p := &model.Param{Name: "p", Data: []float32{1, -2, 0.5}, Grad: []float32{0.5, 0.25, -1}}
	opt := &SGD{WeightDecay: 0.1}
	opt.Step([]*model.Param{p}, 0.5)
	want := []float32{1 - 0.5*(0.5+0.1*1), -2 - 0.5*(0.25+0.1*-2), 0.5 - 0.5*(-1+0.1*0.5)}
	compare(t, "p", p.Data, want, 1e-7, 0)
	if s := opt.State(); len(s) != 0 {
		t.Errorf("momentum-free SGD has state %v", s)
	}
	if err := opt.LoadState(map[string][]float32{"p.exp_avg": {0}}); err == nil {
		t.Error("SGD.LoadState accepted an AdamW entry")
	}
}

func TestSGDNesterovNeedsMomentum(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Nesterov without momentum did not panic")
		}
	}()
	(&SGD{Nesterov: true}).Step(nil, 0.1)
}

// TestNilGradSkipped checks that frozen params (nil Grad) are left alone
// and get no optimizer state.
func TestNilGradSkipped(t *testing.T) {
	for _, opt := range []Optimizer{NewAdamW(), &SGD{Momentum: 0.9}} {
		frozen := &model.Param{Name: "frozen", Data: []float32{1, 2}}
		live := &model.Param{Name: "live", Data: []float32{1, 2}, Grad: []float32{1, 1}}
		opt.Step([]*model.Param{frozen, live}, 0.1)
		if frozen.Data[0] != 1 || frozen.Data[1] != 2 {
			t.Errorf("%T changed a frozen param: %v", opt, frozen.Data)
		}
		if live.Data[0] == 1 {
			t.Errorf("%T did not update a live param", opt)
		}
		for k := range opt.State() {
			if strings.HasPrefix(k, "frozen.") {
				t.Errorf("%T has state %q for a frozen param", opt, k)
			}
		}
	}
}

func TestGradLengthMismatchPanics(t *testing.T) {
	for _, opt := range []Optimizer{NewAdamW(), &SGD{}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%T accepted a grad shorter than its param", opt)
				}
			}()
			opt.Step([]*model.Param{{Name: "p", Data: []float32{1, 2}, Grad: []float32{1}}}, 0.1)
		}()
	}
}

// TestStepAllocs checks that steady-state steps do not allocate.
func TestStepAllocs(t *testing.T) {
	g := loadGolden(t)
	for _, opt := range []Optimizer{NewAdamW(), &SGD{Momentum: 0.9, Nesterov: true}} {
		ps := g.params()
		g.setGrads(ps, 0)
		opt.Step(ps, 1e-3)
		if a := testing.AllocsPerRun(10, func() { opt.Step(ps, 1e-3) }); a != 0 {
			t.Errorf("%T.Step allocates %v times per call", opt, a)
		}
	}
}

func TestClipGradNormGolden(t *testing.T) {
	g := loadGolden(t)
	for _, c := range g.Clip {
		ps := g.params()
		g.setGrads(ps, 0)
		total := ClipGradNorm(ps, c.MaxNorm)
		if !closeTo(total, c.Total, 1e-6, 0) {
			t.Errorf("maxNorm %g: total = %.9g, want %.9g", c.MaxNorm, total, c.Total)
		}
		for _, p := range ps {
			compare(t, p.Name, p.Grad, c.Grads[p.Name], 1e-6, 1e-8)
		}
	}
}

func TestClipGradNormMeasureOnly(t *testing.T) {
	p := &model.Param{Name: "p", Data: make([]float32, 2), Grad: []float32{3, 4}}
	frozen := &model.Param{Name: "f", Data: make([]float32, 2)}
	for _, maxNorm := range []float64{0, -1} {
		if got := ClipGradNorm([]*model.Param{p, frozen}, maxNorm); got != 5 {
			t.Errorf("maxNorm %g: norm = %g, want 5", maxNorm, got)
		}
		if p.Grad[0] != 3 || p.Grad[1] != 4 {
			t.Errorf("maxNorm %g scaled grads to %v", maxNorm, p.Grad)
		}
	}
	nan := &model.Param{Name: "n", Data: make([]float32, 2), Grad: []float32{float32(math.NaN()), 1}}
	if got := ClipGradNorm([]*model.Param{nan}, 1); !math.IsNaN(got) || nan.Grad[1] != 1 {
		t.Errorf("NaN grads: norm %g, grads %v; want NaN and untouched grads", got, nan.Grad)
	}
}

func TestCrossEntropyGolden(t *testing.T) {
	g := loadGolden(t)
	ce := &g.CE
	d := make([]float32, len(ce.Logits))
	loss, n, err := align.MeanCrossEntropy(ce.Logits, ce.Vocab, ce.Targets, d)
	if err != nil {
		t.Fatal(err)
	}
	if n != ce.Count {
		t.Errorf("n = %d, want %d", n, ce.Count)
	}
	if !closeTo(loss, ce.MeanLoss, 1e-6, 0) {
		t.Errorf("mean loss = %.12g, want %.12g", loss, ce.MeanLoss)
	}
	for i := range d {
		if !closeTo(float64(d[i]), ce.MeanGrad[i], 1e-6, 1e-8) {
			t.Errorf("dlogits[%d] = %.9g, want %.9g", i, d[i], ce.MeanGrad[i])
		}
	}

	sum, n, err := align.CrossEntropy(ce.Logits, ce.Vocab, ce.Targets, nil, 1)
	if err != nil || n != ce.Count || !closeTo(sum, ce.SumLoss, 1e-6, 0) {
		t.Errorf("sum loss = %.12g, %d, %v; want %.12g, %d", sum, n, err, ce.SumLoss, ce.Count)
	}
}

// TestCrossEntropyFiniteDifference checks dlogits against central
// differences of the summed loss (gradScale 1).
func TestCrossEntropyFiniteDifference(t *testing.T) {
	const rows, vocab = 4, 5
	logits := make([]float32, rows*vocab)
	for i := range logits {
		logits[i] = float32(math.Sin(float64(i)*1.7)) * 2 // deterministic, varied
	}
	targets := []int32{3, align.Ignore, 0, 4}
	d := make([]float32, len(logits))
	if _, _, err := align.CrossEntropy(logits, vocab, targets, d, 1); err != nil {
		t.Fatal(err)
	}
	const h = 1e-2
	for i := range logits {
		x := logits[i]
		logits[i] = x + h
		up, _, _ := align.CrossEntropy(logits, vocab, targets, nil, 1)
		hi := logits[i]
		logits[i] = x - h
		down, _, _ := align.CrossEntropy(logits, vocab, targets, nil, 1)
		lo := logits[i]
		logits[i] = x
		num := (up - down) / float64(hi-lo) // actual float32 step, not 2h
		if !closeTo(float64(d[i]), num, 1e-4, 1e-5) {
			t.Errorf("dlogits[%d] = %.7g, finite difference %.7g", i, d[i], num)
		}
	}
	for i := vocab; i < 2*vocab; i++ {
		if d[i] != 0 {
			t.Errorf("ignored row has gradient %g at %d", d[i], i)
		}
	}
}

// TestCrossEntropyAccumulation checks that scaling micro-batches by the
// token count of the whole batch reproduces the full-batch mean gradient.
func TestCrossEntropyAccumulation(t *testing.T) {
	g := loadGolden(t)
	ce := &g.CE
	half := ce.Rows / 2 * ce.Vocab
	scale := 1 / float64(ce.Count)
	d := make([]float32, len(ce.Logits))
	s1, n1, err1 := align.CrossEntropy(ce.Logits[:half], ce.Vocab, ce.Targets[:ce.Rows/2], d[:half], scale)
	s2, n2, err2 := align.CrossEntropy(ce.Logits[half:], ce.Vocab, ce.Targets[ce.Rows/2:], d[half:], scale)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if n1+n2 != ce.Count || !closeTo((s1+s2)*scale, ce.MeanLoss, 1e-6, 0) {
		t.Errorf("accumulated loss %.12g over %d rows, want %.12g over %d", (s1+s2)*scale, n1+n2, ce.MeanLoss, ce.Count)
	}
	for i := range d {
		if !closeTo(float64(d[i]), ce.MeanGrad[i], 1e-6, 1e-8) {
			t.Errorf("dlogits[%d] = %.9g, want %.9g", i, d[i], ce.MeanGrad[i])
		}
	}
}

func TestMeanCrossEntropyAllIgnored(t *testing.T) {
	d := []float32{9, 9, 9, 9}
	loss, n, err := align.MeanCrossEntropy([]float32{1, 2, 3, 4}, 2, []int32{align.Ignore, align.Ignore}, d)
	if err != nil || loss != 0 || n != 0 {
		t.Errorf("got %g, %d, %v; want 0, 0, nil", loss, n, err)
	}
	for i, v := range d {
		if v != 0 {
			t.Errorf("dlogits[%d] = %g, want 0", i, v)
		}
	}
}

func TestCrossEntropyErrors(t *testing.T) {
	logits := []float32{1, 2, 3, 4, 5, 6}
	cases := []struct {
		name    string
		logits  []float32
		vocab   int
		targets []int32
		dlogits []float32
		want    []string // substrings of the error
	}{
		{"target too large", logits, 3, []int32{0, 3}, make([]float32, 6), []string{"target 3", "row 1", "[0, 3)"}},
		{"negative target", logits, 3, []int32{-1, 0}, make([]float32, 6), []string{"target -1", "row 0"}},
		{"short logits", logits[:5], 3, []int32{0, 1}, nil, []string{"5 values", "2 rows"}},
		{"short dlogits", logits, 3, []int32{0, 1}, make([]float32, 5), []string{"dlogits"}},
		{"zero vocab", nil, 0, nil, nil, []string{"vocab 0"}},
	}
	for _, c := range cases {
		for _, mean := range []bool{false, true} {
			for i := range c.dlogits {
				c.dlogits[i] = 7
			}
			var err error
			if mean {
				_, _, err = align.MeanCrossEntropy(c.logits, c.vocab, c.targets, c.dlogits)
			} else {
				_, _, err = align.CrossEntropy(c.logits, c.vocab, c.targets, c.dlogits, 1)
			}
			if err == nil {
				t.Errorf("%s: no error", c.name)
				continue
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: error %q lacks %q", c.name, err, w)
				}
			}
			for i, v := range c.dlogits {
				if v != 7 {
					t.Errorf("%s: dlogits[%d] written (%g) despite the error", c.name, i, v)
				}
			}
		}
	}
}

func BenchmarkCrossEntropy(b *testing.B) {
	const rows, vocab = 64, 32000
	logits := make([]float32, rows*vocab)
	for i := range logits {
		logits[i] = float32(math.Sin(float64(i)))
	}
	targets := make([]int32, rows)
	for r := range targets {
		targets[r] = int32(r * 101 % vocab)
	}
	d := make([]float32, len(logits))
	b.SetBytes(int64(4 * len(logits)))
	for b.Loop() {
		align.CrossEntropy(logits, vocab, targets, d, 1.0/rows)
	}
}

func BenchmarkAdamW(b *testing.B) {
	p := &model.Param{Name: "p", Data: make([]float32, 1<<20), Grad: make([]float32, 1<<20)}
	for i := range p.Grad {
		p.Grad[i] = float32(math.Sin(float64(i)))
	}
	ps := []*model.Param{p}
	opt := NewAdamW()
	b.SetBytes(int64(4 * len(p.Data)))
	for b.Loop() {
		opt.Step(ps, 1e-3)
	}
}

// TestStepLearns: repeated trainer steps on one batch drive its loss down, for full
// fine-tuning and for a LoRA adapter on a frozen base.
func TestStepLearns(t *testing.T) {
	cfg := model.Config{ModelType: "llama", VocabSize: 32, HiddenSize: 32, IntermediateSize: 48,
		NumLayers: 2, NumHeads: 4, NumKVHeads: 2, RMSNormEps: 1e-5,
		InitializerRange: 0.2} // a frozen lm_head at the default 0.02 could barely move the logits
	var exs []Example
	for r := range 2 {
		ex := Example{Prompt: []int32{int32(r*8*7%31 + 1)}}
		for i := r*8 + 1; i < r*8+8; i++ {
			ex.Chosen = append(ex.Chosen, int32(i*5%31+1))
		}
		exs = append(exs, ex)
	}
	for _, full := range []bool{true, false} {
		m, err := model.New(cfg, 1, model.Options{})
		if err != nil {
			t.Fatal(err)
		}
		c := DefaultConfig()
		c.Method, c.Full, c.LoRARank, c.LoRAAlpha = "sft", full, 4, 8
		c.LR, c.Schedule, c.Steps, c.BatchSize, c.Shuffle = 1e-2, "constant", 31, 2, false
		tr, err := NewTrainer(m, exs, c, "")
		if err != nil {
			t.Fatal(err)
		}
		first, err := tr.Step()
		if err != nil {
			t.Fatal(err)
		}
		last := first
		for range 30 {
			if last, err = tr.Step(); err != nil {
				t.Fatal(err)
			}
		}
		if !(last.Loss < first.Loss/2) {
			t.Errorf("full=%v: loss %.3f -> %.3f after 30 steps", full, first.Loss, last.Loss)
		}
	}
}
