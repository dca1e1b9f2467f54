package debias

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadTexts: text lines as they are; JSONL rows' prompt or text, benign or
// uncategorised only; no text at all is an error.
func TestReadTexts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	txt, rows, none := filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.jsonl"), filepath.Join(dir, "c.jsonl")
	os.WriteFile(txt, []byte("one\n\ntwo\n"), 0o644)
	os.WriteFile(rows, []byte(`{"prompt":"p","category":"benign"}`+"\n"+`{"text":"t"}`+"\n"+`{"prompt":"h","category":"S1"}`+"\n"), 0o644)
	os.WriteFile(none, []byte(`{"prompt":"h","category":"S1"}`+"\n"), 0o644)
	if got, err := ReadTexts(txt); err != nil || strings.Join(got, "|") != "one|two" {
		t.Fatalf("text: %q %v", got, err)
	}
	if got, err := ReadTexts(rows); err != nil || strings.Join(got, "|") != "p|t" {
		t.Fatalf("jsonl: %q %v", got, err)
	}
	if _, err := ReadTexts(none); err == nil || !strings.Contains(err.Error(), "no benign text") {
		t.Fatalf("no benign text: %v", err)
	}
}
