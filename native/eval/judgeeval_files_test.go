package eval

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestJudgeEvalFiles: nothing appears before Commit, Abort leaves nothing, and Commit
// writes the report and the misjudged rows.
func TestJudgeEvalFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rp, mp := filepath.Join(dir, "r.json"), filepath.Join(dir, "m.jsonl")
	f, err := CreateJudgeEvalFiles(rp, mp)
	if err != nil {
		t.Fatal(err)
	}
	f.Abort()
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("Abort left %v", ents)
	}
	if _, err := CreateJudgeEvalFiles(filepath.Join(dir, "no", "such", "dir", "r.json"), ""); err == nil {
		t.Fatal("an unwritable path was accepted")
	}
	f, _ = CreateJudgeEvalFiles(rp, "")
	if err := f.Commit(&JudgeEvalReport{N: 3, Judge: "judge"}, nil); err != nil {
		t.Fatal(err)
	}
	f.Abort() // after Commit: keeps the file
	if b, err := os.ReadFile(rp); err != nil || !strings.Contains(string(b), `"judge": "judge"`) {
		t.Fatalf("%s %v", b, err)
	}
	if _, err := os.Stat(mp); err == nil {
		t.Fatal("an unasked file was written")
	}
}

// TestJudgeEvalError: an interruption counts the rows covered; a judge that judged
// nothing names its first failure; otherwise the run's own error, or none.
func TestJudgeEvalError(t *testing.T) {
	t.Parallel()
	rep := &JudgeEvalReport{N: 2, JudgeErrors: 1}
	if err := JudgeEvalError(rep, nil, fmt.Errorf("scan: %w", context.Canceled), 9); err == nil || err.Error() != "interrupted: 3 of 9 rows judged; the figures cover them" {
		t.Fatalf("interrupted: %v", err)
	}
	boom := errors.New("boom")
	if err := JudgeEvalError(rep, nil, boom, 9); err != boom {
		t.Fatalf("run error: %v", err)
	}
	if err := JudgeEvalError(rep, nil, nil, 9); err != nil {
		t.Fatalf("fine run: %v", err)
	}
	rows := []JudgedRow{{Done: true}, {Label: LabelRow{Pos: "l.jsonl:2"}, Err: boom, Done: true}}
	if err := JudgeEvalError(&JudgeEvalReport{JudgeErrors: 1}, rows, nil, 2); err == nil || err.Error() != "the judge could not judge any of the 2 rows; l.jsonl:2: boom" {
		t.Fatalf("nothing judged: %v", err)
	}
}

// TestRubricNotes: a rubric that judges refusal says how; one that does not names the
// module that does.
func TestRubricNotes(t *testing.T) {
	t.Parallel()
	for _, name := range RubricNames() {
		r, _ := LookupRubric(name)
		n := RubricNotes(r, "judge")
		if len(n) != 1 || !strings.HasPrefix(n[0], "rubric "+name) || r.JudgesRefusal() == strings.Contains(n[0], "judge module judge") {
			t.Errorf("%s: %q", name, n)
		}
	}
}
