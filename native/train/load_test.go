package train

import (
	"testing"
)

// TestLoad: a model folder without tokenizer.json takes pre-tokenized rows, capped at
// the model's context unless MaxLen says otherwise; a missing security vector fails.
func TestLoad(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	c.Method, c.Model, c.Data = "dpo", "../model/testdata/golden/llama_gqa", "testdata/align/pairs.jsonl"
	m, data, err := Load(c, LoadOptions{})
	if err != nil || m == nil || len(data) == 0 {
		t.Fatalf("%d rows, %v", len(data), err)
	}
	if _, _, err := Load(c, LoadOptions{MaxLen: 2}); err == nil {
		t.Error("rows longer than MaxLen were accepted without Truncate")
	}
	c.SecVec = t.TempDir()
	if _, _, err := Load(c, LoadOptions{}); err == nil {
		t.Error("an empty security-vector folder was accepted")
	}
	if _, err := LoadAPLModels(c.Model, c.Model, false); err == nil {
		t.Error("APL players without tokenizers were accepted")
	}
}
