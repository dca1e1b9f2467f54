package train

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/safetensors"
)

const goldenModel = "../model/testdata/golden/llama_gqa"

func testConfig(method string) Config {
	return Config{Method: method, Full: true, LoRARank: 4, LoRAAlpha: 8, Optimizer: "sgd", LR: 0.5,
		Schedule: "linear", Steps: 1, BatchSize: 3, GradAccum: 1, Beta: 0.1, Alpha: 1, Seed: 1, Shuffle: true}
}

func loadPairs(t *testing.T, pairs bool) []Example {
	t.Helper()
	data, err := LoadData("testdata/align/pairs.jsonl", DataOptions{Pairs: pairs, Vocab: 80, MaxLen: 256})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestOneSGDStepIsTheTorchGradient: with full fine-tuning, plain SGD, no clipping and
// the whole data set in one batch, one step moves every weight by exactly −lr × the
// PyTorch gradient of the method's loss (up to float32 rounding).
func TestOneSGDStepIsTheTorchGradient(t *testing.T) {
	gset, err := safetensors.OpenSet("testdata/align/grads.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	defer gset.Close()
	var gold map[string]map[string]float64
	b, _ := os.ReadFile("testdata/align/golden.json")
	json.Unmarshal(b, &gold)
	for _, method := range []string{"sft", "dpo", "ipo", "ptalign"} {
		for _, accum := range []int{1, 3} {
			m, err := model.Load(goldenModel, model.Options{})
			if err != nil {
				t.Fatal(err)
			}
			before := map[string][]float32{}
			for _, p := range m.BaseParams() {
				before[p.Name] = append([]float32(nil), p.Data...)
			}
			cfg := testConfig(method)
			cfg.BatchSize, cfg.GradAccum = 3/accum, accum
			tr, err := NewTrainer(m, loadPairs(t, method != "sft"), cfg, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			var ev Event
			tr.OnStep = func(e Event) { ev = e }
			if err := tr.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			if want := gold[method]["loss"]; math.Abs(ev.Loss-want) > 1e-5*math.Max(1, want) {
				t.Errorf("%s accum %d: loss %g, torch %g", method, accum, ev.Loss, want)
			}
			worst, biggest := 0.0, 0.0
			for _, p := range m.BaseParams() {
				g, err := gset.Float32(method + "." + p.Name)
				if err != nil {
					t.Fatal(err)
				}
				for i := range g {
					step := float64(before[p.Name][i] - p.Data[i])
					worst = max(worst, math.Abs(step-cfg.LR*float64(g[i])))
					biggest = max(biggest, math.Abs(cfg.LR*float64(g[i])))
				}
			}
			// float32 weights of size ~1 round at ~6e-8; the float32 gradient is good to ~1e-6 relative.
			if worst > 1e-6+1e-5*biggest {
				t.Errorf("%s accum %d: weight update differs from lr × torch gradient by %g (largest step %g)", method, accum, worst, biggest)
			}
		}
	}
}

// run trains a LoRA AdamW run for steps steps (resuming when resume is set).
func runLoRA(t *testing.T, dir, method string, steps int, resume bool) *Trainer {
	t.Helper()
	m, err := model.Load(goldenModel, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(method)
	cfg.Full, cfg.Optimizer, cfg.LR, cfg.Steps, cfg.BatchSize, cfg.GradAccum = false, "adamw", 1e-2, 5, 1, 1
	cfg.MaxGradNorm, cfg.Warmup = 1, 2
	tr, err := NewTrainer(m, loadPairs(t, true), cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	if resume {
		if _, err := tr.Resume(); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr.OnStep = func(e Event) {
		if e.Step == steps {
			cancel()
		}
	}
	err = tr.Run(ctx)
	if err != nil && ctx.Err() == nil {
		t.Fatal(err)
	}
	return tr
}

// TestResumeIsBitExact interrupts a run after 2 steps (as Ctrl-C does), resumes it, and
// compares the result with an uninterrupted run bit for bit.
func TestResumeIsBitExact(t *testing.T) {
	for _, method := range []string{"dpo", "ptalign"} {
		a, b := t.TempDir(), t.TempDir()
		ta := runLoRA(t, a, method, 0, false)
		runLoRA(t, b, method, 2, false)
		tb := runLoRA(t, b, method, 0, true)
		if ta.StepsDone() != 5 || tb.StepsDone() != 5 {
			t.Fatalf("steps %d %d", ta.StepsDone(), tb.StepsDone())
		}
		for i, p := range ta.params {
			for j := range p.Data {
				if math.Float32bits(p.Data[j]) != math.Float32bits(tb.params[i].Data[j]) {
					t.Fatalf("%s: %s[%d] differs after resume: %g vs %g", method, p.Name, j, p.Data[j], tb.params[i].Data[j])
				}
			}
		}
		ea, _ := os.ReadFile(filepath.Join(a, "events.jsonl"))
		eb, _ := os.ReadFile(filepath.Join(b, "events.jsonl"))
		if n := bytes.Count(eb, []byte("\n")); n != 5 {
			t.Errorf("%s: resumed events.jsonl has %d lines", method, n)
		}
		if !bytes.Equal(stripSeconds(ea), stripSeconds(eb)) {
			t.Errorf("%s: events differ after resume:\n%s\n%s", method, ea, eb)
		}
	}
}

func stripSeconds(b []byte) []byte {
	var out []byte
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var m map[string]any
		json.Unmarshal(line, &m)
		delete(m, "seconds")
		l, _ := json.Marshal(m)
		out = append(append(out, l...), '\n')
	}
	return out
}

func TestLRSchedule(t *testing.T) {
	if got := LR(1, 0, 10, 0, "linear"); got != 1 {
		t.Errorf("first step without warmup: lr %g, want the full rate", got)
	}
	if got := LR(1, 5, 10, 0, "linear"); got != 0.5 {
		t.Errorf("linear at 5/10: %g", got)
	}
	if got := LR(1, 1, 10, 4, "constant"); got != 0.25 {
		t.Errorf("warmup 1/4: %g", got)
	}
	if got := LR(1, 7, 12, 2, "cosine"); math.Abs(got-0.5) > 1e-12 {
		t.Errorf("cosine midpoint: %g", got)
	}
}

// TestRPOAlpha: with rpo_alpha, a step's loss is the DPO loss plus alpha times the mean
// NLL of the chosen tokens (logged as nll_loss), and it is the same under accumulation;
// the SFT loss of the chosen answers alone is that NLL.
func TestRPOAlpha(t *testing.T) {
	first := func(cfg Config, pairs bool) Event {
		m, err := model.Load(goldenModel, model.Options{})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := NewTrainer(m, loadPairs(t, pairs), cfg, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		var ev Event
		tr.OnStep = func(e Event) { ev = e }
		if err := tr.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		return ev
	}
	plain := first(testConfig("dpo"), true)
	sft := first(testConfig("sft"), false)
	for _, accum := range []int{1, 3} {
		cfg := testConfig("dpo")
		cfg.RPOAlpha, cfg.BatchSize, cfg.GradAccum = 0.7, 3/accum, accum
		e := first(cfg, true)
		nll, ok := e.Metrics.Get("nll_loss")
		if !ok {
			t.Fatal("no nll_loss logged")
		}
		if math.Abs(nll-sft.Loss) > 1e-9 {
			t.Errorf("accum %d: nll_loss %.10g, SFT loss of the chosen answers %.10g", accum, nll, sft.Loss)
		}
		if want := plain.Loss + 0.7*nll; math.Abs(e.Loss-want) > 1e-9 {
			t.Errorf("accum %d: loss %.10g, want DPO %.10g + 0.7 × %.10g", accum, e.Loss, plain.Loss, nll)
		}
	}
	cfg := testConfig("sft")
	cfg.RPOAlpha = 1
	if _, err := NewTrainer(nil, loadPairs(t, false), cfg, t.TempDir()); err == nil {
		t.Error("rpo_alpha accepted for sft")
	}
}
