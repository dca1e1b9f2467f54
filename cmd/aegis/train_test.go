package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/safetensors"
)

const alignData = "../../native/train/testdata/align"

// TestTrainSGDStepIsLRTimesTorchGradient is the CLI contract: with --full --optimizer sgd
// --steps 1 --max-grad-norm 0 and the whole data set in one batch, final/model.safetensors
// holds exactly the initial weights minus lr times the PyTorch gradient of the loss. It
// runs every method on llama_gqa, then one method each on the other golden architectures
// (tied embeddings with biases, Qwen2, BF16 weights, a sharded checkpoint, Mistral's
// sliding window, llama3 rope scaling) with non-default --beta and --alpha; the first
// event's loss and TRL metrics are checked against the same reference.
func TestTrainSGDStepIsLRTimesTorchGradient(t *testing.T) {
	t.Parallel()
	var top map[string]any
	b, err := os.ReadFile(filepath.Join(alignData, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &top); err != nil {
		t.Fatal(err)
	}
	gold := map[string]map[string]any{}
	for k, v := range top {
		if c, ok := v.(map[string]any); ok {
			gold[k] = c
		}
	}
	grads, err := safetensors.OpenSet(filepath.Join(alignData, "grads.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer grads.Close()
	for _, method := range []string{"sft", "dpo", "ipo", "ptalign"} {
		checkSGDStep(t, "llama_gqa", method, filepath.Join(alignData, "pairs.jsonl"), 3, gold[method], grads, method+".")
	}
	models, err := safetensors.OpenSet(filepath.Join(alignData, "models.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer models.Close()
	mg := gold["models"]
	n := 0
	for name, v := range mg {
		c, ok := v.(map[string]any)
		if !ok {
			continue
		}
		n++
		checkSGDStep(t, name, c["method"].(string), filepath.Join(alignData, mg["data"].(string)), 5, c, models, name+".",
			"--beta", fmt.Sprint(mg["beta"]), "--alpha", fmt.Sprint(mg["alpha"]))
	}
	if n < 6 {
		t.Errorf("golden.json has %d other architectures", n)
	}
}

// checkSGDStep runs one exact SGD step of method on a golden model and compares the result
// with the PyTorch gradient (tensor prefix+name in grads) and the golden metrics.
func checkSGDStep(t *testing.T, modelName, method, data string, rows int, gold map[string]any, grads *safetensors.Set, prefix string, extra ...string) {
	t.Helper()
	const lr = 0.25
	gdir := filepath.Join(goldenDir, modelName)
	m0, err := model.Load(gdir, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	args := append([]string{"train", "--method", method, "--model", gdir, "--data", data, "--out", out, "--full",
		"--optimizer", "sgd", "--steps", "1", "--max-grad-norm", "0", "--batch-size", fmt.Sprint(rows), "--lr", fmt.Sprint(lr)}, extra...)
	_, errOut, code := aegis(t, args...)
	if code != 0 {
		t.Fatalf("%s %s: exit %d: %s", modelName, method, code, errOut)
	}
	final, err := safetensors.OpenSet(filepath.Join(out, "final", "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer final.Close()
	if n, want := len(final.Names()), len(m0.BaseParams()); n != want {
		t.Errorf("%s %s: final/model.safetensors has %d tensors, the model %d", modelName, method, n, want)
	}
	worst, biggest := 0.0, 0.0
	for _, p := range m0.BaseParams() {
		if info, ok := final.Info(p.Name); !ok || info.DType != safetensors.F32 {
			t.Fatalf("%s %s: final %s is %+v, want F32", modelName, method, p.Name, info)
		}
		w1, err := final.Float32(p.Name)
		if err != nil {
			t.Fatal(err)
		}
		g, err := grads.Float32(prefix + p.Name)
		if err != nil {
			t.Fatal(err)
		}
		for i, w0 := range p.Data {
			want := float64(w0) - lr*float64(g[i])
			worst = max(worst, math.Abs(float64(w1[i])-want))
			biggest = max(biggest, math.Abs(lr*float64(g[i])))
		}
	}
	// float32 weights of size ~1 round at ~6e-8; the float32 gradient is good to ~1e-6 relative.
	if worst > 1e-6+1e-5*biggest {
		t.Errorf("%s %s: final weights differ from w - lr*grad by %g (largest step %g)", modelName, method, worst, biggest)
	}
	if _, err := model.Load(filepath.Join(out, "final"), model.Options{}); err != nil {
		t.Errorf("%s %s: final/ does not load as a model: %v", modelName, method, err)
	}
	evs := readEvents(t, out)
	if len(evs) != 1 {
		t.Fatalf("%s %s: %d events", modelName, method, len(evs))
	}
	ev := evs[0]
	if ev["step"] != 1 || ev["lr"] != lr {
		t.Errorf("%s %s: event %v", modelName, method, ev)
	}
	trl := []string{"rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies", "logps/chosen", "logps/rejected"}
	keys := []string{"loss"}
	switch method {
	case "dpo", "ipo":
		keys = append(keys, trl...)
	case "ptalign":
		keys = append(keys, "mle", "ul")
	}
	for _, k := range keys {
		want, _ := gold[k].(float64)
		got, ok := ev[k]
		if !ok || math.Abs(got-want) > 1e-5*math.Max(1, math.Abs(want)) {
			t.Errorf("%s %s: event %s = %v (present %v), torch %v", modelName, method, k, got, ok, want)
		}
	}
	for _, k := range trl {
		if _, ok := ev[k]; ok != (method == "dpo" || method == "ipo") {
			t.Errorf("%s %s: TRL metric %s present = %v", modelName, method, k, ok)
		}
	}
}

// readEvents parses a run folder's events.jsonl (numeric fields only).
func readEvents(t *testing.T, dir string) []map[string]float64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var evs []map[string]float64
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var e map[string]float64
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("events.jsonl line %q: %v", line, err)
		}
		evs = append(evs, e)
	}
	return evs
}

// TestTrainLoRAMergeAndSecurityVectors: a secvec run writes a PEFT adapter; a later run
// with --security-vectors trains a new adapter with it frozen and leaves it out of final/.
func TestTrainLoRAMergeAndSecurityVectors(t *testing.T) {
	t.Parallel()
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
	// new adapter (as an adapter, or merged into the base).
	svFile := filepath.Join(sv, "final", "adapter_model.safetensors")
	before, _ := os.ReadFile(svFile)
	out, outMerged := t.TempDir(), t.TempDir()
	ft := func(out string, more ...string) {
		t.Helper()
		if _, e, code := aegis(t, append([]string{"train", "--method", "dpo", "--model", gdir, "--data", data, "--out", out,
			"--steps", "2", "--lr", "1e-2", "--security-vectors", filepath.Join(sv, "final")}, more...)...); code != 0 {
			t.Fatalf("dpo with security vectors: %s", e)
		}
	}
	ft(out)
	ft(outMerged, "--merge")
	if after, _ := os.ReadFile(svFile); len(before) == 0 || !bytes.Equal(before, after) {
		t.Error("the security vector's file changed")
	}
	// Active: the reference and the first step's log-probs are those of base + vector.
	withVec, err := model.Load(gdir, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := withVec.LoadAdapter(filepath.Join(sv, "final"), "sv"); err != nil {
		t.Fatal(err)
	}
	base, err := model.Load(gdir, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows := readRows(t, data)
	var ref []float64
	readJSON(t, filepath.Join(out, "ref_logps.json"), &ref)
	meanWith, meanBase := 0.0, 0.0
	for i, r := range rows {
		c := seqLogp(t, withVec, r.Prompt, r.Chosen)
		meanWith += c / float64(len(rows))
		meanBase += seqLogp(t, base, r.Prompt, r.Chosen) / float64(len(rows))
		if math.Abs(ref[2*i]-c) > 1e-5*math.Abs(c) {
			t.Errorf("reference row %d = %g; base + security vector gives %g", i, ref[2*i], c)
		}
	}
	ev := readEvents(t, out)[0]
	if math.Abs(ev["logps/chosen"]-meanWith) > 1e-5*math.Abs(meanWith) || math.Abs(meanWith-meanBase) < 1e-3 {
		t.Errorf("step 1 logps/chosen %g: with the security vector %g, base alone %g", ev["logps/chosen"], meanWith, meanBase)
	}
	// Dropped: final/ is the fitted adapter alone (the last checkpoint's trainable tensors),
	// and the merged result is the base plus that adapter alone.
	ck, err := safetensors.OpenSet(filepath.Join(out, "checkpoint-2", "trainable.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	fin, err := safetensors.OpenSet(filepath.Join(out, "final", "adapter_model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer fin.Close()
	if len(fin.Names()) != len(ck.Names()) {
		t.Errorf("final adapter has %d tensors, the fitted adapter %d", len(fin.Names()), len(ck.Names()))
	}
	for _, name := range ck.Names() {
		a, _ := ck.Float32(name)
		b, err := fin.Float32(name)
		if err != nil || fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("final %s is not the fitted adapter's (%v)", name, err)
		}
	}
	merged, err := model.Load(filepath.Join(outMerged, "final"), model.Options{})
	if err != nil {
		t.Fatalf("merged result: %v", err)
	}
	if len(merged.Adapters()) != 0 {
		t.Error("merged model carries adapters")
	}
	fitted, err := model.Load(gdir, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fitted.LoadAdapter(filepath.Join(out, "final"), "fitted"); err != nil {
		t.Fatal(err)
	}
	batch := &model.Batch{B: 1, T: 6, IDs: []int32{1, 17, 33, 40, 41, 2}}
	lm, _ := merged.Forward(batch)
	lf, _ := fitted.Forward(batch)
	worst := 0.0
	for i := range lm {
		worst = max(worst, math.Abs(float64(lm[i]-lf[i])))
	}
	if worst > 1e-4 {
		t.Errorf("merged result differs from base + fitted adapter by %g (the security vector was not dropped?)", worst)
	}
}

func TestTrainBadInput(t *testing.T) {
	t.Parallel()
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

// trainOK runs aegis train with args and fails the test on a non-zero exit.
func trainOK(t *testing.T, args ...string) string {
	t.Helper()
	return trainOKWith(t, newTestCLI(), args...)
}

// trainOKWith is trainOK with c.
func trainOKWith(t *testing.T, c *cli, args ...string) string {
	t.Helper()
	out, errOut, code := aegisWith(t, c, append([]string{"train"}, args...)...)
	if code != 0 {
		t.Fatalf("aegis train %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// prefRow is a pre-tokenized preference row.
type prefRow struct {
	Prompt   []int32 `json:"prompt_input_ids"`
	Chosen   []int32 `json:"chosen_input_ids"`
	Rejected []int32 `json:"rejected_input_ids"`
}

func readRows(t *testing.T, path string) []prefRow {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows []prefRow
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r prefRow
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	return rows
}

// seqLogp is Σ log p(resp_j | prompt, resp_<j) under m, one unpadded sequence at a time.
func seqLogp(t *testing.T, m *model.Model, prompt, resp []int32) float64 {
	t.Helper()
	ids := append(append([]int32(nil), prompt...), resp...)
	logits, err := m.Forward(&model.Batch{B: 1, T: len(ids), IDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	V := m.Config.VocabSize
	lp := 0.0
	for j, y := range resp {
		row := logits[(len(prompt)-1+j)*V : (len(prompt)+j)*V]
		mx := math.Inf(-1)
		for _, v := range row {
			mx = math.Max(mx, float64(v))
		}
		s := 0.0
		for _, v := range row {
			s += math.Exp(float64(v) - mx)
		}
		lp += float64(row[y]) - mx - math.Log(s)
	}
	return lp
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestTrainDefaults: with no --max-grad-norm the global gradient norm is clipped to 1.0
// (torch's clip_grad_norm_: g · 1/(‖g‖ + 1e-6) when ‖g‖ > 1), there is no warmup and the
// first step uses the full learning rate; config.json records these settings.
func TestTrainDefaults(t *testing.T) {
	t.Parallel()
	gdir := filepath.Join(goldenDir, "llama_gqa")
	grads, err := safetensors.OpenSet(filepath.Join(alignData, "grads.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer grads.Close()
	m0, err := model.Load(gdir, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const lr = 0.25
	out := t.TempDir()
	trainOK(t, "--method", "sft", "--model", gdir, "--data", filepath.Join(alignData, "pairs.jsonl"), "--out", out,
		"--full", "--optimizer", "sgd", "--steps", "1", "--lr", fmt.Sprint(lr))
	var cfg map[string]any
	readJSON(t, filepath.Join(out, "config.json"), &cfg)
	for k, want := range map[string]any{"method": "sft", "max_grad_norm": 1.0, "warmup_steps": 0.0, "optimizer": "sgd",
		"learning_rate": lr, "full": true, "max_steps": 1.0, "model": gdir} {
		if cfg[k] != want {
			t.Errorf("config.json %s = %v, want %v", k, cfg[k], want)
		}
	}
	sq := 0.0
	for _, p := range m0.BaseParams() {
		g, _ := grads.Float32("sft." + p.Name)
		for _, v := range g {
			sq += float64(v) * float64(v)
		}
	}
	norm := math.Sqrt(sq)
	if norm <= 1.5 {
		t.Fatalf("the gradient norm %g is too small to show clipping", norm)
	}
	ev := readEvents(t, out)[0]
	if math.Abs(ev["grad_norm"]-norm) > 1e-5*norm || ev["lr"] != lr {
		t.Errorf("event grad_norm %g lr %g; torch norm %g, lr %g", ev["grad_norm"], ev["lr"], norm, lr)
	}
	final, err := safetensors.OpenSet(filepath.Join(out, "final", "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer final.Close()
	coef := 1 / (norm + 1e-6)
	worst, biggest := 0.0, 0.0
	for _, p := range m0.BaseParams() {
		g, _ := grads.Float32("sft." + p.Name)
		w1, _ := final.Float32(p.Name)
		for i, w0 := range p.Data {
			step := lr * coef * float64(g[i])
			worst = max(worst, math.Abs(float64(w1[i])-(float64(w0)-step)))
			biggest = max(biggest, math.Abs(step))
		}
	}
	if worst > 1e-6+1e-5*biggest {
		t.Errorf("default clipping: final weights differ from w - lr·g/‖g‖ by %g (largest step %g)", worst, biggest)
	}
}

// TestTrainSchedule: events.jsonl's lr follows transformers' schedulers: linear warmup
// from 0 over --warmup-steps, then linear decay to 0, or a cosine.
func TestTrainSchedule(t *testing.T) {
	t.Parallel()
	gdir := filepath.Join(goldenDir, "llama_gqa")
	data := filepath.Join(alignData, "pairs.jsonl")
	const lr = 0.01
	for _, c := range []struct {
		args []string
		want []float64
	}{
		{[]string{"--steps", "5", "--warmup-steps", "2"}, []float64{0, 0.5, 1, 2.0 / 3, 1.0 / 3}},
		{[]string{"--steps", "4", "--lr-scheduler", "cosine"}, []float64{1, 0.5 * (1 + math.Cos(math.Pi/4)), 0.5, 0.5 * (1 + math.Cos(3*math.Pi/4))}},
		{[]string{"--steps", "3", "--lr-scheduler", "constant", "--warmup-steps", "1"}, []float64{0, 1, 1}},
		{[]string{"--epochs", "2", "--batch-size", "1"}, []float64{1, 5.0 / 6, 4.0 / 6, 3.0 / 6, 2.0 / 6, 1.0 / 6}},
	} {
		out := t.TempDir()
		trainOK(t, append([]string{"--method", "sft", "--model", gdir, "--data", data, "--out", out, "--lr", fmt.Sprint(lr), "--lora-rank", "2"}, c.args...)...)
		evs := readEvents(t, out)
		if len(evs) != len(c.want) {
			t.Fatalf("%v: %d events, want %d", c.args, len(evs), len(c.want))
		}
		for i, e := range evs {
			if e["step"] != float64(i+1) || math.Abs(e["lr"]-lr*c.want[i]) > 1e-15 {
				t.Errorf("%v: event %d step %v lr %v, want lr %v", c.args, i, e["step"], e["lr"], lr*c.want[i])
			}
		}
	}
}

// TestTrainLoRAResult: a default (LoRA) run writes final/ as a PEFT adapter: PEFT's tensor
// names and shapes in adapter_model.safetensors and the adapter_config.json fields PEFT
// needs; --merge folds the same adapter into an HF model folder with the same outputs;
// runs are reproducible from --seed.
func TestTrainLoRAResult(t *testing.T) {
	t.Parallel()
	gdir := filepath.Join(goldenDir, "llama_gqa")
	data := filepath.Join(alignData, "pairs.jsonl")
	args := func(out string, more ...string) []string {
		return append([]string{"--method", "dpo", "--model", gdir, "--data", data, "--out", out, "--steps", "3",
			"--lr", "0.05", "--lora-rank", "4", "--lora-alpha", "8", "--batch-size", "2"}, more...)
	}
	a, b, c, merged := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	trainOK(t, args(a)...)
	trainOK(t, args(b)...)
	trainOK(t, args(c, "--seed", "7")...)
	trainOK(t, args(merged, "--merge")...)

	ents, _ := os.ReadDir(filepath.Join(a, "final"))
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "adapter_config.json adapter_model.safetensors" {
		t.Errorf("final/ holds %v", names)
	}
	var pc map[string]any
	readJSON(t, filepath.Join(a, "final", "adapter_config.json"), &pc)
	absModel, _ := filepath.Abs(gdir)
	for k, want := range map[string]any{"peft_type": "LORA", "r": 4.0, "lora_alpha": 8.0, "task_type": "CAUSAL_LM",
		"bias": "none", "use_rslora": false, "use_dora": false, "fan_in_fan_out": false, "base_model_name_or_path": absModel} {
		if pc[k] != want {
			t.Errorf("adapter_config.json %s = %v, want %v", k, pc[k], want)
		}
	}
	tm, _ := pc["target_modules"].([]any)
	if fmt.Sprint(tm) != fmt.Sprint(model.AllTargets) {
		t.Errorf("target_modules %v", pc["target_modules"])
	}
	set, err := safetensors.OpenSet(filepath.Join(a, "final", "adapter_model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	m, err := model.Load(gdir, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	L, H := m.Config.NumLayers, m.Config.HiddenSize
	if n := len(set.Names()); n != L*7*2 {
		t.Errorf("%d adapter tensors, want %d", n, L*7*2)
	}
	for l := 0; l < L; l++ {
		for _, mod := range []string{"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"} {
			pre := fmt.Sprintf("base_model.model.model.layers.%d.%s", l, mod)
			ia, okA := set.Info(pre + ".lora_A.weight")
			ib, okB := set.Info(pre + ".lora_B.weight")
			if !okA || !okB || ia.DType != safetensors.F32 || ib.DType != safetensors.F32 || ia.Shape[0] != 4 || ib.Shape[1] != 4 {
				t.Fatalf("%s: lora_A %+v lora_B %+v", pre, ia, ib)
			}
			if mod == "self_attn.q_proj" && ia.Shape[1] != H {
				t.Errorf("%s.lora_A shape %v", pre, ia.Shape)
			}
		}
	}
	ra, _ := os.ReadFile(filepath.Join(a, "final", "adapter_model.safetensors"))
	rb, _ := os.ReadFile(filepath.Join(b, "final", "adapter_model.safetensors"))
	rc, _ := os.ReadFile(filepath.Join(c, "final", "adapter_model.safetensors"))
	if !bytes.Equal(ra, rb) {
		t.Error("two runs with the same seed differ")
	}
	if bytes.Equal(ra, rc) {
		t.Error("runs with different seeds are identical")
	}
	if _, err := m.LoadAdapter(filepath.Join(a, "final"), "default"); err != nil {
		t.Fatal(err)
	}
	mm, err := model.Load(filepath.Join(merged, "final"), model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(mm.Adapters()) != 0 {
		t.Error("the merged model has adapters")
	}
	batch := &model.Batch{B: 1, T: 7, IDs: []int32{1, 60, 61, 62, 5, 2, 77}}
	la, _ := m.Forward(batch)
	lm, _ := mm.Forward(batch)
	worst := 0.0
	for i := range la {
		worst = max(worst, math.Abs(float64(la[i]-lm[i])))
	}
	if worst > 1e-4 {
		t.Errorf("--merge output differs from base + adapter by %g", worst)
	}
	var mc map[string]any
	readJSON(t, filepath.Join(merged, "final", "config.json"), &mc)
	if mc["torch_dtype"] != "float32" {
		t.Errorf("merged config torch_dtype %v", mc["torch_dtype"])
	}
}

// TestTrainReference: DPO's reference log-probs are the model's at the start of training,
// computed once into ref_logps.json; later steps' rewards are measured against them, as
// TRL's rewards/chosen = β·(log π − log π_ref).
func TestTrainReference(t *testing.T) {
	t.Parallel()
	gdir := filepath.Join(goldenDir, "llama_gqa")
	data := filepath.Join(alignData, "pairs.jsonl")
	rows := readRows(t, data)
	m, err := model.Load(gdir, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, full := range []bool{false, true} {
		out := t.TempDir()
		args := []string{"--method", "dpo", "--model", gdir, "--data", data, "--out", out, "--steps", "3", "--lr", "0.05", "--beta", "0.2"}
		if full {
			args = append(args, "--full", "--lr", "0.02")
		}
		trainOK(t, args...)
		var ref []float64
		readJSON(t, filepath.Join(out, "ref_logps.json"), &ref)
		if len(ref) != 2*len(rows) {
			t.Fatalf("ref_logps.json has %d values for %d rows", len(ref), len(rows))
		}
		meanC, meanR := 0.0, 0.0
		for i, r := range rows {
			c, rj := seqLogp(t, m, r.Prompt, r.Chosen), seqLogp(t, m, r.Prompt, r.Rejected)
			if math.Abs(ref[2*i]-c) > 1e-5*math.Abs(c) || math.Abs(ref[2*i+1]-rj) > 1e-5*math.Abs(rj) {
				t.Errorf("full=%v: ref row %d = %g, %g; the initial model gives %g, %g", full, i, ref[2*i], ref[2*i+1], c, rj)
			}
			meanC += ref[2*i] / float64(len(rows))
			meanR += ref[2*i+1] / float64(len(rows))
		}
		evs := readEvents(t, out)
		for _, e := range evs[1:] {
			rc, rr := 0.2*(e["logps/chosen"]-meanC), 0.2*(e["logps/rejected"]-meanR)
			if math.Abs(e["rewards/chosen"]-rc) > 1e-9 || math.Abs(e["rewards/rejected"]-rr) > 1e-9 ||
				math.Abs(e["rewards/margins"]-(rc-rr)) > 1e-9 {
				t.Errorf("full=%v step %v: rewards %v %v %v, want β(logps − ref) %v %v", full, e["step"], e["rewards/chosen"], e["rewards/rejected"], e["rewards/margins"], rc, rr)
			}
			if e["rewards/margins"] <= 0 || e["rewards/accuracies"] != 1 || e["loss"] >= evs[0]["loss"] {
				t.Errorf("full=%v step %v: DPO did not move toward chosen: %v", full, e["step"], e)
			}
		}
	}
}

// TestTrainResumeBitExact: a run stopped after its checkpoint at step 3 (later events
// logged, later checkpoint and final/ lost) and continued with --resume ends bit for bit
// where the uninterrupted run ends, with the same events.
func TestTrainResumeBitExact(t *testing.T) {
	t.Parallel()
	var progress strings.Builder
	cl := newTestCLI()
	cl.progress = &progress
	gdir := filepath.Join(goldenDir, "llama_gqa")
	for _, c := range []struct {
		method string
		extra  []string
	}{
		{"dpo", []string{"--warmup-steps", "2", "--grad-accum", "2", "--batch-size", "1"}},
		{"ptalign", []string{"--full", "--optimizer", "sgd", "--momentum", "0.9", "--batch-size", "2"}},
		{"sft", []string{"--lr-scheduler", "cosine", "--batch-size", "1", "--weight-decay", "0.1"}},
	} {
		a := t.TempDir()
		args := append([]string{"--method", c.method, "--model", gdir, "--data", filepath.Join(alignData, "mixed.jsonl"), "--out", a,
			"--steps", "6", "--save-steps", "3", "--save-total-limit", "0", "--lr", "0.01"}, c.extra...)
		trainOK(t, args...)
		b := filepath.Join(t.TempDir(), "run")
		if err := os.CopyFS(b, os.DirFS(a)); err != nil {
			t.Fatal(err)
		}
		os.RemoveAll(filepath.Join(b, "checkpoint-6"))
		os.RemoveAll(filepath.Join(b, "final"))
		args[7] = b
		if _, errOut, code := aegis(t, append([]string{"train"}, args...)...); code != 1 || !strings.Contains(errOut, "already holds a run") {
			t.Errorf("%s: reusing a run folder without --resume: exit %d %s", c.method, code, errOut)
		}
		trainOKWith(t, cl, append(args, "--resume")...)
		if !strings.Contains(progress.String(), "resuming "+b+" at step 3 of 6") {
			t.Errorf("%s: no resume message in %q", c.method, progress.String())
		}
		ents, _ := os.ReadDir(filepath.Join(a, "final"))
		if len(ents) < 2 {
			t.Fatalf("%s: final/ holds %d files", c.method, len(ents))
		}
		for _, e := range ents {
			fa, _ := os.ReadFile(filepath.Join(a, "final", e.Name()))
			fb, _ := os.ReadFile(filepath.Join(b, "final", e.Name()))
			if !bytes.Equal(fa, fb) || len(fa) == 0 {
				t.Errorf("%s: final/%s differs after resume", c.method, e.Name())
			}
		}
		for _, f := range []string{"trainable.safetensors", "optimizer.safetensors", "trainer_state.json"} {
			fa, _ := os.ReadFile(filepath.Join(a, "checkpoint-6", f))
			fb, _ := os.ReadFile(filepath.Join(b, "checkpoint-6", f))
			if !bytes.Equal(fa, fb) || len(fa) == 0 {
				t.Errorf("%s: checkpoint-6/%s differs after resume", c.method, f)
			}
		}
		ea, eb := readEvents(t, a), readEvents(t, b)
		if len(ea) != 6 || len(eb) != 6 {
			t.Fatalf("%s: %d and %d events", c.method, len(ea), len(eb))
		}
		for i := range ea {
			delete(ea[i], "seconds")
			delete(eb[i], "seconds")
			if fmt.Sprint(ea[i]) != fmt.Sprint(eb[i]) {
				t.Errorf("%s: event %d differs after resume:\n%v\n%v", c.method, i+1, ea[i], eb[i])
			}
		}
	}
}

// TestTrainHelperProcess is not a test: TestTrainInterrupt runs the test binary as an
// aegis process through it, so that it can send that process a real SIGINT.
func TestTrainHelperProcess(t *testing.T) {
	args := os.Getenv("AEGIS_TRAIN_HELPER_ARGS")
	if args == "" {
		return
	}
	var a []string
	json.Unmarshal([]byte(args), &a)
	os.Exit(newCLI().main(a, os.Stderr))
}

// TestTrainInterrupt: Ctrl-C (SIGINT) finishes the current step, writes a checkpoint at
// it, says how to continue and exits 1; --resume continues from that step.
func TestTrainInterrupt(t *testing.T) {
	t.Parallel()
	gdir := filepath.Join(goldenDir, "llama_gqa")
	out := filepath.Join(t.TempDir(), "run")
	args := []string{"train", "--method", "dpo", "--model", gdir, "--data", filepath.Join(alignData, "mixed.jsonl"), "--out", out,
		"--steps", "1000000", "--batch-size", "1", "--save-steps", "0"}
	b, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^TestTrainHelperProcess$")
	cmd.Env = append(os.Environ(), "AEGIS_TRAIN_HELPER_ARGS="+string(b))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ev, _ := os.ReadFile(filepath.Join(out, "events.jsonl"))
		if bytes.Count(ev, []byte("\n")) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no training steps after 2 minutes: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("interrupted run: %v, stderr %s", err, stderr.String())
	}
	evs := readEvents(t, out)
	n := len(evs)
	msg := fmt.Sprintf("interrupted at step %d; checkpoint written, continue with --resume", n)
	if !strings.Contains(stderr.String(), msg) {
		t.Errorf("stderr %q lacks %q", stderr.String(), msg)
	}
	var st struct {
		Step int `json:"global_step"`
	}
	readJSON(t, filepath.Join(out, fmt.Sprintf("checkpoint-%d", n), "trainer_state.json"), &st)
	if st.Step != n {
		t.Errorf("checkpoint-%d holds step %d", n, st.Step)
	}
	if _, err := os.Stat(filepath.Join(out, "final")); err == nil {
		t.Error("an interrupted run wrote final/")
	}
	// Continue it to a nearer end: --resume keeps the run's settings, so the test shortens
	// the run in its config.json.
	editConfig(t, out, func(c map[string]any) { c["max_steps"] = n + 2 })
	trainOK(t, "--out", out, "--resume")
	if evs := readEvents(t, out); len(evs) != n+2 || evs[n]["step"] != float64(n+1) {
		t.Errorf("resumed run has %d events", len(evs))
	}
}

// TestTrainNonFinite: a step whose loss is NaN stops the run with a clear message before
// it is applied; the checkpoint already written stays, intact and resumable, and no final/
// is written. Weights that a step makes infinite are never checkpointed.
func TestTrainNonFinite(t *testing.T) {
	t.Parallel()
	gdir := filepath.Join(goldenDir, "llama_gqa")
	data := filepath.Join(alignData, "pairs.jsonl")
	out := filepath.Join(t.TempDir(), "run")
	args := []string{"train", "--method", "sft", "--model", gdir, "--data", data, "--out", out, "--full", "--optimizer", "sgd",
		"--max-grad-norm", "0", "--lr", "1e30", "--steps", "4", "--save-steps", "1"}
	_, errOut, code := aegis(t, args...)
	// The loss is NaN here (weights ~1e29 overflow RMSNorm); +Inf would be reported alike.
	want := ") at step 2: stopped without applying the step; the last good checkpoint is " + filepath.Join(out, "checkpoint-1")
	if code != 1 || !strings.Contains(errOut, "aegis train: non-finite loss (") || !strings.Contains(errOut, want) ||
		strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Fatalf("exit %d, stderr %q; want %q", code, errOut, want)
	}
	if _, err := os.Stat(filepath.Join(out, "final")); err == nil {
		t.Error("a failed run wrote final/")
	}
	if evs := readEvents(t, out); len(evs) != 1 {
		t.Errorf("%d events; only step 1 was applied", len(evs))
	}
	ents, _ := os.ReadDir(out)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "checkpoint-") && e.Name() != "checkpoint-1" || strings.HasPrefix(e.Name(), ".tmp") {
			t.Errorf("unexpected %s in the run folder", e.Name())
		}
	}
	set, err := safetensors.OpenSet(filepath.Join(out, "checkpoint-1", "trainable.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range set.Names() {
		d, _ := set.Float32(name)
		for _, v := range d {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("checkpoint-1 %s holds %v", name, v)
			}
		}
	}
	set.Close()
	// The checkpoint resumes (and, with the same settings, meets the same NaN).
	_, errOut, code = aegis(t, append(args, "--resume")...)
	if code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("resume: exit %d %s", code, errOut)
	}

	// An infinite learning rate makes the weights non-finite in step 1: nothing is saved.
	out2 := filepath.Join(t.TempDir(), "run")
	_, errOut, code = aegis(t, "train", "--method", "sft", "--model", gdir, "--data", data, "--out", out2, "--full",
		"--optimizer", "sgd", "--lr", "1e39", "--steps", "2", "--save-steps", "1")
	if code != 1 || !strings.Contains(errOut, "non-finite weights after step 1") || !strings.Contains(errOut, "no checkpoint was written yet") {
		t.Errorf("infinite lr: exit %d %s", code, errOut)
	}
	if steps, _ := filepath.Glob(filepath.Join(out2, "checkpoint-*")); len(steps) != 0 {
		t.Errorf("non-finite weights were checkpointed: %v", steps)
	}
}

// TestTrainTextData: text and conversational rows are tokenized with the model folder's
// tokenizer and chat template; a --full result carries the tokenizer files; the progress
// line shows the loss and tokens/s.
func TestTrainTextData(t *testing.T) {
	t.Parallel()
	progress := new(strings.Builder)
	cl := newTestCLI()
	cl.progress = progress
	dir := chatModel(t)
	data := filepath.Join(t.TempDir(), "data.jsonl")
	os.WriteFile(data, []byte(`{"prompt":"the quick fox","chosen":"hello world!","rejected":"the lazy dog."}
{"prompt":[{"role":"user","content":"hello"}],"chosen":[{"role":"assistant","content":"hello world!"}],"rejected":[{"role":"assistant","content":"the dog."}]}
`), 0o644)
	sft := filepath.Join(t.TempDir(), "sft.jsonl")
	os.WriteFile(sft, []byte(`{"prompt":"the quick","completion":" brown fox"}
{"messages":[{"role":"user","content":"hello"},{"role":"assistant","content":"world!"}]}
`), 0o644)
	for _, c := range []struct{ method, data string }{{"dpo", data}, {"ptalign", data}, {"sft", sft}} {
		out := t.TempDir()
		trainOKWith(t, cl, "--method", c.method, "--model", dir, "--data", c.data, "--out", out, "--full", "--steps", "2", "--lr", "1e-3")
		for _, f := range []string{"tokenizer.json", "tokenizer_config.json"} {
			a, _ := os.ReadFile(filepath.Join(dir, f))
			b, err := os.ReadFile(filepath.Join(out, "final", f))
			if err != nil || !bytes.Equal(a, b) {
				t.Errorf("%s: final/%s not copied from the model folder (%v)", c.method, f, err)
			}
		}
		if _, err := model.Load(filepath.Join(out, "final"), model.Options{}); err != nil {
			t.Errorf("%s: final/: %v", c.method, err)
		}
		if evs := readEvents(t, out); len(evs) != 2 || evs[0]["tokens"] <= 0 {
			t.Errorf("%s: events %v", c.method, evs)
		}
	}
	if p := progress.String(); !strings.Contains(p, "loss ") || !strings.Contains(p, "tokens/s") || !strings.Contains(p, "2/2 steps") {
		t.Errorf("progress output %q lacks steps, loss or tokens/s", p)
	}
}
