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
	n := b.B * b.T
	for _, r := range rows {
		if r < 0 || r >= n {
			return nil, fmt.Errorf("forward: row %d is outside the batch's %d token rows", r, n)
		}
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
	C := m.Config.HiddenSize
	a.last = grow(&a.last, len(rows)*C)
	for k, r := range rows {
		copy(a.last[k*C:(k+1)*C], a.xf[r*C:(r+1)*C])
	}
	return m.headForward(a, a.last, len(rows)), nil
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
