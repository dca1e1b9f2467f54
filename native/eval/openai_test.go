package eval

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// scripted is a loopback OpenAI-compatible server answering each request with the next
// step of a script: an HTTP status (200 answers "ok"), "slow" (no answer before the
// client's timeout), "garbage" (a 200 whose body is not JSON) or "empty" (no choices).
type scripted struct {
	mu     sync.Mutex
	steps  []string
	header http.Header // extra headers of non-200 answers
	reqs   []recorded
}

type recorded struct {
	at     time.Time
	path   string
	auth   string
	ctype  string
	method string
	body   map[string]any
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	json.NewDecoder(r.Body).Decode(&body)
	s.mu.Lock()
	s.reqs = append(s.reqs, recorded{time.Now(), r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), r.Method, body})
	step := "200"
	if len(s.reqs) <= len(s.steps) {
		step = s.steps[len(s.reqs)-1]
	}
	s.mu.Unlock()
	switch step {
	case "200":
		json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"message": map[string]any{"role": "assistant", "content": "ok"}}}})
	case "slow":
		<-r.Context().Done()
	case "garbage":
		w.Write([]byte("<html>proxy error</html>"))
	case "empty":
		w.Write([]byte(`{"choices": []}`))
	default:
		for k, v := range s.header {
			w.Header()[k] = v
		}
		code := map[string]int{"400": 400, "429": 429, "500": 500, "503": 503}[step]
		http.Error(w, "status "+step, code)
	}
}

func (s *scripted) requests() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.reqs...)
}

// TestClientRequest: POST {endpoint}/chat/completions with the model, the prompt as the one
// user message (a system message first only when System is set), the sampling settings and
// the API key as a bearer token.
func TestClientRequest(t *testing.T) {
	s := &scripted{}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := &Client{Endpoint: srv.URL + "/v1/", Model: "m-7b", APIKey: "sk-test", MaxTokens: 32, Temperature: 0.5}
	if out, err := c.Complete(context.Background(), "hello there"); err != nil || out != "ok" {
		t.Fatalf("%q %v", out, err)
	}
	c.System, c.APIKey = "be brief", ""
	if _, err := c.Complete(context.Background(), "again"); err != nil {
		t.Fatal(err)
	}
	reqs := s.requests()
	r := reqs[0]
	if r.method != "POST" || r.path != "/v1/chat/completions" || r.auth != "Bearer sk-test" || r.ctype != "application/json" {
		t.Fatalf("request %+v", r)
	}
	b, _ := json.Marshal(r.body)
	if want := `{"max_tokens":32,"messages":[{"content":"hello there","role":"user"}],"model":"m-7b","temperature":0.5}`; string(b) != want {
		t.Fatalf("body %s\nwant %s", b, want)
	}
	b, _ = json.Marshal(reqs[1].body["messages"])
	if want := `[{"content":"be brief","role":"system"},{"content":"again","role":"user"}]`; string(b) != want || reqs[1].auth != "" {
		t.Fatalf("with --system: messages %s, auth %q", b, reqs[1].auth)
	}
}

// TestClientRetries: 429, 5xx and timeouts are retried with exponentially growing waits
// (and the server's Retry-After when longer); 4xx and malformed answers are not retried;
// every failed try is named in the error.
func TestClientRetries(t *testing.T) {
	const backoff = 40 * time.Millisecond
	cases := []struct {
		name    string
		steps   []string
		retries int
		ok      bool
		tries   int
		want    []string
	}{
		{"500s then ok", []string{"500", "503", "200"}, 3, true, 3, nil},
		{"429 then ok", []string{"429", "200"}, 1, true, 2, nil},
		{"always 500", []string{"500", "500", "500"}, 2, false, 3, []string{"try 1/3: HTTP 500: status 500", "try 3/3: HTTP 500"}},
		{"400 is final", []string{"400"}, 3, false, 1, []string{"try 1/4: HTTP 400: status 400"}},
		{"timeouts", []string{"slow", "slow"}, 1, false, 2, []string{"try 1/2: no answer within 150ms", "try 2/2: no answer within 150ms"}},
		{"timeout then ok", []string{"slow", "200"}, 1, true, 2, nil},
		{"malformed JSON", []string{"garbage"}, 3, false, 1, []string{"malformed answer (not chat completion JSON)"}},
		{"no content", []string{"empty"}, 3, false, 1, []string{"malformed answer: no choices[0].message.content"}},
	}
	for _, c := range cases {
		s := &scripted{steps: c.steps}
		srv := httptest.NewServer(s)
		cl := &Client{Endpoint: srv.URL + "/v1", Model: "m", Retries: c.retries, Backoff: backoff, Timeout: 150 * time.Millisecond}
		out, err := cl.Complete(context.Background(), "p")
		srv.Close()
		reqs := s.requests()
		if (err == nil) != c.ok || len(reqs) != c.tries || (c.ok && out != "ok") {
			t.Errorf("%s: %q, %v after %d requests; want ok=%v after %d", c.name, out, err, len(reqs), c.ok, c.tries)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", c.name, err, w)
			}
		}
		// The waits double: try k+1 starts at least backoff·2^(k-1) after try k ended
		// (measured from the start of try k, which is earlier, so this is a lower bound).
		for k := 1; k < len(reqs); k++ {
			if gap, min := reqs[k].at.Sub(reqs[k-1].at), backoff<<(k-1); gap < min {
				t.Errorf("%s: try %d came %v after try %d, want at least %v", c.name, k+1, gap, k, min)
			}
		}
	}
}

// TestClientRetryAfter: a 429's Retry-After (in seconds) is honoured when it is longer than
// the backoff.
func TestClientRetryAfter(t *testing.T) {
	s := &scripted{steps: []string{"429", "200"}, header: http.Header{"Retry-After": {"1"}}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	cl := &Client{Endpoint: srv.URL, Model: "m", Retries: 1, Backoff: time.Millisecond}
	if _, err := cl.Complete(context.Background(), "p"); err != nil {
		t.Fatal(err)
	}
	if r := s.requests(); len(r) != 2 || r[1].at.Sub(r[0].at) < time.Second {
		t.Fatalf("%d requests, the retry %v after the 429", len(r), r[1].at.Sub(r[0].at))
	}
}

// TestClientCancel: cancelling the context (Ctrl-C) ends a request in flight and a wait
// between tries at once, with the context's error rather than a retry.
func TestClientCancel(t *testing.T) {
	for _, steps := range [][]string{{"slow"}, {"500", "500"}} {
		s := &scripted{steps: steps}
		srv := httptest.NewServer(s)
		cl := &Client{Endpoint: srv.URL, Model: "m", Retries: 5, Backoff: 10 * time.Second, Timeout: 10 * time.Second}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		start := time.Now()
		_, err := cl.Complete(ctx, "p")
		cancel()
		srv.Close()
		if err != context.DeadlineExceeded || time.Since(start) > 5*time.Second || len(s.requests()) != 1 {
			t.Errorf("%v: err %v after %v, %d requests", steps, err, time.Since(start), len(s.requests()))
		}
	}
}

// TestClientAnswerShapes: the client reads choices[0].message.content out of a full OpenAI
// answer, and fields it does not read do not make an answer malformed even when a server
// gives them an unexpected type; a content of the wrong type does, and is not retried.
func TestClientAnswerShapes(t *testing.T) {
	for body, want := range map[string]string{
		`{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"m","system_fingerprint":"fp",` +
			`"choices":[{"index":0,"message":{"role":"assistant","content":"ok","refusal":null},"logprobs":null,"finish_reason":"stop"}],` +
			`"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`: "ok",
		`{"created":1700000000.5,"choices":[{"index":"0","message":{"content":"ok"},"finish_reason":7}],"usage":"n/a"}`: "ok",
		`{"choices":[{"message":{"content":7}}]}`:     "error: try 1/3: malformed answer (not chat completion JSON)",
		`{"choices":[{"message":"ok"}]}`:              "error: try 1/3: malformed answer (not chat completion JSON)",
		`{"choices":[{"message":{"content":null}}]}`:  "error: try 1/3: malformed answer: no choices[0].message.content",
		`{"choices":[{"message":{"refusal":"no."}}]}`: "error: try 1/3: malformed answer: no choices[0].message.content",
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) }))
		out, err := (&Client{Endpoint: srv.URL, Model: "m", Retries: 2, Backoff: time.Millisecond}).Complete(context.Background(), "p")
		srv.Close()
		if err != nil {
			out = "error: " + err.Error()
		}
		if !strings.HasPrefix(out, want) {
			t.Errorf("%s: %q, want %q", body, out, want)
		}
	}
}
