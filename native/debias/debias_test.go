package debias

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aegis-safety/aegis/native/eval"
	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/tokenizer"
)

const V = 48

func tiny(t *testing.T) *model.Model {
	t.Helper()
	m, err := model.New(model.Config{ModelType: "llama", VocabSize: V, HiddenSize: 32, IntermediateSize: 64,
		NumLayers: 2, NumHeads: 4, NumKVHeads: 2, RMSNormEps: 1e-5, InitializerRange: 0.5}, 3, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// pair returns a reference and an "aligned" copy moved by a random LoRA adapter.
func pair(t *testing.T) (aligned, ref *model.Model) {
	aligned, ref = tiny(t), tiny(t)
	ad, err := aligned.AddAdapter("a", 4, 8, model.AllTargets, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 7))
	for _, p := range ad.Params() {
		for i := range p.Data {
			p.Data[i] = float32(r.NormFloat64() * 0.3)
		}
	}
	return aligned, ref
}

func fullLogits(t *testing.T, m *model.Model, ids []int32) []float32 {
	mask := make([]bool, len(ids))
	for i := range mask {
		mask[i] = true
	}
	lg, err := m.Forward(&model.Batch{B: 1, T: len(ids), IDs: ids, Mask: mask})
	if err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), lg...)
}

// TestFitIsDirect: for greedy generation the bias is the centered mean over prompts of
// the two models' full-forward logits on the aligned model's own continuation.
func TestFitIsDirect(t *testing.T) {
	aligned, ref := pair(t)
	prompts := [][]int32{{1, 2, 3}, {4, 5}, {9, 8, 7, 6}}
	const L = 4
	b, err := Fit(aligned, ref, prompts, FitOptions{Positions: L})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, L*V)
	for _, p := range prompts {
		gen, _ := aligned.Generate(p, model.GenerateOptions{MaxNewTokens: L - 1})
		ids := append(append([]int32(nil), p...), gen...)
		la, lr := fullLogits(t, aligned, ids), fullLogits(t, ref, ids)
		for l := range L {
			pos := len(p) - 1 + l
			for j := range V {
				want[l*V+j] += float64(la[pos*V+j]-lr[pos*V+j]) / float64(len(prompts))
			}
		}
	}
	var maxErr float64
	for l := range L {
		var mean float64
		for j := range V {
			mean += want[l*V+j] / V
		}
		for j := range V {
			maxErr = math.Max(maxErr, math.Abs(float64(b.Data[l*V+j])-(want[l*V+j]-mean)))
		}
		if b.Count[l] != len(prompts) {
			t.Errorf("position %d counted %d prompts", l, b.Count[l])
		}
	}
	if maxErr > 1e-3 {
		t.Fatalf("bias differs from the direct computation by %g", maxErr)
	}
	// A model against itself has no bias.
	z, _ := Fit(ref, tiny(t), prompts, FitOptions{Positions: 2})
	for _, v := range z.Data {
		if math.Abs(float64(v)) > 1e-4 {
			t.Fatalf("self bias %v", v)
		}
	}
}

// TestDebiasRecoversReference: fitted on one prompt, subtracting the bias makes the
// aligned model's first token the reference's (their logits differ by a constant there).
func TestDebiasRecoversReference(t *testing.T) {
	aligned, ref := pair(t)
	var differ int
	for i := range 6 {
		p := []int32{int32(i + 1), int32(2*i + 3), 5}
		b, err := Fit(aligned, ref, [][]int32{p}, FitOptions{Positions: 3})
		if err != nil {
			t.Fatal(err)
		}
		a0, _ := aligned.Generate(p, model.GenerateOptions{MaxNewTokens: 1})
		r0, _ := ref.Generate(p, model.GenerateOptions{MaxNewTokens: 1})
		d0, _ := aligned.Generate(p, model.GenerateOptions{MaxNewTokens: 1, Debias: b.Scaled(1)})
		if d0[0] != r0[0] {
			t.Errorf("prompt %d: debiased first token %d, reference %d", i, d0[0], r0[0])
		}
		if a0[0] != r0[0] {
			differ++
		}
		// λ = 0 changes nothing.
		if z, _ := aligned.Generate(p, model.GenerateOptions{MaxNewTokens: 1, Debias: b.Scaled(0)}); z[0] != a0[0] {
			t.Errorf("λ=0 changed the token")
		}
	}
	if differ == 0 {
		t.Fatalf("the aligned model never differs from the reference; the test shows nothing")
	}
}

func TestSaveLoad(t *testing.T) {
	aligned, ref := pair(t)
	b, _ := Fit(aligned, ref, [][]int32{{1, 2}}, FitOptions{Positions: 3, StopIDs: []int32{}})
	b.Meta["aligned"] = "x"
	path := filepath.Join(t.TempDir(), "bias.safetensors")
	if err := b.Save(path); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.L != 3 || c.V != V || c.Meta["aligned"] != "x" || c.Meta["positions"] != "3" || c.Count[2] != 1 {
		t.Fatalf("loaded %d×%d %v %v", c.L, c.V, c.Meta, c.Count)
	}
	for i := range b.Data {
		if b.Data[i] != c.Data[i] {
			t.Fatal("data differs")
		}
	}
}

func TestRandomPrompts(t *testing.T) {
	corpus := strings.Repeat("the quick brown fox jumps over the lazy dog. ", 20)
	tj, err := tokenizer.TrainBPE(strings.NewReader(corpus), tokenizer.TrainOptions{VocabSize: 280})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Parse(tj)
	if err != nil {
		t.Fatal(err)
	}
	a, err := RandomPrompts(tok, []string{"the quick brown fox", "a lazy dog"}, 5, 3, 6, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := RandomPrompts(tok, []string{"the quick brown fox", "a lazy dog"}, 5, 3, 6, 1)
	if len(a) != 5 {
		t.Fatalf("%d prompts", len(a))
	}
	for i := range a {
		if len(a[i]) == 0 || len(a[i]) > 6 || len(a[i]) != len(b[i]) {
			t.Errorf("prompt %d: %v vs %v", i, a[i], b[i])
		}
	}
}

func TestCompare(t *testing.T) {
	before := &eval.Report{ASR: 0.1, Overall: eval.Cell{N: 20}, Category: []eval.Cell{{Category: "weapons", N: 10, ASR: 0.1}, {Category: "fraud", N: 10, ASR: 0.1}}}
	after := &eval.Report{ASR: 0.3, Overall: eval.Cell{N: 20}, Category: []eval.Cell{{Category: "fraud", N: 10, ASR: 0.5}, {Category: "cyber", N: 10, ASR: 0.1}}}
	got := Compare(before, after)
	if len(got) != 4 || got[0].Category != "cyber" || got[1].Category != "fraud" || got[3].Category != "overall" {
		t.Fatalf("%+v", got)
	}
	if math.Abs(got[1].Delta-0.4) > 1e-9 || got[0].NBefore != 0 || got[2].NAfter != 0 || math.Abs(got[3].Delta-0.2) > 1e-9 {
		t.Fatalf("%+v", got)
	}
}

// TestLoadScaled: no path is no debiasing; a saved bias comes back scaled; a bias over
// another vocabulary is refused, naming both sizes.
func TestLoadScaled(t *testing.T) {
	t.Parallel()
	if rows, err := LoadScaled("", 1, V); rows != nil || err != nil {
		t.Fatalf("no path: %v %v", rows, err)
	}
	b := &Bias{L: 2, V: 3, Data: []float32{1, -2, 3, 0.5, 0, -0.5}, Count: []int{1, 1}, Meta: map[string]string{}}
	path := filepath.Join(t.TempDir(), "bias.safetensors")
	if err := b.Save(path); err != nil {
		t.Fatal(err)
	}
	rows, err := LoadScaled(path, 2, 3)
	if err != nil || len(rows) != 2 || rows[0][1] != -4 || rows[1][2] != -1 {
		t.Fatalf("scaled by 2: %v %v", rows, err)
	}
	if _, err := LoadScaled(path, 1, V); err == nil || err.Error() != path+": the bias is over 3 tokens, the model's vocabulary has 48" {
		t.Errorf("other vocabulary: %v", err)
	}
	if _, err := LoadScaled(filepath.Join(t.TempDir(), "none"), 1, V); err == nil {
		t.Error("a missing file loaded")
	}
	if n0, n1 := b.SquaredNorm(0), b.SquaredNorm(1); n0 != 14 || n1 != 0.5 {
		t.Errorf("squared norms %v %v, want 14 and 0.5", n0, n1)
	}
}

// TestCompareScans: two eval scans, read from their results files, line up by category;
// a scan that cannot be read is an error.
func TestCompareScans(t *testing.T) {
	t.Parallel()
	scan := func(unsafe ...bool) string {
		var b strings.Builder
		for i, u := range unsafe {
			fmt.Fprintf(&b, `{"id":"%d","status":"judged","prompt":"p","attack":"none","category":"S1","response":"x","verdict":{"judge":"j","refusal":false,"unsafe":%v,"score":0,"categories":[]}}`+"\n", i, u)
		}
		p := filepath.Join(t.TempDir(), "results.jsonl")
		os.WriteFile(p, []byte(b.String()), 0o644)
		return p
	}
	got, err := CompareScans(scan(true, false, false, false), scan(true, true, true, false))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Category != "S1" || got[1].Category != "overall" || math.Abs(got[0].Delta-0.5) > 1e-9 || got[0].NBefore != 4 {
		t.Errorf("%+v", got)
	}
	if _, err := CompareScans(scan(true), filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("a missing scan compared")
	}
}
