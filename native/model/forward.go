package model

import (
	"fmt"

	"github.com/aegis-safety/aegis/kernels"
)

// Batch is B rows of T token ids each, row-major. Mask marks real tokens (true) and
// padding (false); nil means every token is real. Rows may be padded on either side: a
// token's position is the number of real tokens before it in its row, as transformers
// derives position_ids from the attention mask.
type Batch struct {
	B, T int
	IDs  []int32
	Mask []bool
}

// Check reports a malformed batch or an id outside the vocabulary.
func (b *Batch) Check(vocab int) error {
	if b.B <= 0 || b.T <= 0 || len(b.IDs) != b.B*b.T {
		return fmt.Errorf("batch: %d ids for %d rows of %d", len(b.IDs), b.B, b.T)
	}
	if b.Mask != nil && len(b.Mask) != len(b.IDs) {
		return fmt.Errorf("batch: mask has %d entries for %d ids", len(b.Mask), len(b.IDs))
	}
	for i, id := range b.IDs {
		if (b.Mask == nil || b.Mask[i]) && (id < 0 || int(id) >= vocab) {
			return fmt.Errorf("token id %d (row %d, position %d) is outside the vocabulary [0, %d)", id, i/b.T, i%b.T, vocab)
		}
	}
	return nil
}

// layerActs holds what one decoder layer's backward pass needs.
type layerActs struct {
	x, rstd1, ln1   []float32 // layer input, its reciprocal rms, input_layernorm output
	q, k, v         []float32 // projections after RoPE
	probs           []float32 // attention probabilities [B, heads, T, P+T]
	ctx             []float32 // attention output before o_proj
	x2, rstd2, ln2  []float32 // residual after attention, post_attention_layernorm
	gate, up, act   []float32 // MLP: act = silu(gate) * up
	attnOut, mlpOut []float32 // o_proj and down_proj outputs, before the residual add
}

type activations struct {
	B, T, P int
	ids     []int32
	pos     []int32
	cos     []float32
	sin     []float32
	keyMask []bool
	layers  []layerActs
	xf      []float32 // last layer's output
	rstdF   []float32
	hf      []float32 // after model.norm
	logits  []float32
	train   bool // the last pass can be back-propagated

	// gradient buffers
	dres, dhf, dln, dq, dk, dv, dctx, dact, dgate, dup, dprobs []float32
}

// Forward runs the model over a batch and returns the logits [B*T, V] of every position,
// keeping the activations for Backward. The slice is reused by the next call.
func (m *Model) Forward(b *Batch) ([]float32, error) {
	if err := b.Check(m.Config.VocabSize); err != nil {
		return nil, err
	}
	mask := b.Mask
	if mask == nil {
		mask = make([]bool, len(b.IDs))
		for i := range mask {
			mask[i] = true
		}
	}
	return m.run(b.IDs, mask, b.B, b.T, nil, true), nil
}

// run is the one forward pass: over B rows of T new tokens, attending to the cache's past
// tokens when c is non-nil. It returns the logits of every position (all) or of each row's
// last position.
func (m *Model) run(ids []int32, mask []bool, B, T int, c *Cache, all bool) []float32 {
	cfg := &m.Config
	H, V, I := cfg.HiddenSize, cfg.VocabSize, cfg.IntermediateSize
	qw, kvw := cfg.NumHeads*cfg.HeadDim, cfg.NumKVHeads*cfg.HeadDim
	n := B * T
	if m.acts == nil {
		m.acts = &activations{}
	}
	a := m.acts
	a.B, a.T, a.P, a.train = B, T, 0, c == nil && all
	if c != nil {
		a.P = c.Len
	}
	tk := a.P + T
	a.ids = append(a.ids[:0], ids...)

	// Positions count the real tokens before each one in its row.
	a.pos = growI32(&a.pos, n)
	for b := 0; b < B; b++ {
		p := int32(0)
		if c != nil {
			p = c.count[b]
		}
		for t := 0; t < T; t++ {
			a.pos[b*T+t] = 0
			if mask[b*T+t] {
				a.pos[b*T+t] = p
				p++
			}
		}
		if c != nil {
			c.count[b] = p
		}
	}
	hh := cfg.HeadDim / 2
	a.cos, a.sin = grow(&a.cos, n*hh), grow(&a.sin, n*hh)
	ropeTable(a.cos, a.sin, a.pos, m.invFreq)

	kcap := T
	keyMask := mask
	if c != nil {
		kcap = c.Cap
		for b := 0; b < B; b++ {
			copy(c.mask[b*c.Cap+c.Len:], mask[b*T:(b+1)*T])
		}
		keyMask = c.mask
	}
	a.keyMask = keyMask

	if len(a.layers) != len(m.Layers) {
		a.layers = make([]layerActs, len(m.Layers))
	}
	x := grow(&a.layers[0].x, n*H)
	for i, id := range ids {
		if mask[i] {
			m.Embed.row(x[i*H:(i+1)*H], int(id))
		} else {
			clear(x[i*H : (i+1)*H]) // a pad id may be anything; its row is never seen
		}
	}
	for l, L := range m.Layers {
		la := &a.layers[l]
		x := grow(&la.x, n*H)
		la.rstd1, la.ln1 = grow(&la.rstd1, n), grow(&la.ln1, n*H)
		rmsnormForward(la.ln1, la.rstd1, x, L.InputNorm.Data, n, H, cfg.RMSNormEps)
		la.q, la.k, la.v = grow(&la.q, n*qw), grow(&la.k, n*kvw), grow(&la.v, n*kvw)
		L.Q.forward(la.ln1, la.q, n, &m.scratchTmp)
		L.K.forward(la.ln1, la.k, n, &m.scratchTmp)
		L.V.forward(la.ln1, la.v, n, &m.scratchTmp)
		ropeApply(la.q, a.cos, a.sin, n, cfg.NumHeads, cfg.HeadDim, false)
		ropeApply(la.k, a.cos, a.sin, n, cfg.NumKVHeads, cfg.HeadDim, false)
		kk, vv := la.k, la.v
		if c != nil {
			for b := 0; b < B; b++ {
				copy(c.k[l][(b*c.Cap+c.Len)*kvw:], la.k[b*T*kvw:(b+1)*T*kvw])
				copy(c.v[l][(b*c.Cap+c.Len)*kvw:], la.v[b*T*kvw:(b+1)*T*kvw])
			}
			kk, vv = c.k[l], c.v[l]
		}
		la.probs = grow(&la.probs, B*cfg.NumHeads*T*tk)
		la.ctx = grow(&la.ctx, n*qw)
		s := m.attnShape(l, B, T, a.P, kcap, keyMask, la.probs)
		attnForward(&s, la.ctx, la.q, kk, vv)
		la.attnOut = grow(&la.attnOut, n*H)
		L.O.forward(la.ctx, la.attnOut, n, &m.scratchTmp)
		la.x2 = grow(&la.x2, n*H)
		for i := range la.x2 {
			la.x2[i] = x[i] + la.attnOut[i]
		}
		la.rstd2, la.ln2 = grow(&la.rstd2, n), grow(&la.ln2, n*H)
		rmsnormForward(la.ln2, la.rstd2, la.x2, L.PostNorm.Data, n, H, cfg.RMSNormEps)
		la.gate, la.up, la.act = grow(&la.gate, n*I), grow(&la.up, n*I), grow(&la.act, n*I)
		L.Gate.forward(la.ln2, la.gate, n, &m.scratchTmp)
		L.Up.forward(la.ln2, la.up, n, &m.scratchTmp)
		swigluForward(la.act, la.gate, la.up)
		la.mlpOut = grow(&la.mlpOut, n*H)
		L.Down.forward(la.act, la.mlpOut, n, &m.scratchTmp)
		var next []float32
		if l+1 < len(m.Layers) {
			next = grow(&a.layers[l+1].x, n*H)
		} else {
			next = grow(&a.xf, n*H)
		}
		for i := range next {
			next[i] = la.x2[i] + la.mlpOut[i]
		}
	}
	if c != nil {
		c.Len += T
	}

	// Final norm and logits: every row for training, each row's last for decoding.
	rows, src := n, a.xf
	if !all {
		rows = B
		src = grow(&a.dres, B*H) // free until a backward pass, which a decode never has
		for b := 0; b < B; b++ {
			copy(src[b*H:(b+1)*H], a.xf[(b*T+T-1)*H:(b*T+T)*H])
		}
	}
	a.rstdF, a.hf = grow(&a.rstdF, rows), grow(&a.hf, rows*H)
	rmsnormForward(a.hf, a.rstdF, src, m.Norm.Data, rows, H, cfg.RMSNormEps)
	a.logits = grow(&a.logits, rows*V)
	m.head().forward(a.hf, a.logits, rows, &m.scratchTmp)
	return a.logits
}

// head is the output projection: lm_head, or the embedding when tied.
func (m *Model) head() *Linear {
	if m.LMHead != nil {
		return m.LMHead
	}
	return m.Embed
}

func (m *Model) attnShape(l, B, T, P, kcap int, keyMask []bool, probs []float32) attnShape {
	cfg := &m.Config
	return attnShape{B: B, T: T, P: P, kcap: kcap, heads: cfg.NumHeads, kvHeads: cfg.NumKVHeads,
		hd: cfg.HeadDim, window: cfg.Window(l), keyMask: keyMask, probs: probs,
		qStride: cfg.NumHeads * cfg.HeadDim, kvWide: cfg.NumKVHeads * cfg.HeadDim}
}

// Backward back-propagates dL/dlogits [B*T, V] of the last Forward, accumulating into the
// gradients of the trainable parameters (the base when SetBaseTrainable(true), and each
// trainable, enabled adapter). Rows that the loss ignores must carry zero gradient.
func (m *Model) Backward(dlogits []float32) error {
	a := m.acts
	if a == nil || !a.train {
		return fmt.Errorf("backward: the last pass was not a training forward")
	}
	cfg := &m.Config
	H, V, I := cfg.HiddenSize, cfg.VocabSize, cfg.IntermediateSize
	qw, kvw := cfg.NumHeads*cfg.HeadDim, cfg.NumKVHeads*cfg.HeadDim
	n := a.B * a.T
	if len(dlogits) != n*V {
		return fmt.Errorf("backward: dlogits has %d values, want %d", len(dlogits), n*V)
	}
	tb := m.trainBase
	dres, dhf := grow(&a.dres, n*H), grow(&a.dhf, n*H)
	dln := grow(&a.dln, n*H)
	dq, dk, dv, dctx := grow(&a.dq, n*qw), grow(&a.dk, n*kvw), grow(&a.dv, n*kvw), grow(&a.dctx, n*qw)
	dact, dgate, dup := grow(&a.dact, n*I), grow(&a.dgate, n*I), grow(&a.dup, n*I)
	grad := func(p *Param) []float32 {
		if tb {
			return p.Grad
		}
		return nil
	}

	m.head().backward(a.hf, dlogits, dhf, n, tb, false, &m.scratchTmp)
	rmsnormBackward(dres, grad(m.Norm), dhf, a.xf, m.Norm.Data, a.rstdF, n, H, false)

	for l := len(m.Layers) - 1; l >= 0; l-- {
		L, la := m.Layers[l], &a.layers[l]
		// MLP: x3 = x2 + down(silu(gate(ln2)) * up(ln2)); dres holds dL/dx3.
		L.Down.backward(la.act, dres, dact, n, tb, false, &m.scratchTmp)
		swigluBackward(dgate, dup, dact, la.gate, la.up)
		L.Gate.backward(la.ln2, dgate, dln, n, tb, false, &m.scratchTmp)
		L.Up.backward(la.ln2, dup, dln, n, tb, true, &m.scratchTmp)
		rmsnormBackward(dres, grad(L.PostNorm), dln, la.x2, L.PostNorm.Data, la.rstd2, n, H, true)
		// Attention: x2 = x + o(attn(rope(q(ln1)), rope(k(ln1)), v(ln1))); dres holds dL/dx2.
		L.O.backward(la.ctx, dres, dctx, n, tb, false, &m.scratchTmp)
		s := m.attnShape(l, a.B, a.T, 0, a.T, a.keyMask, la.probs)
		s.dprobs = grow(&a.dprobs, a.T*a.T)
		attnBackward(&s, dq, dk, dv, dctx, la.q, la.k, la.v)
		ropeApply(dq, a.cos, a.sin, n, cfg.NumHeads, cfg.HeadDim, true)
		ropeApply(dk, a.cos, a.sin, n, cfg.NumKVHeads, cfg.HeadDim, true)
		L.Q.backward(la.ln1, dq, dln, n, tb, false, &m.scratchTmp)
		L.K.backward(la.ln1, dk, dln, n, tb, true, &m.scratchTmp)
		L.V.backward(la.ln1, dv, dln, n, tb, true, &m.scratchTmp)
		rmsnormBackward(dres, grad(L.InputNorm), dln, la.x, L.InputNorm.Data, la.rstd1, n, H, true)
	}
	if tb {
		for i, id := range a.ids {
			if a.keyMask[i] {
				kernels.Axpy(1, dres[i*H:(i+1)*H], m.Embed.W.Grad[int(id)*H:(int(id)+1)*H])
			}
		}
	}
	return nil
}

func growI32(buf *[]int32, n int) []int32 {
	if cap(*buf) < n {
		*buf = make([]int32, n)
	}
	return (*buf)[:n]
}
