package demo

import (
	"strings"
	"testing"

	"github.com/aegis-safety/aegis/native/eval"
)

// TestText: the three result tables print their rows, with rates and intervals.
func TestText(t *testing.T) {
	t.Parallel()
	r := &Result{Seconds: 12, HeldoutTopics: []string{"S5"}, HeldoutStyles: []string{"caesar"}}
	r.Pairs.Refusal, r.Pairs.Anchor = 10, 3
	r.Before.Splits = map[string]eval.Cell{SplitBenign: {N: 4, ASR: 0.25, CILow: 0.1, CIHigh: 0.6}}
	r.Before.ByCategory = []eval.Cell{{Category: "S5", N: 2, ASR: 1}}
	r.After.ByCategory = []eval.Cell{{Category: "S5", N: 2, ASR: 0.5}}
	var b strings.Builder
	r.Text(&b)
	for _, want := range []string{"LoRA DPO on 10 refusal pairs and 3 benign anchors), 12 s", "over-refusal, benign look-alikes",
		"0.25 [0.10, 0.60]", "(held out)", "1.00     0.50", "held-out attack styles: caesar"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("demo table lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	sv := &SecVecResult{Stages: map[string]SecVecStage{"with": {Harmful: 8, HarmfulRate: 0.125}}, Runs: map[string]string{"retrofit": "secvec-1-dpo"}}
	sv.Text(&b)
	if !strings.Contains(b.String(), "fine-tuned with security vector (dropped)") || !strings.Contains(b.String(), "runs: secvec-1-*") {
		t.Errorf("secvec table:\n%s", b.String())
	}
	b.Reset()
	(&Comparison{Order: []string{"dpo"}, Methods: map[string]MethodScores{"dpo": {ASRHeldout: 0.5}}}).Text(&b)
	if lines := strings.Split(strings.TrimSpace(b.String()), "\n"); len(lines) != 5 || !strings.HasPrefix(lines[4], "dpo ") {
		t.Errorf("comparison table:\n%s", b.String())
	}
}
