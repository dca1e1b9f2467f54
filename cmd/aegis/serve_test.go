package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestServeNeedsToken: binding beyond loopback without --token is a usage error.
func TestServeNeedsToken(t *testing.T) {
	t.Parallel()
	_, errOut, code := aegis(t, "serve", "--addr", "0.0.0.0:0", "--runs", t.TempDir())
	if code != 2 || !strings.Contains(errOut, "--token") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, errOut, code := aegis(t, "serve", "--model", t.TempDir(), "--runs", t.TempDir(), "--addr", "127.0.0.1:0"); code != 1 || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("bad --model: exit %d: %q", code, errOut)
	}
}

// startServe runs `aegis serve ARGS` in the test and returns its base URL; it is stopped
// (as by Ctrl-C) when the test ends, and must then return without error.
func startServe(t *testing.T, c *cli, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	var out bytes.Buffer
	c.stdout = &out
	go func() { errc <- c.serve(ctx, args, func(a string) { addrc <- a }) }()
	select {
	case a := <-addrc:
		t.Cleanup(func() {
			cancel()
			select {
			case err := <-errc:
				if err != nil {
					t.Errorf("serve returned %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("serve did not stop")
			}
		})
		return "http://" + a
	case err := <-errc:
		cancel()
		t.Fatalf("serve: %v", err)
	}
	return ""
}

func fetch(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

// TestServe: `aegis serve --addr --runs --model` answers the runs API over the runs
// folder and the OpenAI-compatible API over the model folder.
func TestServe(t *testing.T) {
	t.Parallel()
	runs := t.TempDir()
	run := filepath.Join(runs, "r1")
	os.MkdirAll(run, 0o755)
	os.WriteFile(filepath.Join(run, "config.json"), []byte(`{"method":"dpo","model":"m"}`), 0o644)
	os.WriteFile(filepath.Join(run, "events.jsonl"), []byte(`{"step":1,"loss":0.7}`+"\n"), 0o644)
	dir := chatModel(t)
	base := startServe(t, newTestCLI(), "--addr", "127.0.0.1:0", "--runs", runs, "--model", dir, "--model-name", "tiny")

	code, m := fetch(t, "GET", base+"/api/runs", "", "")
	rs, _ := m["runs"].([]any)
	if code != 200 || len(rs) != 1 {
		t.Fatalf("%d %v", code, m)
	}
	if r := rs[0].(map[string]any); r["id"] != "r1" || r["status"] != "running" || r["method"] != "dpo" || r["step"] != 1.0 {
		t.Fatalf("%v", r)
	}
	if code, m := fetch(t, "GET", base+"/v1/models", "", ""); code != 200 || m["data"].([]any)[0].(map[string]any)["id"] != "tiny" {
		t.Fatalf("%d %v", code, m)
	}
	code, m = fetch(t, "POST", base+"/v1/chat/completions", "", `{"model":"tiny","messages":[{"role":"user","content":"hello"}],"max_tokens":4}`)
	if code != 200 || m["object"] != "chat.completion" {
		t.Fatalf("%d %v", code, m)
	}
}

// TestServeDefaultModel: without --model, /v1 serves the folder cli.serveModel names
// (the embedded demo model's hook), and answers 503 while there is none.
func TestServeDefaultModel(t *testing.T) {
	t.Parallel()
	c := newTestCLI()
	c.serveModel = nil
	base := startServe(t, c, "--addr", "127.0.0.1:0", "--runs", t.TempDir())
	if code, _ := fetch(t, "POST", base+"/v1/chat/completions", "", `{"messages":[{"role":"user","content":"x"}]}`); code != 503 {
		t.Fatalf("no model: %d", code)
	}

	dir := filepath.Join(t.TempDir(), "builtin-model")
	if err := os.Rename(chatModel(t), dir); err != nil {
		t.Fatal(err)
	}
	c = newTestCLI()
	c.serveModel = func() (string, error) { return dir, nil }
	base = startServe(t, c, "--addr", "127.0.0.1:0", "--runs", t.TempDir())
	if code, m := fetch(t, "GET", base+"/v1/models", "", ""); code != 200 || m["data"].([]any)[0].(map[string]any)["id"] != "builtin-model" {
		t.Fatalf("%d %v", code, m)
	}
	if code, m := fetch(t, "POST", base+"/v1/chat/completions", "", `{"model":"builtin-model","messages":[{"role":"user","content":"hello"}],"max_tokens":3}`); code != 200 {
		t.Fatalf("%d %v", code, m)
	}
}

// TestServeToken: with --token on a non-loopback address, the API, /v1 and uploads need
// the token.
func TestServeToken(t *testing.T) {
	t.Parallel()
	base := startServe(t, newTestCLI(), "--addr", "0.0.0.0:0", "--runs", t.TempDir(), "--token", "tok3n")
	base = strings.Replace(base, "0.0.0.0", "127.0.0.1", 1)
	for _, c := range []struct{ method, path string }{{"GET", "/api/runs"}, {"GET", "/v1/models"}, {"POST", "/api/modules"}, {"POST", "/v1/chat/completions"}, {"GET", "/"}} {
		if code, _ := fetch(t, c.method, base+c.path, "", "{}"); code != 401 {
			t.Errorf("%s %s without token: %d", c.method, c.path, code)
		}
		if code, _ := fetch(t, c.method, base+c.path, "wrong", "{}"); code != 401 {
			t.Errorf("%s %s with a wrong token: %d", c.method, c.path, code)
		}
	}
	if code, _ := fetch(t, "GET", base+"/api/runs", "tok3n", ""); code != 200 {
		t.Fatalf("with token: %d", code)
	}
}

// TestServeCORSOrigin: --cors-origin lets that origin's pages call /v1 (a preflight is
// answered for it, and only for it); a value that is not one origin is a usage error.
func TestServeCORSOrigin(t *testing.T) {
	t.Parallel()
	dir := chatModel(t)
	base := startServe(t, newTestCLI(), "--addr", "127.0.0.1:0", "--runs", t.TempDir(), "--model", dir, "--cors-origin", "http://localhost:3000")
	for origin, want := range map[string]string{"http://localhost:3000": "http://localhost:3000", "http://localhost:4000": ""} {
		req, _ := http.NewRequest("OPTIONS", base+"/v1/chat/completions", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("preflight from %s: %d, Access-Control-Allow-Origin %q, want %q", origin, res.StatusCode, got, want)
		}
	}
	for _, bad := range []string{"*", "localhost:3000", "http://localhost:3000/app"} {
		if _, errOut, code := aegis(t, "serve", "--addr", "127.0.0.1:0", "--runs", t.TempDir(), "--cors-origin", bad); code != 2 || !strings.Contains(errOut, "--cors-origin") {
			t.Errorf("--cors-origin %q: exit %d: %s", bad, code, errOut)
		}
	}
}

// lockedBuffer is a bytes.Buffer the server's goroutines and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeAccessLog: `aegis serve` logs every request on stderr, or appends it to
// --access-log FILE (then nothing on stderr); "none" turns it off.
func TestServeAccessLog(t *testing.T) {
	t.Parallel()
	c := newTestCLI()
	c.serveModel = nil
	var stderr lockedBuffer
	c.progress = &stderr
	base := startServe(t, c, "--addr", "127.0.0.1:0", "--runs", t.TempDir())
	fetch(t, "GET", base+"/api/runs?x=1", "", "")
	if got := stderr.String(); !regexp.MustCompile(`(?m)^\S+Z 127\.0\.0\.1 GET /api/runs 200 \S+ \d+B$`).MatchString(got) {
		t.Errorf("stderr: %q", got)
	}

	file := filepath.Join(t.TempDir(), "access.log")
	os.WriteFile(file, []byte("earlier\n"), 0o644)
	c = newTestCLI()
	c.serveModel = nil
	var stderr2 lockedBuffer
	c.progress = &stderr2
	base = startServe(t, c, "--addr", "127.0.0.1:0", "--runs", t.TempDir(), "--access-log", file)
	fetch(t, "GET", base+"/nope", "", "")
	b, _ := os.ReadFile(file)
	if !regexp.MustCompile(`^earlier\n\S+Z 127\.0\.0\.1 GET /nope 404 \S+ \d+B\n$`).Match(b) || stderr2.String() != "" {
		t.Errorf("file %q, stderr %q", b, stderr2.String())
	}

	c = newTestCLI()
	c.serveModel = nil
	var stderr3 lockedBuffer
	c.progress = &stderr3
	base = startServe(t, c, "--addr", "127.0.0.1:0", "--runs", t.TempDir(), "--access-log", "none")
	fetch(t, "GET", base+"/api/runs", "", "")
	if stderr3.String() != "" {
		t.Errorf("--access-log none: %q", stderr3.String())
	}
}

// TestServeLaunchChoices: the launch form of `aegis serve` offers the embedded model by
// its name (never its cache path), the served --model, and the folders of --models and
// --data.
func TestServeLaunchChoices(t *testing.T) {
	t.Parallel()
	embedded := filepath.Join(t.TempDir(), "cache-xyz", "aegis-organism")
	os.MkdirAll(embedded, 0o755)
	models, data := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(models, "llama-tiny"), 0o755)
	os.WriteFile(filepath.Join(models, "llama-tiny", "config.json"), []byte("{}"), 0o644)
	os.WriteFile(filepath.Join(data, "prompts.jsonl"), []byte("{}\n"), 0o644)
	c := newTestCLI()
	c.serveModel = func() (string, error) { return embedded, nil }
	base := startServe(t, c, "--addr", "127.0.0.1:0", "--runs", t.TempDir(), "--model", chatModel(t), "--model-name", "tiny",
		"--models", models, "--data", data, "--access-log", "none")
	res, err := http.Get(base + "/launch")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	page := string(b)
	for _, want := range []string{`<option value="aegis-organism">aegis-organism (embedded)</option>`, `<option value="tiny">tiny (served on /v1)</option>`,
		`<option value="models/llama-tiny">llama-tiny</option>`, `<option value="data/prompts.jsonl">prompts.jsonl</option>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the launch page lacks %s", want)
		}
	}
	if strings.Contains(page, "cache-xyz") {
		t.Error("the launch page shows the embedded model's cache path")
	}
}
