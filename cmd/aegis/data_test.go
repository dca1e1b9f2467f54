package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aegis-safety/aegis/native/data"
)

// TestDataCommands: build with the built-in attack module, import, export, and the
// FILE:LINE error of a malformed row.
func TestDataCommands(t *testing.T) {
	progressOut = &strings.Builder{}
	dir := t.TempDir()
	p, pairs := filepath.Join(dir, "p.jsonl"), filepath.Join(dir, "pairs.jsonl")
	out, errOut, code := aegis(t, "data", "build", "--out", p, "--pairs", pairs, "--styles", "dan,base64,rot13", "--holdout-styles", "rot13")
	if code != 0 {
		t.Fatalf("build: exit %d %s", code, errOut)
	}
	rows, err := data.ReadPrompts(p)
	if err != nil || !strings.Contains(out, "prompts") {
		t.Fatalf("%v %q", err, out)
	}
	splits := map[string]int{}
	for _, r := range rows {
		splits[r.Split]++
	}
	if splits["heldout_style"] == 0 || splits["heldout_topic"] == 0 || splits["heldout_both"] == 0 || splits["test"] == 0 {
		t.Fatalf("splits %v", splits)
	}
	exp := filepath.Join(dir, "trl.jsonl")
	if _, errOut, code := aegis(t, "data", "export", "--format", "trl-conversational", "--in", pairs, "--out", exp); code != 0 {
		t.Fatalf("export: %s", errOut)
	}
	if _, errOut, code := aegis(t, "data", "import", "--format", "trl", "--in", exp, "--out", filepath.Join(dir, "back.jsonl")); code != 0 {
		t.Fatalf("import of the export: %s", errOut)
	}
	imp := filepath.Join(dir, "adv.jsonl")
	if out, errOut, code := aegis(t, "data", "import", "--format", "advbench", "--in", "../../native/data/testdata/advbench.csv", "--out", imp); code != 0 || !strings.Contains(out, "3 prompts") {
		t.Fatalf("import: %d %s %s", code, out, errOut)
	}
	badCSV := filepath.Join(dir, "bad.csv")
	os.WriteFile(badCSV, []byte("goal,target\nok,x\na,b,c\n"), 0o644)
	if _, errOut, code := aegis(t, "data", "import", "--format", "advbench", "--in", badCSV, "--out", imp); code != 1 || !strings.Contains(errOut, badCSV+":3:") {
		t.Fatalf("bad row: exit %d %q", code, errOut)
	}
	if out, errOut, code := aegis(t, "data", "import", "--format", "advbench", "--in", badCSV, "--out", imp, "--skip-bad"); code != 0 || !strings.Contains(out, "1 malformed rows skipped") {
		t.Fatalf("--skip-bad: exit %d %q %q", code, out, errOut)
	}
	if _, _, code := aegis(t, "data", "import", "--format", "nope", "--in", badCSV, "--out", imp); code != 2 {
		t.Fatalf("unknown format: exit %d", code)
	}
}
