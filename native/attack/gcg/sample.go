package gcg

import (
	"container/heap"
	"math/rand/v2"
	"slices"
)

// topTokens returns, for each of the L suffix positions, the TopK allowed tokens with
// the most negative one-hot gradient (grad [L, V]), the most promising first.
func (a *Attacker) topTokens(grad []float32, L, V int) [][]int32 {
	top := make([][]int32, L)
	for p := range L {
		pool := a.allowed
		if p == 0 {
			pool = a.allowed0
		}
		top[p] = smallest(grad[p*V:(p+1)*V], pool, a.topK)
	}
	return top
}

// smallest returns the k ids of pool with the smallest values, in increasing value
// (ties: the smaller id first).
func smallest(values []float32, pool []int32, k int) []int32 {
	k = min(k, len(pool))
	h := &maxHeap{v: values}
	for _, id := range pool {
		if h.Len() < k {
			heap.Push(h, id)
		} else if values[id] < values[h.ids[0]] {
			h.ids[0] = id
			heap.Fix(h, 0)
		}
	}
	out := h.ids
	slices.SortFunc(out, func(x, y int32) int {
		switch {
		case values[x] < values[y]:
			return -1
		case values[x] > values[y]:
			return 1
		}
		return int(x - y)
	})
	return out
}

// maxHeap holds ids with the largest value on top.
type maxHeap struct {
	v   []float32
	ids []int32
}

func (h *maxHeap) Len() int           { return len(h.ids) }
func (h *maxHeap) Less(i, j int) bool { return h.v[h.ids[i]] > h.v[h.ids[j]] }
func (h *maxHeap) Swap(i, j int)      { h.ids[i], h.ids[j] = h.ids[j], h.ids[i] }
func (h *maxHeap) Push(x any)         { h.ids = append(h.ids, x.(int32)) }
func (h *maxHeap) Pop() any {
	x := h.ids[len(h.ids)-1]
	h.ids = h.ids[:len(h.ids)-1]
	return x
}

// sample draws up to Candidates distinct suffixes, each cur with one uniformly drawn
// position replaced by a uniformly drawn token of that position's top list (a token equal
// to the current one is drawn again).
func (a *Attacker) sample(rng *rand.Rand, cur []int32, top [][]int32) [][]int32 {
	B := a.o.Candidates
	seen := make(map[[2]int32]bool, B)
	var out [][]int32
	for try := 0; len(out) < B && try < 4*B; try++ {
		p := rng.IntN(len(cur))
		if len(top[p]) == 0 {
			continue
		}
		v := top[p][rng.IntN(len(top[p]))]
		if v == cur[p] || seen[[2]int32{int32(p), v}] {
			continue
		}
		seen[[2]int32{int32(p), v}] = true
		c := slices.Clone(cur)
		c[p] = v
		out = append(out, c)
	}
	return out
}

// filter keeps the candidates whose prompt, request + " " + suffix through the chat
// template, tokenizes back to the same ids for every goal.
func (a *Attacker) filter(goals []Goal, o *objective, cands [][]int32) [][]int32 {
	kept := cands[:0]
	var want []int32
	for _, c := range cands {
		text := a.text(c)
		ok := len(text) > 0 && text[0] == ' '
		for g := 0; ok && g < len(goals); g++ {
			s := &o.seqs[g]
			want = append(append(append(want[:0], s.pre...), c...), s.post...)
			ids, err := a.tok.EncodePrompt("", goals[g].Request+text, a.o.Template)
			ok = err == nil && slices.Equal(ids, want)
		}
		if ok {
			kept = append(kept, c)
		}
	}
	return kept
}
