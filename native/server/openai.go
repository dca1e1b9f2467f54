package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/tokenizer"
)

// ChatModel is the model /v1 serves. A model is not safe for concurrent use, so requests
// take turns.
type ChatModel struct {
	Name      string // the id /v1/models lists and responses carry
	Model     *model.Model
	Tok       *tokenizer.Tokenizer
	StopIDs   []int32
	MaxTokens int // cap and default of max_tokens (default 256)
	mu        sync.Mutex
}

type chatRequest struct {
	Model       string        `json:"model"`
	Messages    []chatMessage `json:"messages"`
	MaxTokens   *int          `json:"max_tokens"`
	MaxCompl    *int          `json:"max_completion_tokens"`
	Temperature *float64      `json:"temperature"`
	TopP        *float64      `json:"top_p"`
	Seed        *uint64       `json:"seed"`
	Stream      bool          `json:"stream"`
}

type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// text reads content as a string or a list of {"type":"text","text"} parts.
func (m chatMessage) text() (string, error) {
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return s, nil
	}
	var parts []struct{ Type, Text string }
	if err := json.Unmarshal(m.Content, &parts); err != nil {
		return "", badRequest("message content must be a string or a list of text parts")
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type != "text" {
			return "", badRequest("content part type %q is not supported (text only)", p.Type)
		}
		b.WriteString(p.Text)
	}
	return b.String(), nil
}

func (s *Server) apiModels(w http.ResponseWriter, r *http.Request) {
	data := []map[string]any{}
	if c := s.opt.Chat; c != nil {
		data = append(data, map[string]any{"id": c.Name, "object": "model", "created": 0, "owned_by": "aegis"})
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
}

// openAIError answers in the OpenAI error shape.
func openAIError(w http.ResponseWriter, code int, typ, msg string) {
	writeJSON(w, code, map[string]any{"error": map[string]any{"message": msg, "type": typ, "code": nil}})
}

// apiChat is POST /v1/chat/completions: the messages through the tokenizer's chat
// template, decoded by the model, as one response or as server-sent events.
func (s *Server) apiChat(w http.ResponseWriter, r *http.Request) {
	c := s.opt.Chat
	if c == nil {
		openAIError(w, http.StatusServiceUnavailable, "server_error", "no model loaded: start aegis serve with --model DIR")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.opt.MaxBody)
	var req chatRequest
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&req); err != nil {
		openAIError(w, http.StatusBadRequest, "invalid_request_error", "request body: "+err.Error())
		return
	}
	if req.Model != "" && req.Model != c.Name {
		openAIError(w, http.StatusNotFound, "invalid_request_error", fmt.Sprintf("model %q not found; this server serves %q", req.Model, c.Name))
		return
	}
	if len(req.Messages) == 0 {
		openAIError(w, http.StatusBadRequest, "invalid_request_error", "messages must not be empty")
		return
	}
	msgs := make([]tokenizer.Message, len(req.Messages))
	for i, m := range req.Messages {
		t, err := m.text()
		if err != nil {
			openAIError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
			return
		}
		msgs[i] = tokenizer.Message{Role: m.Role, Content: t}
	}
	limit := c.MaxTokens
	if limit <= 0 {
		limit = 256
	}
	maxNew := limit
	for _, p := range []*int{req.MaxTokens, req.MaxCompl} {
		if p != nil {
			if *p < 1 {
				openAIError(w, http.StatusBadRequest, "invalid_request_error", "max_tokens must be at least 1")
				return
			}
			maxNew = min(*p, limit)
		}
	}
	var samp model.Sampling
	if req.Temperature != nil {
		if *req.Temperature < 0 || *req.Temperature > 2 {
			openAIError(w, http.StatusBadRequest, "invalid_request_error", "temperature must be in [0, 2]")
			return
		}
		samp.Temperature = *req.Temperature
	}
	if req.TopP != nil {
		samp.TopP = *req.TopP
	}
	var seed uint64
	if req.Seed != nil {
		seed = *req.Seed
	}
	ids, _, err := c.Tok.EncodeChat(msgs, tokenizer.ChatOptions{AddGenerationPrompt: true})
	if err != nil {
		openAIError(w, http.StatusBadRequest, "invalid_request_error", "chat template: "+err.Error())
		return
	}
	if max := c.Model.Config.MaxPositions; max > 0 && len(ids)+maxNew > max {
		if len(ids) >= max {
			openAIError(w, http.StatusBadRequest, "invalid_request_error", fmt.Sprintf("the prompt is %d tokens; the model's context is %d", len(ids), max))
			return
		}
		maxNew = max - len(ids)
	}

	id := fmt.Sprintf("chatcmpl-%d", time.Now().UnixNano())
	created := time.Now().Unix()
	var flusher http.Flusher
	if req.Stream {
		var ok bool
		if flusher, ok = w.(http.Flusher); !ok {
			openAIError(w, http.StatusInternalServerError, "server_error", "streaming unsupported")
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
	}
	chunk := func(delta map[string]any, finish any) {
		b, _ := json.Marshal(map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": c.Name,
			"choices": []map[string]any{{"index": 0, "delta": delta, "finish_reason": finish}}})
		fmt.Fprintf(w, "data: %s\n\n", b)
		flusher.Flush()
	}
	if req.Stream {
		chunk(map[string]any{"role": "assistant", "content": ""}, nil)
	}

	// Decode under the model's lock; stream what the new tokens decode to so far, holding
	// back an incomplete UTF-8 sequence until its last byte arrives.
	var gen []int32
	sent := ""
	stopped := false
	c.mu.Lock()
	out, err := c.Model.Generate(ids, model.GenerateOptions{MaxNewTokens: maxNew, Sampling: samp, Seed: seed, StopIDs: c.StopIDs,
		OnToken: func(t int32) bool {
			if r.Context().Err() != nil {
				stopped = true
				return false
			}
			if !req.Stream || containsID(c.StopIDs, t) {
				return true
			}
			gen = append(gen, t)
			text := c.Tok.Decode(gen, true)
			if strings.HasSuffix(text, string(utf8.RuneError)) || !strings.HasPrefix(text, sent) {
				return true
			}
			if d := text[len(sent):]; d != "" {
				chunk(map[string]any{"content": d}, nil)
				sent = text
			}
			return true
		}})
	c.mu.Unlock()
	if stopped {
		return // the client left
	}
	finish := "length"
	if n := len(out); n > 0 && containsID(c.StopIDs, out[n-1]) {
		finish = "stop"
		out = out[:n-1]
	}
	if err != nil {
		if req.Stream {
			b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": err.Error(), "type": "server_error"}})
			fmt.Fprintf(w, "data: %s\n\ndata: [DONE]\n\n", b)
			return
		}
		openAIError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	text := c.Tok.Decode(out, true)
	if req.Stream {
		if strings.HasPrefix(text, sent) && len(text) > len(sent) {
			chunk(map[string]any{"content": text[len(sent):]}, nil)
		}
		chunk(map[string]any{}, finish)
		fmt.Fprint(w, "data: [DONE]\n\n")
		flusher.Flush()
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": id, "object": "chat.completion", "created": created, "model": c.Name,
		"choices": []map[string]any{{"index": 0, "message": map[string]any{"role": "assistant", "content": text}, "finish_reason": finish}},
		"usage":   map[string]int{"prompt_tokens": len(ids), "completion_tokens": len(out), "total_tokens": len(ids) + len(out)},
	})
}

func containsID(ids []int32, id int32) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
