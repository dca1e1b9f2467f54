package model

import (
	"math"
	"math/rand/v2"
	"slices"
)

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

// Next returns the chosen token id for one row of logits. A nil Sampler is greedy.
func (s *Sampler) Next(logits []float32) int32 {
	if s == nil || s.Temperature <= 0 {
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
		keep, sum = s.truncate(p, idx)
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

// truncate orders idx by falling probability p and keeps the top-K and then the nucleus
// of top-P, returning how many lead idx and their total weight.
func (s *Sampler) truncate(p []float64, idx []int) (keep int, sum float64) {
	V := len(idx)
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case p[a] > p[b]:
			return -1
		case p[a] < p[b]:
			return 1
		}
		return 0
	})
	keep = V
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
	for _, i := range idx[:keep] {
		sum += p[i]
	}
	return keep, sum
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
