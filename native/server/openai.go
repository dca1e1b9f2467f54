package server

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
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
	MaxTokens int    // the most tokens an answer may have: max_tokens above it is refused (default 256)
	Created   int64  // the Unix time /v1/models reports (when the model was loaded)

	once sync.Once
	turn chan struct{} // one request decodes at a time
}

// maxChoices bounds n: each choice is a full decode while others wait.
const maxChoices = 8

// defaultMaxTokens is ChatModel.MaxTokens when it is not set.
const defaultMaxTokens = 256

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
		noModel().write(w)
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

func noModel() *apiError {
	return apiErr(http.StatusServiceUnavailable, "server_error", "", "", "no model loaded: start aegis serve with --model DIR")
}

// chatParams are the chat request's parameters as read from the body.
type chatParams struct {
	model               string
	messages            []tokenizer.Message
	maxTokens, maxCompl *int
	n                   *int
	seed                *int64
	temperature, topP   *float64
	stop                []string
	stream              bool
	includeUsage        bool
	logprobs            bool
	topLogprobs         *int
}

// readChat reads the body of a chat request: the parameters it implements, each of the
// right type; any other member is refused.
func (s *Server) readChat(w http.ResponseWriter, r *http.Request) (*chatParams, *apiError) {
	o, e := readBody(w, r, s.opt.MaxBody)
	if e != nil {
		return nil, e
	}
	var p chatParams
	for _, g := range []struct {
		name string
		dst  any
	}{{"model", &p.model}, {"max_tokens", &p.maxTokens}, {"max_completion_tokens", &p.maxCompl}, {"n", &p.n},
		{"seed", &p.seed}, {"temperature", &p.temperature}, {"top_p", &p.topP}, {"stream", &p.stream},
		{"logprobs", &p.logprobs}, {"top_logprobs", &p.topLogprobs}} {
		if e := o.get(g.name, g.dst); e != nil {
			return nil, e
		}
	}
	if p.messages, e = chatMessages(o); e != nil {
		return nil, e
	}
	if p.stop, e = stopStrings(o); e != nil {
		return nil, e
	}
	if p.includeUsage, e = streamOptions(o, p.stream); e != nil {
		return nil, e
	}
	for _, name := range []string{"presence_penalty", "frequency_penalty"} {
		if e := o.onlyDefault(name, 0, "aegis serve applies no repetition penalties"); e != nil {
			return nil, e
		}
	}
	if e := o.done(); e != nil {
		return nil, e
	}
	return &p, nil
}

// parseChat reads a request for c and checks it, in OpenAI's terms: the job, or the error
// to answer with.
func (s *Server) parseChat(c *ChatModel, w http.ResponseWriter, r *http.Request) (chatJob, *apiError) {
	p, e := s.readChat(w, r)
	if e != nil {
		return chatJob{}, e
	}
	if e := c.checkModel(p.model); e != nil {
		return chatJob{}, e
	}
	if p.messages == nil {
		return chatJob{}, missing("messages")
	}
	samp, e := sampling(p.temperature, p.topP)
	if e != nil {
		return chatJob{}, e
	}
	n, e := choices(p.n)
	if e != nil {
		return chatJob{}, e
	}
	top := 0
	if p.topLogprobs != nil {
		if top = *p.topLogprobs; top < 0 || top > maxTopLogprobs {
			return chatJob{}, invalid("top_logprobs", "'top_logprobs' must be between 0 and %d; got %d.", maxTopLogprobs, top)
		}
		if !p.logprobs {
			return chatJob{}, invalid("top_logprobs", "'top_logprobs' needs 'logprobs' set to true.")
		}
	}
	ids, _, err := c.Tok.EncodeChat(p.messages, tokenizer.ChatOptions{AddGenerationPrompt: true, Template: c.Template})
	if err != nil {
		return chatJob{}, invalid("messages", "chat template: %v", err)
	}
	param, asked := "max_tokens", p.maxTokens
	if p.maxCompl != nil {
		if asked != nil && *asked != *p.maxCompl {
			return chatJob{}, invalid("max_completion_tokens", "'max_tokens' (%d) and 'max_completion_tokens' (%d) disagree; set one.", *asked, *p.maxCompl)
		}
		param, asked = "max_completion_tokens", p.maxCompl
	}
	maxNew, e := c.budget(param, asked, 1, 0, "messages", len(ids))
	if e != nil {
		return chatJob{}, e
	}
	return chatJob{decodeJob: decodeJob{ids: ids, maxNew: maxNew, samp: samp, seed: seed(p.seed, samp), stops: p.stop,
		logprobs: p.logprobs, top: top, first: true}, n: n, stream: p.stream, includeUsage: p.includeUsage}, nil
}

// checkModel checks a request's model: required, and the one c serves.
func (c *ChatModel) checkModel(name string) *apiError {
	if name == "" {
		return missing("model")
	}
	if name != c.Name {
		return apiErr(http.StatusNotFound, "invalid_request_error", "model", "model_not_found",
			fmt.Sprintf("The model '%s' does not exist; this server serves '%s'.", name, c.Name))
	}
	return nil
}

// missing is the 400 of a required parameter left out.
func missing(param string) *apiError {
	return apiErr(http.StatusBadRequest, "invalid_request_error", param, "missing_required_parameter",
		fmt.Sprintf("Missing required parameter: '%s'.", param))
}

// chatMessages reads "messages": a list of {"role", "content"} objects (role system,
// developer, user or assistant; developer is read as system), nil when absent.
func chatMessages(o *object) ([]tokenizer.Message, *apiError) {
	raw, ok := o.raw("messages")
	if !ok {
		return nil, nil
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return nil, typeError("messages", "an array of message objects", raw)
	}
	if len(list) == 0 {
		return nil, apiErr(http.StatusBadRequest, "invalid_request_error", "messages", "empty_array",
			"Invalid 'messages': empty array. Expected an array with minimum length 1.")
	}
	msgs := make([]tokenizer.Message, len(list))
	for i, m := range list {
		path := fmt.Sprintf("messages[%d]", i)
		mo, e := readObject(path, m)
		if e != nil {
			return nil, e
		}
		var role string
		if e := mo.get("role", &role); e != nil {
			return nil, e
		}
		if role == "" {
			return nil, missing(path + ".role")
		}
		if role == "developer" { // OpenAI's newer name for the system role
			role = "system"
		}
		if !slices.Contains([]string{"system", "user", "assistant"}, role) {
			return nil, apiErr(http.StatusBadRequest, "invalid_request_error", path+".role", "invalid_value",
				fmt.Sprintf("Invalid value for '%s.role': '%s'; this server takes system, developer, user and assistant messages.", path, role))
		}
		content, ok := mo.members["content"]
		mo.taken["content"] = true
		if !ok {
			return nil, missing(path + ".content")
		}
		if k := jsonKind(content); k != "a string" && k != "an array" && k != "null" {
			return nil, typeError(path+".content", "a string or an array of content parts", content)
		}
		t, err := openai.Content(content).Text()
		if err != nil {
			return nil, invalid(path+".content", "Invalid '%s.content': %v.", path, err)
		}
		if e := mo.done(); e != nil {
			return nil, e
		}
		msgs[i] = tokenizer.Message{Role: role, Content: t}
	}
	return msgs, nil
}

// limit is the most tokens an answer may have: MaxTokens, or 256 when unset.
func (c *ChatModel) limit() int {
	if c.MaxTokens > 0 {
		return c.MaxTokens
	}
	return defaultMaxTokens
}

// budget is the number of tokens to generate after a prompt of promptLen tokens: the
// asked number (param, at least least), or without one def (0: the server's limit), as
// far as the model's context leaves room. An asked number above the limit, or one that
// does not fit in the context after the prompt, is refused, as OpenAI refuses them; so
// is a prompt that fills the context (promptParam names it).
func (c *ChatModel) budget(param string, asked *int, least, def int, promptParam string, promptLen int) (int, *apiError) {
	ctx := c.Model.Config.MaxPositions
	if ctx > 0 && promptLen >= ctx {
		return 0, apiErr(http.StatusBadRequest, "invalid_request_error", promptParam, "context_length_exceeded",
			fmt.Sprintf("This model's maximum context length is %d tokens. However, your %s are %d tokens, which leaves no room for the completion. Please reduce the length of the %s.",
				ctx, promptParam, promptLen, promptParam))
	}
	if asked == nil {
		n := c.limit()
		if def > 0 {
			n = min(n, def)
		}
		if ctx > 0 {
			n = min(n, ctx-promptLen)
		}
		return n, nil
	}
	n := *asked
	if n < least {
		return 0, apiErr(http.StatusBadRequest, "invalid_request_error", param, "invalid_value",
			fmt.Sprintf("Invalid '%s': integer below minimum value. Expected a value >= %d, but got %d instead.", param, least, n))
	}
	if n > c.limit() {
		return 0, apiErr(http.StatusBadRequest, "invalid_request_error", param, "invalid_value",
			fmt.Sprintf("%s is too large: %d. This server allows at most %d completion tokens (aegis serve --max-tokens).", param, n, c.limit()))
	}
	if ctx > 0 && promptLen+n > ctx {
		return 0, apiErr(http.StatusBadRequest, "invalid_request_error", param, "context_length_exceeded",
			fmt.Sprintf("This model's maximum context length is %d tokens. However, you requested %d tokens (%d in the %s, %d in the completion). Please reduce the length of the %s or completion.",
				ctx, promptLen+n, promptLen, promptParam, n, promptParam))
	}
	return n, nil
}

// sampling reads temperature and top_p (unset: greedy).
func sampling(t, p *float64) (model.Sampling, *apiError) {
	var samp model.Sampling
	if t != nil {
		if *t < 0 || *t > 2 {
			return samp, invalid("temperature", "'temperature' must be between 0 and 2; got %g.", *t)
		}
		samp.Temperature = *t
	}
	if p != nil {
		if *p < 0 || *p > 1 {
			return samp, invalid("top_p", "'top_p' must be between 0 and 1; got %g.", *p)
		}
		samp.TopP = *p
	}
	return samp, nil
}

// choices reads n (default 1, at most maxChoices).
func choices(n *int) (int, *apiError) {
	if n == nil {
		return 1, nil
	}
	if *n < 1 || *n > maxChoices {
		return 0, invalid("n", "'n' must be between 1 and %d; got %d.", maxChoices, *n)
	}
	return *n, nil
}

// seed is the sampler's seed: the request's, or without one a random seed when sampling,
// so that sampling differs from request to request, as OpenAI's does.
func seed(s *int64, samp model.Sampling) uint64 {
	if s != nil {
		return uint64(*s)
	}
	if samp.Temperature > 0 {
		var b [8]byte
		rand.Read(b[:])
		return binary.LittleEndian.Uint64(b[:])
	}
	return 0
}

// completion answers j with one chat.completion object holding its n choices.
func (c *ChatModel) completion(ctx context.Context, w http.ResponseWriter, j chatJob) {
	res := openai.ChatCompletion{ID: j.id, Object: "chat.completion", Created: j.created, Model: c.Name,
		Usage: &openai.Usage{PromptTokens: len(j.ids)}}
	for i := range j.n {
		a, err := c.complete(ctx, j.choice(i), nil)
		if err != nil {
			if ctx.Err() == nil {
				apiErr(http.StatusInternalServerError, "server_error", "", "", err.Error()).write(w)
			}
			return
		}
		res.Choices = append(res.Choices, openai.Choice{Index: i, Message: openai.ResponseMessage{Role: "assistant", Content: &a.text},
			Logprobs: c.chatLogprobs(j.decodeJob, a.toks, 0), FinishReason: a.finish})
		res.Usage.CompletionTokens += a.n
	}
	res.Usage.TotalTokens = res.Usage.PromptTokens + res.Usage.CompletionTokens
	writeJSON(w, http.StatusOK, res)
}

// chatLogprobs is the logprobs of toks, the answer's tokens from index from on (nil when
// the request did not ask for them).
func (c *ChatModel) chatLogprobs(j decodeJob, toks []genToken, from int) *openai.ChoiceLogprobs {
	if !j.logprobs {
		return nil
	}
	out := &openai.ChoiceLogprobs{Content: make([]openai.TokenLogprob, len(toks))}
	for i, t := range toks {
		out.Content[i] = c.chatLogprob(t.position, j.first && from+i == 0)
	}
	return out
}

// stream answers j as server-sent events: per choice a chunk with the role, one chunk per
// piece of text as it is decoded (with the logprobs of its tokens when asked) and a last
// chunk with finish_reason; then the usage chunk when asked for, and [DONE]. A client
// that stops reading is cut off after writeWait, so it cannot hold the model.
func (c *ChatModel) stream(ctx context.Context, w http.ResponseWriter, j chatJob) {
	out := startSSE(w)
	var usage json.RawMessage // left out, or null on every chunk but the usage chunk
	if j.includeUsage {
		usage = jsonNull
	}
	sendChunk := func(cc openai.ChunkChoice) {
		out.send(openai.ChatCompletionChunk{ID: j.id, Object: "chat.completion.chunk", Created: j.created, Model: c.Name,
			Choices: []openai.ChunkChoice{cc}, Usage: usage})
	}
	u := openai.Usage{PromptTokens: len(j.ids)}
	for i := range j.n {
		empty := ""
		sendChunk(openai.ChunkChoice{Index: i, Delta: openai.Delta{Role: "assistant", Content: &empty}})
		sent := 0
		d := j.choice(i)
		a, err := c.complete(ctx, d, func(piece string, toks []genToken) bool {
			sendChunk(openai.ChunkChoice{Index: i, Delta: openai.Delta{Content: &piece}, Logprobs: c.chatLogprobs(d, toks, sent)})
			sent += len(toks)
			return out.err == nil
		})
		if out.err != nil || ctx.Err() != nil {
			return // the client left or stopped reading
		}
		if err != nil {
			out.fail(err)
			return
		}
		u.CompletionTokens += a.n
		sendChunk(openai.ChunkChoice{Index: i, FinishReason: &a.finish})
	}
	if j.includeUsage {
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
		b, _ := json.Marshal(u)
		out.send(openai.ChatCompletionChunk{ID: j.id, Object: "chat.completion.chunk", Created: j.created, Model: c.Name,
			Choices: []openai.ChunkChoice{}, Usage: b})
	}
	out.end()
}

// startSSE answers with server-sent events.
func startSSE(w http.ResponseWriter) *sseWriter {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	return &sseWriter{w: w, rc: http.NewResponseController(w)}
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

// fail sends err as an error event and ends the stream.
func (s *sseWriter) fail(err error) {
	s.send(openai.ErrorResponse{Error: &openai.Error{Message: err.Error(), Type: "server_error"}})
	s.end()
}

// end ends a stream with [DONE], unless a write failed.
func (s *sseWriter) end() {
	if s.err != nil {
		return
	}
	s.rc.SetWriteDeadline(time.Now().Add(writeWait))
	fmt.Fprint(s.w, "data: [DONE]\n\n")
	s.rc.Flush()
}

// decodeJob is one answer to decode.
type decodeJob struct {
	ids      []int32
	maxNew   int
	samp     model.Sampling
	seed     uint64
	stops    []string
	logprobs bool // record each token's log-probability
	top      int  // and the top most likely tokens at its position
	// context are tokens before the answer whose text the answer continues (the end of a
	// text completion's prompt), so that its first token keeps a leading space a
	// decoder drops at the start of a text; first says there are none (the answer's first
	// token begins a text).
	context []int32
	first   bool
}

// genToken is a token of an answer: where its text begins in the answer (in bytes) and
// its log-probabilities.
type genToken struct {
	start int
	position
}

// answer is a decoded answer: its text (cut before the first stop sequence), the finish
// reason ("stop": the eos token or a stop sequence; "length": max_tokens or the context),
// the number of tokens generated, and with logprobs the tokens of the text.
type answer struct {
	text, finish string
	n            int
	toks         []genToken
}

// acquire waits for the model's turn (release gives it back).
func (c *ChatModel) acquire(ctx context.Context) error {
	c.once.Do(func() { c.turn = make(chan struct{}, 1) })
	select {
	case c.turn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *ChatModel) release() { <-c.turn }

// complete decodes one answer, waiting for the model's turn. onText, when set, receives
// the text as it becomes final (held back while it could be the start of a stop sequence
// or ends in an incomplete UTF-8 sequence), with the tokens (when logprobs are asked for)
// whose text begins in what it has received; returning false ends decoding. The pieces
// concatenate to the answer's text and their tokens to its tokens: those whose text
// begins before a stop sequence cut it, else all the tokens generated (stop ids aside).
func (c *ChatModel) complete(ctx context.Context, j decodeJob, onText func(string, []genToken) bool) (answer, error) {
	if err := c.acquire(ctx); err != nil {
		return answer{}, err
	}
	defer c.release()
	n := 0
	stream := c.Tok.NewStream(true) // holds back a token that ends mid-character
	for _, id := range j.context {
		stream.Add(id)
	}
	var toks []genToken
	var pending position // the log-probabilities of the token OnToken is about to see
	text, sent, sentToks := "", "", 0
	hitStop, quit := false, false
	emit := func(final bool) {
		upto := len(text)
		if !final {
			upto -= holdBack(text, j.stops)
		}
		if onText == nil || upto < len(sent) || !strings.HasPrefix(text[:upto], sent) {
			return
		}
		k := sentToks
		for k < len(toks) && (toks[k].start < upto || final && !hitStop) {
			k++
		}
		if upto == len(sent) && k == sentToks {
			return
		}
		piece := text[len(sent):upto]
		sent = text[:upto]
		ts := toks[sentToks:k]
		sentToks = k
		if !onText(piece, ts) {
			quit = true
		}
	}
	opt := model.GenerateOptions{MaxNewTokens: j.maxNew, Sampling: j.samp, Seed: j.seed, StopIDs: c.StopIDs,
		OnToken: func(t int32) bool {
			if ctx.Err() != nil {
				return false
			}
			if containsID(c.StopIDs, t) {
				return true // Generate ends after it
			}
			n++
			if j.logprobs {
				toks = append(toks, genToken{start: len(text), position: pending})
			}
			text += stream.Add(t)
			if i := firstStop(text, j.stops); i >= 0 {
				text, hitStop = text[:i], true
				return false
			}
			emit(false)
			return !quit
		}}
	if j.logprobs {
		opt.OnLogits = func(t int32, logits []float32) { pending = logprobsAt(logits, t, j.top) }
	}
	out, err := c.Model.Generate(j.ids, opt)
	if err := ctx.Err(); err != nil {
		return answer{}, err
	}
	if err != nil {
		return answer{}, err
	}
	if !hitStop { // the end of the text: a held-back incomplete character stays as U+FFFD
		text += stream.Flush()
		if i := firstStop(text, j.stops); i >= 0 {
			text, hitStop = text[:i], true
		}
	}
	if hitStop {
		k := 0
		for k < len(toks) && toks[k].start < len(text) {
			k++
		}
		toks = toks[:k]
	}
	finish := "length"
	if m := len(out); hitStop || (m > 0 && containsID(c.StopIDs, out[m-1])) {
		finish = "stop"
	}
	if !quit {
		emit(true)
	}
	return answer{text: text, finish: finish, n: n, toks: toks}, nil
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
