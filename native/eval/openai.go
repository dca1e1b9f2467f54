package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aegis-safety/aegis/native/openai"
)

// Client talks to an OpenAI-compatible chat completions endpoint
// (POST {Endpoint}/chat/completions). The prompt is sent as one user message, preceded by
// a system message only when System is set.
type Client struct {
	Endpoint    string // e.g. http://127.0.0.1:8000/v1
	Model       string
	APIKey      string // sent as a bearer token when set
	System      string
	MaxTokens   int
	Temperature float64
	Timeout     time.Duration // per request (default 60s)
	Retries     int           // further tries after a retryable failure (429, 5xx, network, timeout)
	Backoff     time.Duration // first wait between tries, doubled each time (default 1s, at most 30s)
	HTTP        *http.Client

	answered int32 // 1 once the server has answered a request (with any status); atomic
}

// ErrUnreachable is wrapped by the error of a request that could not connect to an
// endpoint that has never answered: a wrong URL or a server that is not up, not worth a
// retry (a server that answered before and then refuses is retried: it may be
// restarting).
var ErrUnreachable = errors.New("unreachable")

// unreachableError is an ErrUnreachable naming the endpoint and the connection's error.
type unreachableError struct {
	endpoint string
	err      error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("endpoint %s is unreachable (%v)", e.endpoint, e.err)
}
func (e *unreachableError) Unwrap() []error { return []error{ErrUnreachable, e.err} }

// dialFailure returns err's failure to connect (refused, no route, unknown host), or nil
// for other errors (a connection that broke, a timeout, an HTTP error).
func dialFailure(err error) *net.OpError {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return op
	}
	return nil
}

// Message is one chat message with text content. Chat sends it as an openai.Message.
type Message struct {
	Role    string
	Content string
}

// httpError is a non-2xx answer.
type httpError struct {
	code       int
	body       string
	retryAfter time.Duration // the server's Retry-After, if any
}

func (e *httpError) Error() string {
	if e.body == "" {
		return fmt.Sprintf("HTTP %d", e.code)
	}
	return fmt.Sprintf("HTTP %d: %s", e.code, e.body)
}

// Complete sends the prompt and returns the assistant's answer, retrying with exponential
// backoff on 429, 5xx, network errors and timeouts. The error names every failed try. A
// connection that fails before the endpoint has ever answered is not retried: the error
// wraps ErrUnreachable.
func (c *Client) Complete(ctx context.Context, prompt string) (string, error) {
	var msgs []Message
	if c.System != "" {
		msgs = append(msgs, Message{"system", c.System})
	}
	return c.Chat(ctx, append(msgs, Message{"user", prompt}))
}

// Chat sends a conversation and returns the assistant's answer (see Complete).
func (c *Client) Chat(ctx context.Context, msgs []Message) (string, error) {
	body, err := json.Marshal(c.request(msgs))
	if err != nil {
		return "", err
	}
	backoff := c.Backoff
	if backoff <= 0 {
		backoff = time.Second
	}
	var errs []string
	tries := max(0, c.Retries) + 1
	for try := 1; ; try++ {
		out, retry, err := c.once(ctx, body)
		if err == nil {
			return out, nil
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		if op := dialFailure(err); op != nil && atomic.LoadInt32(&c.answered) == 0 {
			return "", &unreachableError{strings.TrimRight(c.Endpoint, "/"), op}
		}
		errs = append(errs, fmt.Sprintf("try %d/%d: %v", try, tries, err))
		if !retry || try >= tries {
			return "", errors.New(strings.Join(errs, "; "))
		}
		wait := backoff
		var he *httpError
		if errors.As(err, &he) {
			wait = max(wait, he.retryAfter)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", ctx.Err()
		case <-t.C:
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// request is the wire form of a conversation with c's settings: the temperature always,
// max_tokens when set.
func (c *Client) request(msgs []Message) openai.ChatRequest {
	req := openai.ChatRequest{Model: c.Model, Messages: make([]openai.Message, len(msgs)), Temperature: &c.Temperature}
	for i, m := range msgs {
		req.Messages[i] = openai.Message{Role: m.Role, Content: openai.TextContent(m.Content)}
	}
	if c.MaxTokens != 0 {
		req.MaxTokens = &c.MaxTokens
	}
	return req
}

// once makes one request; retry says whether a failure is worth another try.
func (c *Client) once(ctx context.Context, body []byte) (string, bool, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.Endpoint, "/")+"/chat/completions", bytes.NewReader(body))
	if err != nil {
		return "", false, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return "", true, fmt.Errorf("no answer within %v", timeout)
		}
		return "", true, err // network: connection refused, reset, ...
	}
	defer resp.Body.Close()
	atomic.StoreInt32(&c.answered, 1)
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return "", true, fmt.Errorf("no answer within %v", timeout)
		}
		return "", true, fmt.Errorf("reading the answer: %v", err)
	}
	if resp.StatusCode/100 != 2 {
		snippet := strings.Join(strings.Fields(string(b)), " ")
		if len(snippet) > 200 {
			snippet = snippet[:200] + "..."
		}
		retry := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
		he := &httpError{code: resp.StatusCode, body: snippet}
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
			he.retryAfter = min(time.Duration(secs)*time.Second, time.Minute)
		}
		return "", retry, he
	}
	var cr openai.ChatCompletion
	if err := json.Unmarshal(b, &cr); err != nil && !otherField(err) {
		return "", false, fmt.Errorf("malformed answer (not chat completion JSON): %v", err)
	}
	if len(cr.Choices) == 0 || cr.Choices[0].Message.Content == nil {
		return "", false, errors.New(`malformed answer: no choices[0].message.content`)
	}
	return *cr.Choices[0].Message.Content, false, nil
}

// otherField says whether err is a JSON value of an unexpected type outside the path to
// the content (say a float "created"): the client reads only choices[0].message.content,
// so such an answer is not malformed.
func otherField(err error) bool {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return false
	}
	switch te.Field {
	case "", "choices", "choices.message", "choices.message.content":
		return false
	}
	return true
}
