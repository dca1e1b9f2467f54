package model

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
)

// DecodeOptions controls Decode.
type DecodeOptions struct {
	// MaxNewTokens bounds each row's new tokens, a stop id included; 0 decodes nothing.
	MaxNewTokens int
	// Samplers choose the tokens: one per row, or a single Sampler that all rows share
	// (at each step it draws for the unfinished rows in row order). None is greedy.
	Samplers []*Sampler
	// StopIDs end a row; the stop id is kept as the row's last token.
	StopIDs []int32
	// Debias[l], when present, is subtracted from every row's logits for its l-th new
	// token before sampling (training-free debiasing; see package debias). A row shorter
	// than the vocabulary touches only the first ids.
	Debias [][]float32
	// OnToken, when set, sees each token as it is chosen, stop ids included; returning
	// false ends that row after the token.
	OnToken func(row int, id int32) bool
	// OnLogits, when set, sees each chosen token with the logits it was drawn from (after
	// Debias, before the sampler's temperature, top-k and top-p), just before OnToken.
	// logits is valid only during the call.
	OnLogits func(row int, id int32, logits []float32)
}

// Decode continues each prompt with up to MaxNewTokens tokens, decoding all the rows
// together through one KV cache, and returns each row's new tokens.
//
// Prompts may differ in length: they are left-padded to the longest, which the model's
// mask-derived positions make equivalent to decoding each alone. A row that has finished
// rides along as masked padding until every row is done. ctx is checked before each
// forward step; on cancellation or a failed step Decode returns the tokens chosen so far
// with the error.
//
// A prompt longer than the model's context (max_position_embeddings) is refused, and a
// row ends when it fills the context, as if by MaxNewTokens. Logits that are not finite
// (a model whose weights hold NaN, or overflow) stop decoding with an error rather than
// being sampled from.
//
// Limits: the cache holds the longest prompt plus MaxNewTokens (at most the context) for
// every row: keys and values of every layer.
func (m *Model) Decode(ctx context.Context, prompts [][]int32, o DecodeOptions) ([][]int32, error) {
	B := len(prompts)
	out := make([][]int32, B)
	if n := len(o.Samplers); n > 1 && n != B {
		return out, fmt.Errorf("decode: %d samplers for %d rows", n, B)
	}
	T, shortest := 0, 0
	for r, p := range prompts {
		if len(p) == 0 {
			return out, fmt.Errorf("decode: prompt %d is empty", r)
		}
		if err := m.Config.CheckLength(len(p)); err != nil {
			return out, fmt.Errorf("decode: prompt %d: %v", r, err)
		}
		T = max(T, len(p))
		if r == 0 || len(p) < shortest {
			shortest = len(p)
		}
	}
	if ctxLen := m.Config.MaxPositions; ctxLen > 0 {
		o.MaxNewTokens = min(o.MaxNewTokens, ctxLen-shortest)
	}
	if B == 0 || o.MaxNewTokens <= 0 {
		return out, nil
	}
	ids, mask := leftPad(prompts, T)
	c := m.NewCache(B, T+o.MaxNewTokens)
	if err := ctx.Err(); err != nil {
		return out, err
	}
	logits, err := m.Step(c, ids, mask)
	if err != nil {
		return out, err
	}
	d := decoder{DecodeOptions: o, out: out, V: m.Config.VocabSize, room: make([]int, B),
		done: make([]bool, B), next: make([]int32, B), live: make([]bool, B)}
	for r, p := range prompts {
		d.room[r] = o.MaxNewTokens
		if ctxLen := m.Config.MaxPositions; ctxLen > 0 {
			d.room[r] = min(o.MaxNewTokens, ctxLen-len(p))
		}
	}
	for {
		more, err := d.choose(logits)
		if err != nil || !more {
			return out, err
		}
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if logits, err = m.Step(c, d.next, d.live); err != nil {
			return out, err
		}
	}
}

// leftPad lays prompts out as a [len(prompts), T] batch, each right-aligned, and its mask.
func leftPad(prompts [][]int32, T int) ([]int32, []bool) {
	ids, mask := make([]int32, len(prompts)*T), make([]bool, len(prompts)*T)
	for r, p := range prompts {
		pad := T - len(p)
		copy(ids[r*T+pad:], p)
		for t := pad; t < T; t++ {
			mask[r*T+t] = true
		}
	}
	return ids, mask
}

// decoder is Decode's per-step state.
type decoder struct {
	DecodeOptions
	V    int
	room []int // [B] the most new tokens each row may have: MaxNewTokens, or less to fit the context
	out  [][]int32
	done []bool  // [B] the row has ended
	next []int32 // [B] the tokens to feed next
	live []bool  // [B] which of next are real (finished rows feed masked padding)
}

// choose picks each unfinished row's next token from logits [B, V] and reports whether
// any row goes on. Non-finite logits are an error.
func (d *decoder) choose(logits []float32) (bool, error) {
	more := false
	for r := range d.out {
		d.next[r], d.live[r] = 0, false
		if d.done[r] {
			continue
		}
		row := logits[r*d.V : (r+1)*d.V]
		if i := firstNonFinite(row); i >= 0 {
			return false, fmt.Errorf("decode: non-finite logit (%v) for token %d at new token %d of row %d: %s", row[i], i, len(d.out[r])+1, r, nonFiniteCause)
		}
		if l := len(d.out[r]); l < len(d.Debias) {
			SubBias(row, d.Debias[l])
		}
		id := d.sampler(r).Next(row)
		if d.OnLogits != nil {
			d.OnLogits(r, id, row)
		}
		d.out[r] = append(d.out[r], id)
		if d.OnToken != nil && !d.OnToken(r, id) || slices.Contains(d.StopIDs, id) || len(d.out[r]) >= d.room[r] {
			d.done[r] = true
			continue
		}
		d.next[r], d.live[r] = id, true
		more = true
	}
	return more, nil
}

// CheckFinite reports the first NaN or infinite value of logits (rows of vocab values,
// as Forward returns them) as an error naming its position and token.
func CheckFinite(logits []float32, vocab int) error {
	if i := firstNonFinite(logits); i >= 0 {
		return fmt.Errorf("non-finite logit (%v) at position %d for token %d: %s", logits[i], i/vocab, i%vocab, nonFiniteCause)
	}
	return nil
}

// nonFiniteCause is why a model computes non-finite logits.
const nonFiniteCause = "the model's weights hold NaN or Inf, or its activations overflow"

// firstNonFinite is the index of the first NaN or infinite value of xs, or -1.
func firstNonFinite(xs []float32) int {
	for i, x := range xs {
		if f := float64(x); f != f || math.IsInf(f, 0) {
			return i
		}
	}
	return -1
}

// sampler is row r's sampler: its own, the shared one, or nil (greedy).
func (d *decoder) sampler(r int) *Sampler {
	switch len(d.Samplers) {
	case 0:
		return nil
	case 1:
		return d.Samplers[0]
	}
	return d.Samplers[r]
}

// GenerateOptions controls Generate.
type GenerateOptions struct {
	MaxNewTokens int
	Sampling
	Seed    uint64
	StopIDs []int32 // generation ends after any of these (it is included in the result)
	// OnToken, when set, sees each new token as it is chosen; returning false stops.
	OnToken func(id int32) bool
	// OnLogits, when set, sees each new token with the logits it was drawn from, as
	// DecodeOptions.OnLogits does.
	OnLogits func(id int32, logits []float32)
	// Debias, when set, is subtracted from the logits of the l-th new token for l <
	// len(Debias) before sampling (training-free debiasing; see package debias).
	Debias [][]float32
}

// Generate continues one prompt with up to MaxNewTokens tokens, sampled by Sampling from
// a sampler seeded with Seed, and returns the new tokens: Decode for a single row.
func (m *Model) Generate(prompt []int32, o GenerateOptions) ([]int32, error) {
	if len(prompt) == 0 {
		return nil, errors.New("generate: empty prompt")
	}
	d := DecodeOptions{MaxNewTokens: o.MaxNewTokens, Samplers: []*Sampler{NewSampler(o.Sampling, o.Seed)},
		StopIDs: o.StopIDs, Debias: o.Debias}
	if o.OnToken != nil {
		d.OnToken = func(_ int, id int32) bool { return o.OnToken(id) }
	}
	if o.OnLogits != nil {
		d.OnLogits = func(_ int, id int32, logits []float32) { o.OnLogits(id, logits) }
	}
	out, err := m.Decode(context.Background(), [][]int32{prompt}, d)
	return out[0], err
}

// SubBias subtracts a logit bias row from logits (a shorter row touches only its ids).
func SubBias(logits, bias []float32) {
	for j := range min(len(logits), len(bias)) {
		logits[j] -= bias[j]
	}
}
