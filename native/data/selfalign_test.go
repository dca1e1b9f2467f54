package data

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

// script answers each stage's prompts by what they ask, and records them.
type script struct{ calls [][]string }

func (s *script) Generate(_ context.Context, prompts []string) ([]string, error) {
	s.calls = append(s.calls, append([]string(nil), prompts...))
	out := make([]string, len(prompts))
	for i, p := range prompts {
		switch {
		case strings.HasPrefix(p, "Name topic"):
			out[i] = fmt.Sprintf("1. topic %d\nextra", i%2) // duplicates collapse
		case strings.HasPrefix(p, "Write request"):
			out[i] = fmt.Sprintf("request %d", i)
		case strings.Contains(p, "Draft answer:"):
			out[i] = "refined " + p[strings.Index(p, "Draft answer: ")+14:strings.Index(p, "\n\nRewrite")]
		case strings.Contains(p, "red-team"):
			out[i] = "UNSAFE answer"
			if strings.Contains(p, "request 1") {
				out[i] = "safe answer" // identical to the positive: dropped
			}
		default:
			out[i] = "safe answer"
			if strings.Contains(p, "request 2") {
				out[i] = "UNSAFE slip" // positive judged unsafe: dropped
			}
		}
	}
	return out, nil
}

func TestSelfAlignStages(t *testing.T) {
	domains := []SafetyDomain{{Name: "fraud", Category: "S2", Topics: []string{"phishing"}, Positive: []string{"be safe"}, Toxic: []string{"be bad"}}}
	s := &script{}
	judge := func(_ context.Context, prompt, answer, cat string) (bool, error) {
		return strings.Contains(answer, "UNSAFE"), nil
	}
	pairs, st, err := SelfAlign(context.Background(), s, judge, domains, SelfAlignOptions{TopicsPerDomain: 3, InstructionsPerTopic: 2, Rounds: 2, Seed: 1, StrictToxic: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.calls) != 4 {
		t.Fatalf("%d stages called, want topics, instructions, 2 answer rounds", len(s.calls))
	}
	if len(s.calls[0]) != 3 || !strings.Contains(s.calls[0][0], `"fraud"`) || !strings.Contains(s.calls[0][0], "phishing") {
		t.Errorf("topic prompts %q", s.calls[0])
	}
	// "topic 0", "topic 1", "topic 0": two distinct topics × 2 instructions.
	if st.Topics != 2 || len(s.calls[1]) != 4 || !strings.Contains(s.calls[1][2], `"topic 1"`) {
		t.Errorf("topics %d, instruction prompts %q", st.Topics, s.calls[1])
	}
	if len(s.calls[2]) != 8 || !strings.Contains(s.calls[2][0], "be safe") || !strings.Contains(s.calls[2][1], "be bad") || !strings.Contains(s.calls[2][1], "red-team") {
		t.Errorf("answer prompts %q", s.calls[2])
	}
	if !strings.Contains(s.calls[3][1], "Draft answer: UNSAFE answer") {
		t.Errorf("refinement does not carry the draft: %q", s.calls[3][1])
	}
	// request 0 and 3 kept; 1 identical; 2 unsafe positive.
	if st.Kept != 2 || st.Identical != 1 || st.UnsafePositive != 1 || len(pairs) != 2 {
		t.Fatalf("stats %+v, pairs %+v", st, pairs)
	}
	if pairs[0].Prompt != "request 0" || pairs[0].Chosen != "refined safe answer" || pairs[0].Rejected != "refined UNSAFE answer" || pairs[0].Category != "S2" {
		t.Errorf("pair %+v", pairs[0])
	}
}

func TestSelfAlignSeeds(t *testing.T) {
	ds, err := ReadSelfAlignSeeds("")
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) < 3 {
		t.Fatalf("%d built-in domains", len(ds))
	}
	for _, bad := range []string{`[{"name":"x","category":"S2","positive":["a"]}]`, `[{"name":"x","category":"Z","positive":["a"],"toxic":["b"]}]`,
		`[{"name":"x","category":"S2","positive":[` + strings.Repeat(`"a",`, 60) + `"a"],"toxic":["b"]}]`} {
		p := t.TempDir() + "/s.json"
		writeFile(t, p, bad)
		if _, err := ReadSelfAlignSeeds(p); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
