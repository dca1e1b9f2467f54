package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aegis-safety/aegis/native/eval"
	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/openai"
	"github.com/aegis-safety/aegis/native/tokenizer"
)

// clientServer serves /v1 over cm (nil: no model loaded) and counts its requests.
func clientServer(t *testing.T, cm *ChatModel) (url string, requests *atomic.Int64) {
	t.Helper()
	s, _ := newServer(t, Options{Chat: cm})
	requests = new(atomic.Int64)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		s.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts.URL + "/v1", requests
}

// decode is cm's own answer to msgs: the chat template, then Generate with up to maxNew
// tokens, the eos token cut off.
func decode(t *testing.T, cm *ChatModel, msgs []tokenizer.Message, maxNew int, samp model.Sampling, seed uint64) string {
	t.Helper()
	ids, _, err := cm.Tok.EncodeChat(msgs, tokenizer.ChatOptions{AddGenerationPrompt: true})
	if err != nil {
		t.Fatal(err)
	}
	gen, err := cm.Model.Generate(ids, model.GenerateOptions{MaxNewTokens: maxNew, Sampling: samp, Seed: seed, StopIDs: cm.StopIDs})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(gen); n > 0 && gen[n-1] == cm.StopIDs[0] {
		gen = gen[:n-1]
	}
	return cm.Tok.Decode(gen, true)
}

// TestEvalClient: aegis eval's client against aegis serve's /v1. What the client sends the
// server reads (the prompt, a system message, max_tokens, the temperature), and the client
// reads the model's own answer from the response.
func TestEvalClient(t *testing.T) {
	cm := chatModel(t)
	url, _ := clientServer(t, cm)
	ctx := context.Background()
	user := func(p string) []tokenizer.Message { return []tokenizer.Message{{Role: "user", Content: p}} }

	c := &eval.Client{Endpoint: url, Model: "tiny", MaxTokens: 12}
	got, err := c.Complete(ctx, "hello fox")
	if want := decode(t, cm, user("hello fox"), 12, model.Sampling{}, 0); err != nil || got != want {
		t.Fatalf("plain: %q %v, want %q", got, err, want)
	}

	// EndpointGenerator, as aegis eval --endpoint runs it.
	prompts := []string{"hello fox", "the lazy dog"}
	outs, errs := eval.EndpointGenerator{Client: c, Concurrency: 2}.Generate(ctx, prompts)
	for i, p := range prompts {
		if want := decode(t, cm, user(p), 12, model.Sampling{}, 0); errs[i] != nil || outs[i] != want {
			t.Errorf("generator %q: %q %v, want %q", p, outs[i], errs[i], want)
		}
	}

	// A system message goes first, through the chat template.
	sys := *c
	sys.System = "be brief"
	got, err = sys.Complete(ctx, "hello fox")
	want := decode(t, cm, []tokenizer.Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: "hello fox"}}, 12, model.Sampling{}, 0)
	if err != nil || got != want {
		t.Fatalf("system: %q %v, want %q", got, err, want)
	}

	// max_tokens: as asked, the server's cap (cm.MaxTokens) when unset; over the cap it
	// is refused (TestEvalClientErrors).
	for _, k := range []struct{ asked, decoded int }{{1, 1}, {3, 3}, {cm.MaxTokens, cm.MaxTokens}, {0, cm.MaxTokens}} {
		mc := *c
		mc.MaxTokens = k.asked
		got, err := mc.Complete(ctx, "the lazy dog")
		if want := decode(t, cm, user("the lazy dog"), k.decoded, model.Sampling{}, 0); err != nil || got != want {
			t.Errorf("max_tokens %d: %q %v, want %q", k.asked, got, err, want)
		}
	}

	// Temperature 0 (the client's default) is greedy, so answers repeat; temperature 1
	// without a seed samples afresh on every request.
	again, err := c.Complete(ctx, "hello fox")
	if first := decode(t, cm, user("hello fox"), 12, model.Sampling{}, 0); err != nil || again != first {
		t.Fatalf("greedy again: %q %v, want %q", again, err, first)
	}
	hot := *c
	hot.Temperature, hot.MaxTokens = 1, 24
	greedy := decode(t, cm, user("the lazy dog"), 24, model.Sampling{}, 0)
	seen := map[string]bool{}
	for range 4 {
		got, err := hot.Complete(ctx, "the lazy dog")
		if err != nil {
			t.Fatal(err)
		}
		seen[got] = true
	}
	if len(seen) == 1 && seen[greedy] {
		t.Fatalf("temperature 1 answered the greedy %q four times", greedy)
	}
}

// TestWireTypesSeed: a request and answer in package openai's types round-trip through the
// server: a seed makes a sampled answer repeatable, and it is the model's own sample.
func TestWireTypesSeed(t *testing.T) {
	cm := chatModel(t)
	url, _ := clientServer(t, cm)
	ask := func(seed int64) openai.ChatCompletion {
		temp, maxTokens := 1.0, 16
		req := openai.ChatRequest{Model: "tiny", Messages: []openai.Message{{Role: "user", Content: openai.TextContent("the lazy dog")}},
			MaxTokens: &maxTokens, Temperature: &temp, Seed: &seed}
		b, _ := json.Marshal(req)
		res, err := http.Post(url+"/chat/completions", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var cc openai.ChatCompletion
		if err := json.NewDecoder(res.Body).Decode(&cc); err != nil || res.StatusCode != 200 || len(cc.Choices) != 1 || cc.Choices[0].Message.Content == nil {
			t.Fatalf("%d %+v %v", res.StatusCode, cc, err)
		}
		return cc
	}
	a, b := ask(7), ask(7)
	text := *a.Choices[0].Message.Content
	if *b.Choices[0].Message.Content != text {
		t.Fatalf("seed 7 twice: %q and %q", text, *b.Choices[0].Message.Content)
	}
	want := decode(t, cm, []tokenizer.Message{{Role: "user", Content: "the lazy dog"}}, 16, model.Sampling{Temperature: 1}, 7)
	if text != want || a.Object != "chat.completion" || a.Model != "tiny" || a.Usage == nil || a.Usage.TotalTokens != a.Usage.PromptTokens+a.Usage.CompletionTokens {
		t.Fatalf("seed 7: %+v (content %q), want content %q", a, text, want)
	}
}

// TestEvalClientErrors: the client reports the server's refusals with their status and
// the server's message; a 4xx is not retried, a 503 is.
func TestEvalClientErrors(t *testing.T) {
	cm := chatModel(t)
	url, requests := clientServer(t, cm)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		client eval.Client
		want   []string
	}{
		{"unknown model", eval.Client{Model: "gpt-x"}, []string{"try 1/3: HTTP 404", `The model 'gpt-x' does not exist`, "model_not_found"}},
		{"bad temperature", eval.Client{Model: "tiny", Temperature: 3}, []string{"try 1/3: HTTP 400", "'temperature' must be between 0 and 2", `"param":"temperature"`}},
		{"bad max_tokens", eval.Client{Model: "tiny", MaxTokens: -1}, []string{"try 1/3: HTTP 400", "Expected a value >= 1, but got -1"}},
		{"max_tokens over the cap", eval.Client{Model: "tiny", MaxTokens: 500}, []string{"try 1/3: HTTP 400", "max_tokens is too large: 500", `"param":"max_tokens"`}},
	} {
		requests.Store(0)
		c := tc.client
		c.Endpoint, c.Retries, c.Backoff = url, 2, time.Millisecond
		_, err := c.Complete(ctx, "hello fox")
		if err == nil || requests.Load() != 1 {
			t.Errorf("%s: %v after %d requests, want an error after 1", tc.name, err, requests.Load())
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tc.name, err, w)
			}
		}
	}

	// No model loaded: 503, which is worth retrying.
	url, requests = clientServer(t, nil)
	c := eval.Client{Endpoint: url, Model: "tiny", Retries: 1, Backoff: time.Millisecond}
	_, err := c.Complete(ctx, "hello fox")
	if err == nil || requests.Load() != 2 || !strings.Contains(err.Error(), "try 2/2: HTTP 503") || !strings.Contains(err.Error(), "no model loaded") {
		t.Fatalf("no model: %v after %d requests", err, requests.Load())
	}
}
