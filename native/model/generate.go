package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Cache holds the keys and values of the tokens already seen by B sequences decoded
// together, so that each new token costs one row of work instead of a full pass.
type Cache struct {
	B, Cap, Len int
	k, v        [][]float32 // per layer [B, Cap, kvHeads*headDim], after RoPE
	mask        []bool      // [B, Cap]: which cached tokens are real (left padding is not)
	count       []int32     // real tokens so far per row: the next position
}

// NewCache returns an empty cache for batch rows of up to capacity tokens each.
func (m *Model) NewCache(batch, capacity int) *Cache {
	kvw := m.Config.NumKVHeads * m.Config.HeadDim
	c := &Cache{B: batch, Cap: capacity, mask: make([]bool, batch*capacity), count: make([]int32, batch)}
	for range m.Layers {
		c.k = append(c.k, make([]float32, batch*capacity*kvw))
		c.v = append(c.v, make([]float32, batch*capacity*kvw))
	}
	return c
}

// Reset empties the cache for reuse.
func (c *Cache) Reset() {
	c.Len = 0
	clear(c.mask)
	clear(c.count)
}

// Step feeds T new tokens per row ([B, T] ids, mask nil for all real) through the model,
// appending them to the cache, and returns each row's logits at its last new position
// [B, V]. The slice is reused by the next call.
func (m *Model) Step(c *Cache, ids []int32, mask []bool) ([]float32, error) {
	if len(ids) == 0 || len(ids)%c.B != 0 {
		return nil, fmt.Errorf("step: %d ids for %d rows", len(ids), c.B)
	}
	T := len(ids) / c.B
	if c.Len+T > c.Cap {
		return nil, fmt.Errorf("step: %d cached + %d new tokens exceed the cache's %d", c.Len, T, c.Cap)
	}
	b := Batch{B: c.B, T: T, IDs: ids, Mask: mask}
	if err := b.Check(m.Config.VocabSize); err != nil {
		return nil, err
	}
	if mask == nil {
		mask = make([]bool, len(ids))
		for i := range mask {
			mask[i] = true
		}
	}
	return m.run(ids, mask, c.B, T, c, false), nil
}

// Sampling chooses the next token from logits. Temperature 0 is greedy (argmax);
// otherwise logits are divided by Temperature and, when 0 < TopP < 1, sampling is limited
// to the smallest set of most likely tokens whose probability reaches TopP (nucleus).
// TopK > 0 keeps only the K most likely tokens first.
type Sampling struct {
	Temperature float64
	TopP        float64
	TopK        int
}

// Sampler draws tokens by a Sampling rule from a seeded source: the same seed gives the
// same tokens.
type Sampler struct {
	Sampling
	rng   *rand.Rand
	probs []float64
	idx   []int
}

// NewSampler returns a sampler seeded with seed.
func NewSampler(s Sampling, seed uint64) *Sampler {
	return &Sampler{Sampling: s, rng: rand.New(rand.NewPCG(seed, 0x73616d70))}
}

// Next returns the chosen token id for one row of logits.
func (s *Sampler) Next(logits []float32) int32 {
	if s.Temperature <= 0 {
		return Argmax(logits)
	}
	V := len(logits)
	if cap(s.probs) < V {
		s.probs, s.idx = make([]float64, V), make([]int, V)
	}
	p, idx := s.probs[:V], s.idx[:V]
	mx := math.Inf(-1)
	for _, l := range logits {
		mx = max(mx, float64(l))
	}
	var sum float64
	for i, l := range logits {
		p[i] = math.Exp((float64(l) - mx) / s.Temperature)
		sum += p[i]
		idx[i] = i
	}
	keep := V
	if (s.TopP > 0 && s.TopP < 1) || (s.TopK > 0 && s.TopK < V) {
		slices.SortStableFunc(idx, func(a, b int) int {
			switch {
			case p[a] > p[b]:
				return -1
			case p[a] < p[b]:
				return 1
			}
			return 0
		})
		if s.TopK > 0 && s.TopK < V {
			keep = s.TopK
		}
		if s.TopP > 0 && s.TopP < 1 {
			var kept float64
			for _, i := range idx[:keep] {
				kept += p[i]
			}
			var cum float64
			for j, i := range idx[:keep] {
				cum += p[i]
				if cum >= s.TopP*kept {
					keep = j + 1
					break
				}
			}
		}
		sum = 0
		for _, i := range idx[:keep] {
			sum += p[i]
		}
	}
	u := s.rng.Float64() * sum
	for _, i := range idx[:keep] {
		u -= p[i]
		if u < 0 {
			return int32(i)
		}
	}
	return int32(idx[keep-1])
}

// Argmax returns the index of the largest logit, the first on ties.
func Argmax(logits []float32) int32 {
	best := 0
	for i, l := range logits {
		if l > logits[best] {
			best = i
		}
	}
	return int32(best)
}

// GenerateOptions controls Generate.
type GenerateOptions struct {
	MaxNewTokens int
	Sampling
	Seed    uint64
	StopIDs []int32 // generation ends after any of these (it is included in the result)
	// OnToken, when set, sees each new token as it is chosen; returning false stops.
	OnToken func(id int32) bool
	// Debias, when set, is subtracted from the logits of the l-th new token for l <
	// len(Debias) before sampling (training-free debiasing; see package debias).
	Debias [][]float32
}

// Generate continues prompt with up to MaxNewTokens tokens using the KV cache, and returns
// the new tokens.
func (m *Model) Generate(prompt []int32, o GenerateOptions) ([]int32, error) {
	if len(prompt) == 0 {
		return nil, fmt.Errorf("generate: empty prompt")
	}
	if o.MaxNewTokens <= 0 {
		return nil, nil
	}
	c := m.NewCache(1, len(prompt)+o.MaxNewTokens)
	s := NewSampler(o.Sampling, o.Seed)
	logits, err := m.Step(c, prompt, nil)
	if err != nil {
		return nil, err
	}
	var out []int32
	for {
		if l := len(out); l < len(o.Debias) {
			SubBias(logits, o.Debias[l])
		}
		id := s.Next(logits)
		out = append(out, id)
		if o.OnToken != nil && !o.OnToken(id) || slices.Contains(o.StopIDs, id) || len(out) == o.MaxNewTokens {
			return out, nil
		}
		if logits, err = m.Step(c, []int32{id}, nil); err != nil {
			return out, err
		}
	}
}

// SubBias subtracts a logit bias row from logits (a shorter row touches only its ids).
func SubBias(logits, bias []float32) {
	for j := range min(len(logits), len(bias)) {
		logits[j] -= bias[j]
	}
}
