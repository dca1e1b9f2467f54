package train

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fitDPO runs Fit of a small LoRA DPO run (5 steps, a checkpoint after each) into dir.
func fitDPO(t *testing.T, ctx context.Context, dir string, resume bool, warn func(string)) (*Trainer, error) {
	t.Helper()
	cfg := loraConfig("dpo")
	cfg.Steps, cfg.BatchSize, cfg.SaveSteps, cfg.SaveLimit = 5, 1, 1, 0
	return Fit(ctx, loadGoldenModel(t), loadPairs(t, true), cfg, dir, FitOptions{Resume: resume, Warn: warn})
}

// TestInterruptedBeforeFirstStep: a run interrupted before its first step (here while its
// DPO reference log-probs are computed) stops at once and leaves no checkpoint and no
// reference cache; it can then be resumed, or started again without --resume, in the same
// folder. A checkpoint-0 that earlier versions wrote in that case is passed over.
func TestInterruptedBeforeFirstStep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the signal came during start-up
	dir := t.TempDir()
	if tr, err := fitDPO(t, ctx, dir, false, nil); !errors.Is(err, context.Canceled) || tr.StepsDone() != 0 {
		t.Fatalf("interrupted run: %v", err)
	}
	for _, f := range []string{"checkpoint-0", "ref_logps.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s written by a run interrupted before its first step", f)
		}
	}
	if Started(dir) {
		t.Error("Started: true for a run that took no step")
	}
	var warned []string
	tr, err := fitDPO(t, context.Background(), dir, true, func(s string) { warned = append(warned, s) })
	if err != nil || tr.StepsDone() != 5 {
		t.Fatalf("resume of a run interrupted before its first step: %v", err)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "no checkpoint (interrupted before its first step): starting from step 0") {
		t.Errorf("warnings %q", warned)
	}
	if !Started(dir) {
		t.Error("Started: false after 5 steps")
	}
	if _, err := fitDPO(t, context.Background(), dir, false, nil); err == nil || !strings.Contains(err.Error(), "holds a run that has taken steps") {
		t.Errorf("a new run over a started one: %v", err)
	}

	// Restarted without resuming; and the checkpoint-0 of earlier versions.
	dir2 := t.TempDir()
	fitDPO(t, ctx, dir2, false, nil)
	if tr, err := fitDPO(t, context.Background(), dir2, false, nil); err != nil || tr.StepsDone() != 5 {
		t.Fatalf("restart without resume: %v", err)
	}
	dir3 := t.TempDir()
	cfg := loraConfig("dpo")
	old, err := NewTrainer(loadGoldenModel(t), loadPairs(t, true), cfg, dir3)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Checkpoint(); err != nil { // what an interrupted start used to leave
		t.Fatal(err)
	}
	if tr, err := fitDPO(t, context.Background(), dir3, true, nil); err != nil || tr.StepsDone() != 5 {
		t.Fatalf("resume over an old checkpoint-0: %v", err)
	}
}

// TestResumeFallsBack: a damaged newest checkpoint (a truncated tensor file, a garbled
// state) is passed over for the newest intact one, with a warning; the damaged one is
// moved aside; with no intact checkpoint left, resuming is an error naming one.
func TestResumeFallsBack(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := loraConfig("dpo")
	cfg.Steps, cfg.BatchSize, cfg.SaveSteps, cfg.SaveLimit = 5, 1, 1, 0
	tr, err := NewTrainer(loadGoldenModel(t), loadPairs(t, true), cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	tr.OnStep = func(e Event) {
		if e.Step == 4 {
			cancel()
		}
	}
	if err := tr.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	st := filepath.Join(dir, "checkpoint-4", "trainable.safetensors")
	b, _ := os.ReadFile(st)
	os.WriteFile(st, b[:len(b)/2], 0o644)
	os.WriteFile(filepath.Join(dir, "checkpoint-3", "trainer_state.json"), []byte(`{"global_step": 3, "meth`), 0o644)
	var warned []string
	res, err := fitDPO(t, context.Background(), dir, true, func(s string) { warned = append(warned, s) })
	if err != nil || res.StepsDone() != 5 {
		t.Fatalf("resume: %v", err)
	}
	if len(warned) != 2 || !strings.Contains(warned[0], "checkpoint-4 is damaged") || !strings.Contains(warned[0], "resuming from checkpoint-2 instead") ||
		!strings.Contains(warned[1], "checkpoint-3 is damaged (trainer_state.json:") {
		t.Errorf("warnings %q", warned)
	}
	for _, n := range []string{"checkpoint-4.corrupt", "checkpoint-3.corrupt"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	events, _ := os.ReadFile(filepath.Join(dir, "events.jsonl"))
	if n := strings.Count(string(events), "\n"); n != 5 {
		t.Errorf("events.jsonl has %d lines after resuming from step 2", n)
	}

	// Nothing intact: an error naming the newest damaged checkpoint.
	for _, s := range []string{"1", "2", "3", "4", "5"} {
		os.WriteFile(filepath.Join(dir, "checkpoint-"+s, "optimizer.safetensors"), []byte("garbage"), 0o644)
	}
	if _, err := fitDPO(t, context.Background(), dir, true, nil); err == nil || !strings.Contains(err.Error(), "no intact checkpoint to resume from: checkpoint-5") {
		t.Errorf("all damaged: %v", err)
	}
}
