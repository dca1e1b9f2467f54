package model

import (
	"fmt"

	"github.com/aegis-safety/aegis/kernels"
)

// The model's passes, as llm.c lays them out. Shapes in comments use B rows of T new
// tokens (n = B·T token rows), P tokens already cached, C = hidden_size, I =
// intermediate_size, V = vocab_size, Q = heads·head_dim and KV = kv_heads·head_dim.
//
//	Forward  (training): embed → block × L → final norm → lm_head, logits at every position
//	Backward (training): the same in reverse, block by block (block.go)
//	Step     (decoding): embed → block × L against a Cache → final norm → lm_head, at each
//	                     row's last position (cache.go)

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

// allReal is a mask of n real tokens.
func allReal(n int) []bool {
	mask := make([]bool, n)
	for i := range mask {
		mask[i] = true
	}
	return mask
}

// activations are the buffers of the last pass, kept for Backward after a training
// Forward. They are reused from pass to pass.
type activations struct {
	B, T, P int
	kcap    int       // key rows per sequence: T in training, the cache's capacity in decoding
	train   bool      // the last pass was a training Forward, which Backward can follow
	grads   bool      // Backward has run since the last pass: g.dres holds dL/d(input embeddings)
	ids     []int32   // [B, T]
	mask    []bool    // [B, T] real tokens of this pass
	keyMask []bool    // [B, kcap] real keys: mask in training, the cache's mask in decoding
	pos     []int32   // [B, T] position of each token (0 for padding)
	cos     []float32 // [B, T, hd/2] RoPE angles of each token
	sin     []float32 // [B, T, hd/2]
	layers  []layerActs
	xf      []float32 // [n, C] the last block's output
	last    []float32 // [B, C] decoding: each row's last row of xf
	rstdF   []float32 // [n] (decoding: [B]) reciprocal rms of the final norm
	hf      []float32 // [n, C] (decoding: [B, C]) model.norm output
	logits  []float32 // [n, V] (decoding: [B, V])
	g       gradients
}

// gradients are Backward's buffers, shared by the layers as it walks down them.
type gradients struct {
	dres   []float32 // [n, C] dL/d(residual stream) at the point Backward has reached
	dhf    []float32 // [n, C] dL/d(model.norm output)
	dln    []float32 // [n, C] dL/d(ln1) or dL/d(ln2)
	dq     []float32 // [n, Q]
	dk, dv []float32 // [n, KV]
	dctx   []float32 // [n, Q] dL/d(attention output before o_proj)
	dact   []float32 // [n, I]
	dgate  []float32 // [n, I]
	dup    []float32 // [n, I]
	dprobs []float32 // [T, T] attention backward scratch, one (sequence, head) at a time
}

// begin readies the activation buffers for a pass over B rows of T new tokens after P
// cached ones. Each row's real tokens are numbered on from start[b] (nil: from 0), and
// start is advanced past them: a cache keeps it as the next position of each row.
func (m *Model) begin(ids []int32, mask []bool, B, T, P int, start []int32) *activations {
	if m.acts == nil {
		m.acts = &activations{}
	}
	a := m.acts
	a.B, a.T, a.P = B, T, P
	a.grads = false
	a.ids = append(a.ids[:0], ids...)
	a.mask = mask
	if len(a.layers) != len(m.Layers) {
		a.layers = make([]layerActs, len(m.Layers))
	}
	// Positions count the real tokens before each one in its row.
	a.pos = growI32(&a.pos, B*T)
	for b := 0; b < B; b++ {
		p := int32(0)
		if start != nil {
			p = start[b]
		}
		for t := 0; t < T; t++ {
			a.pos[b*T+t] = 0
			if mask[b*T+t] {
				a.pos[b*T+t] = p
				p++
			}
		}
		if start != nil {
			start[b] = p
		}
	}
	hh := m.Config.HeadDim / 2
	a.cos, a.sin = grow(&a.cos, B*T*hh), grow(&a.sin, B*T*hh)
	ropeTable(a.cos, a.sin, a.pos, m.invFreq)
	return a
}

// Forward runs the model over a batch and returns the logits [B*T, V] of every position,
// keeping the activations for Backward. The slice is reused by the next pass.
func (m *Model) Forward(b *Batch) ([]float32, error) {
	if err := b.Check(m.Config.VocabSize); err != nil {
		return nil, err
	}
	mask := b.Mask
	if mask == nil {
		mask = allReal(len(b.IDs))
	}
	a := m.begin(b.IDs, mask, b.B, b.T, 0, nil)
	a.train, a.kcap, a.keyMask = true, b.T, mask
	n := b.B * b.T
	m.embedForward(a)
	for l := range m.Layers {
		m.blockForward(l, a, nil)
	}
	return m.headForward(a, a.xf, n), nil
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
	C, V, I := cfg.HiddenSize, cfg.VocabSize, cfg.IntermediateSize
	Q, KV := cfg.NumHeads*cfg.HeadDim, cfg.NumKVHeads*cfg.HeadDim
	n := a.B * a.T
	if len(dlogits) != n*V {
		return fmt.Errorf("backward: dlogits has %d values, want %d", len(dlogits), n*V)
	}
	g := &a.g
	g.dres, g.dhf, g.dln = grow(&g.dres, n*C), grow(&g.dhf, n*C), grow(&g.dln, n*C)
	g.dq, g.dctx = grow(&g.dq, n*Q), grow(&g.dctx, n*Q)
	g.dk, g.dv = grow(&g.dk, n*KV), grow(&g.dv, n*KV)
	g.dact, g.dgate, g.dup = grow(&g.dact, n*I), grow(&g.dgate, n*I), grow(&g.dup, n*I)
	g.dprobs = grow(&g.dprobs, a.T*a.T)

	m.headBackward(a, dlogits) // g.dres = dL/dxf
	for l := len(m.Layers) - 1; l >= 0; l-- {
		m.blockBackward(l, a) // g.dres: dL/d(block output) → dL/d(block input)
	}
	m.embedBackward(a)
	a.grads = true
	return nil
}

// embedForward looks up each real token's row of model.embed_tokens into the first
// block's input [n, C].
func (m *Model) embedForward(a *activations) {
	C := m.Config.HiddenSize
	x := grow(&a.layers[0].x, a.B*a.T*C)
	for i, id := range a.ids {
		if a.mask[i] {
			m.Embed.row(x[i*C:(i+1)*C], int(id))
		} else {
			clear(x[i*C : (i+1)*C]) // a pad id may be anything; its row is never seen
		}
	}
}

// embedBackward adds each real token's dL/dx (g.dres [n, C]) to its embedding row's
// gradient, when the base is trainable.
func (m *Model) embedBackward(a *activations) {
	dW := m.Embed.W.Grad
	if dW == nil {
		return
	}
	C := m.Config.HiddenSize
	for i, id := range a.ids {
		if a.mask[i] {
			kernels.Axpy(1, a.g.dres[i*C:(i+1)*C], dW[int(id)*C:(int(id)+1)*C])
		}
	}
}

// head is the output projection: lm_head, or the embedding when tied.
func (m *Model) head() *Linear {
	if m.LMHead != nil {
		return m.LMHead
	}
	return m.Embed
}

// headForward applies model.norm and lm_head to rows of x [rows, C] and returns the
// logits [rows, V].
func (m *Model) headForward(a *activations, x []float32, rows int) []float32 {
	cfg := &m.Config
	C, V := cfg.HiddenSize, cfg.VocabSize
	a.rstdF, a.hf = grow(&a.rstdF, rows), grow(&a.hf, rows*C)
	rmsnormForward(a.hf, a.rstdF, x, m.Norm.Data, rows, C, cfg.RMSNormEps)
	a.logits = grow(&a.logits, rows*V)
	m.head().forward(a.logits, a.hf, rows, &m.scratchTmp)
	return a.logits
}

// headBackward turns dlogits [n, V] into dL/dxf in g.dres [n, C].
func (m *Model) headBackward(a *activations, dlogits []float32) {
	cfg := &m.Config
	n, C := a.B*a.T, cfg.HiddenSize
	m.head().backward(a.g.dhf, dlogits, a.hf, n, overwrite, &m.scratchTmp)
	rmsnormBackward(a.g.dres, m.Norm.Grad, a.g.dhf, a.xf, m.Norm.Data, a.rstdF, n, C, overwrite)
}
