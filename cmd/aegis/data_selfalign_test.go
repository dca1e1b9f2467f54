package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDataSelfAlign: on a tiny random model the pipeline runs end to end (gibberish
// text), writes TRL pairs that train --method ptalign reads, and is reproducible.
func TestDataSelfAlign(t *testing.T) {
	t.Parallel()
	dir := chatModel(t)
	seeds := filepath.Join(t.TempDir(), "seeds.jsonl")
	os.WriteFile(seeds, []byte(`{"name":"fraud","category":"S2","positive":["refuse kindly"],"toxic":["comply"]}
{"name":"privacy","category":"S7","positive":["refuse"],"toxic":["comply","leak"]}
`), 0o644)
	run := func() string {
		out := filepath.Join(t.TempDir(), "pairs.jsonl")
		stdout, errOut, code := aegis(t, "data", "selfalign", "--model", dir, "--seeds", seeds, "--out", out,
			"--topics", "2", "--instructions", "2", "--rounds", "2", "--max-new-tokens", "8", "--seed", "3")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if !strings.Contains(stdout, "kept") {
			t.Errorf("stdout %q", stdout)
		}
		b, _ := os.ReadFile(out)
		return string(b)
	}
	a := run()
	if b := run(); a != b {
		t.Fatalf("two runs with one seed differ")
	}
	sc := bufio.NewScanner(strings.NewReader(a))
	n := 0
	for sc.Scan() {
		var p struct{ Prompt, Chosen, Rejected, Category string }
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil || p.Prompt == "" || p.Chosen == "" || p.Rejected == "" || p.Chosen == p.Rejected {
			t.Fatalf("bad pair %s (%v)", sc.Text(), err)
		}
		if p.Category != "S2" && p.Category != "S7" {
			t.Errorf("category %q", p.Category)
		}
		n++
	}
	t.Logf("%d pairs", n)
	if n > 0 {
		path := filepath.Join(t.TempDir(), "p.jsonl")
		os.WriteFile(path, []byte(a), 0o644)
		if _, errOut, code := aegis(t, "train", "--method", "ptalign", "--model", dir, "--data", path, "--out", filepath.Join(t.TempDir(), "r"),
			"--steps", "1", "--truncate"); code != 0 {
			t.Fatalf("ptalign on the pairs: %s", errOut)
		}
	}
}
