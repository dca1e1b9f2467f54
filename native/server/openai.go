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
	"github.com/aegis-safety/aegis/native/openai"
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

func (c *ChatModel) object() openai.Model {
	return openai.Model{ID: c.Name, Object: "model", Created: c.Created, OwnedBy: "aegis"}
}

func (s *Server) apiModels(w http.ResponseWriter, r *http.Request) {
	list := openai.ModelList{Object: "list", Data: []openai.Model{}}
	if c := s.opt.Chat; c != nil {
		list.Data = append(list.Data, c.object())
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) apiModel(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("model")
	if c := s.opt.Chat; c != nil && id == c.Name {
		writeJSON(w, http.StatusOK, c.object())
		return
	}
	apiErr(http.StatusNotFound, "invalid_request_error", "model", "model_not_found", fmt.Sprintf("The model %q does not exist", id)).write(w)
}

// apiError is an answer /v1 refuses a request with: an HTTP status and OpenAI's error
// body {"error":{"message","type","param","code"}}.
type apiError struct {
	status int
	body   openai.Error
}

// apiErr is an apiError; an empty param or code is null.
func apiErr(status int, typ, param, code, msg string) *apiError {
	e := &apiError{status: status, body: openai.Error{Message: msg, Type: typ}}
	if param != "" {
		e.body.Param = &param
	}
	if code != "" {
		e.body.Code = &code
	}
	return e
}

// invalid is a 400 invalid_request_error about param.
func invalid(param, format string, a ...any) *apiError {
	return apiErr(http.StatusBadRequest, "invalid_request_error", param, "", fmt.Sprintf(format, a...))
}

func (e *apiError) write(w http.ResponseWriter) {
	writeJSON(w, e.status, openai.ErrorResponse{Error: &e.body})
}

var jsonNull = json.RawMessage("null")

// chatJob is a validated chat request: n choices to decode, choice i with seed
// decodeJob.seed+i, answered as one response or as a stream.
type chatJob struct {
	decodeJob
	n            int
	stream       bool
	includeUsage bool // stream a last chunk with the usage
	id           string
	created      int64
}

// choice is the decode of choice i.
func (j chatJob) choice(i int) decodeJob {
	d := j.decodeJob
	d.seed += uint64(i)
	return d
}

// apiChat is POST /v1/chat/completions: the messages through the tokenizer's chat
// template, decoded by the model, as one response or as server-sent events.
func (s *Server) apiChat(w http.ResponseWriter, r *http.Request) {
	c := s.opt.Chat
	if c == nil {
		apiErr(http.StatusServiceUnavailable, "server_error", "", "", "no model loaded: start aegis serve with --model DIR").write(w)
		return
	}
	j, e := s.parseChat(c, w, r)
	if e != nil {
		e.write(w)
		return
	}
	j.id = fmt.Sprintf("chatcmpl-%d", time.Now().UnixNano())
	j.created = time.Now().Unix()
	if j.stream {
		c.stream(r.Context(), w, j)
	} else {
		c.completion(r.Context(), w, j)
	}
}

// parseChat reads a request for c and checks it, in OpenAI's terms: the job, or the error
// to answer with.
func (s *Server) parseChat(c *ChatModel, w http.ResponseWriter, r *http.Request) (chatJob, *apiError) {
	req, e := s.readChat(w, r)
	if e != nil {
		return chatJob{}, e
	}
	if req.Model != "" && req.Model != c.Name {
		return chatJob{}, apiErr(http.StatusNotFound, "invalid_request_error", "model", "model_not_found",
			fmt.Sprintf("The model %q does not exist; this server serves %q", req.Model, c.Name))
	}
	msgs, e := chatMessages(req.Messages)
	if e != nil {
		return chatJob{}, e
	}
	maxNew, e := c.maxNew(req)
	if e != nil {
		return chatJob{}, e
	}
	samp, e := sampling(req)
	if e != nil {
		return chatJob{}, e
	}
	n := 1
	if req.N != nil {
		if n = *req.N; n < 1 || n > maxChoices {
			return chatJob{}, invalid("n", "n must be between 1 and %d", maxChoices)
		}
	}
	stops, err := stopStrings(req.Stop)
	if err != nil {
		return chatJob{}, invalid("stop", "%v", err)
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
		return chatJob{}, invalid("messages", "chat template: %v", err)
	}
	if max := c.Model.Config.MaxPositions; max > 0 && len(ids)+maxNew > max {
		if len(ids) >= max {
			return chatJob{}, apiErr(http.StatusBadRequest, "invalid_request_error", "messages", "context_length_exceeded",
				fmt.Sprintf("the prompt is %d tokens; the model's context is %d", len(ids), max))
		}
		maxNew = max - len(ids)
	}
	return chatJob{decodeJob: decodeJob{ids: ids, maxNew: maxNew, samp: samp, seed: seed, stops: stops}, n: n,
		stream: req.Stream, includeUsage: req.Stream && req.StreamOptions != nil && req.StreamOptions.IncludeUsage}, nil
}

// readChat decodes the request body, at most s.opt.MaxBody bytes.
func (s *Server) readChat(w http.ResponseWriter, r *http.Request) (*openai.ChatRequest, *apiError) {
	bodyRead := limitBody(w, r, s.opt.MaxBody)
	var req openai.ChatRequest
	err := json.NewDecoder(r.Body).Decode(&req)
	bodyRead()
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, apiErr(http.StatusRequestEntityTooLarge, "invalid_request_error", "", "", fmt.Sprintf("request body larger than %d bytes", mbe.Limit))
		}
		return nil, invalid("", "request body: %v", err)
	}
	return &req, nil
}

// chatMessages reads the conversation as text, with the developer role as system.
func chatMessages(in []openai.Message) ([]tokenizer.Message, *apiError) {
	if len(in) == 0 {
		return nil, invalid("messages", "messages must not be empty")
	}
	msgs := make([]tokenizer.Message, len(in))
	for i, m := range in {
		t, err := m.Content.Text()
		if err != nil {
			return nil, invalid(fmt.Sprintf("messages[%d].content", i), "%v", err)
		}
		role := m.Role
		if role == "developer" { // OpenAI's newer name for the system role
			role = "system"
		}
		if role == "" {
			return nil, invalid(fmt.Sprintf("messages[%d].role", i), "message role is missing")
		}
		msgs[i] = tokenizer.Message{Role: role, Content: t}
	}
	return msgs, nil
}

// maxNew is the number of tokens to generate: max_tokens or max_completion_tokens (the
// later one when both are set), capped by c.MaxTokens, which is also the default.
func (c *ChatModel) maxNew(req *openai.ChatRequest) (int, *apiError) {
	limit := c.MaxTokens
	if limit <= 0 {
		limit = 256
	}
	maxNew := limit
	for _, p := range []struct {
		v    *int
		name string
	}{{req.MaxTokens, "max_tokens"}, {req.MaxCompletionTokens, "max_completion_tokens"}} {
		if p.v != nil {
			if *p.v < 1 {
				return 0, invalid(p.name, "%s must be at least 1", p.name)
			}
			maxNew = min(*p.v, limit)
		}
	}
	return maxNew, nil
}

// sampling reads temperature and top_p (unset: greedy).
func sampling(req *openai.ChatRequest) (model.Sampling, *apiError) {
	var samp model.Sampling
	if t := req.Temperature; t != nil {
		if *t < 0 || *t > 2 {
			return samp, invalid("temperature", "temperature must be in [0, 2]")
		}
		samp.Temperature = *t
	}
	if p := req.TopP; p != nil {
		if *p < 0 || *p > 1 {
			return samp, invalid("top_p", "top_p must be in [0, 1]")
		}
		samp.TopP = *p
	}
	return samp, nil
}

// completion answers j with one chat.completion object holding its n choices.
func (c *ChatModel) completion(ctx context.Context, w http.ResponseWriter, j chatJob) {
	res := openai.ChatCompletion{ID: j.id, Object: "chat.completion", Created: j.created, Model: c.Name,
		Usage: &openai.Usage{PromptTokens: len(j.ids)}}
	for i := range j.n {
		text, finish, k, err := c.complete(ctx, j.choice(i), nil)
		if err != nil {
			if ctx.Err() == nil {
				apiErr(http.StatusInternalServerError, "server_error", "", "", err.Error()).write(w)
			}
			return
		}
		res.Choices = append(res.Choices, openai.Choice{Index: i, Message: openai.ResponseMessage{Role: "assistant", Content: &text},
			Logprobs: jsonNull, FinishReason: finish})
		res.Usage.CompletionTokens += k
	}
	res.Usage.TotalTokens = res.Usage.PromptTokens + res.Usage.CompletionTokens
	writeJSON(w, http.StatusOK, res)
}

// stream answers j as server-sent events: per choice a chunk with the role, one chunk per
// piece of text as it is decoded and a last chunk with finish_reason; then the usage chunk
// when asked for, and [DONE]. A client that stops reading is cut off after writeWait, so
// it cannot hold the model.
func (c *ChatModel) stream(ctx context.Context, w http.ResponseWriter, j chatJob) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	out := &sseWriter{w: w, rc: http.NewResponseController(w)}
	var usage json.RawMessage // left out, or null on every chunk but the usage chunk
	if j.includeUsage {
		usage = jsonNull
	}
	sendChunk := func(cc openai.ChunkChoice) {
		cc.Logprobs = jsonNull
		out.send(openai.ChatCompletionChunk{ID: j.id, Object: "chat.completion.chunk", Created: j.created, Model: c.Name,
			Choices: []openai.ChunkChoice{cc}, Usage: usage})
	}
	u := openai.Usage{PromptTokens: len(j.ids)}
	for i := range j.n {
		empty := ""
		sendChunk(openai.ChunkChoice{Index: i, Delta: openai.Delta{Role: "assistant", Content: &empty}})
		_, finish, k, err := c.complete(ctx, j.choice(i), func(piece string) bool {
			sendChunk(openai.ChunkChoice{Index: i, Delta: openai.Delta{Content: &piece}})
			return out.err == nil
		})
		if out.err != nil || ctx.Err() != nil {
			return // the client left or stopped reading
		}
		if err != nil {
			out.send(openai.ErrorResponse{Error: &openai.Error{Message: err.Error(), Type: "server_error"}})
			send0(w, out.rc)
			return
		}
		u.CompletionTokens += k
		sendChunk(openai.ChunkChoice{Index: i, FinishReason: &finish})
	}
	if j.includeUsage {
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
		b, _ := json.Marshal(u)
		out.send(openai.ChatCompletionChunk{ID: j.id, Object: "chat.completion.chunk", Created: j.created, Model: c.Name,
			Choices: []openai.ChunkChoice{}, Usage: b})
	}
	if out.err == nil {
		send0(w, out.rc)
	}
}

// sseWriter writes server-sent events, each within writeWait; after a failed write it
// writes nothing more and err holds the failure.
type sseWriter struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	err error
}

// send writes v as one data event and flushes it.
func (s *sseWriter) send(v any) {
	if s.err != nil {
		return
	}
	b, _ := json.Marshal(v)
	s.rc.SetWriteDeadline(time.Now().Add(writeWait))
	if _, s.err = fmt.Fprintf(s.w, "data: %s\n\n", b); s.err == nil {
		s.err = s.rc.Flush()
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
