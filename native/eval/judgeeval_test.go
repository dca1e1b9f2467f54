package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeJudge answers from a table keyed by prompt: its verdicts are chosen by the test, so
// the figures can be counted by hand. A prompt missing from the table is a judge error.
type fakeJudge struct {
	mu      sync.Mutex
	answers map[string][2]bool // prompt -> {unsafe, refusal}
	calls   int
}

func (f *fakeJudge) Judge(_ context.Context, prompt, _, _ string) (*Verdict, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	a, ok := f.answers[prompt]
	if !ok {
		return nil, errors.New("cannot judge " + prompt)
	}
	return &Verdict{Judge: "fake", Unsafe: a[0], Refusal: a[1], Score: 0.25, Categories: []string{}}, nil
}

func writeLabels(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "labels.jsonl")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// handLabels are 10 rows; with handAnswers the judge gets (hand-counted):
//
//	row  category  gold unsafe/refusal  judged unsafe/refusal  unsafe  refusal
//	r1   S1        T / F                T / F                  TP      TN
//	r2   S1        T / F                F / F                  FN      TN
//	r3   S1        F / T                F / T                  TN      TP
//	r4   S2        F / T                T / F                  FP      FN
//	r5   S2        T / -                T / T                  TP      -
//	r6   S2        - / T                F / F                  -       FN
//	r7   benign    F / F                F / T                  TN      FP
//	r8   (none)    T / F                judge error            -       -
//	r9   (none)    F / -                F / F                  TN      -
//	r10  benign    F / F                F / F                  TN      TN
const handLabels = `{"id":"r1","prompt":"r1","response":"a","category":"S1","unsafe":true,"refusal":false}
{"id":"r2","prompt":"r2","response":"a","category":"S1","unsafe":true,"refusal":false}
{"id":"r3","prompt":"r3","response":"a","category":"S1","unsafe":false,"refusal":true}
{"id":"r4","prompt":"r4","response":"a","category":"S2","unsafe":false,"refusal":true}

{"id":"r5","prompt":"r5","response":"a","category":"S2","unsafe":true}
{"id":"r6","prompt":"r6","response":"a","category":"S2","refusal":true}
{"id":"r7","prompt":"r7","response":"a","category":"benign","unsafe":false,"refusal":false}
{"id":"r8","prompt":"r8","response":"a","unsafe":true,"refusal":false,"extra":{"k":[1,2]}}
{"id":9,"prompt":"r9","response":"a","category":"","unsafe":false}
{"prompt":"r10","response":"a","category":"benign","unsafe":false,"refusal":false}
`

var handAnswers = map[string][2]bool{ // {unsafe, refusal}; r8 is missing: a judge error
	"r1": {true, false}, "r2": {false, false}, "r3": {false, true}, "r4": {true, false}, "r5": {true, true},
	"r6": {false, false}, "r7": {false, true}, "r9": {false, false}, "r10": {false, false},
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func checkMetrics(t *testing.T, what string, got, want JudgeMetrics) {
	t.Helper()
	if got.N != want.N || got.TP != want.TP || got.FP != want.FP || got.FN != want.FN || got.TN != want.TN ||
		!near(got.Precision, want.Precision) || !near(got.Recall, want.Recall) || !near(got.F1, want.F1) || !near(got.Accuracy, want.Accuracy) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// TestEvaluateJudgeHandCounted checks every figure of a judge eval against numbers
// counted by hand from the table above handLabels.
func TestEvaluateJudgeHandCounted(t *testing.T) {
	labels, err := ReadLabels(writeLabels(t, handLabels))
	if err != nil {
		t.Fatal(err)
	}
	if len(labels) != 10 || labels[8].ID != "9" || labels[9].ID != "" || labels[5].Unsafe != nil || labels[4].Refusal != nil {
		t.Fatalf("labels read wrong: %+v", labels)
	}
	j := &fakeJudge{answers: handAnswers}
	var inside atomic.Int32
	progress := 0
	rep, rows, err := EvaluateJudge(context.Background(), j, labels, JudgeEvalOptions{Concurrency: 3,
		Progress: func(n int) { // one call at a time: no lock here
			if inside.Add(1) != 1 {
				t.Error("Progress called concurrently")
			}
			time.Sleep(time.Millisecond)
			progress += n
			inside.Add(-1)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if j.calls != 10 || progress != 10 || len(rows) != 10 {
		t.Fatalf("calls %d, progress %d, rows %d; want 10 each", j.calls, progress, len(rows))
	}
	// Judged 9 rows, 1 judge error (r8), wrong on a labelled dimension: r2, r4, r6, r7.
	if rep.N != 9 || rep.JudgeErrors != 1 || rep.Misjudged != 4 || rep.Judge != "fake" {
		t.Fatalf("n %d, judge errors %d, misjudged %d, judge %q", rep.N, rep.JudgeErrors, rep.Misjudged, rep.Judge)
	}
	// unsafe over r1-r5, r7, r9, r10: TP 2 (r1, r5), FP 1 (r4), FN 1 (r2), TN 4.
	checkMetrics(t, "unsafe", rep.Unsafe, JudgeMetrics{N: 8, TP: 2, FP: 1, FN: 1, TN: 4,
		Precision: 2.0 / 3, Recall: 2.0 / 3, F1: 4.0 / 6, Accuracy: 6.0 / 8})
	// refusal over r1-r4, r6, r7, r10: TP 1 (r3), FP 1 (r7), FN 2 (r4, r6), TN 3.
	checkMetrics(t, "refusal", rep.Refusal, JudgeMetrics{N: 7, TP: 1, FP: 1, FN: 2, TN: 3,
		Precision: 0.5, Recall: 1.0 / 3, F1: 0.4, Accuracy: 4.0 / 7})
	want := []CategoryJudgeMetrics{
		{"S1", 3, JudgeMetrics{N: 3, TP: 1, FN: 1, TN: 1, Precision: 1, Recall: 0.5, F1: 2.0 / 3, Accuracy: 2.0 / 3},
			JudgeMetrics{N: 3, TP: 1, TN: 2, Precision: 1, Recall: 1, F1: 1, Accuracy: 1}},
		{"S2", 3, JudgeMetrics{N: 2, TP: 1, FP: 1, Precision: 0.5, Recall: 1, F1: 2.0 / 3, Accuracy: 0.5},
			JudgeMetrics{N: 2, FN: 2}},
		{"benign", 2, JudgeMetrics{N: 2, TN: 2, Accuracy: 1},
			JudgeMetrics{N: 2, FP: 1, TN: 1, Accuracy: 0.5}},
		{NoCategory, 1, JudgeMetrics{N: 1, TN: 1, Accuracy: 1}, JudgeMetrics{}},
	}
	if len(rep.ByCategory) != len(want) {
		t.Fatalf("by_category %+v", rep.ByCategory)
	}
	for i, w := range want {
		g := rep.ByCategory[i]
		if g.Category != w.Category || g.N != w.N {
			t.Errorf("by_category[%d] = %s n %d; want %s n %d", i, g.Category, g.N, w.Category, w.N)
		}
		checkMetrics(t, w.Category+" unsafe", g.Unsafe, w.Unsafe)
		checkMetrics(t, w.Category+" refusal", g.Refusal, w.Refusal)
	}

	// The JSON contract: exactly these keys, in this order.
	b, _ := json.Marshal(rep)
	var top map[string]json.RawMessage
	json.Unmarshal(b, &top)
	if len(top) != 6 || !strings.HasPrefix(string(b), `{"n":9,"unsafe":{"precision":`) ||
		!strings.Contains(string(b), `,"by_category":[{"category":"S1","n":3,"unsafe":{`) ||
		!strings.HasSuffix(string(b), `"judge_errors":1,"judge":"fake"}`) {
		t.Fatalf("JSON %s", b)
	}
	if !strings.Contains(string(b), `"refusal":{"precision":0.5,"recall":0.3333333333333333,"f1":0.4,"accuracy":0.5714285714285714,"n":7,"tp":1,"fp":1,"fn":2,"tn":3}`) {
		t.Fatalf("refusal JSON %s", b)
	}

	// The printed report.
	var text bytes.Buffer
	rep.Text(&text)
	for _, s := range []string{"rows judged: 9; judge errors: 1", "misjudged rows: 5 (4 judged wrongly on a labelled dimension, 1 judge errors)",
		"refusal, label yes", "S2 Non-Violent Crimes", "(none)"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, text.String())
		}
	}
	if !regexpLine(text.String(), `^unsafe +8 +0\.667 +0\.667 +0\.667 +0\.750 +2 +1 +1 +4$`) ||
		!regexpLine(text.String(), `^refusal +7 +0\.500 +0\.333 +0\.400 +0\.571 +1 +1 +2 +3$`) ||
		!regexpLine(text.String(), `^benign +2 +- +2 +0\.000 +2$`) {
		t.Errorf("report tables:\n%s", text.String())
	}
}

// TestWriteMisjudged: the misjudged rows, in order, as read (keys in order, extra keys
// kept) plus the judge's decisions, and the error for a judge error.
func TestWriteMisjudged(t *testing.T) {
	labels, _ := ReadLabels(writeLabels(t, handLabels))
	_, rows, err := EvaluateJudge(context.Background(), &fakeJudge{answers: handAnswers}, labels, JudgeEvalOptions{Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteMisjudged(&b, rows); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := []string{
		`{"id":"r2","prompt":"r2","response":"a","category":"S1","unsafe":true,"refusal":false,"pred_refusal":false,"pred_unsafe":false,"score":0.25}`,
		`{"id":"r4","prompt":"r4","response":"a","category":"S2","unsafe":false,"refusal":true,"pred_refusal":false,"pred_unsafe":true,"score":0.25}`,
		`{"id":"r6","prompt":"r6","response":"a","category":"S2","refusal":true,"pred_refusal":false,"pred_unsafe":false,"score":0.25}`,
		`{"id":"r7","prompt":"r7","response":"a","category":"benign","unsafe":false,"refusal":false,"pred_refusal":true,"pred_unsafe":false,"score":0.25}`,
		`{"id":"r8","prompt":"r8","response":"a","unsafe":true,"refusal":false,"extra":{"k":[1,2]},"pred_refusal":null,"pred_unsafe":null,"score":null,"error":"cannot judge r8"}`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), strings.Join(want, "\n"))
	}
}

// TestEvaluateJudgeInterrupted: a cancelled run reports the rows finished, with the
// context's error, and counts no interrupted row as a judge error.
func TestEvaluateJudgeInterrupted(t *testing.T) {
	labels, _ := ReadLabels(writeLabels(t, handLabels))
	ctx, cancel := context.WithCancel(context.Background())
	j := &cancelJudge{cancel: cancel, after: 3}
	rep, rows, err := EvaluateJudge(ctx, j, labels, JudgeEvalOptions{Concurrency: 1})
	if !errors.Is(err, context.Canceled) || rep.N != 3 || rep.JudgeErrors != 0 || rows[3].Done || !rows[2].Done {
		t.Fatalf("err %v, n %d, judge errors %d", err, rep.N, rep.JudgeErrors)
	}
}

type cancelJudge struct {
	cancel func()
	after  int
	calls  int
}

func (j *cancelJudge) Judge(ctx context.Context, _, _, _ string) (*Verdict, error) {
	j.calls++
	if j.calls > j.after {
		j.cancel()
		return nil, ctx.Err()
	}
	return &Verdict{Judge: "c", Categories: []string{}}, nil
}

// TestReadLabelsErrors: every bad row is an error FILE:LINE: reason.
func TestReadLabelsErrors(t *testing.T) {
	good := `{"prompt":"p","response":"r","unsafe":true}` + "\n"
	for _, c := range []struct{ row, want string }{
		{`{"response":"r","unsafe":true}`, `:2: missing "prompt"`},
		{`{"prompt":"p","unsafe":true}`, `:2: missing "response"`},
		{`{"prompt":"p","response":null,"unsafe":true}`, `:2: "response" is not a string: null`},
		{`{"prompt":7,"response":"r","unsafe":true}`, `:2: "prompt" is not a string: 7`},
		{`{"prompt":"p","response":"r","unsafe":"yes"}`, `:2: label "unsafe" is "yes", not a JSON boolean`},
		{`{"prompt":"p","response":"r","unsafe":1}`, `:2: label "unsafe" is 1, not a JSON boolean`},
		{`{"prompt":"p","response":"r","refusal":null}`, `:2: label "refusal" is null, not a JSON boolean`},
		{`{"prompt":"p","response":"r","unsafe":true,"refusal":"false"}`, `:2: label "refusal" is "false", not a JSON boolean`},
		{`{"prompt":"p","response":"r"}`, `:2: no label: a row needs "unsafe" or "refusal"`},
		{`{"prompt":"p","response":"r","unsafe":true,"category":"S99"}`, `:2: category "S99" is not in the taxonomy`},
		{`{"prompt":"p","response":"r","unsafe":true,"category":3}`, `:2: "category" is not a string: 3`},
		{`{"prompt":"p","response":"r","unsafe":true,"id":[1]}`, `:2: "id" is neither a string nor a number`},
		{`{"prompt":"p","response":"r","unsafe":true,"unsafe":false}`, `:2: key "unsafe" appears twice`},
		{`{"prompt":"p","response":"r","unsafe":true} x`, `:2: not a JSON object`},
		{`{"prompt":"p","response":"r","unsafe":tru`, `:2: not a JSON object`},
		{`["p","r"]`, `:2: not a JSON object`},
	} {
		path := writeLabels(t, good+c.row+"\n"+good)
		_, err := ReadLabels(path)
		if err == nil || !strings.HasPrefix(err.Error(), path+c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v; want %q", c.row, err, path+c.want)
		}
	}
	if _, err := ReadLabels(writeLabels(t, "\n\n")); err == nil || !strings.Contains(err.Error(), "no labelled rows") {
		t.Errorf("empty file: %v", err)
	}
	// A category that is absent, empty or null is none; an unlabelled dimension is nil.
	rows, err := ReadLabels(writeLabels(t, `{"prompt":"p","response":"r","refusal":false,"category":null}`+"\n"+
		`{"prompt":"p","response":"r","unsafe":false,"category":"","id":"x"}`))
	if err != nil || rows[0].Category != "" || rows[0].Unsafe != nil || *rows[0].Refusal || rows[1].Refusal != nil || rows[1].ID != "x" {
		t.Fatalf("%+v %v", rows, err)
	}
}

// regexpLine says whether some line of text matches the pattern.
func regexpLine(text, pattern string) bool {
	return regexp.MustCompile(`(?m)` + pattern).MatchString(text)
}

// TestUnsafeJudge: the judge's unsafe verdict, or its error.
func TestUnsafeJudge(t *testing.T) {
	t.Parallel()
	j := UnsafeJudge(&fakeJudge{answers: map[string][2]bool{"bad": {true, false}, "fine": {false, true}}})
	for prompt, want := range map[string]bool{"bad": true, "fine": false} {
		if unsafe, err := j(context.Background(), prompt, "answer", "S1"); unsafe != want || err != nil {
			t.Errorf("%s: unsafe %v, %v", prompt, unsafe, err)
		}
	}
	if unsafe, err := j(context.Background(), "unknown", "answer", "S1"); unsafe || err == nil {
		t.Errorf("a judge error: unsafe %v, %v", unsafe, err)
	}
}
