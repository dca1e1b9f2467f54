package model

// A decoder block is two residual branches, each forward beside its backward:
//
//	x2  = x  + o_proj(attention(rope(q_proj(ln1)), rope(k_proj(ln1)), v_proj(ln1))),  ln1 = input_layernorm(x)
//	out = x2 + down_proj(silu(gate_proj(ln2)) * up_proj(ln2)),                         ln2 = post_attention_layernorm(x2)

// layerActs holds one block's activations, which its backward pass reads.
type layerActs struct {
	x       []float32 // [n, C] block input (the residual stream)
	rstd1   []float32 // [n] reciprocal rms of x
	ln1     []float32 // [n, C] input_layernorm(x)
	q       []float32 // [n, Q] q_proj(ln1) after RoPE
	k       []float32 // [n, KV] k_proj(ln1) after RoPE
	v       []float32 // [n, KV] v_proj(ln1)
	probs   []float32 // [B, heads, T, P+T] attention probabilities
	ctx     []float32 // [n, Q] attention output, before o_proj
	attnOut []float32 // [n, C] o_proj(ctx)
	x2      []float32 // [n, C] x + attnOut
	rstd2   []float32 // [n] reciprocal rms of x2
	ln2     []float32 // [n, C] post_attention_layernorm(x2)
	gate    []float32 // [n, I] gate_proj(ln2)
	up      []float32 // [n, I] up_proj(ln2)
	act     []float32 // [n, I] silu(gate) * up
	mlpOut  []float32 // [n, C] down_proj(act)
}

// blockForward runs block l over a's rows, reading its input from a.layers[l].x and
// writing its output to the next block's input (or a.xf after the last block). With a
// cache, the new keys and values are appended to it and attention also sees its tokens.
func (m *Model) blockForward(l int, a *activations, c *Cache) {
	n, C := a.B*a.T, m.Config.HiddenSize
	m.attentionForward(l, a, c)
	var out *[]float32
	if l+1 < len(m.Layers) {
		out = &a.layers[l+1].x
	} else {
		out = &a.xf
	}
	m.mlpForward(l, a, grow(out, n*C))
}

// blockBackward back-propagates block l: on entry a.g.dres holds dL/d(block output), on
// return dL/d(block input).
func (m *Model) blockBackward(l int, a *activations) {
	m.mlpBackward(l, a)
	m.attentionBackward(l, a)
}

// attnShape is the attention geometry of the pass in a for layer l.
func (m *Model) attnShape(l int, a *activations) attnShape {
	cfg := &m.Config
	return attnShape{B: a.B, T: a.T, P: a.P, kcap: a.kcap, heads: cfg.NumHeads, kvHeads: cfg.NumKVHeads,
		hd: cfg.HeadDim, window: cfg.Window(l), keyMask: a.keyMask, probs: a.layers[l].probs,
		qStride: cfg.NumHeads * cfg.HeadDim, kvWide: cfg.NumKVHeads * cfg.HeadDim}
}

// attentionForward computes x2 = x + o_proj(attention(ln1(x))) for block l.
func (m *Model) attentionForward(l int, a *activations, c *Cache) {
	cfg := &m.Config
	L, la := m.Layers[l], &a.layers[l]
	n, C := a.B*a.T, cfg.HiddenSize
	Q, KV := cfg.NumHeads*cfg.HeadDim, cfg.NumKVHeads*cfg.HeadDim
	tmp := &m.scratchTmp

	la.rstd1, la.ln1 = grow(&la.rstd1, n), grow(&la.ln1, n*C)
	rmsnormForward(la.ln1, la.rstd1, la.x, L.InputNorm.Data, n, C, cfg.RMSNormEps)
	la.q, la.k, la.v = grow(&la.q, n*Q), grow(&la.k, n*KV), grow(&la.v, n*KV)
	L.Q.forward(la.q, la.ln1, n, tmp)
	L.K.forward(la.k, la.ln1, n, tmp)
	L.V.forward(la.v, la.ln1, n, tmp)
	ropeForward(la.q, a.cos, a.sin, n, cfg.NumHeads, cfg.HeadDim)
	ropeForward(la.k, a.cos, a.sin, n, cfg.NumKVHeads, cfg.HeadDim)

	keys, values := la.k, la.v // [B, kcap, KV]
	if c != nil {
		keys, values = c.put(l, la.k, la.v)
	}
	la.probs = grow(&la.probs, a.B*cfg.NumHeads*a.T*(a.P+a.T))
	la.ctx = grow(&la.ctx, n*Q)
	s := m.attnShape(l, a)
	attnForward(&s, la.ctx, la.q, keys, values)

	la.attnOut = grow(&la.attnOut, n*C)
	L.O.forward(la.attnOut, la.ctx, n, tmp)
	la.x2 = grow(&la.x2, n*C)
	for i := range la.x2 {
		la.x2[i] = la.x[i] + la.attnOut[i]
	}
}

// attentionBackward turns dL/dx2 in a.g.dres into dL/dx, accumulating the attention
// branch's parameter gradients. Training passes have no cache (P == 0, kcap == T).
func (m *Model) attentionBackward(l int, a *activations) {
	cfg := &m.Config
	L, la, g := m.Layers[l], &a.layers[l], &a.g
	n, C := a.B*a.T, cfg.HiddenSize
	tmp := &m.scratchTmp

	L.O.backward(g.dctx, g.dres, la.ctx, n, overwrite, tmp)
	s := m.attnShape(l, a)
	s.dprobs = g.dprobs
	attnBackward(&s, g.dq, g.dk, g.dv, g.dctx, la.q, la.k, la.v)
	ropeBackward(g.dq, a.cos, a.sin, n, cfg.NumHeads, cfg.HeadDim)
	ropeBackward(g.dk, a.cos, a.sin, n, cfg.NumKVHeads, cfg.HeadDim)
	L.Q.backward(g.dln, g.dq, la.ln1, n, overwrite, tmp)
	L.K.backward(g.dln, g.dk, la.ln1, n, accumulate, tmp)
	L.V.backward(g.dln, g.dv, la.ln1, n, accumulate, tmp)
	// The residual: dL/dx = dL/dx2 + dL/dx through input_layernorm.
	rmsnormBackward(g.dres, L.InputNorm.Grad, g.dln, la.x, L.InputNorm.Data, la.rstd1, n, C, accumulate)
}

// mlpForward computes out [n, C] = x2 + down_proj(silu(gate_proj(ln2)) * up_proj(ln2)).
func (m *Model) mlpForward(l int, a *activations, out []float32) {
	cfg := &m.Config
	L, la := m.Layers[l], &a.layers[l]
	n, C, I := a.B*a.T, cfg.HiddenSize, cfg.IntermediateSize
	tmp := &m.scratchTmp

	la.rstd2, la.ln2 = grow(&la.rstd2, n), grow(&la.ln2, n*C)
	rmsnormForward(la.ln2, la.rstd2, la.x2, L.PostNorm.Data, n, C, cfg.RMSNormEps)
	la.gate, la.up, la.act = grow(&la.gate, n*I), grow(&la.up, n*I), grow(&la.act, n*I)
	L.Gate.forward(la.gate, la.ln2, n, tmp)
	L.Up.forward(la.up, la.ln2, n, tmp)
	swigluForward(la.act, la.gate, la.up)
	la.mlpOut = grow(&la.mlpOut, n*C)
	L.Down.forward(la.mlpOut, la.act, n, tmp)
	for i := range out {
		out[i] = la.x2[i] + la.mlpOut[i]
	}
}

// mlpBackward turns dL/d(block output) in a.g.dres into dL/dx2, accumulating the MLP
// branch's parameter gradients.
func (m *Model) mlpBackward(l int, a *activations) {
	cfg := &m.Config
	L, la, g := m.Layers[l], &a.layers[l], &a.g
	n, C := a.B*a.T, cfg.HiddenSize
	tmp := &m.scratchTmp

	L.Down.backward(g.dact, g.dres, la.act, n, overwrite, tmp)
	swigluBackward(g.dgate, g.dup, g.dact, la.gate, la.up)
	L.Gate.backward(g.dln, g.dgate, la.ln2, n, overwrite, tmp)
	L.Up.backward(g.dln, g.dup, la.ln2, n, accumulate, tmp)
	// The residual: dL/dx2 = dL/dout + dL/dx2 through post_attention_layernorm.
	rmsnormBackward(g.dres, L.PostNorm.Grad, g.dln, la.x2, L.PostNorm.Data, la.rstd2, n, C, accumulate)
}
