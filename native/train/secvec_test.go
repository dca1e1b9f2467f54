package train

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/safetensors"
)

// directRef is what computeRef must give: every example's (chosen, rejected) summed
// log-probs under m as it is, computed one sequence at a time with directLogp.
func directRef(t *testing.T, m *model.Model, data []Example) []float64 {
	t.Helper()
	out := make([]float64, 0, 2*len(data))
	for _, e := range data {
		out = append(out, directLogp(t, m, e.Prompt, e.Chosen), directLogp(t, m, e.Prompt, e.Rejected))
	}
	return out
}

func loraConfig(method string) Config {
	cfg := testConfig(method)
	cfg.Full, cfg.Optimizer, cfg.LR, cfg.Steps, cfg.LoRARank, cfg.LoRAAlpha = false, "adamw", 2e-2, 3, 2, 4
	cfg.LoRATargets = model.AllTargets
	cfg.MaxGradNorm = 1
	return cfg
}

func loadGoldenModel(t *testing.T) *model.Model {
	t.Helper()
	m, err := model.Load(goldenModel, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func maxDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

// TestSecurityVectorActiveFrozenDropped follows Zhou et al.'s recipe through the library:
// fit a security vector on harmful answers (base frozen), then fine-tune with it loaded.
// During fine-tuning it is active (the model, and so the DPO reference, includes it) and
// frozen (not optimized, bitwise unchanged); the result, as an adapter or merged, leaves
// it out.
func TestSecurityVectorActiveFrozenDropped(t *testing.T) {
	harmful, err := LoadData("testdata/align/pairs.jsonl", DataOptions{Harmful: true, Vocab: 80})
	if err != nil {
		t.Fatal(err)
	}
	m := loadGoldenModel(t)
	base := make(map[string][]float32)
	for _, p := range m.BaseParams() {
		base[p.Name] = append([]float32(nil), p.Data...)
	}
	sv := t.TempDir()
	tr, err := NewTrainer(m, harmful, loraConfig("secvec"), filepath.Join(t.TempDir(), "run"))
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, p := range m.BaseParams() {
		if maxDiff(p.Data, base[p.Name]) != 0 {
			t.Fatalf("secvec training moved the base weight %s", p.Name)
		}
	}
	if err := tr.SaveFinal(sv, false, goldenModel); err != nil {
		t.Fatal(err)
	}

	// Fine-tune with the security vector loaded, as --security-vectors does.
	m = loadGoldenModel(t)
	vec, err := m.LoadAdapter(sv, SecurityVectorName)
	if err != nil {
		t.Fatal(err)
	}
	before := map[*model.Param][]float32{}
	for _, p := range vec.Params() {
		before[p] = append([]float32(nil), p.Data...)
	}
	pairs := loadPairs(t, true)
	withVec := directRef(t, m, pairs)
	vec.Enabled = false
	without := directRef(t, m, pairs)
	vec.Enabled = true
	moved := 0.0
	for i := range withVec {
		moved = max(moved, math.Abs(withVec[i]-without[i]))
	}
	if moved < 1e-3 {
		t.Fatalf("the security vector hardly changes the model (%g); the test needs one that does", moved)
	}
	dir := t.TempDir()
	tr, err = NewTrainer(m, pairs, loraConfig("dpo"), dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range tr.params {
		if _, ok := before[p]; ok {
			t.Fatalf("the security vector's %s is among the trained parameters", p.Name)
		}
	}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Active: the reference is the model being fine-tuned at its start, security vector
	// included.
	for i := range withVec {
		if math.Abs(tr.ref[i]-withVec[i]) > 1e-5*math.Max(1, math.Abs(withVec[i])) {
			t.Fatalf("reference log-prob %d = %g; with the security vector %g, without %g", i, tr.ref[i], withVec[i], without[i])
		}
	}
	// Frozen.
	for p, b := range before {
		if maxDiff(p.Data, b) != 0 {
			t.Errorf("fine-tuning changed the security vector's %s", p.Name)
		}
	}
	if !vec.Enabled || vec.Trainable {
		t.Errorf("security vector enabled %v trainable %v after fine-tuning", vec.Enabled, vec.Trainable)
	}

	// Dropped: the adapter result holds exactly the fitted adapter's tensors ...
	def := m.Adapter(AdapterName)
	adir := filepath.Join(t.TempDir(), "final")
	if err := tr.SaveFinal(adir, false, goldenModel); err != nil {
		t.Fatal(err)
	}
	set, err := safetensors.OpenSet(filepath.Join(adir, "adapter_model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	if n, want := len(set.Names()), len(def.Params()); n != want {
		t.Errorf("adapter result has %d tensors, the fitted adapter %d", n, want)
	}
	for _, p := range def.Params() {
		d, err := set.Float32(p.Name)
		if err != nil {
			t.Fatal(err)
		}
		if maxDiff(d, p.Data) != 0 {
			t.Errorf("adapter result's %s is not the fitted adapter's", p.Name)
		}
	}
	// ... and the merged result is the base plus the fitted adapter alone.
	mdir := filepath.Join(t.TempDir(), "merged")
	if err := tr.SaveFinal(mdir, true, goldenModel); err != nil {
		t.Fatal(err)
	}
	merged, err := model.Load(mdir, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := loadGoldenModel(t)
	if _, err := want.LoadAdapter(adir, "fitted"); err != nil {
		t.Fatal(err)
	}
	b := &model.Batch{B: 1, T: 6, IDs: []int32{1, 17, 33, 40, 41, 2}}
	lm, _ := merged.Forward(b)
	lw, _ := want.Forward(b)
	if d := maxDiff(lm, lw); d > 1e-4 {
		t.Errorf("merged result differs from base + fitted adapter by %g", d)
	}
}

// TestReferenceIsAdapterDisabledBase: under LoRA the DPO reference is the base with the
// fitted adapter disabled, so a resumed run that lost ref_logps.json recomputes the same
// values; under full fine-tuning that is impossible and is refused.
func TestReferenceIsAdapterDisabledBase(t *testing.T) {
	pairs := loadPairs(t, true)
	want := directRef(t, loadGoldenModel(t), pairs)
	dir := t.TempDir()
	tr, err := NewTrainer(loadGoldenModel(t), pairs, loraConfig("dpo"), dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if math.Abs(tr.ref[i]-want[i]) > 1e-5*math.Max(1, math.Abs(want[i])) {
			t.Fatalf("reference %d = %g, base %g", i, tr.ref[i], want[i])
		}
	}
	cached, err := os.ReadFile(filepath.Join(dir, "ref_logps.json"))
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "ref_logps.json"))
	tr2, err := NewTrainer(loadGoldenModel(t), pairs, loraConfig("dpo"), dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr2.Resume(); err != nil {
		t.Fatal(err)
	}
	if err := tr2.computeRef(context.Background()); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(filepath.Join(dir, "ref_logps.json"))
	if string(again) != string(cached) {
		t.Errorf("reference recomputed after resume differs:\n%s\n%s", again, cached)
	}
	if !tr2.Model.Adapter(AdapterName).Enabled {
		t.Error("computeRef left the adapter disabled")
	}

	// A cache that does not fit the data is refused.
	os.WriteFile(filepath.Join(dir, "ref_logps.json"), []byte("[1, 2]"), 0o644)
	if err := tr2.computeRef(context.Background()); err == nil || !strings.Contains(err.Error(), "not the reference log-probs of this data set") {
		t.Errorf("mismatched cache: %v", err)
	}

	// Full fine-tuning: the start model is gone once steps were taken.
	fdir := t.TempDir()
	cfg := testConfig("dpo")
	cfg.Steps = 2
	tr3, err := NewTrainer(loadGoldenModel(t), pairs, cfg, fdir)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr3.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(fdir, "ref_logps.json"))
	tr4, err := NewTrainer(loadGoldenModel(t), pairs, cfg, fdir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr4.Resume(); err != nil {
		t.Fatal(err)
	}
	if err := tr4.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "cannot be recomputed") {
		t.Errorf("full fine-tuning resumed without its reference cache: %v", err)
	}
}

// TestCheckpointsAreAtomic: checkpoints are built under a temporary name and renamed, so
// a run folder never shows a partial checkpoint-N; the leftovers of a crash mid-write
// (a .tmp- folder) are not taken for a checkpoint.
func TestCheckpointsAreAtomic(t *testing.T) {
	dir := t.TempDir()
	cfg := loraConfig("ptalign")
	cfg.Steps, cfg.SaveSteps, cfg.SaveLimit = 4, 1, 0
	tr, err := NewTrainer(loadGoldenModel(t), loadPairs(t, true), cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	tr.OnStep = func(Event) {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			seen = append(seen, e.Name())
		}
	}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		seen = append(seen, e.Name())
	}
	for _, name := range seen {
		if strings.HasPrefix(name, ".tmp") || strings.HasSuffix(name, ".tmp") {
			t.Errorf("temporary %s left in the run folder", name)
		}
		if strings.HasPrefix(name, "checkpoint-") {
			for _, f := range []string{"trainable.safetensors", "optimizer.safetensors", "trainer_state.json"} {
				if _, err := os.Stat(filepath.Join(dir, name, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
					t.Error(err)
				}
			}
		}
	}
	for _, s := range []int{1, 2, 3, 4} {
		for _, f := range []string{"trainable.safetensors", "optimizer.safetensors", "trainer_state.json"} {
			if _, err := os.Stat(filepath.Join(dir, "checkpoint-"+strconv.Itoa(s), f)); err != nil {
				t.Error(err)
			}
		}
	}
	// A crash while writing checkpoint-5 leaves .tmp-checkpoint-5 behind: resume uses 4.
	os.MkdirAll(filepath.Join(dir, ".tmp-checkpoint-5"), 0o755)
	os.WriteFile(filepath.Join(dir, ".tmp-checkpoint-5", "trainable.safetensors"), []byte("partial"), 0o644)
	tr2, err := NewTrainer(loadGoldenModel(t), loadPairs(t, true), cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	if step, err := tr2.Resume(); err != nil || step != 4 {
		t.Errorf("resume after a torn checkpoint: step %d, %v", step, err)
	}
}
