package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
