package model

import "fmt"

// Passes for attacks that optimise input tokens (GCG): a forward that scores only some
// positions, and the gradient of a Backward's loss with respect to one-hot inputs.

// ForwardRows runs the model over a batch like Forward but computes the logits of the
// listed token rows only (row b·T+t), returned [len(rows), V] in that order: scoring many
// sequences at a few positions skips most of lm_head and its memory. Backward cannot
// follow it. The slice is reused by the next pass.
func (m *Model) ForwardRows(b *Batch, rows []int) ([]float32, error) {
	if err := b.Check(m.Config.VocabSize); err != nil {
		return nil, err
	}
	if err := checkRows(rows, b.B*b.T); err != nil {
		return nil, err
	}
	mask := b.Mask
	if mask == nil {
		mask = allReal(len(b.IDs))
	}
	a := m.begin(b.IDs, mask, b.B, b.T, 0, nil)
	a.train, a.kcap, a.keyMask = false, b.T, mask
	m.embedForward(a)
	for l := range m.Layers {
		m.blockForward(l, a, nil)
	}
	return m.headRows(a, rows), nil
}

// PrefixCache returns a cache of rows rows that all hold the tokens of prefix, computed
// once and copied, with room for extra more tokens per row: the shared start of many
// sequences that ForwardRowsAfter then continues.
func (m *Model) PrefixCache(prefix []int32, rows, extra int) (*Cache, error) {
	P := len(prefix)
	if rows <= 0 || P == 0 || extra < 0 {
		return nil, fmt.Errorf("prefix cache: %d rows of a %d-token prefix", rows, P)
	}
	one := m.NewCache(1, P)
	if _, err := m.Step(one, prefix, nil); err != nil {
		return nil, err
	}
	c := m.NewCache(rows, P+extra)
	kvw := m.Config.NumKVHeads * m.Config.HeadDim
	for l := range c.k {
		for r := 0; r < rows; r++ {
			copy(c.k[l][r*c.Cap*kvw:], one.k[l][:P*kvw])
			copy(c.v[l][r*c.Cap*kvw:], one.v[l][:P*kvw])
		}
	}
	for r := 0; r < rows; r++ {
		copy(c.mask[r*c.Cap:], one.mask[:P])
		c.count[r] = one.count[0]
	}
	c.Len = P
	return c, nil
}

// ForwardRowsAfter is ForwardRows for a batch whose c.B rows continue the tokens cached
// in c (the new tokens attend to them and their positions follow them): it returns the
// logits of the listed token rows of the batch. c is left as it was, so that the next
// batch continues the same tokens. Backward cannot follow it.
func (m *Model) ForwardRowsAfter(c *Cache, b *Batch, rows []int) ([]float32, error) {
	if b.B != c.B {
		return nil, fmt.Errorf("forward: %d rows after a cache of %d", b.B, c.B)
	}
	if err := b.Check(m.Config.VocabSize); err != nil {
		return nil, err
	}
	if err := checkRows(rows, b.B*b.T); err != nil {
		return nil, err
	}
	count := append([]int32(nil), c.count...)
	a, err := m.passCached(c, b.IDs, b.Mask)
	copy(c.count, count)
	for r := 0; r < c.B; r++ {
		clear(c.mask[r*c.Cap+c.Len : (r+1)*c.Cap])
	}
	if err != nil {
		return nil, err
	}
	return m.headRows(a, rows), nil
}

// checkRows refuses a token row outside a batch of n.
func checkRows(rows []int, n int) error {
	for _, r := range rows {
		if r < 0 || r >= n {
			return fmt.Errorf("forward: row %d is outside the batch's %d token rows", r, n)
		}
	}
	return nil
}

// headRows applies the final norm and lm_head to the listed token rows of the last
// pass's output and returns their logits [len(rows), V].
func (m *Model) headRows(a *activations, rows []int) []float32 {
	C := m.Config.HiddenSize
	a.last = grow(&a.last, len(rows)*C)
	for k, r := range rows {
		copy(a.last[k*C:(k+1)*C], a.xf[r*C:(r+1)*C])
	}
	return m.headForward(a, a.last, len(rows))
}

// TokenGrad writes to dst [len(rows), V] the gradient of the last Backward's loss with
// respect to the one-hot input vector of each listed token row (row b·T+t): as the input
// embedding is onehot·E, dst[k·V+v] = dL/dx · E[v], with x the row's input embedding.
// This is the gradient of Zou et al.'s greedy coordinate gradient attack; it needs no
// trainable weight, so a frozen model computes it without any weight gradient.
func (m *Model) TokenGrad(dst []float32, rows []int) error {
	a := m.acts
	if a == nil || !a.grads {
		return fmt.Errorf("token gradient: no Backward after the last training forward")
	}
	C, V, n := m.Config.HiddenSize, m.Config.VocabSize, a.B*a.T
	if len(dst) != len(rows)*V {
		return fmt.Errorf("token gradient: dst has %d values, want %d", len(dst), len(rows)*V)
	}
	if len(rows) == 0 {
		return nil
	}
	dx := grow(&a.g.dln, len(rows)*C) // free after Backward
	for k, r := range rows {
		if r < 0 || r >= n {
			return fmt.Errorf("token gradient: row %d is outside the batch's %d token rows", r, n)
		}
		copy(dx[k*C:(k+1)*C], a.g.dres[r*C:(r+1)*C])
	}
	m.Embed.gemmW(false, true, len(rows), V, C, 1, dx, C, C, 0, dst, V)
	return nil
}

// Rows is a view of the first n rows of c (n <= c.B), sharing its keys, values and masks:
// a smaller batch can continue the same cached tokens. The view's Len is its own.
func (c *Cache) Rows(n int) *Cache {
	v := &Cache{B: n, Cap: c.Cap, Len: c.Len, mask: c.mask[:n*c.Cap], count: c.count[:n]}
	for l := range c.k {
		w := len(c.k[l]) / c.B // Cap·KV
		v.k = append(v.k, c.k[l][:n*w])
		v.v = append(v.v, c.v[l][:n*w])
	}
	return v
}
