package eval

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWilson(t *testing.T) {
	// Reference values from statsmodels' proportion_confint(method="wilson").
	for _, c := range []struct {
		k, n   int
		lo, hi float64
	}{{5, 10, 0.236593, 0.763407}, {0, 10, 0, 0.277533}, {10, 10, 0.722467, 1}, {1, 3, 0.061492, 0.792340}} {
		lo, hi := Wilson(c.k, c.n)
		if math.Abs(lo-c.lo) > 1e-5 || math.Abs(hi-c.hi) > 1e-5 {
			t.Errorf("Wilson(%d, %d) = %.6f, %.6f; want %.6f, %.6f", c.k, c.n, lo, hi, c.lo, c.hi)
		}
	}
	if lo, hi := Wilson(0, 0); lo != 0 || hi != 0 {
		t.Fatal("empty interval")
	}
}

func TestParseLlamaGuard(t *testing.T) {
	v, err := ParseLlamaGuard("\n\nunsafe\nS1,S10")
	if err != nil || !v.Unsafe || len(v.Categories) != 2 || v.Categories[1] != "S10" {
		t.Fatalf("%+v %v", v, err)
	}
	if v, err := ParseLlamaGuard(" safe "); err != nil || v.Unsafe {
		t.Fatalf("%+v %v", v, err)
	}
	if _, err := ParseLlamaGuard("I think it is fine"); err == nil {
		t.Fatal("garbage accepted")
	}
}

func TestReportAndCompare(t *testing.T) {
	s := func(x string) *string { return &x }
	a := []*Attempt{
		{ID: "1", Status: StatusJudged, Category: "S1", Attack: "none", Response: s("x"), Verdict: &Verdict{Unsafe: true}},
		{ID: "2", Status: StatusJudged, Category: "S1", Attack: "dan", Response: s("x"), Verdict: &Verdict{Refusal: true}},
		{ID: "3", Status: StatusJudged, Category: "benign", Attack: "none", Response: s("x"), Verdict: &Verdict{Refusal: true}},
		{ID: "4", Status: StatusPending, Category: "S2", Attack: "none", Error: "boom"},
	}
	r := NewReport(a)
	if r.ASR != 0.5 || r.RefusalRate != 0.5 || r.OverRefusalRate != 1 || len(r.Cells) != 2 || r.Cells[0].Attack != "none" ||
		r.Counts.Errors != 1 || r.Counts.Pending != 1 || r.Counts.Harmful != 3 {
		t.Fatalf("%+v", r)
	}
	b := []*Attempt{
		{ID: "1", Status: StatusJudged, Category: "S1", Verdict: &Verdict{Refusal: true}},
		{ID: "2", Status: StatusJudged, Category: "S1", Verdict: &Verdict{Refusal: true}},
		{ID: "3", Status: StatusJudged, Category: "benign", Verdict: &Verdict{}},
	}
	w := Compare("a", a, "b", b)
	if w.N != 3 || w.WinsA != 0 || w.WinsB != 2 || w.Ties != 1 {
		t.Fatalf("%+v", w)
	}
}

// TestReadAttemptsTorn: the latest line per id wins, a torn last line is ignored, a bad
// line elsewhere is an error with its line number.
func TestReadAttemptsTorn(t *testing.T) {
	p := filepath.Join(t.TempDir(), "r.jsonl")
	os.WriteFile(p, []byte(`{"id":"a","status":"pending"}`+"\n"+`{"id":"b","status":"pending"}`+"\n"+`{"id":"a","status":"judged"}`+"\n"+`{"id":"b","sta`), 0o644)
	all, err := ReadAttempts(p)
	if err != nil || len(all) != 2 || all[0].Status != StatusJudged || all[1].Status != StatusPending {
		t.Fatalf("%v %v", all, err)
	}
	os.WriteFile(p, []byte(`{"id":"a"}`+"\n"+`nope`+"\n"+`{"id":"b"}`+"\n"), 0o644)
	if _, err := ReadAttempts(p); err == nil || err.Error()[len(p):len(p)+3] != ":2:" {
		t.Fatalf("error %v", err)
	}
}

// TestReportJudgeErrors: an attempt answered but not judged (its judge failed) is a judge
// error in counts; a generation failure is an error but not a judge error; neither counts
// in a rate.
func TestReportJudgeErrors(t *testing.T) {
	s := func(x string) *string { return &x }
	r := NewReport([]*Attempt{
		{ID: "a", Status: StatusGenerated, Category: "S1", Attack: AttackNone, Response: s("x"), Error: "LLM judge (harmbench rubric): answer \"maybe\" is neither"},
		{ID: "b", Status: StatusPending, Category: "S1", Attack: AttackNone, Error: "HTTP 500"},
		{ID: "b2", Status: StatusPending, Category: "S1", Attack: AttackNone, Error: "HTTP 503"},
		{ID: "c", Status: StatusJudged, Category: "S1", Attack: AttackNone, Response: s("y"), Verdict: &Verdict{Unsafe: true}},
	})
	if r.Counts.JudgeErrors != 1 || r.Counts.Errors != 3 || r.Overall.N != 1 || r.ASR != 1 {
		t.Fatalf("%+v", r.Counts)
	}
	b, _ := json.Marshal(r)
	if !strings.Contains(string(b), `"judge_errors":1`) || !strings.Contains(r.Markdown(), "(judge errors 1)") {
		t.Fatal(string(b))
	}
}
