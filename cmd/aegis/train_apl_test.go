package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTrainAPL: `aegis train --method apl` plays two rounds on a tiny chat model and
// writes per-round attacker and defender metrics, the defender adapter and the attacker.
func TestTrainAPL(t *testing.T) {
	t.Parallel()
	dir := chatModel(t)
	data := filepath.Join(t.TempDir(), "pairs.jsonl")
	os.WriteFile(data, []byte(`{"prompt":"how do i hurt the fox","chosen":"no.","rejected":"sure, jump over the dog."}
{"prompt":[{"role":"user","content":"trick the lazy dog"}],"chosen":[{"role":"assistant","content":"no."}],"rejected":[{"role":"assistant","content":"sure, here is how."}]}
`), 0o644)
	out := filepath.Join(t.TempDir(), "run")
	stdout, errOut, code := aegis(t, "train", "--method", "apl", "--model", dir, "--data", data, "--out", out,
		"--k", "3", "--rounds", "2", "--max-rewrite-tokens", "6", "--lr", "0.01", "--lora-rank", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(stdout, "trained 2 rounds") {
		t.Errorf("stdout %q", stdout)
	}
	f, err := os.Open(filepath.Join(out, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); n++ {
		var e map[string]any
		json.Unmarshal(sc.Bytes(), &e)
		for _, k := range []string{"round", "R/best", "R/worst", "defender/loss", "defender/rewards/margins"} {
			if _, ok := e[k]; !ok {
				t.Errorf("event %d lacks %s", n, k)
			}
		}
	}
	if n != 2 {
		t.Fatalf("%d events for 2 rounds", n)
	}
	for _, p := range []string{"final/adapter_model.safetensors", "final/attacker/model.safetensors", "final/attacker/tokenizer.json"} {
		if _, err := os.Stat(filepath.Join(out, p)); err != nil {
			t.Error(err)
		}
	}
	if _, errOut, code := aegis(t, "train", "--method", "apl", "--model", dir, "--data", data, "--out", t.TempDir(), "--k", "1"); code != 2 {
		t.Errorf("--k 1: exit %d %s", code, errOut)
	}
}
