package openai

import (
	"encoding/json"
	"strings"
	"testing"
)

func marshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRequest: unset parameters stay out of a request, set ones (zero included) go in
// under OpenAI's names, and a request decodes back to the same values.
func TestRequest(t *testing.T) {
	req := ChatRequest{Model: "m", Messages: []Message{{Role: "user", Content: TextContent("hi <b> & \"you\"")}}}
	if got, want := marshal(t, req), `{"model":"m","messages":[{"role":"user","content":"hi \u003cb\u003e \u0026 \"you\""}]}`; got != want {
		t.Fatalf("minimal request\n got %s\nwant %s", got, want)
	}
	zero, one, seed := 0.0, 1, int64(-3)
	req.Temperature, req.TopP, req.MaxTokens, req.MaxCompletionTokens, req.N, req.Seed = &zero, &zero, &one, &one, &one, &seed
	req.Stop, req.Stream, req.StreamOptions = json.RawMessage(`["x"]`), true, &StreamOptions{IncludeUsage: true}
	want := `{"model":"m","messages":[{"role":"user","content":"hi \u003cb\u003e \u0026 \"you\""}],"max_tokens":1,"max_completion_tokens":1,` +
		`"temperature":0,"top_p":0,"seed":-3,"n":1,"stop":["x"],"stream":true,"stream_options":{"include_usage":true}}`
	if got := marshal(t, req); got != want {
		t.Fatalf("full request\n got %s\nwant %s", got, want)
	}
	var back ChatRequest
	if err := json.Unmarshal([]byte(want), &back); err != nil {
		t.Fatal(err)
	}
	if got := marshal(t, back); got != want {
		t.Fatalf("round trip\n got %s\nwant %s", got, want)
	}
	if text, err := back.Messages[0].Content.Text(); err != nil || text != `hi <b> & "you"` {
		t.Fatalf("content %q %v", text, err)
	}
}

// TestContentText: content is a string, null (empty) or a list of text parts; absent
// content and other parts are refused with a message a server can pass on.
func TestContentText(t *testing.T) {
	for body, want := range map[string]string{
		`{"role":"user","content":"hello"}`:                                                 "hello",
		`{"role":"user","content":null}`:                                                    "",
		`{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}`: "ab",
		`{"role":"user","content":[]}`:                                                      "",
		`{"role":"user"}`:                                                                   "error: message content is missing",
		`{"role":"user","content":7}`:                                                       "error: message content must be a string or a list of text parts",
		`{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}`:          `error: content part type "image_url" is not supported (text only)`,
	} {
		var m Message
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		got, err := m.Content.Text()
		if err != nil {
			got = "error: " + err.Error()
		}
		if got != want {
			t.Errorf("%s: %q, want %q", body, got, want)
		}
	}
	if got := marshal(t, Message{Role: "user"}); got != `{"role":"user","content":null}` {
		t.Errorf("absent content marshals as %s", got)
	}
}

// TestResponses: a completion, stream chunks, an error and the models list have OpenAI's
// fields, with null where OpenAI has null.
func TestResponses(t *testing.T) {
	text, stop := "Hi.", "stop"
	c := ChatCompletion{ID: "chatcmpl-1", Object: "chat.completion", Created: 1700000000, Model: "m",
		Choices: []Choice{{Message: ResponseMessage{Role: "assistant", Content: &text}, FinishReason: stop}},
		Usage:   &Usage{PromptTokens: 5, CompletionTokens: 2, TotalTokens: 7}}
	for _, tc := range []struct {
		v    any
		want string
	}{
		{c, `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,` +
			`"message":{"role":"assistant","content":"Hi.","refusal":null},"logprobs":null,"finish_reason":"stop"}],` +
			`"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}`},
		{ChatCompletionChunk{ID: "c", Object: "chat.completion.chunk", Model: "m", Choices: []ChunkChoice{{Delta: Delta{Role: "assistant", Content: &text}}}},
			`{"id":"c","object":"chat.completion.chunk","created":0,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi."},"logprobs":null,"finish_reason":null}]}`},
		{ChatCompletionChunk{ID: "c", Choices: []ChunkChoice{{Index: 1, FinishReason: &stop}}, Usage: json.RawMessage("null")},
			`{"id":"c","object":"","created":0,"model":"","choices":[{"index":1,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}`},
		{ErrorResponse{Error: &Error{Message: "bad", Type: "invalid_request_error"}},
			`{"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}}`},
		{ModelList{Object: "list", Data: []Model{{ID: "m", Object: "model", Created: 1, OwnedBy: "aegis"}}},
			`{"object":"list","data":[{"id":"m","object":"model","created":1,"owned_by":"aegis"}]}`},
	} {
		if got := marshal(t, tc.v); got != tc.want {
			t.Errorf("%T\n got %s\nwant %s", tc.v, got, tc.want)
		}
	}

	// A client reads a null content as nil, and OpenAI's extra fields are ignored.
	var back ChatCompletion
	body := `{"id":"x","object":"chat.completion","created":1,"model":"m","system_fingerprint":"fp",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't."},"finish_reason":"stop"}]}`
	if err := json.Unmarshal([]byte(body), &back); err != nil {
		t.Fatal(err)
	}
	if m := back.Choices[0].Message; m.Content != nil || m.Refusal == nil || !strings.HasPrefix(*m.Refusal, "I can") || back.Usage != nil {
		t.Fatalf("%+v", back)
	}
}
