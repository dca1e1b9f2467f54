package server

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/tokenizer"
)

// ChatModel is the model /v1 serves (LoadChatModel builds one from a model folder). A
// model is not safe for concurrent use, so requests take turns.
type ChatModel struct {
	Name      string // the id /v1/models lists and responses carry
	Model     *model.Model
	Tok       *tokenizer.Tokenizer
	StopIDs   []int32
	Template  string // chat template override ("": the tokenizer's own)
	MaxTokens int    // cap and default of max_tokens (default 256)
	Created   int64  // the Unix time /v1/models reports (when the model was loaded)

	once sync.Once
	turn chan struct{} // one request decodes at a time
}

// maxChoices bounds n: each choice is a full decode while others wait.
const maxChoices = 8

type chatRequest struct {
	Model       string          `json:"model"`
	Messages    []chatMessage   `json:"messages"`
	MaxTokens   *int            `json:"max_tokens"`
	MaxCompl    *int            `json:"max_completion_tokens"`
	Temperature *float64        `json:"temperature"`
	TopP        *float64        `json:"top_p"`
	Seed        *int64          `json:"seed"`
	N           *int            `json:"n"`
	Stop        json.RawMessage `json:"stop"`
	Stream      bool            `json:"stream"`
	StreamOpts  *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// text reads content as a string (null is empty) or a list of {"type":"text","text"} parts.
func (m chatMessage) text() (string, error) {
	if len(m.Content) == 0 {
		return "", badRequest("message content is missing")
	}
	var s *string
	if json.Unmarshal(m.Content, &s) == nil {
		if s == nil {
			return "", nil
		}
		return *s, nil
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

// stopStrings reads "stop": null, a string, or a list of at most 4 strings.
func stopStrings(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		if one == "" {
			return nil, nil
		}
		return []string{one}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, badRequest("stop must be a string or a list of strings")
	}
	if len(list) > 4 {
		return nil, badRequest("stop takes at most 4 sequences")
	}
	var out []string
	for _, s := range list {
		if s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// modelObject is one entry of GET /v1/models, as OpenAI shapes it.
type modelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

func (c *ChatModel) object() modelObject {
	return modelObject{ID: c.Name, Object: "model", Created: c.Created, OwnedBy: "aegis"}
}

func (s *Server) apiModels(w http.ResponseWriter, r *http.Request) {
	data := []modelObject{}
	if c := s.opt.Chat; c != nil {
		data = append(data, c.object())
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
}

func (s *Server) apiModel(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("model")
	if c := s.opt.Chat; c != nil && id == c.Name {
		writeJSON(w, http.StatusOK, c.object())
		return
	}
	openAIError(w, http.StatusNotFound, "invalid_request_error", "model", "model_not_found", fmt.Sprintf("The model %q does not exist", id))
}

// openAIError answers in the OpenAI error shape {"error":{"message","type","param","code"}}.
func openAIError(w http.ResponseWriter, code int, typ, param, errCode, msg string) {
	e := map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}
	if param != "" {
		e["param"] = param
	}
	if errCode != "" {
		e["code"] = errCode
	}
	writeJSON(w, code, map[string]any{"error": e})
}

func invalid(w http.ResponseWriter, param, format string, a ...any) {
	openAIError(w, http.StatusBadRequest, "invalid_request_error", param, "", fmt.Sprintf(format, a...))
}

// The response objects, with OpenAI's field names and order.
type (
	completion struct {
		ID      string   `json:"id"`
		Object  string   `json:"object"`
		Created int64    `json:"created"`
		Model   string   `json:"model"`
		Choices []choice `json:"choices"`
		Usage   *usage   `json:"usage"`
	}
	choice struct {
		Index        int             `json:"index"`
		Message      assistantReply  `json:"message"`
		Logprobs     json.RawMessage `json:"logprobs"`
		FinishReason string          `json:"finish_reason"`
	}
	assistantReply struct {
		Role    string          `json:"role"`
		Content string          `json:"content"`
		Refusal json.RawMessage `json:"refusal"`
	}
	chunk struct {
		ID      string        `json:"id"`
		Object  string        `json:"object"`
		Created int64         `json:"created"`
		Model   string        `json:"model"`
		Choices []chunkChoice `json:"choices"`
		// Usage is left out, or with stream_options.include_usage null on every chunk
		// but the last, which carries the *usage and no choices (as OpenAI does).
		Usage any `json:"usage,omitempty"`
	}
	chunkChoice struct {
		Index        int             `json:"index"`
		Delta        delta           `json:"delta"`
		Logprobs     json.RawMessage `json:"logprobs"`
		FinishReason *string         `json:"finish_reason"`
	}
	delta struct {
		Role    string  `json:"role,omitempty"`
		Content *string `json:"content,omitempty"`
	}
	usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	}
)

var jsonNull = json.RawMessage("null")

// apiChat is POST /v1/chat/completions: the messages through the tokenizer's chat
// template, decoded by the model, as one response or as server-sent events.
func (s *Server) apiChat(w http.ResponseWriter, r *http.Request) {
	c := s.opt.Chat
	if c == nil {
		openAIError(w, http.StatusServiceUnavailable, "server_error", "", "", "no model loaded: start aegis serve with --model DIR")
		return
	}
	bodyRead := limitBody(w, r, s.opt.MaxBody)
	var req chatRequest
	err := json.NewDecoder(r.Body).Decode(&req)
	bodyRead()
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			openAIError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "", "", fmt.Sprintf("request body larger than %d bytes", mbe.Limit))
			return
		}
		invalid(w, "", "request body: %v", err)
		return
	}
	if req.Model != "" && req.Model != c.Name {
		openAIError(w, http.StatusNotFound, "invalid_request_error", "model", "model_not_found", fmt.Sprintf("The model %q does not exist; this server serves %q", req.Model, c.Name))
		return
	}
	if len(req.Messages) == 0 {
		invalid(w, "messages", "messages must not be empty")
		return
	}
	msgs := make([]tokenizer.Message, len(req.Messages))
	for i, m := range req.Messages {
		t, err := m.text()
		if err != nil {
			invalid(w, fmt.Sprintf("messages[%d].content", i), "%v", err)
			return
		}
		role := m.Role
		if role == "developer" { // OpenAI's newer name for the system role
			role = "system"
		}
		if role == "" {
			invalid(w, fmt.Sprintf("messages[%d].role", i), "message role is missing")
			return
		}
		msgs[i] = tokenizer.Message{Role: role, Content: t}
	}
	limit := c.MaxTokens
	if limit <= 0 {
		limit = 256
	}
	maxNew := limit
	for _, p := range []struct {
		v    *int
		name string
	}{{req.MaxTokens, "max_tokens"}, {req.MaxCompl, "max_completion_tokens"}} {
		if p.v != nil {
			if *p.v < 1 {
				invalid(w, p.name, "%s must be at least 1", p.name)
				return
			}
			maxNew = min(*p.v, limit)
		}
	}
	var samp model.Sampling
	if t := req.Temperature; t != nil {
		if *t < 0 || *t > 2 {
			invalid(w, "temperature", "temperature must be in [0, 2]")
			return
		}
		samp.Temperature = *t
	}
	if p := req.TopP; p != nil {
		if *p < 0 || *p > 1 {
			invalid(w, "top_p", "top_p must be in [0, 1]")
			return
		}
		samp.TopP = *p
	}
	n := 1
	if req.N != nil {
		if n = *req.N; n < 1 || n > maxChoices {
			invalid(w, "n", "n must be between 1 and %d", maxChoices)
			return
		}
	}
	stops, err := stopStrings(req.Stop)
	if err != nil {
		invalid(w, "stop", "%v", err)
		return
	}
	// Without a seed, sampling differs from request to request, as OpenAI's does.
	var seed uint64
	if req.Seed != nil {
		seed = uint64(*req.Seed)
	} else if samp.Temperature > 0 {
		var b [8]byte
		rand.Read(b[:])
		seed = binary.LittleEndian.Uint64(b[:])
	}
	ids, _, err := c.Tok.EncodeChat(msgs, tokenizer.ChatOptions{AddGenerationPrompt: true, Template: c.Template})
	if err != nil {
		invalid(w, "messages", "chat template: %v", err)
		return
	}
	if max := c.Model.Config.MaxPositions; max > 0 && len(ids)+maxNew > max {
		if len(ids) >= max {
			openAIError(w, http.StatusBadRequest, "invalid_request_error", "messages", "context_length_exceeded",
				fmt.Sprintf("the prompt is %d tokens; the model's context is %d", len(ids), max))
			return
		}
		maxNew = max - len(ids)
	}
	job := decodeJob{ids: ids, maxNew: maxNew, samp: samp, seed: seed, stops: stops}

	id := fmt.Sprintf("chatcmpl-%d", time.Now().UnixNano())
	created := time.Now().Unix()
	ctx := r.Context()
	if !req.Stream {
		res := completion{ID: id, Object: "chat.completion", Created: created, Model: c.Name, Usage: &usage{PromptTokens: len(ids)}}
		for i := range n {
			job.seed = seed + uint64(i)
			text, finish, k, err := c.complete(ctx, job, nil)
			if err != nil {
				if ctx.Err() == nil {
					openAIError(w, http.StatusInternalServerError, "server_error", "", "", err.Error())
				}
				return
			}
			res.Choices = append(res.Choices, choice{Index: i, Message: assistantReply{Role: "assistant", Content: text, Refusal: jsonNull},
				Logprobs: jsonNull, FinishReason: finish})
			res.Usage.CompletionTokens += k
		}
		res.Usage.TotalTokens = res.Usage.PromptTokens + res.Usage.CompletionTokens
		writeJSON(w, http.StatusOK, res)
		return
	}

	// Server-sent events: one chunk per piece of text as it is decoded, a last chunk with
	// finish_reason per choice, the usage chunk when asked for, then [DONE]. A client that
	// stops reading is cut off after writeWait, so it cannot hold the model.
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	includeUsage := req.StreamOpts != nil && req.StreamOpts.IncludeUsage
	var writeErr error
	send := func(v any) {
		if writeErr != nil {
			return
		}
		b, _ := json.Marshal(v)
		rc.SetWriteDeadline(time.Now().Add(writeWait))
		if _, writeErr = fmt.Fprintf(w, "data: %s\n\n", b); writeErr == nil {
			writeErr = rc.Flush()
		}
	}
	sendChunk := func(cc chunkChoice) {
		cc.Logprobs = jsonNull
		ch := chunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: c.Name, Choices: []chunkChoice{cc}}
		if includeUsage {
			ch.Usage = jsonNull
		}
		send(ch)
	}
	u := usage{PromptTokens: len(ids)}
	for i := range n {
		empty := ""
		sendChunk(chunkChoice{Index: i, Delta: delta{Role: "assistant", Content: &empty}})
		job.seed = seed + uint64(i)
		_, finish, k, err := c.complete(ctx, job, func(piece string) bool {
			sendChunk(chunkChoice{Index: i, Delta: delta{Content: &piece}})
			return writeErr == nil
		})
		if writeErr != nil || ctx.Err() != nil {
			return // the client left or stopped reading
		}
		if err != nil {
			send(map[string]any{"error": map[string]any{"message": err.Error(), "type": "server_error", "param": nil, "code": nil}})
			send0(w, rc)
			return
		}
		u.CompletionTokens += k
		sendChunk(chunkChoice{Index: i, Delta: delta{}, FinishReason: &finish})
	}
	if includeUsage {
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
		send(chunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: c.Name, Choices: []chunkChoice{}, Usage: &u})
	}
	if writeErr == nil {
		send0(w, rc)
	}
}

// send0 ends a stream.
func send0(w http.ResponseWriter, rc *http.ResponseController) {
	rc.SetWriteDeadline(time.Now().Add(writeWait))
	fmt.Fprint(w, "data: [DONE]\n\n")
	rc.Flush()
}

// decodeJob is one answer to decode.
type decodeJob struct {
	ids    []int32
	maxNew int
	samp   model.Sampling
	seed   uint64
	stops  []string
}

// complete decodes one answer, waiting for the model's turn. It returns the text (cut
// before the first stop sequence), the finish reason ("stop": the eos token or a stop
// sequence; "length": max_tokens or the context), and the number of tokens generated.
// onText, when set, receives the text as it becomes final (held back while it could be the
// start of a stop sequence or ends in an incomplete UTF-8 sequence); returning false ends
// decoding. The concatenation of the pieces is the returned text.
func (c *ChatModel) complete(ctx context.Context, j decodeJob, onText func(string) bool) (string, string, int, error) {
	c.once.Do(func() { c.turn = make(chan struct{}, 1) })
	select {
	case c.turn <- struct{}{}:
		defer func() { <-c.turn }()
	case <-ctx.Done():
		return "", "", 0, ctx.Err()
	}
	var gen []int32
	stream := c.Tok.NewStream(true) // holds back a token that ends mid-character
	text, sent := "", ""
	hitStop, quit := false, false
	emit := func(final bool) {
		upto := len(text)
		if !final {
			upto -= holdBack(text, j.stops)
		}
		if onText == nil || upto <= len(sent) || !strings.HasPrefix(text[:upto], sent) {
			return
		}
		piece := text[len(sent):upto]
		sent = text[:upto]
		if !onText(piece) {
			quit = true
		}
	}
	out, err := c.Model.Generate(j.ids, model.GenerateOptions{MaxNewTokens: j.maxNew, Sampling: j.samp, Seed: j.seed, StopIDs: c.StopIDs,
		OnToken: func(t int32) bool {
			if ctx.Err() != nil {
				return false
			}
			if containsID(c.StopIDs, t) {
				return true // Generate ends after it
			}
			gen = append(gen, t)
			text += stream.Add(t)
			if i := firstStop(text, j.stops); i >= 0 {
				text, hitStop = text[:i], true
				return false
			}
			emit(false)
			return !quit
		}})
	if err := ctx.Err(); err != nil {
		return "", "", 0, err
	}
	if err != nil {
		return "", "", 0, err
	}
	if !hitStop { // the end of the text: a held-back incomplete character stays as U+FFFD
		text += stream.Flush()
		if i := firstStop(text, j.stops); i >= 0 {
			text, hitStop = text[:i], true
		}
	}
	finish := "length"
	if n := len(out); hitStop || (n > 0 && containsID(c.StopIDs, out[n-1])) {
		finish = "stop"
	}
	if !quit {
		emit(true)
	}
	return text, finish, len(gen), nil
}

// firstStop is the index of the earliest stop sequence in text, or -1.
func firstStop(text string, stops []string) int {
	at := -1
	for _, s := range stops {
		if i := strings.Index(text, s); i >= 0 && (at < 0 || i < at) {
			at = i
		}
	}
	return at
}

// holdBack is the length of the longest end of text that begins a stop sequence: text
// that may still turn out to be part of one.
func holdBack(text string, stops []string) int {
	n := 0
	for _, s := range stops {
		for k := min(len(s)-1, len(text)); k > n; k-- {
			if strings.HasSuffix(text, s[:k]) {
				n = k
				break
			}
		}
	}
	return n
}

func containsID(ids []int32, id int32) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
