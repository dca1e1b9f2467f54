package server

import (
	"math"
	"strings"
	"unicode/utf8"

	"github.com/aegis-safety/aegis/native/openai"
)

// Log-probabilities for /v1. They are the model's own: the log-softmax of the logits a
// token was drawn from, before temperature, top-p and the stop rules (as OpenAI reports
// them), computed in float64 from the float32 logits.

// maxTopLogprobs bounds top_logprobs (chat) as OpenAI does; maxLegacyLogprobs bounds
// logprobs (text completions), likewise.
const (
	maxTopLogprobs    = 20
	maxLegacyLogprobs = 5
)

// tokenProb is a token and its log-probability.
type tokenProb struct {
	id      int32
	logprob float64
}

// position is the log-probability of the token at one position and the k most likely
// tokens there, most likely first (ties: lower id first).
type position struct {
	tokenProb
	top []tokenProb
}

// logprobsAt reads one row of logits: the log-probability of id and the k most likely ids.
func logprobsAt(logits []float32, id int32, k int) position {
	mx := math.Inf(-1)
	for _, l := range logits {
		mx = max(mx, float64(l))
	}
	var sum float64
	for _, l := range logits {
		sum += math.Exp(float64(l) - mx)
	}
	lse := mx + math.Log(sum)
	p := position{tokenProb: tokenProb{id, float64(logits[id]) - lse}}
	if k <= 0 {
		return p
	}
	top := make([]int32, 0, k+1)
	for v, l := range logits {
		if len(top) == k && l <= logits[top[k-1]] {
			continue
		}
		i := len(top)
		for i > 0 && l > logits[top[i-1]] {
			i--
		}
		top = append(top, 0)
		copy(top[i+1:], top[i:])
		top[i] = int32(v)
		if len(top) > k {
			top = top[:k]
		}
	}
	p.top = make([]tokenProb, len(top))
	for i, v := range top {
		p.top[i] = tokenProb{v, float64(logits[v]) - lse}
	}
	return p
}

// finite keeps a log-probability JSON can carry: -Inf (a token the model rules out)
// becomes -9999, OpenAI's value for "very unlikely".
func finite(lp float64) float64 {
	if math.IsInf(lp, -1) || math.IsNaN(lp) || lp < -9999 {
		return -9999
	}
	return lp
}

// tokenText is how a token shows in logprobs: its bytes as text when they are valid
// UTF-8, else "bytes:" and the bytes with each one outside a whole character as \xNN
// (OpenAI's form for a token holding part of a character).
func tokenText(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var s strings.Builder
	s.WriteString("bytes:")
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			const hex = "0123456789abcdef"
			s.WriteString(`\x`)
			s.WriteByte(hex[b[0]>>4])
			s.WriteByte(hex[b[0]&15])
			b = b[1:]
			continue
		}
		s.Write(b[:n])
		b = b[n:]
	}
	return s.String()
}

// ints is b as a list of integers (JSON would write a []byte as base64).
func ints(b []byte) []int {
	if b == nil {
		return nil
	}
	out := make([]int, len(b))
	for i, c := range b {
		out[i] = int(c)
	}
	return out
}

// chatLogprob is position p as the chat API shows it; first says the token begins the
// text (see Tokenizer.TokenBytes).
func (c *ChatModel) chatLogprob(p position, first bool) openai.TokenLogprob {
	b := c.Tok.TokenBytes(p.id, first)
	out := openai.TokenLogprob{Token: tokenText(b), Logprob: finite(p.logprob), Bytes: ints(b), TopLogprobs: []openai.TopLogprob{}}
	for _, t := range p.top {
		tb := c.Tok.TokenBytes(t.id, first)
		out.TopLogprobs = append(out.TopLogprobs, openai.TopLogprob{Token: tokenText(tb), Logprob: finite(t.logprob), Bytes: ints(tb)})
	}
	return out
}

// legacyTop is position p's most likely tokens as text completions show them: token text
// to log-probability, the chosen token included (so up to k+1 entries; a text shared by
// two ids keeps the likelier).
func (c *ChatModel) legacyTop(p position, first bool) map[string]float64 {
	m := make(map[string]float64, len(p.top)+1)
	for _, t := range append(p.top, p.tokenProb) {
		s := tokenText(c.Tok.TokenBytes(t.id, first))
		if old, ok := m[s]; !ok || t.logprob > old {
			m[s] = finite(t.logprob)
		}
	}
	return m
}
