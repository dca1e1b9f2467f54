package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aegis-safety/aegis/native/debias"
)

// TestDebiasFitAndGenerate: debias fit writes a [L, V] bias; generate and its vocabulary
// check accept it; a model against itself has a zero bias, so --debias changes nothing.
func TestDebiasFitAndGenerate(t *testing.T) {
	t.Parallel()
	dir := chatModel(t)
	texts := filepath.Join(t.TempDir(), "benign.jsonl")
	os.WriteFile(texts, []byte(`{"prompt":"the quick brown fox","category":"benign"}
{"prompt":"how to hurt","category":"S1"}
{"text":"hello world"}
`), 0o644)
	out := filepath.Join(t.TempDir(), "bias.safetensors")
	stdout, errOut, code := aegis(t, "debias", "fit", "--model", dir, "--reference", dir, "--prompts", texts,
		"--positions", "4", "--n", "3", "--min-tokens", "2", "--max-tokens", "5", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(stdout, "[4, ") {
		t.Errorf("stdout %q", stdout)
	}
	b, err := debias.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if b.L != 4 || b.Meta["reference"] != dir || b.Meta["prompts"] != "3" {
		t.Fatalf("bias %d×%d %v", b.L, b.V, b.Meta)
	}
	plain, _, _ := aegis(t, "generate", "--model", dir, "--prompt", "hello fox", "--max-new-tokens", "6", "--json")
	deb, errOut, code := aegis(t, "generate", "--model", dir, "--prompt", "hello fox", "--max-new-tokens", "6", "--json",
		"--debias", out, "--debias-scale", "2")
	if code != 0 || deb != plain {
		t.Fatalf("exit %d %s: %q vs %q", code, errOut, deb, plain)
	}
	if _, errOut, code := aegis(t, "generate", "--model", filepath.Join(goldenDir, "llama_gqa"), "--ids", "1", "--debias", out); code != 1 || !strings.Contains(errOut, "vocabulary") {
		t.Errorf("vocabulary mismatch: exit %d %s", code, errOut)
	}
}
