package server

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/tokenizer"
)

// TestOpenAINodeClient runs testdata/openai-node/client.test.mjs: the official openai npm
// client (the version package-lock.json pins) against /v1 behind a token, checking its
// answers, logprobs and error classes against the model's own outputs. It needs Node 20+,
// npm and the registry (npm ci into a temporary folder, as `task wasm:example` installs
// AssemblyScript); it skips without them, in -short mode and with AEGIS_NO_NPM=1.
func TestOpenAINodeClient(t *testing.T) {
	if testing.Short() || os.Getenv("AEGIS_NO_NPM") != "" {
		t.Skip("skipped in -short or with AEGIS_NO_NPM: installs the openai client from npm")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed; the openai client test needs Node 20+")
	}
	v, _ := exec.Command(node, "--version").Output()
	if major := strings.TrimPrefix(strings.SplitN(string(v), ".", 2)[0], "v"); len(major) < 2 || major < "20" {
		t.Skipf("node %s is older than 20", strings.TrimSpace(string(v)))
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm not installed; the openai client test installs the client with npm")
	}
	dir := t.TempDir()
	for _, f := range []string{"package.json", "package-lock.json", "client.test.mjs"} {
		b, err := os.ReadFile(filepath.Join("testdata", "openai-node", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Skipf("npm ci could not install the openai client: %v: %s", err, strings.TrimSpace(string(out)))
	}

	cm := chatModel(t)
	_, ts := newServer(t, Options{Chat: cm, Token: "sk-aegis-test"})
	expect := nodeExpectations(t, cm)
	b, _ := json.Marshal(expect)
	expectFile := filepath.Join(dir, "expect.json")
	if err := os.WriteFile(expectFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	run := exec.CommandContext(ctx, node, "--test", "client.test.mjs")
	run.Dir = dir
	run.Env = append(os.Environ(), "AEGIS_BASE_URL="+ts.URL+"/v1", "AEGIS_API_KEY=sk-aegis-test", "AEGIS_EXPECT="+expectFile)
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test client.test.mjs: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`(?m)^# pass 6$`).Match(out) || !strings.Contains(string(out), "# fail 0") {
		t.Fatalf("not every client test ran and passed:\n%s", out)
	}
}

// nodeExpectations are the model's own answers to client.test.mjs's requests, from
// Generate and a direct forward pass.
func nodeExpectations(t *testing.T, cm *ChatModel) map[string]any {
	t.Helper()
	const maxTokens, top = 12, 3
	msgs := []tokenizer.Message{{Role: "user", Content: "hello fox"}}
	prompt, _, _ := cm.Tok.EncodeChat(msgs, tokenizer.ChatOptions{AddGenerationPrompt: true})
	gen := genIDs(t, cm, prompt, maxTokens, model.Sampling{}, 0)
	rows := logSoftmax(t, cm, append(append([]int32{}, prompt...), gen...))
	var lps []float64
	var tops [][]float64
	for k, id := range gen {
		row := rows[len(prompt)-1+k]
		lps = append(lps, row[id])
		var tk []float64
		for _, v := range topIDs(row, top) {
			tk = append(tk, row[v])
		}
		tops = append(tops, tk)
	}
	ids := cm.Tok.Encode("the lazy dog", true)
	_, text := completionOf(t, cm, ids, 6, model.Sampling{}, 0)
	first := genIDs(t, cm, ids, 1, model.Sampling{}, 0)
	scored := append(append([]int32{}, ids...), first...)
	srows := logSoftmax(t, cm, scored)
	echo := []any{nil}
	for i := 1; i < len(scored); i++ {
		echo = append(echo, srows[i-1][scored[i]])
	}
	return map[string]any{
		"model": cm.Name,
		"chat": map[string]any{"messages": []map[string]string{{"role": "user", "content": "hello fox"}}, "max_tokens": maxTokens,
			"top": top, "content": cm.Tok.Decode(gen, true), "logprobs": lps, "top_logprobs": tops},
		"completion": map[string]any{"prompt": "the lazy dog", "max_tokens": 6, "text": text},
		"echo":       map[string]any{"prompt": "the lazy dog", "token_logprobs": echo},
	}
}
