package gcg

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/aegis-safety/aegis/kernels"
	"github.com/aegis-safety/aegis/native/model"
)

// layout is one goal's tokens around the suffix: the templated text before it (the chat
// header and the request), after it (the end of the user turn and the assistant's
// generation prompt), and the target the assistant should say.
type layout struct {
	pre, post, target []int32
}

// start is the index of the first target token in a sequence with an L-token suffix.
func (s *layout) start(L int) int { return len(s.pre) + L + len(s.post) }

// objective scores suffixes against goals with the model: the target's mean token
// cross-entropy per goal. Candidates are scored after a KV cache of the tokens that
// every goal's sequence begins with (the chat header, and for one goal the request).
// Its buffers are reused from pass to pass.
type objective struct {
	m           *model.Model
	seqs        []layout
	L           int
	batchTokens int
	shared      int          // leading tokens common to every goal's pre
	cache       *model.Cache // the shared tokens, for the rows of the largest scoring batch
	ids         []int32
	mask        []bool
	rows        []int
	dlogits     []float32
	tg          []float32 // one goal's token gradient [L, V]
}

// Check reports whether a goal can be attacked: its target is not empty, its request
// with the initial suffix tokenizes with the suffix apart, and the whole sequence fits
// the model's context.
func (a *Attacker) Check(g Goal) error {
	init, err := a.initSuffix()
	if err != nil {
		return err
	}
	_, err = a.layout(g, init)
	return err
}

// layout tokenizes a goal around the suffix init.
func (a *Attacker) layout(g Goal, init []int32) (layout, error) {
	var s layout
	if s.target = a.tok.Encode(g.Target, false); len(s.target) == 0 {
		return s, fmt.Errorf("the target is empty")
	}
	full, err := a.tok.EncodePrompt("", g.Request+a.text(init), a.o.Template)
	if err != nil {
		return s, err
	}
	i := lastIndex(full, init)
	if i < 0 {
		return s, fmt.Errorf("the initial suffix %q does not tokenize apart from the request %q", a.o.Init, g.Request)
	}
	s.pre, s.post = full[:i], full[i+len(init):]
	n := s.start(len(init)) + len(s.target)
	if err := a.m.Config.CheckLength(n); err != nil {
		return s, fmt.Errorf("the chat-templated request, %d-token suffix and %d-token target: %v", len(init), len(s.target), err)
	}
	return s, nil
}

// lastIndex is the start of the last occurrence of sub in s, or -1.
func lastIndex(s, sub []int32) int {
	for i := len(s) - len(sub); i >= 0; i-- {
		if slices.Equal(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

// objective lays out the goals around the initial suffix.
func (a *Attacker) objective(goals []Goal, init []int32) (*objective, error) {
	o := &objective{m: a.m, L: len(init), batchTokens: a.o.BatchTokens}
	for i, g := range goals {
		s, err := a.layout(g, init)
		if err != nil {
			return nil, fmt.Errorf("goal %d: %w", i+1, err)
		}
		o.seqs = append(o.seqs, s)
	}
	o.shared = len(o.seqs[0].pre)
	for _, s := range o.seqs[1:] {
		o.shared = min(o.shared, commonPrefix(o.seqs[0].pre, s.pre))
	}
	if o.batchTokens <= 0 {
		o.batchTokens = defaultBatchTokens(&a.m.Config, o.width())
	}
	return o, nil
}

// commonPrefix is the length of the longest common prefix of a and b.
func commonPrefix(a, b []int32) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// defaultBatchTokens is how many tokens of sequences T long keep a forward's activations
// near 512 MiB: per token and layer the residual stream, norms, projections, MLP and
// attention rows (model/block.go's layerActs).
func defaultBatchTokens(c *model.Config, T int) int {
	q, kv := c.NumHeads*c.HeadDim, c.NumKVHeads*c.HeadDim
	perToken := c.NumLayers*(6*c.HiddenSize+2*q+2*kv+3*c.IntermediateSize+c.NumHeads*T) + 2*c.HiddenSize
	return max(T, (512<<20)/4/perToken)
}

// width is the longest sequence: the batch width.
func (o *objective) width() int {
	T := 0
	for i := range o.seqs {
		T = max(T, o.seqs[i].start(o.L)+len(o.seqs[i].target)-1)
	}
	return T
}

// fill writes goal g with suffix s, without its first skip tokens, as row r of a batch T
// wide, right-padded, and appends the rows whose logits predict the target tokens.
func (o *objective) fill(r, T, skip, g int, s []int32) {
	q := &o.seqs[g]
	row := o.ids[r*T : (r+1)*T]
	n := copy(row, q.pre[skip:])
	n += copy(row[n:], s)
	n += copy(row[n:], q.post)
	n += copy(row[n:], q.target[:len(q.target)-1]) // the last target token is predicted, never read
	clear(row[n:])
	for t := range T {
		o.mask[r*T+t] = t < n
	}
	st := q.start(o.L) - skip
	for j := range q.target {
		o.rows = append(o.rows, r*T+st-1+j)
	}
}

// batch readies the buffers for B rows T wide.
func (o *objective) batch(B, T int) {
	o.ids = slices.Grow(o.ids[:0], B*T)[:B*T]
	o.mask = slices.Grow(o.mask[:0], B*T)[:B*T]
	o.rows = o.rows[:0]
}

// lossGrad returns each goal's loss with suffix s and writes to grad [L, V] the gradient
// of the loss with respect to the one-hot suffix tokens; with several goals, the sum of
// each goal's gradient normalised per position, so that every goal weighs the same.
func (o *objective) lossGrad(s []int32, grad []float32) ([]float64, error) {
	G, T, V := len(o.seqs), o.width(), o.m.Config.VocabSize
	o.batch(G, T)
	for g := range G {
		o.fill(g, T, 0, g, s)
	}
	logits, err := o.m.Forward(&model.Batch{B: G, T: T, IDs: o.ids, Mask: o.mask})
	if err != nil {
		return nil, err
	}
	o.dlogits = slices.Grow(o.dlogits[:0], len(logits))[:len(logits)]
	clear(o.dlogits)
	losses := make([]float64, G)
	k := 0
	for g := range G {
		nt := len(o.seqs[g].target)
		for _, y := range o.seqs[g].target {
			r := o.rows[k]
			k++
			l := kernels.CrossEntropyRow(logits[r*V:(r+1)*V], int(y), o.dlogits[r*V:(r+1)*V], 1/float32(nt))
			losses[g] += float64(l) / float64(nt)
		}
	}
	if err := o.m.Backward(o.dlogits); err != nil {
		return nil, err
	}
	clear(grad)
	o.tg = slices.Grow(o.tg[:0], o.L*V)[:o.L*V]
	rows := make([]int, o.L)
	for g := range G {
		for i := range rows {
			rows[i] = g*T + len(o.seqs[g].pre) + i
		}
		if err := o.m.TokenGrad(o.tg, rows); err != nil {
			return nil, err
		}
		if G == 1 {
			copy(grad, o.tg)
			break
		}
		for p := range o.L {
			row := o.tg[p*V : (p+1)*V]
			if norm := math.Sqrt(float64(kernels.Dot(row, row))); norm > 0 {
				kernels.Axpy(float32(1/norm), row, grad[p*V:(p+1)*V])
			}
		}
	}
	return losses, nil
}

// losses scores candidate suffixes: it returns [len(cands), goals] target losses, from
// batched forwards of at most batchTokens tokens after the shared cached tokens, the
// batches of one call equal in size. It checks ctx between batches.
func (o *objective) losses(ctx context.Context, cands [][]int32) ([]float64, error) {
	G, V := len(o.seqs), o.m.Config.VocabSize
	T := o.width() - o.shared // the new tokens of a row
	n := len(cands) * G
	out := make([]float64, n)
	per := max(1, o.batchTokens/T)
	if o.shared > 0 && (o.cache == nil || o.cache.B < min(per, n)) {
		var err error
		if o.cache, err = o.m.PrefixCache(o.seqs[0].pre[:o.shared], min(per, n), T); err != nil {
			return nil, err
		}
	}
	batches := (n + per - 1) / per
	per = (n + batches - 1) / batches
	for lo := 0; lo < n; lo += per {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(lo+per, n)
		o.batch(hi-lo, T)
		for i := lo; i < hi; i++ {
			o.fill(i-lo, T, o.shared, i%G, cands[i/G])
		}
		b := &model.Batch{B: hi - lo, T: T, IDs: o.ids, Mask: o.mask}
		var logits []float32
		var err error
		if o.shared > 0 {
			logits, err = o.m.ForwardRowsAfter(o.cache.Rows(hi-lo), b, o.rows)
		} else {
			logits, err = o.m.ForwardRows(b, o.rows)
		}
		if err != nil {
			return nil, err
		}
		k := 0
		for i := lo; i < hi; i++ {
			tgt := o.seqs[i%G].target
			for _, y := range tgt {
				out[i] += float64(kernels.CrossEntropyRow(logits[k*V:(k+1)*V], int(y), nil, 0))
				k++
			}
			out[i] /= float64(len(tgt))
		}
	}
	return out, nil
}
