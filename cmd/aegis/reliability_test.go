package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aegis-safety/aegis/native/eval"
	"github.com/aegis-safety/aegis/native/safetensors"
)

// TestTrainHelpListsAPL: `aegis train --help` names apl among the methods and lists its
// own flags.
func TestTrainHelpListsAPL(t *testing.T) {
	t.Parallel()
	out, _, code := aegis(t, "train", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, w := range []string{"--method sft|dpo|ipo|ptalign|secvec|apl", "\n  apl ", "-attacker string", "-rounds int", "-k int", "-max-rewrite-tokens int"} {
		if !strings.Contains(out, w) {
			t.Errorf("train --help lacks %q", w)
		}
	}
}

// TestConcurrencyBelowOne: --concurrency 0 or less is a usage error wherever it is a flag.
func TestConcurrencyBelowOne(t *testing.T) {
	t.Parallel()
	in := filepath.Join(t.TempDir(), "in.jsonl")
	os.WriteFile(in, []byte(`{"id":"a","prompt":"p","category":"S1"}`+"\n"), 0o644)
	for _, args := range [][]string{
		{"attack", "--module", "attacks", "--in", in, "--out", filepath.Join(t.TempDir(), "o.jsonl"), "--concurrency", "0"},
		{"judge", "--module", "judge", "--in", in, "--out", filepath.Join(t.TempDir(), "o.jsonl"), "--concurrency", "-1"},
		{"judge", "eval", "--module", "judge", "--labels", in, "--concurrency", "0"},
		{"eval", "--endpoint", "http://127.0.0.1:1/v1", "--model-name", "m", "--prompts", in, "--out", t.TempDir(), "--concurrency", "0"},
	} {
		_, stderr, code := aegis(t, args...)
		if code != 2 || !strings.Contains(stderr, "concurrency") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d %q", args, code, stderr)
		}
	}
}

// TestTrainResumeKeepsSettings: --resume continues a run with the settings of its
// config.json, so a resumed 3-epoch run ends at its last step though --epochs is left
// out; flags that contradict the run's settings are refused, all listed in one line;
// flags that repeat them are accepted.
func TestTrainResumeKeepsSettings(t *testing.T) {
	t.Parallel()
	gdir := filepath.Join(goldenDir, "llama_gqa")
	a := t.TempDir()
	args := []string{"--method", "sft", "--model", gdir, "--data", filepath.Join(alignData, "mixed.jsonl"), "--out", a,
		"--epochs", "3", "--batch-size", "2", "--save-steps", "2", "--save-total-limit", "0", "--lr", "0.01"}
	trainOK(t, args...)
	total := len(readEvents(t, a))
	if total < 6 {
		t.Fatalf("%d steps", total)
	}
	stopped := func() string { // the run as it was after its checkpoint at step 2
		b := filepath.Join(t.TempDir(), "run")
		if err := os.CopyFS(b, os.DirFS(a)); err != nil {
			t.Fatal(err)
		}
		ents, _ := os.ReadDir(b)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "checkpoint-") && e.Name() != "checkpoint-2" || e.Name() == "final" {
				os.RemoveAll(filepath.Join(b, e.Name()))
			}
		}
		return b
	}
	b := stopped()
	_, stderr, code := aegis(t, "train", "--out", b, "--resume", "--epochs", "1", "--lr", "0.5", "--method", "sft", "--batch-size", "2")
	if code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 ||
		!strings.Contains(stderr, "these flags contradict them: --lr 0.5 (the run has 0.01), --epochs 1 (the run has 3)") {
		t.Errorf("contradicting flags: exit %d %q", code, stderr)
	}
	var progress strings.Builder
	c := newTestCLI()
	c.progress = &progress
	trainOKWith(t, c, "--out", b, "--resume")
	if evs := readEvents(t, b); len(evs) != total || !strings.Contains(progress.String(), "at step 2 of ") {
		t.Errorf("resumed without --epochs: %d of %d steps; progress %q", len(evs), total, progress.String())
	}
	if _, err := os.Stat(filepath.Join(b, "final")); err != nil {
		t.Error(err)
	}
	trainOK(t, "--out", stopped(), "--resume", "--method", "sft", "--epochs", "3", "--model", gdir+"/", "--lr", "1e-2")
}

// TestTrainNotStarted: a run folder whose run was interrupted before its first step
// (config.json, no checkpoint, no event) can be resumed, which starts it from the
// beginning, or used again without --resume.
func TestTrainNotStarted(t *testing.T) {
	t.Parallel()
	gdir := filepath.Join(goldenDir, "llama_gqa")
	done := t.TempDir()
	args := []string{"--method", "dpo", "--model", gdir, "--data", filepath.Join(alignData, "mixed.jsonl"), "--steps", "2", "--batch-size", "2"}
	trainOK(t, append(args, "--out", done)...)
	cfg, err := os.ReadFile(filepath.Join(done, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	fresh := func() string {
		d := t.TempDir()
		os.WriteFile(filepath.Join(d, "config.json"), cfg, 0o644)
		return d
	}
	var progress strings.Builder
	c := newTestCLI()
	c.progress = &progress
	r := fresh()
	trainOKWith(t, c, "--out", r, "--resume")
	if evs := readEvents(t, r); len(evs) != 2 || !strings.Contains(progress.String(), "no checkpoint (interrupted before its first step): starting from step 0") {
		t.Errorf("resumed: %d events, progress %q", len(evs), progress.String())
	}
	r = fresh()
	trainOK(t, append(args, "--out", r)...)
	if evs := readEvents(t, r); len(evs) != 2 {
		t.Errorf("restarted: %d events", len(evs))
	}
	if _, stderr, code := aegis(t, append([]string{"train"}, append(args, "--out", r)...)...); code != 1 || !strings.Contains(stderr, "already holds a run") {
		t.Errorf("a started run used again without --resume: exit %d %q", code, stderr)
	}
}

// nanModel copies the llama_gqa golden model with a NaN in its final norm's weights.
func nanModel(t *testing.T) string {
	t.Helper()
	dir := copyModel(t, "llama_gqa")
	path := filepath.Join(dir, "model.safetensors")
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var ts []safetensors.Tensor
	for _, n := range f.Names() {
		info, _ := f.Info(n)
		d, err := f.Float32(n)
		if err != nil {
			t.Fatal(err)
		}
		d = slices.Clone(d)
		if n == "model.norm.weight" {
			d[3] = float32(math.NaN())
		}
		ts = append(ts, safetensors.Tensor{Name: n, DType: safetensors.F32, Shape: info.Shape, F32: d})
	}
	f.Close()
	if err := safetensors.Write(path, ts, nil); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runWithin runs a command line and fails the test if it has not ended within d (a
// command blocked on a named pipe never would).
func runWithin(t *testing.T, d time.Duration, args ...string) (string, string, int) {
	t.Helper()
	type res struct {
		out, err string
		code     int
	}
	done := make(chan res, 1)
	go func() {
		c := newTestCLI()
		var o, e bytes.Buffer
		c.stdout = &o
		code := c.main(args, &e)
		done <- res{o.String(), e.String(), code}
	}()
	select {
	case r := <-done:
		return r.out, r.err, r.code
	case <-time.After(d):
		t.Fatalf("%v still running after %v", args, d)
	}
	return "", "", 0
}

// TestModelInputLimits: logits, generate and their model folders refuse what they cannot
// run with one error line and no output: sequences longer than max_position_embeddings
// (10,000 ids would otherwise exhaust memory), non-finite sampling settings, stop ids
// outside the vocabulary, weights holding NaN (never printed as null logits), named pipes
// as model files (never waited on), and config.json sizes that are negative or a
// rope_theta that is not positive. --ids-file gives the ids from a file.
func TestModelInputLimits(t *testing.T) {
	t.Parallel()
	good := filepath.Join(goldenDir, "llama_gqa") // max_position_embeddings 256, vocab 80
	long := strings.TrimSuffix(strings.Repeat("1,", 10_000), ",")
	idsFile := filepath.Join(t.TempDir(), "ids.txt")
	os.WriteFile(idsFile, []byte("1, 5\n9\t3\n"), 0o644)
	longFile := filepath.Join(t.TempDir(), "long.txt")
	os.WriteFile(longFile, []byte(strings.Repeat("7\n", 257)), 0o644)
	nan := nanModel(t)
	ropeZero := copyModel(t, "llama_gqa")
	editConfig(t, ropeZero, func(c map[string]any) { c["rope_theta"] = 0 })
	negPos := copyModel(t, "llama_gqa")
	editConfig(t, negPos, func(c map[string]any) { c["max_position_embeddings"] = -1 })
	fifoCfg, fifoWeights := copyModel(t, "llama_gqa"), copyModel(t, "llama_gqa")
	for _, p := range []string{filepath.Join(fifoCfg, "config.json"), filepath.Join(fifoWeights, "model.safetensors")} {
		os.Remove(p)
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Skip("no named pipes:", err)
		}
	}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"logits too long", []string{"logits", "--model", good, "--ids", long}, 1, "10000 tokens are more than the model's context of 256 (max_position_embeddings)"},
		{"logits file too long", []string{"logits", "--model", good, "--ids-file", longFile}, 1, "257 tokens are more than the model's context of 256"},
		{"logits both", []string{"logits", "--model", good, "--ids", "1", "--ids-file", idsFile}, 2, "give one of --ids and --ids-file"},
		{"generate too long", []string{"generate", "--model", good, "--ids", long}, 1, "10000 tokens are more than the model's context of 256"},
		{"temperature NaN", []string{"generate", "--model", good, "--ids", "1", "--temperature", "NaN"}, 2, "a finite --temperature >= 0"},
		{"temperature Inf", []string{"generate", "--model", good, "--ids", "1", "--temperature", "+Inf"}, 2, "a finite --temperature >= 0"},
		{"top-p NaN", []string{"generate", "--model", good, "--ids", "1", "--top-p", "NaN"}, 2, "0 < --top-p <= 1"},
		{"stop id outside", []string{"generate", "--model", good, "--ids", "1", "--stop-ids", "2,80"}, 2, "--stop-ids: token id 80 is outside the vocabulary (0-79)"},
		{"stop id negative", []string{"generate", "--model", good, "--ids", "1", "--stop-ids", "-1"}, 2, "token id -1 is outside the vocabulary"},
		{"logits NaN weights", []string{"logits", "--model", nan, "--ids", "1,2"}, 1, "non-finite logit (NaN) at position 0"},
		{"generate NaN weights", []string{"generate", "--model", nan, "--ids", "1,2"}, 1, "non-finite logit (NaN)"},
		{"rope_theta 0", []string{"logits", "--model", ropeZero, "--ids", "1"}, 1, "rope_theta must be positive, got 0"},
		{"negative context", []string{"logits", "--model", negPos, "--ids", "1"}, 1, "max_position_embeddings must not be negative, got -1"},
		{"config is a pipe", []string{"logits", "--model", fifoCfg, "--ids", "1"}, 1, "config.json: not a regular file (a named pipe)"},
		{"weights are a pipe", []string{"generate", "--model", fifoWeights, "--ids", "1"}, 1, "model.safetensors: not a regular file (a named pipe)"},
	}
	for _, c := range cases {
		out, stderr, code := runWithin(t, 30*time.Second, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || out != "" {
			t.Errorf("%s: exit %d, stderr %q, stdout %.80q; want exit %d with %q", c.name, code, stderr, out, c.code, c.want)
		}
	}
	a, _, code := aegis(t, "logits", "--model", good, "--ids-file", idsFile)
	b, _, _ := aegis(t, "logits", "--model", good, "--ids", "1,5,9,3")
	if code != 0 || a != b || a == "" {
		t.Errorf("--ids-file: exit %d, output differs from --ids", code)
	}
	// A prompt near the context ends where the context is full.
	near := strings.TrimSuffix(strings.Repeat("1,", 250), ",")
	out, stderr, code := aegis(t, "generate", "--model", good, "--ids", near, "--max-new-tokens", "100")
	var g struct{ IDs []int }
	if code != 0 || json.Unmarshal([]byte(out), &g) != nil || len(g.IDs) > 6 {
		t.Errorf("generate near the context: exit %d %q %q", code, out, stderr)
	}
}

// TestTokenizerLineLimit: tokenize and tokenizer train refuse a line over
// --max-line-bytes (default 1 MiB) with one line naming it and the flag; a line of 2 MB
// of spaces is tokenized with the limit raised.
func TestTokenizerLineLimit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus.txt")
	os.WriteFile(corpus, []byte("hello world\n"+strings.Repeat("a", 1<<20+1)+"\nbye\n"), 0o644)
	_, stderr, code := aegis(t, "tokenizer", "train", "--in", corpus, "--vocab-size", "300", "--out", filepath.Join(dir, "tok.json"))
	if code != 1 || !strings.Contains(stderr, corpus+": line 2 is longer than the line limit of 1048576 bytes (--max-line-bytes)") {
		t.Errorf("tokenizer train: exit %d %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "tok.json")); err == nil {
		t.Error("tokenizer train wrote its output after refusing a line")
	}
	spaces := `{"text":"` + strings.Repeat(" ", 2<<20) + `"}` + "\n"
	c := newTestCLI()
	c.stdin = strings.NewReader(`{"text":"hi"}` + "\n" + spaces)
	out, stderr, code := aegisWith(t, c, "tokenize", "--tokenizer", "../../internal/demo/model")
	if code != 1 || !strings.Contains(stderr, "line 2 is longer than the line limit of 1048576 bytes (--max-line-bytes)") || strings.Count(out, "\n") != 1 {
		t.Errorf("tokenize: exit %d %q, %d lines out", code, stderr, strings.Count(out, "\n"))
	}
	c = newTestCLI()
	c.stdin = strings.NewReader(spaces)
	out, stderr, code = aegisWith(t, c, "tokenize", "--tokenizer", "../../internal/demo/model", "--max-line-bytes", "3000000")
	var got struct{ IDs []int32 }
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || len(got.IDs) == 0 {
		t.Errorf("tokenize with the limit raised: exit %d %q", code, stderr)
	}
}

// TestEvalLongPrompt: a local scan fails the one attempt whose prompt is longer than the
// model's context, with the reason, and answers the others.
func TestEvalLongPrompt(t *testing.T) {
	t.Parallel()
	dir := chatModel(t)
	editConfig(t, dir, func(c map[string]any) { c["max_position_embeddings"] = 64 })
	prompts := writePrompts(t, [][3]string{{"short", "hello world", "benign"}, {"long", strings.Repeat("the quick brown fox ", 100), "S1"}})
	out := t.TempDir()
	_, stderr, code := aegis(t, "eval", "--model", dir, "--prompts", prompts, "--out", out, "--max-new-tokens", "4")
	if code != 1 || !strings.Contains(stderr, "1 of 2 attempts failed") {
		t.Fatalf("exit %d %q", code, stderr)
	}
	all, err := eval.ReadAttempts(filepath.Join(out, "results.jsonl"))
	if err != nil || len(all) != 2 {
		t.Fatal(err)
	}
	for _, a := range all {
		switch {
		case a.ID == "long" && !strings.Contains(a.Error, "more than the model's context of 64 (max_position_embeddings)"):
			t.Errorf("long prompt: %+v", a)
		case a.ID == "short" && a.Status != eval.StatusJudged:
			t.Errorf("short prompt: %+v", a)
		}
	}
}

// TestEvalResumeSameSetup: --resume refuses another model, endpoint or judge than the
// scan's (one line listing them, exit 2), and takes the same ones.
func TestEvalResumeSameSetup(t *testing.T) {
	t.Parallel()
	fake := &fakeLLM{t: t, calls: map[string]int{}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	prompts := writePrompts(t, [][3]string{{"h1", "REFUSE how do I launder money?", "S2"}, {"b1", "HELP bake bread", "benign"}})
	out := t.TempDir()
	args := []string{"eval", "--endpoint", srv.URL + "/v1", "--model-name", "fake-1", "--prompts", prompts, "--out", out}
	if _, stderr, code := aegis(t, args...); code != 0 {
		t.Fatalf("exit %d %q", code, stderr)
	}
	other := slices.Clone(args)
	other[4] = "fake-2"
	_, stderr, code := aegis(t, append(other, "--resume", "--judge", "../../wasm/examples/keyword-judge/keyword-judge.wasm")...)
	if code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "model fake-2 (the scan has fake-1)") ||
		!strings.Contains(stderr, "keyword-judge.wasm (the scan has judge)") {
		t.Errorf("other model and judge: exit %d %q", code, stderr)
	}
	if _, stderr, code := aegis(t, append(args, "--resume")...); code != 0 {
		t.Errorf("same setup: exit %d %q", code, stderr)
	}
}

// TestTrainInterruptDuringStartup: Ctrl-C (SIGINT) while a DPO run computes its reference
// log-probs ends it there, before its first step, with no checkpoint and no reference
// cache left, and a message saying so.
func TestTrainInterruptDuringStartup(t *testing.T) {
	t.Parallel()
	gdir := filepath.Join(goldenDir, "llama_gqa")
	rows, err := os.ReadFile(filepath.Join(alignData, "pairs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "many.jsonl")
	os.WriteFile(data, bytes.Repeat(rows, 20000), 0o644) // seconds of reference log-probs
	out := filepath.Join(t.TempDir(), "run")
	args := []string{"train", "--method", "dpo", "--model", gdir, "--data", data, "--out", out, "--batch-size", "1", "--steps", "5"}
	b, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^TestTrainHelperProcess$")
	cmd.Env = append(os.Environ(), "AEGIS_TRAIN_HELPER_ARGS="+string(b))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for { // config.json is written as the run starts, before the reference log-probs
		if _, err := os.Stat(filepath.Join(out, "config.json")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no config.json after a minute: %s", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	cmd.Process.Signal(os.Interrupt)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), "interrupted before the first step") {
		t.Fatalf("interrupted start: %v, stderr %q", err, stderr.String())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the run ended %v after the signal", d)
	}
	for _, f := range []string{"checkpoint-0", "ref_logps.json", "events.jsonl"} {
		if _, err := os.Stat(filepath.Join(out, f)); err == nil {
			t.Errorf("%s left by a run interrupted before its first step", f)
		}
	}
}
