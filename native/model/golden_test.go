package model_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aegis-safety/aegis/native/align"
	. "github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/safetensors"
)

// The golden cases are written by scripts/torch_golden.py, an independent float64
// PyTorch implementation of the Hugging Face Llama / Mistral / Qwen2 and PEFT LoRA math.

type golden struct {
	InputIDs      [][]int32 `json:"input_ids"`
	AttentionMask [][]int   `json:"attention_mask"`
	Labels        [][]int32 `json:"labels"`
	Loss          float64   `json:"loss"`
	Greedy        *struct {
		PromptIDs []int32 `json:"prompt_ids"`
		NewIDs    []int32 `json:"new_ids"`
	} `json:"greedy"`
}

// relErr is max|got−want| / max|want|: the error relative to the tensor's scale.
func relErr(got, want []float32, keep func(i int) bool) float64 {
	var num, den float64
	for i := range want {
		if keep != nil && !keep(i) {
			continue
		}
		num = math.Max(num, math.Abs(float64(got[i]-want[i])))
		den = math.Max(den, math.Abs(float64(want[i])))
	}
	if den == 0 {
		return num
	}
	return num / den
}

func TestGolden(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/golden/*")
	if len(dirs) < 8 {
		t.Fatalf("found %d golden cases, want 8 (run scripts/torch_golden.py)", len(dirs))
	}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			var g golden
			b, err := os.ReadFile(filepath.Join(dir, "golden.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &g); err != nil {
				t.Fatal(err)
			}
			want, err := safetensors.Open(filepath.Join(dir, "golden.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			defer want.Close()

			m, err := Load(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			lora := name == "llama_lora"
			if lora {
				a, err := m.LoadAdapter(dir, "default")
				if err != nil {
					t.Fatal(err)
				}
				a.Trainable = true
			} else if err := m.SetBaseTrainable(true); err != nil {
				t.Fatal(err)
			}
			B, T := len(g.InputIDs), len(g.InputIDs[0])
			batch := &Batch{B: B, T: T}
			var labels []int32
			for r := 0; r < B; r++ {
				batch.IDs = append(batch.IDs, g.InputIDs[r]...)
				for _, v := range g.AttentionMask[r] {
					batch.Mask = append(batch.Mask, v == 1)
				}
				labels = append(labels, g.Labels[r]...)
			}
			logits, err := m.Forward(batch)
			if err != nil {
				t.Fatal(err)
			}
			V := m.Config.VocabSize
			wantLogits, err := want.Float32("logits")
			if err != nil {
				t.Fatal(err)
			}
			if e := relErr(logits, wantLogits, func(i int) bool { return batch.Mask[i/V] }); e > 1e-4 {
				t.Errorf("logits: relative error %.2e > 1e-4", e)
			} else {
				t.Logf("logits: relative error %.2e", e)
			}

			dlogits := make([]float32, len(logits))
			loss, _, err := align.MeanCrossEntropy(logits, V, labels, dlogits)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(loss-g.Loss) > 1e-4*math.Abs(g.Loss) {
				t.Errorf("loss %.7f, want %.7f", loss, g.Loss)
			}
			ZeroGrad(m.Params())
			if err := m.Backward(dlogits); err != nil {
				t.Fatal(err)
			}
			checkGoldenGrads(t, m, want)

			if g.Greedy != nil {
				out, err := m.Generate(g.Greedy.PromptIDs, GenerateOptions{MaxNewTokens: len(g.Greedy.NewIDs)})
				if err != nil {
					t.Fatal(err)
				}
				for i := range out {
					if out[i] != g.Greedy.NewIDs[i] {
						t.Fatalf("greedy decoding %v, want %v", out, g.Greedy.NewIDs)
					}
				}
			}
		})
	}
}

// checkGoldenGrads compares every trainable parameter's gradient with the golden file's,
// and checks that the file has no gradient left uncompared.
func checkGoldenGrads(t *testing.T, m *Model, want *safetensors.File) {
	t.Helper()
	n, worst := 0, 0.0
	for _, p := range m.Params() {
		wg, err := want.Float32("grad/" + p.Name)
		if err != nil {
			t.Errorf("no golden gradient for %s", p.Name)
			continue
		}
		e := relErr(p.Grad, wg, nil)
		worst = math.Max(worst, e)
		if e > 1e-3 {
			t.Errorf("grad %s: relative error %.2e > 1e-3", p.Name, e)
		}
		n++
	}
	grads := 0
	for _, nm := range want.Names() {
		if strings.HasPrefix(nm, "grad/") {
			grads++
		}
	}
	if n != grads {
		t.Errorf("compared %d gradients, golden file has %d", n, grads)
	}
	t.Logf("%d gradients: worst relative error %.2e", n, worst)
}

// TestBF16Base: a base held in bfloat16 computes exactly what the widened float32 base
// computes, carries a trainable adapter, and refuses to train its own weights.
func TestBF16Base(t *testing.T) {
	dir := "testdata/golden/llama_bf16"
	f32, err := Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	bf, err := Load(dir, Options{BF16Base: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := bf.SetBaseTrainable(true); err == nil {
		t.Fatal("a bfloat16 base accepted training")
	}
	for _, m := range []*Model{f32, bf} {
		a, err := m.AddAdapter("lora", 2, 4, nil, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range a.Params() {
			for i := range p.Data {
				p.Data[i] = float32(i%7) * 0.01
			}
		}
	}
	batch := &Batch{B: 1, T: 6, IDs: []int32{3, 9, 27, 4, 60, 11}}
	want, _ := f32.Forward(batch)
	want = append([]float32(nil), want...)
	got, err := bf.Forward(batch)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("logit %d: bf16 base %v, float32 base %v", i, got[i], want[i])
		}
	}
	d := make([]float32, len(got))
	for i := range d {
		d[i] = float32(i%5) - 2
	}
	for _, m := range []*Model{f32, bf} {
		m.Forward(batch)
		ZeroGrad(m.Params())
		if err := m.Backward(d); err != nil {
			t.Fatal(err)
		}
	}
	pf, pb := f32.Params(), bf.Params()
	for i := range pf {
		if e := relErr(pb[i].Grad, pf[i].Grad, nil); e != 0 {
			t.Fatalf("%s: gradient differs under a bf16 base (%.2e)", pf[i].Name, e)
		}
	}
}

// TestAdapterRoundTrip: an adapter saved in PEFT format loads back identically, and
// disabling it restores the base model's logits.
func TestAdapterRoundTrip(t *testing.T) {
	dir := "testdata/golden/llama_lora"
	m, err := Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	batch := &Batch{B: 1, T: 4, IDs: []int32{5, 6, 7, 8}}
	base, _ := m.Forward(batch)
	base = append([]float32(nil), base...)
	a, err := m.LoadAdapter(dir, "default")
	if err != nil {
		t.Fatal(err)
	}
	adapted, _ := m.Forward(batch)
	adapted = append([]float32(nil), adapted...)
	if relErr(adapted, base, nil) < 1e-3 {
		t.Fatal("the adapter does not change the logits")
	}
	out := t.TempDir()
	if err := m.SaveAdapter(out, "default"); err != nil {
		t.Fatal(err)
	}
	a.Enabled = false
	off, _ := m.Forward(batch)
	if relErr(off, base, nil) != 0 {
		t.Fatal("a disabled adapter changed the logits")
	}
	if err := m.RemoveAdapter("default"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.LoadAdapter(out, "again"); err != nil {
		t.Fatal(err)
	}
	again, _ := m.Forward(batch)
	if relErr(again, adapted, nil) != 0 {
		t.Fatal("the saved adapter computes differently")
	}
	// Merging folds it into the base with the same result.
	if err := m.MergeAdapter("again"); err != nil {
		t.Fatal(err)
	}
	merged, _ := m.Forward(batch)
	if e := relErr(merged, adapted, nil); e > 1e-5 {
		t.Fatalf("merged adapter: relative error %.2e", e)
	}
}

// TestSaveLoad: a model saved in float32 reloads bit-identically; in bfloat16 it reloads
// as the rounded weights.
func TestSaveLoad(t *testing.T) {
	m, err := Load("testdata/golden/qwen2", Options{})
	if err != nil {
		t.Fatal(err)
	}
	batch := &Batch{B: 1, T: 5, IDs: []int32{1, 2, 3, 4, 5}}
	want, _ := m.Forward(batch)
	want = append([]float32(nil), want...)
	for _, dtype := range []string{"float32", "bfloat16"} {
		dir := t.TempDir()
		if err := m.Save(dir, dtype); err != nil {
			t.Fatal(err)
		}
		m2, err := Load(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if m2.Config.ModelType != "qwen2" || !m2.Config.TieWordEmbeddings {
			t.Fatalf("config did not survive: %+v", m2.Config)
		}
		got, _ := m2.Forward(batch)
		e := relErr(got, want, nil)
		if dtype == "float32" && e != 0 || dtype == "bfloat16" && (e == 0 || e > 0.05) {
			t.Fatalf("%s: relative error %.2e after save and load", dtype, e)
		}
	}
}
