package progress

import (
	"strings"
	"testing"
)

// TestBarPlainLines: off a terminal the bar prints its first state at once, then plain
// lines, and Done prints the final state unless it is already out.
func TestBarPlainLines(t *testing.T) {
	t.Parallel()
	var w strings.Builder
	b := New(&w, "judge", 3, "samples")
	b.Add(1)
	b.Add(2)
	b.Done()
	lines := strings.Split(strings.TrimSpace(w.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "judge: 1/3 samples, ") || !strings.HasPrefix(lines[1], "judge: 3/3 samples, ") ||
		!strings.Contains(lines[1], "samples/s, ETA ") {
		t.Fatalf("%q", w.String())
	}
	w.Reset()
	b.Done()
	if w.Len() != 0 {
		t.Fatalf("Done repeated the last line: %q", w.String())
	}
}

// TestBarShrink: Shrink lowers the total that the bar and its ETA count towards.
func TestBarShrink(t *testing.T) {
	t.Parallel()
	var w strings.Builder
	b := New(&w, "bon", 40, "samples")
	b.Add(4)
	b.Shrink(30)
	b.Add(6)
	b.Done()
	lines := strings.Split(strings.TrimSpace(w.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "bon: 4/40 samples, ") || !strings.HasPrefix(lines[1], "bon: 10/10 samples, ") ||
		!strings.HasSuffix(lines[1], "ETA 0s") {
		t.Fatalf("%q", w.String())
	}
}

// TestTrainLine: a training bar resumed at step 2 counts from there and always draws
// the last step.
func TestTrainLine(t *testing.T) {
	t.Parallel()
	var w strings.Builder
	tr := NewTrain(&w, "train dpo", 4, 2)
	tr.Step(0.5, 100)
	tr.Step(0.25, 100)
	tr.Done()
	out := w.String()
	if !strings.HasPrefix(out, "train dpo: 3/4 steps, loss 0.5000, ") || !strings.Contains(out, "train dpo: 4/4 steps, loss 0.2500, ") ||
		!strings.Contains(out, "tokens/s, ETA ") {
		t.Fatalf("%q", out)
	}
}

// TestStages: training stages get a training bar named "train LABEL STAGE", others an
// answers bar; log lines end the bar before them.
func TestStages(t *testing.T) {
	t.Parallel()
	var w strings.Builder
	s := NewStages(&w, "demo: ", func(name string) bool { return strings.HasPrefix(name, "fit") })
	s.Stage("eval", 2)
	s.Add(2)
	s.Step(1, 1) // not a training stage: ignored
	s.Logf("%d pairs", 7)
	s.Stage("fit", 1)
	s.Add(5) // not an answering stage: ignored
	s.Step(0.75, 10)
	s.Finish()
	want := []string{"demo: eval: 2/2 answers, ", "demo: 7 pairs\n", "train demo: fit: 1/1 steps, loss 0.7500, "}
	out := w.String()
	for _, x := range want {
		if !strings.Contains(out, x) {
			t.Errorf("%q lacks %q", out, x)
		}
	}
	if strings.Count(out, "\n") != 3 {
		t.Errorf("%q: want 3 lines", out)
	}
}
