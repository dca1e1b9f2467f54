package eval

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aegis-safety/aegis/native/data"
	"github.com/aegis-safety/aegis/native/rundir"
	"github.com/aegis-safety/aegis/shared"
)

// failGen answers every prompt "ok" except those in fail, which fail.
type failGen struct {
	fail  map[string]bool
	calls int
}

func (g *failGen) Generate(_ context.Context, ps []string) ([]string, []error) {
	out, errs := make([]string, len(ps)), make([]error, len(ps))
	for i, p := range ps {
		g.calls++
		if g.fail[p] {
			errs[i] = errors.New("no answer")
		} else {
			out[i] = "ok"
		}
	}
	return out, errs
}
func (g *failGen) BatchSize() int { return 2 }
func (g *failGen) Parallel() int  { return 1 }

func scanPrompts(ids ...string) []data.Prompt {
	var ps []data.Prompt
	for _, id := range ids {
		ps = append(ps, data.Prompt{ID: id, Prompt: id, Category: "S1"})
	}
	return ps
}

func statuses(t *testing.T, dir string) (lines []string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, rundir.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var a Attempt
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, a.ID+":"+a.Status)
	}
	return lines
}

// TestScanFolder: a scan writes the log (pending lines first, then each state change),
// report.json and report.md; a second scan into the folder is refused unless it resumes
// or overwrites; a resume sends only unfinished attempts, after cutting a torn last line.
func TestScanFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "scan")
	g := &failGen{fail: map[string]bool{"b": true}}
	cfg := ScanConfig{Dir: dir, Prompts: scanPrompts("a", "b"), Judge: okJudge{}, Model: "m",
		Gen: func() (Generator, error) { return g, nil }}
	var todo, done int
	cfg.OnStart, cfg.OnDone = func(n int) { todo = n }, func(n int) { done += n }
	res, err := Scan(context.Background(), cfg)
	var se *ScanError
	if !errors.As(err, &se) || se.Interrupted || err.Error() != "1 of 2 attempts failed (their errors are in "+filepath.Join(dir, rundir.ResultsFile)+"); rerun with --resume to retry them" {
		t.Fatalf("err %v", err)
	}
	if res == nil || res.Failed != 1 || res.Todo != 2 || todo != 2 || done != 2 || res.Report.Model != "m" || res.Report.Counts.Judged != 1 {
		t.Fatalf("result %+v, progress %d/%d", res, done, todo)
	}
	if got := strings.Join(statuses(t, dir), " "); got != "a:pending b:pending a:generated a:judged b:pending" {
		t.Fatalf("log %s", got)
	}
	for _, f := range []string{rundir.ReportFile, rundir.ReportMarkdown} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Scan(context.Background(), cfg); !errors.Is(err, ErrExists) {
		t.Fatalf("rescan without resume: %v", err)
	}
	// A torn line (an interrupted write) is cut before resuming.
	f, _ := os.OpenFile(filepath.Join(dir, rundir.ResultsFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"id":"b","sta`)
	f.Close()
	g.fail, g.calls = nil, 0
	cfg.Resume, cfg.Prompts = true, scanPrompts("a", "b", "c")
	if res, err = Scan(context.Background(), cfg); err != nil || g.calls != 2 || res.Todo != 2 || res.Report.Counts.Judged != 3 {
		t.Fatalf("resume: %v, %d sent, %+v", err, g.calls, res)
	}
	if ids := []string{res.Attempts[0].ID, res.Attempts[1].ID, res.Attempts[2].ID}; strings.Join(ids, "") != "abc" {
		t.Fatalf("attempts %v", ids)
	}
	cfg.Resume, cfg.Overwrite, cfg.SkipPending, g.calls = false, true, true, 0
	if _, err = Scan(context.Background(), cfg); err != nil || g.calls != 3 {
		t.Fatalf("overwrite: %v, %d sent", err, g.calls)
	}
	if got := strings.Join(statuses(t, dir), " "); got != "a:generated a:judged b:generated b:judged c:generated c:judged" {
		t.Fatalf("log without pending lines %s", got)
	}
	cfg.Resume = true
	if _, err = Scan(context.Background(), cfg); err == nil || errors.Is(err, ErrExists) {
		t.Fatalf("resume and overwrite: %v", err)
	}
}

// TestScanInterrupted: an interrupted scan still writes its report, and its error wraps
// context.Canceled and says how far it got.
func TestScanInterrupted(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	g := &cancelGen{cancel: cancel, after: 1}
	res, err := Scan(ctx, ScanConfig{Dir: dir, Prompts: scanPrompts("a", "b", "c", "d"), Judge: okJudge{},
		Gen: func() (Generator, error) { return g, nil }})
	if !errors.Is(err, context.Canceled) || res == nil || !strings.HasPrefix(err.Error(), "interrupted: 2 of 4 attempts judged; finished work is in ") {
		t.Fatalf("%v %+v", err, res)
	}
	if _, err := os.Stat(filepath.Join(dir, rundir.ReportFile)); err != nil {
		t.Fatal(err)
	}
}

// TestScanStylesAndBaseline: attack styles expand harmful prompts through the attacker,
// and a baseline gives the report win rates.
func TestScanStylesAndBaseline(t *testing.T) {
	base := t.TempDir()
	gen := func() (Generator, error) { return &failGen{}, nil }
	prompts := append(scanPrompts("a"), data.Prompt{ID: "n", Prompt: "hi", Category: shared.Benign})
	if _, err := Scan(context.Background(), ScanConfig{Dir: base, Prompts: prompts, Judge: okJudge{}, Gen: gen}); err != nil {
		t.Fatal(err)
	}
	attack := func(_ context.Context, in shared.AttackInput) ([]shared.AttackVariant, error) {
		var vs []shared.AttackVariant
		for _, s := range in.Params.Styles {
			vs = append(vs, shared.AttackVariant{Prompt: s + ": " + in.Prompt, Style: s})
		}
		return vs, nil
	}
	res, err := Scan(context.Background(), ScanConfig{Dir: t.TempDir(), Prompts: prompts, Styles: []string{"x", "y"}, Attack: attack,
		Judge: okJudge{}, Gen: gen, Baseline: filepath.Join(base, rundir.ResultsFile)})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range res.Attempts {
		ids = append(ids, a.ID)
	}
	if strings.Join(ids, " ") != "a a/x a/y n" || res.Report.WinRates == nil {
		t.Fatalf("attempts %v, win rates %+v", ids, res.Report.WinRates)
	}
}
