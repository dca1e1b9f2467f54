package eval

import (
	"context"
	"path/filepath"
	"testing"
)

// cancelGen answers each prompt with "ok" and cancels the scan after `after` batches,
// as Ctrl-C would.
type cancelGen struct {
	cancel func()
	after  int
	calls  int
}

func (g *cancelGen) Generate(ctx context.Context, ps []string) ([]string, []error) {
	g.calls++
	if g.calls > g.after {
		g.cancel()
		errs := make([]error, len(ps))
		for i := range errs {
			errs[i] = context.Canceled
		}
		return make([]string, len(ps)), errs
	}
	out := make([]string, len(ps))
	for i := range out {
		out[i] = "ok"
	}
	return out, make([]error, len(ps))
}
func (g *cancelGen) BatchSize() int { return 2 }
func (g *cancelGen) Parallel() int  { return 1 }

type okJudge struct{}

func (okJudge) Judge(context.Context, string, string, string) (*Verdict, error) {
	return &Verdict{Judge: "ok", Categories: []string{}}, nil
}

// TestRunInterrupted: an interrupted scan keeps every finished attempt in the log, records
// no error for the interrupted ones, and a second run finishes only what is left.
func TestRunInterrupted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.jsonl")
	log, _ := OpenLog(path)
	var attempts []*Attempt
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		a := &Attempt{ID: id, Status: StatusPending, Prompt: id, Attack: AttackNone, Category: "S1"}
		attempts = append(attempts, a)
		log.Append(a)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &cancelGen{cancel: cancel, after: 1}
	if _, err := Run(ctx, attempts, Options{Gen: g, Judge: okJudge{}, Log: log}); err != context.Canceled {
		t.Fatalf("err %v", err)
	}
	log.Close()
	got, _ := ReadAttempts(path)
	judged := 0
	for _, a := range got {
		if a.Status == StatusJudged {
			judged++
		}
		if a.Error != "" {
			t.Fatalf("interruption recorded as an error: %+v", a)
		}
	}
	if judged != 2 {
		t.Fatalf("%d judged after the interruption, want the first batch's 2", judged)
	}
	log, _ = OpenLog(path)
	g2 := &cancelGen{cancel: func() {}, after: 100}
	if failed, err := Run(context.Background(), got, Options{Gen: g2, Judge: okJudge{}, Log: log}); err != nil || failed != 0 || g2.calls != 2 {
		t.Fatalf("resume: failed %d err %v calls %d, want 2 batches for the 3 left", failed, err, g2.calls)
	}
	log.Close()
	got, _ = ReadAttempts(path)
	for _, a := range got {
		if a.Status != StatusJudged {
			t.Fatalf("%+v", a)
		}
	}
}
