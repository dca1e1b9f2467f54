package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/openai"
)

// POST /v1/completions: OpenAI's legacy text completions, which promptfoo's
// openai:completion provider and lm-evaluation-harness's local-completions model use. The
// prompt goes to the model as it is (tokenized with the tokenizer's special tokens, e.g.
// a BOS, and no chat template).

const (
	// maxPrompts bounds the prompts of one request, and maxCompletions the prompts times
	// n: each completion is a full decode while other requests wait.
	maxPrompts     = 64
	maxCompletions = 64
	// defaultCompletionTokens is max_tokens when a request leaves it out, as OpenAI's.
	defaultCompletionTokens = 16
	// contextTokens is how many of a prompt's last tokens the completion is decoded
	// after, so that its text continues the prompt's (a leading space kept, a character
	// split over the boundary whole).
	contextTokens = 4
)

// textPrompt is one prompt of a completion request.
type textPrompt struct {
	ids    []int32
	text   string // what echo returns
	maxNew int
}

// completionJob is a validated text completion request: n completions of each prompt,
// completion j of prompt i being choice i*n+j, decoded with seed base.seed+i*n+j.
type completionJob struct {
	base         decodeJob // sampling, seed, stops and logprobs; ids and maxNew per prompt
	prompts      []textPrompt
	n            int
	echo         bool
	stream       bool
	includeUsage bool
	id           string
	created      int64
}

// decode is the decode of prompt p's completion k (choice index p*n+k).
func (j *completionJob) decode(p, k int) decodeJob {
	d := j.base
	pr := j.prompts[p]
	d.ids, d.maxNew = pr.ids, pr.maxNew
	d.seed += uint64(p*j.n + k)
	d.context = pr.ids[max(0, len(pr.ids)-contextTokens):]
	return d
}

// apiCompletions is POST /v1/completions.
func (s *Server) apiCompletions(w http.ResponseWriter, r *http.Request) {
	c := s.opt.Chat
	if c == nil {
		noModel().write(w)
		return
	}
	j, e := s.parseCompletion(c, w, r)
	if e != nil {
		e.write(w)
		return
	}
	j.id = fmt.Sprintf("cmpl-%d", time.Now().UnixNano())
	j.created = time.Now().Unix()
	c.textCompletion(r.Context(), w, j)
}

// parseCompletion reads and checks a text completion request.
func (s *Server) parseCompletion(c *ChatModel, w http.ResponseWriter, r *http.Request) (*completionJob, *apiError) {
	o, e := readBody(w, r, s.opt.MaxBody)
	if e != nil {
		return nil, e
	}
	var (
		name              string
		maxTokens, n, lp  *int
		sd                *int64
		temperature, topP *float64
		j                 completionJob
	)
	for _, g := range []struct {
		name string
		dst  any
	}{{"model", &name}, {"max_tokens", &maxTokens}, {"n", &n}, {"seed", &sd}, {"temperature", &temperature},
		{"top_p", &topP}, {"stream", &j.stream}, {"logprobs", &lp}, {"echo", &j.echo}} {
		if e := o.get(g.name, g.dst); e != nil {
			return nil, e
		}
	}
	promptRaw, hasPrompt := o.raw("prompt")
	if j.base.stops, e = stopStrings(o); e != nil {
		return nil, e
	}
	if j.includeUsage, e = streamOptions(o, j.stream); e != nil {
		return nil, e
	}
	for _, name := range []string{"presence_penalty", "frequency_penalty"} {
		if e := o.onlyDefault(name, 0, "aegis serve applies no repetition penalties"); e != nil {
			return nil, e
		}
	}
	if e := o.onlyDefault("best_of", 1, "aegis serve returns every completion it decodes"); e != nil {
		return nil, e
	}
	if e := o.done(); e != nil {
		return nil, e
	}
	if e := c.checkModel(name); e != nil {
		return nil, e
	}
	if !hasPrompt {
		return nil, missing("prompt")
	}
	if j.prompts, e = c.readPrompts(promptRaw); e != nil {
		return nil, e
	}
	if j.base.samp, e = sampling(temperature, topP); e != nil {
		return nil, e
	}
	if j.n, e = choices(n); e != nil {
		return nil, e
	}
	if len(j.prompts)*j.n > maxCompletions {
		return nil, invalid("n", "%d prompts times n = %d asks for %d completions; this server decodes at most %d per request.",
			len(j.prompts), j.n, len(j.prompts)*j.n, maxCompletions)
	}
	if lp != nil {
		if *lp < 0 || *lp > maxLegacyLogprobs {
			return nil, invalid("logprobs", "'logprobs' must be between 0 and %d; got %d.", maxLegacyLogprobs, *lp)
		}
		j.base.logprobs, j.base.top = true, *lp
	}
	least := 1
	if j.echo {
		least = 0 // the prompt's log-probabilities alone
	}
	for i := range j.prompts {
		param := "prompt"
		if len(j.prompts) > 1 {
			param = fmt.Sprintf("prompt[%d]", i)
		}
		if j.prompts[i].maxNew, e = c.budget("max_tokens", maxTokens, least, defaultCompletionTokens, param, len(j.prompts[i].ids)); e != nil {
			return nil, e
		}
	}
	j.base.seed = seed(sd, j.base.samp)
	return &j, nil
}

// readPrompts reads "prompt": a string, a list of strings, a list of token ids or a list
// of lists of token ids.
func (c *ChatModel) readPrompts(raw json.RawMessage) ([]textPrompt, *apiError) {
	// Unmarshal fills what it can before it meets a wrong type: each reading starts afresh.
	var texts []string
	var idLists [][]int32
	var one string
	var ids []int32
	var strs []string
	var lists [][]int32
	switch {
	case json.Unmarshal(raw, &one) == nil:
		texts = []string{one}
	case json.Unmarshal(raw, &strs) == nil:
		texts = strs
	case json.Unmarshal(raw, &ids) == nil:
		idLists = [][]int32{ids}
	case json.Unmarshal(raw, &lists) == nil:
		idLists = lists
	default:
		return nil, typeError("prompt", "a string, an array of strings, an array of token ids or an array of arrays of token ids", raw)
	}
	if len(texts)+len(idLists) == 0 {
		return nil, apiErr(http.StatusBadRequest, "invalid_request_error", "prompt", "empty_array",
			"Invalid 'prompt': empty array. Expected at least one prompt.")
	}
	if len(texts)+len(idLists) > maxPrompts {
		return nil, invalid("prompt", "'prompt' holds %d prompts; this server takes at most %d per request.", len(texts)+len(idLists), maxPrompts)
	}
	var out []textPrompt
	for _, t := range texts {
		out = append(out, textPrompt{ids: c.Tok.Encode(t, true), text: t})
	}
	V := c.Model.Config.VocabSize
	for i, l := range idLists {
		for k, id := range l {
			if id < 0 || int(id) >= V {
				return nil, invalid("prompt", "Invalid 'prompt': token id %d (prompt %d, position %d) is outside the vocabulary [0, %d).", id, i, k, V)
			}
		}
		out = append(out, textPrompt{ids: l, text: c.Tok.Decode(l, true)})
	}
	for i, p := range out {
		if len(p.ids) == 0 {
			return nil, invalid("prompt", "Invalid 'prompt': prompt %d has no tokens.", i)
		}
	}
	return out, nil
}

// echoed is a prompt's echo: its text, and with logprobs its tokens (after the first,
// which has no context, with the log-probabilities Forward gives at each position).
type echoed struct {
	text      string
	positions []position
}

// promptLogprobs scores a prompt's tokens with one forward pass, in the model's turn.
func (c *ChatModel) promptLogprobs(ctx context.Context, ids []int32, k int) ([]position, error) {
	if err := c.acquire(ctx); err != nil {
		return nil, err
	}
	defer c.release()
	if len(ids) < 2 {
		return nil, nil
	}
	logits, err := c.Model.Forward(&model.Batch{B: 1, T: len(ids), IDs: ids})
	if err != nil {
		return nil, err
	}
	V := c.Model.Config.VocabSize
	out := make([]position, len(ids)-1)
	for t := 1; t < len(ids); t++ {
		out[t-1] = logprobsAt(logits[(t-1)*V:t*V], ids[t], k)
	}
	return out, nil
}

// legacyBuilder builds text completion logprobs: of a prompt's tokens (with echo; the
// first without a log-probability), then of the answer's tokens, with text offsets in
// characters from the start of the choice's text.
type legacyBuilder struct {
	c     *ChatModel
	first bool // the answer's first token begins a text
}

// promptPart is the logprobs of an echoed prompt.
func (b legacyBuilder) promptPart(ids []int32, e echoed) *openai.CompletionLogprobs {
	out := &openai.CompletionLogprobs{}
	off := 0
	for i, id := range ids {
		tb := b.c.Tok.TokenBytes(id, i == 0)
		out.Tokens = append(out.Tokens, tokenText(tb))
		out.TextOffset = append(out.TextOffset, min(off, utf8.RuneCountInString(e.text)))
		if !b.c.Tok.IsSpecial(id) {
			off += utf8.RuneCount(tb)
		}
		if i == 0 {
			out.TokenLogprobs = append(out.TokenLogprobs, nil)
			out.TopLogprobs = append(out.TopLogprobs, nil)
			continue
		}
		p := e.positions[i-1]
		lp := finite(p.logprob)
		out.TokenLogprobs = append(out.TokenLogprobs, &lp)
		out.TopLogprobs = append(out.TopLogprobs, b.c.legacyTop(p, false))
	}
	return out
}

// answerPart is the logprobs of an answer's tokens toks, the first of them token number
// from of the answer, in an answer whose text begins at character base of the choice's
// text and reads text (as far as it was decoded).
func (b legacyBuilder) answerPart(toks []genToken, from, base int, text string) *openai.CompletionLogprobs {
	out := &openai.CompletionLogprobs{Tokens: []string{}, TokenLogprobs: []*float64{}, TopLogprobs: []map[string]float64{}, TextOffset: []int{}}
	for i, t := range toks {
		first := b.first && from+i == 0
		out.Tokens = append(out.Tokens, tokenText(b.c.Tok.TokenBytes(t.id, first)))
		lp := finite(t.logprob)
		out.TokenLogprobs = append(out.TokenLogprobs, &lp)
		out.TopLogprobs = append(out.TopLogprobs, b.c.legacyTop(t.position, first))
		out.TextOffset = append(out.TextOffset, base+utf8.RuneCountInString(text[:min(t.start, len(text))]))
	}
	return out
}

// join appends b's lists to a's.
func joinLogprobs(a, b *openai.CompletionLogprobs) *openai.CompletionLogprobs {
	if a == nil {
		return b
	}
	a.Tokens = append(a.Tokens, b.Tokens...)
	a.TokenLogprobs = append(a.TokenLogprobs, b.TokenLogprobs...)
	a.TopLogprobs = append(a.TopLogprobs, b.TopLogprobs...)
	a.TextOffset = append(a.TextOffset, b.TextOffset...)
	return a
}

// textCompletion decodes j's completions and answers them as one text_completion object,
// or as server-sent events: per choice, the echo (when asked) and then a chunk per piece
// of text as it is decoded, the last with finish_reason; a usage chunk when asked; [DONE].
func (c *ChatModel) textCompletion(ctx context.Context, w http.ResponseWriter, j *completionJob) {
	res := openai.Completion{ID: j.id, Object: "text_completion", Created: j.created, Model: c.Name, Choices: []openai.CompletionChoice{}}
	u := openai.Usage{}
	var out *sseWriter
	if j.stream {
		out = startSSE(w)
		if j.includeUsage {
			res.Usage = jsonNull
		}
	}
	send := func(ch openai.CompletionChoice) {
		chunk := res
		chunk.Choices = []openai.CompletionChoice{ch}
		out.send(chunk)
	}
	fail := func(err error) {
		if ctx.Err() != nil {
			return
		}
		if out != nil {
			out.fail(err)
		} else {
			apiErr(http.StatusInternalServerError, "server_error", "", "", err.Error()).write(w)
		}
	}
	for p, pr := range j.prompts {
		u.PromptTokens += len(pr.ids)
		var e echoed
		if j.echo {
			e.text = pr.text
			if j.base.logprobs {
				var err error
				if e.positions, err = c.promptLogprobs(ctx, pr.ids, j.base.top); err != nil {
					fail(err)
					return
				}
			}
		}
		b := legacyBuilder{c: c, first: c.Tok.Decode(pr.ids[max(0, len(pr.ids)-contextTokens):], true) == ""}
		base := utf8.RuneCountInString(e.text)
		for k := range j.n {
			idx := p*j.n + k
			d := j.decode(p, k)
			var lp *openai.CompletionLogprobs
			if j.echo && j.base.logprobs {
				lp = b.promptPart(pr.ids, e)
			}
			var onText func(string, []genToken) bool
			if out != nil {
				if j.echo {
					send(openai.CompletionChoice{Index: idx, Text: e.text, Logprobs: lp})
				}
				sent, text := 0, ""
				onText = func(piece string, toks []genToken) bool {
					text += piece
					ch := openai.CompletionChoice{Index: idx, Text: piece}
					if d.logprobs {
						ch.Logprobs = b.answerPart(toks, sent, base, text)
					}
					sent += len(toks)
					send(ch)
					return out.err == nil
				}
			}
			a, err := c.complete(ctx, d, onText)
			if (out != nil && out.err != nil) || ctx.Err() != nil {
				return
			}
			if err != nil {
				fail(err)
				return
			}
			u.CompletionTokens += a.n
			if out != nil {
				send(openai.CompletionChoice{Index: idx, FinishReason: &a.finish})
				continue
			}
			ch := openai.CompletionChoice{Index: idx, Text: e.text + a.text, FinishReason: &a.finish}
			if d.logprobs {
				ch.Logprobs = joinLogprobs(lp, b.answerPart(a.toks, 0, base, a.text))
			}
			res.Choices = append(res.Choices, ch)
		}
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	ub, _ := json.Marshal(u)
	if out == nil {
		res.Usage = ub
		writeJSON(w, http.StatusOK, res)
		return
	}
	if j.includeUsage {
		res.Choices, res.Usage = []openai.CompletionChoice{}, ub
		out.send(res)
	}
	out.end()
}
