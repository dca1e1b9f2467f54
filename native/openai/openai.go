// Package openai holds the OpenAI chat-completions wire format, as both sides of aegis
// speak it: the request (ChatRequest, Message, Content, StreamOptions), the response
// (ChatCompletion, Choice, ResponseMessage, Usage, ChoiceLogprobs), the streaming chunk
// (ChatCompletionChunk, ChunkChoice, Delta), the error body (ErrorResponse, Error) and
// the models list (ModelList, Model); and the legacy text completions of
// /v1/completions (CompletionRequest, Completion, CompletionChoice, CompletionLogprobs).
//
// Field names and JSON tags are those of OpenAI's API reference, so the client in package
// eval talks to vLLM, TGI, llama.cpp or Ollama, and aegis serve's /v1 answers OpenAI's own
// clients. The package holds types only: validation, defaults and transport live with the
// client and the server.
package openai

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ChatRequest is the body of POST /v1/chat/completions. Optional parameters are pointers:
// nil leaves them out of the request, and tells a server the client did not set them.
type ChatRequest struct {
	Model               string          `json:"model"`
	Messages            []Message       `json:"messages"`
	MaxTokens           *int            `json:"max_tokens,omitempty"`
	MaxCompletionTokens *int            `json:"max_completion_tokens,omitempty"`
	Temperature         *float64        `json:"temperature,omitempty"`
	TopP                *float64        `json:"top_p,omitempty"`
	Seed                *int64          `json:"seed,omitempty"`
	N                   *int            `json:"n,omitempty"`
	Stop                json.RawMessage `json:"stop,omitempty"` // null, a string, or a list of strings
	Stream              bool            `json:"stream,omitempty"`
	StreamOptions       *StreamOptions  `json:"stream_options,omitempty"`
	// Logprobs asks for the log-probability of each answer token, and TopLogprobs (0 to
	// 20, with Logprobs) for that many most likely tokens at each position.
	Logprobs    *bool `json:"logprobs,omitempty"`
	TopLogprobs *int  `json:"top_logprobs,omitempty"`
}

// StreamOptions are the options of a streamed request.
type StreamOptions struct {
	// IncludeUsage asks for a last chunk carrying the usage of the whole request.
	IncludeUsage bool `json:"include_usage"`
}

// Message is one message of a request's conversation.
type Message struct {
	Role    string  `json:"role"` // system, developer, user or assistant
	Content Content `json:"content"`
}

// Content is a request message's content as it travels: a JSON string, null, or a list of
// content parts such as {"type":"text","text":"..."}. The zero Content is absent (a
// message without a content field). TextContent makes one; Text reads one.
type Content json.RawMessage

// TextContent is content holding the string s.
func TextContent(s string) Content {
	b, _ := json.Marshal(s) // a string always marshals
	return b
}

// MarshalJSON writes the content as it is (null when absent).
func (c Content) MarshalJSON() ([]byte, error) { return json.RawMessage(c).MarshalJSON() }

// UnmarshalJSON keeps the content as it is, null included, for Text to read.
func (c *Content) UnmarshalJSON(b []byte) error { return (*json.RawMessage)(c).UnmarshalJSON(b) }

// Text reads the content as text: a string, null (empty), or the concatenated text of a
// list of text parts. Absent content and parts of other types (images, audio) are errors.
func (c Content) Text() (string, error) {
	if len(c) == 0 {
		return "", errors.New("message content is missing")
	}
	var s *string
	if json.Unmarshal(c, &s) == nil {
		if s == nil {
			return "", nil
		}
		return *s, nil
	}
	var parts []struct{ Type, Text string }
	if err := json.Unmarshal(c, &parts); err != nil {
		return "", errors.New("message content must be a string or a list of text parts")
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type != "text" {
			return "", fmt.Errorf("content part type %q is not supported (text only)", p.Type)
		}
		b.WriteString(p.Text)
	}
	return b.String(), nil
}

// ChatCompletion is the answer to a request that is not streamed (object
// "chat.completion").
type ChatCompletion struct {
	ID      string   `json:"id"`
	Object  string   `json:"object"`
	Created int64    `json:"created"` // Unix seconds
	Model   string   `json:"model"`
	Choices []Choice `json:"choices"`
	Usage   *Usage   `json:"usage"`
}

// Choice is one answer of a ChatCompletion.
type Choice struct {
	Index        int             `json:"index"`
	Message      ResponseMessage `json:"message"`
	Logprobs     *ChoiceLogprobs `json:"logprobs"` // null unless asked for
	FinishReason string          `json:"finish_reason"`
}

// ChoiceLogprobs are the log-probabilities of a choice's tokens (of a chunk's tokens, in
// a stream): Content for the message content; Refusal, for a refusal, is null here.
type ChoiceLogprobs struct {
	Content []TokenLogprob `json:"content"`
	Refusal []TokenLogprob `json:"refusal"`
}

// TokenLogprob is one token of an answer: its text, log-probability, UTF-8 bytes (a
// token may hold part of a character; the bytes of successive tokens join to the text)
// and the most likely tokens at its position.
type TokenLogprob struct {
	Token       string       `json:"token"`
	Logprob     float64      `json:"logprob"`
	Bytes       []int        `json:"bytes"`
	TopLogprobs []TopLogprob `json:"top_logprobs"`
}

// TopLogprob is one of the most likely tokens at a position.
type TopLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
	Bytes   []int   `json:"bytes"`
}

// ResponseMessage is the assistant's message in a Choice. Content and Refusal may be null.
type ResponseMessage struct {
	Role    string  `json:"role"`
	Content *string `json:"content"`
	Refusal *string `json:"refusal"`
}

// Usage counts a request's tokens.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// ChatCompletionChunk is one server-sent event of a streamed answer (object
// "chat.completion.chunk"); every chunk of a stream has the same ID and Created.
type ChatCompletionChunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []ChunkChoice `json:"choices"`
	// Usage is absent unless the request set stream_options.include_usage. Then it is
	// null on every chunk but the last, which carries a Usage and no choices.
	Usage json.RawMessage `json:"usage,omitempty"`
}

// ChunkChoice is the piece of one choice a chunk carries.
type ChunkChoice struct {
	Index        int             `json:"index"`
	Delta        Delta           `json:"delta"`
	Logprobs     *ChoiceLogprobs `json:"logprobs"`      // null unless asked for
	FinishReason *string         `json:"finish_reason"` // null until the choice's last chunk
}

// Delta is what a chunk adds to a choice's message: the role on the first chunk, then
// content.
type Delta struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

// ErrorResponse is the body of an error answer, and of an error event in a stream.
type ErrorResponse struct {
	Error *Error `json:"error"`
}

// Error says what went wrong: Type is e.g. "invalid_request_error" or "server_error",
// Param the request parameter at fault and Code a machine-readable code such as
// "model_not_found" (both may be null).
type Error struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

// ModelList is the answer of GET /v1/models (object "list").
type ModelList struct {
	Object string  `json:"object"`
	Data   []Model `json:"data"`
}

// Model is one entry of a ModelList, and the answer of GET /v1/models/{model} (object
// "model").
type Model struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"` // Unix seconds
	OwnedBy string `json:"owned_by"`
}

// CompletionRequest is the body of POST /v1/completions (legacy text completions).
type CompletionRequest struct {
	Model string `json:"model"`
	// Prompt is a string, a list of strings, a list of token ids or a list of lists of
	// token ids; each prompt is completed N times.
	Prompt        json.RawMessage `json:"prompt"`
	MaxTokens     *int            `json:"max_tokens,omitempty"`
	Temperature   *float64        `json:"temperature,omitempty"`
	TopP          *float64        `json:"top_p,omitempty"`
	N             *int            `json:"n,omitempty"`
	Stop          json.RawMessage `json:"stop,omitempty"`
	Seed          *int64          `json:"seed,omitempty"`
	Stream        bool            `json:"stream,omitempty"`
	StreamOptions *StreamOptions  `json:"stream_options,omitempty"`
	// Logprobs asks for the log-probabilities of the tokens and of the Logprobs most
	// likely tokens at each position.
	Logprobs *int `json:"logprobs,omitempty"`
	// Echo returns the prompt before the completion (with its logprobs when asked).
	Echo bool `json:"echo,omitempty"`
}

// Completion is the answer to a text completion request (object "text_completion"),
// and, with Usage null or absent, one chunk of a streamed answer.
type Completion struct {
	ID      string             `json:"id"`
	Object  string             `json:"object"`
	Created int64              `json:"created"`
	Model   string             `json:"model"`
	Choices []CompletionChoice `json:"choices"`
	// Usage is set on an answer; in a stream it is absent unless the request set
	// stream_options.include_usage, then null on every chunk but the last.
	Usage json.RawMessage `json:"usage,omitempty"`
}

// CompletionChoice is one completion of one prompt: choice i*n+j is the j-th of prompt i.
type CompletionChoice struct {
	Index        int                 `json:"index"`
	Text         string              `json:"text"`
	Logprobs     *CompletionLogprobs `json:"logprobs"`      // null unless asked for
	FinishReason *string             `json:"finish_reason"` // null until a streamed choice's last chunk
}

// CompletionLogprobs are a completion's tokens, their log-probabilities (null for the
// first token of an echoed prompt, which has no context), the most likely tokens at each
// position with theirs (the chosen token among them), and each token's offset in the
// text, in characters.
type CompletionLogprobs struct {
	Tokens        []string             `json:"tokens"`
	TokenLogprobs []*float64           `json:"token_logprobs"`
	TopLogprobs   []map[string]float64 `json:"top_logprobs"`
	TextOffset    []int                `json:"text_offset"`
}
