package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/safetensors"
)

const alignData = "../../native/train/testdata/align"

// TestTrainSGDStepIsLRTimesTorchGradient is the CLI contract: with --full --optimizer sgd
// --steps 1 --max-grad-norm 0 and the whole data set in one batch, final/model.safetensors
// holds exactly the initial weights minus lr times the PyTorch gradient of the loss.
func TestTrainSGDStepIsLRTimesTorchGradient(t *testing.T) {
	progressOut = new(strings.Builder)
	gdir := filepath.Join(goldenDir, "llama_gqa")
	init, err := safetensors.OpenSet(filepath.Join(gdir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer init.Close()
	grads, err := safetensors.OpenSet(filepath.Join(alignData, "grads.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer grads.Close()
	const lr = 0.25
	for _, method := range []string{"sft", "dpo", "ipo", "ptalign"} {
		out := t.TempDir()
		_, errOut, code := aegis(t, "train", "--method", method, "--model", gdir, "--data", filepath.Join(alignData, "pairs.jsonl"),
			"--out", out, "--full", "--optimizer", "sgd", "--steps", "1", "--max-grad-norm", "0", "--batch-size", "3", "--lr", "0.25")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", method, code, errOut)
		}
		final, err := safetensors.OpenSet(filepath.Join(out, "final", "model.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		worst, biggest := 0.0, 0.0
		for _, name := range init.Names() {
			w0, _ := init.Float32(name)
			w1, err := final.Float32(name)
			if err != nil {
				t.Fatalf("%s: %v", method, err)
			}
			g, _ := grads.Float32(method + "." + name)
			for i := range w0 {
				want := float64(w0[i]) - lr*float64(g[i])
				worst = max(worst, math.Abs(float64(w1[i])-want))
				biggest = max(biggest, math.Abs(lr*float64(g[i])))
			}
		}
		final.Close()
		if worst > 1e-6+1e-5*biggest {
			t.Errorf("%s: final weights differ from w - lr*grad by %g (largest step %g)", method, worst, biggest)
		}
		var ev map[string]float64
		b, _ := os.ReadFile(filepath.Join(out, "events.jsonl"))
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatalf("%s: events.jsonl: %v", method, err)
		}
		if ev["step"] != 1 || ev["lr"] != lr {
			t.Errorf("%s: event %v", method, ev)
		}
		if _, ok := ev["rewards/margins"]; ok != (method == "dpo" || method == "ipo") {
			t.Errorf("%s: TRL metrics present = %v", method, ok)
		}
	}
}

// TestTrainLoRAMergeAndSecurityVectors: a secvec run writes a PEFT adapter; a later run
// with --security-vectors trains a new adapter with it frozen and leaves it out of final/.
func TestTrainLoRAMergeAndSecurityVectors(t *testing.T) {
	progressOut = new(strings.Builder)
	gdir := filepath.Join(goldenDir, "llama_gqa")
	data := filepath.Join(alignData, "pairs.jsonl")
	sv := t.TempDir()
	if _, e, code := aegis(t, "train", "--method", "secvec", "--model", gdir, "--data", data, "--out", sv,
		"--steps", "3", "--lr", "1e-2", "--lora-rank", "2"); code != 0 {
		t.Fatalf("secvec: %s", e)
	}
	m, err := model.Load(gdir, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := m.LoadAdapter(filepath.Join(sv, "final"), "sv")
	if err != nil {
		t.Fatalf("secvec result is not a PEFT adapter: %v", err)
	}
	if a.Rank != 2 {
		t.Errorf("secvec rank %d", a.Rank)
	}
	moved := false
	for _, p := range a.Params() {
		if strings.Contains(p.Name, "lora_B") {
			for _, v := range p.Data {
				moved = moved || v != 0
			}
		}
	}
	if !moved {
		t.Error("the security vector did not train")
	}
	// Fine-tune with the security vector active and frozen; the result holds only the
	// new adapter, merged into the base.
	out := t.TempDir()
	if _, e, code := aegis(t, "train", "--method", "dpo", "--model", gdir, "--data", data, "--out", out,
		"--steps", "2", "--lr", "1e-2", "--security-vectors", filepath.Join(sv, "final"), "--merge"); code != 0 {
		t.Fatalf("dpo with security vectors: %s", e)
	}
	merged, err := model.Load(filepath.Join(out, "final"), model.Options{})
	if err != nil {
		t.Fatalf("merged result: %v", err)
	}
	if len(merged.Adapters()) != 0 {
		t.Error("merged model carries adapters")
	}
	// The secvec adapter is unchanged by the second run: its file is what it was.
	before, _ := os.ReadFile(filepath.Join(sv, "final", "adapter_model.safetensors"))
	if len(before) == 0 {
		t.Error("secvec adapter missing")
	}
}

func TestTrainBadInput(t *testing.T) {
	progressOut = new(strings.Builder)
	gdir := filepath.Join(goldenDir, "llama_gqa")
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(s), 0o644)
		return p
	}
	cases := []struct {
		name, data, want string
		code             int
		extra            []string
	}{
		{"empty", write("empty.jsonl", "\n"), "no data rows", 1, nil},
		{"malformed", write("bad.jsonl", `{"prompt_input_ids":[1],"chosen_input_ids":[2],"rejected_input_ids":[3]}`+"\n{oops\n"), "bad.jsonl:2: malformed JSON", 1, nil},
		{"empty response", write("er.jsonl", `{"prompt_input_ids":[1],"chosen_input_ids":[],"rejected_input_ids":[3]}`+"\n"), "er.jsonl:1: the chosen/completion response is empty", 1, nil},
		{"too long", write("long.jsonl", `{"prompt_input_ids":[1,2,3,4,5,6],"chosen_input_ids":[2,3],"rejected_input_ids":[3]}`+"\n"), "long.jsonl:1: prompt + response is 8 tokens, longer than the model's context of 4", 1, []string{"--max-length", "4"}},
		{"text without tokenizer", write("text.jsonl", `{"prompt":"hi","chosen":"a","rejected":"b"}`+"\n"), "need a tokenizer.json", 1, nil},
		{"bad method", write("ok.jsonl", `{"prompt_input_ids":[1],"chosen_input_ids":[2],"rejected_input_ids":[3]}`+"\n"), "unknown method", 2, []string{"--method", "kto"}},
	}
	for _, c := range cases {
		args := []string{"train", "--method", "dpo", "--model", gdir, "--data", c.data, "--out", filepath.Join(dir, "run-"+strings.ReplaceAll(c.name, " ", "-"))}
		args = append(args, c.extra...)
		_, e, code := aegis(t, args...)
		if code != c.code || !strings.Contains(e, c.want) || strings.Count(strings.TrimSpace(e), "\n") != 0 {
			t.Errorf("%s: exit %d, stderr %q; want exit %d with %q", c.name, code, e, c.code, c.want)
		}
	}
	// --truncate keeps the end of the prompt instead.
	_, e, code := aegis(t, "train", "--method", "dpo", "--model", gdir, "--data", filepath.Join(dir, "long.jsonl"),
		"--out", filepath.Join(dir, "trunc"), "--max-length", "4", "--truncate", "--steps", "1")
	if code != 0 {
		t.Errorf("--truncate: %s", e)
	}
	// A NaN loss stops the run with a clear message.
	_, e, code = aegis(t, "train", "--method", "sft", "--model", gdir, "--data", filepath.Join(dir, "ok.jsonl"),
		"--out", filepath.Join(dir, "nan"), "--lr", "1e38", "--optimizer", "sgd", "--max-grad-norm", "0", "--steps", "3", "--full")
	if code != 1 || !strings.Contains(e, "non-finite") {
		t.Errorf("NaN run: exit %d: %s", code, e)
	}
}
