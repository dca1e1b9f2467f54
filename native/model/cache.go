package model

import "fmt"

// Cache holds the keys and values of the tokens already seen by B sequences decoded
// together, so that each new token costs one row of work instead of a full pass.
type Cache struct {
	B, Cap, Len int
	k, v        [][]float32 // per layer [B, Cap, KV], keys after RoPE
	mask        []bool      // [B, Cap]: which cached tokens are real (left padding is not)
	count       []int32     // [B] real tokens so far per row: the next position
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

// put stores layer l's keys and values of the T new tokens per row (k, v [B, T, KV]) after
// the cached ones and returns the layer's whole cache [B, Cap, KV].
func (c *Cache) put(l int, k, v []float32) (keys, values []float32) {
	w := len(k) / c.B // T·KV
	kvw := len(c.k[l]) / (c.B * c.Cap)
	for b := 0; b < c.B; b++ {
		copy(c.k[l][(b*c.Cap+c.Len)*kvw:], k[b*w:(b+1)*w])
		copy(c.v[l][(b*c.Cap+c.Len)*kvw:], v[b*w:(b+1)*w])
	}
	return c.k[l], c.v[l]
}

// Step feeds T new tokens per row ([B, T] ids, mask nil for all real) through the model,
// appending them to the cache, and returns each row's logits at its last new position
// [B, V]. The slice is reused by the next call. Step replaces the activations a training
// Forward kept, so Backward cannot follow it.
func (m *Model) Step(c *Cache, ids []int32, mask []bool) ([]float32, error) {
	a, err := m.passCached(c, ids, mask)
	if err != nil {
		return nil, err
	}
	c.Len += a.T
	// Only each row's last position is scored: decoding needs nothing else.
	rows := make([]int, a.B)
	for r := range rows {
		rows[r] = r*a.T + a.T - 1
	}
	return m.headRows(a, rows), nil
}

// passCached runs T new tokens per row ([B, T] ids, mask nil for all real) through the
// blocks against c: their keys and values are written after the cached ones and each
// row's position count advances, but c.Len does not (the caller commits the tokens).
func (m *Model) passCached(c *Cache, ids []int32, mask []bool) (*activations, error) {
	if len(ids) == 0 || len(ids)%c.B != 0 {
		return nil, fmt.Errorf("step: %d ids for %d rows", len(ids), c.B)
	}
	B, T := c.B, len(ids)/c.B
	if c.Len+T > c.Cap {
		return nil, fmt.Errorf("step: %d cached + %d new tokens exceed the cache's %d", c.Len, T, c.Cap)
	}
	b := Batch{B: B, T: T, IDs: ids, Mask: mask}
	if err := b.Check(m.Config.VocabSize); err != nil {
		return nil, err
	}
	if mask == nil {
		mask = allReal(len(ids))
	}
	a := m.begin(ids, mask, B, T, c.Len, c.count)
	for r := 0; r < B; r++ {
		copy(c.mask[r*c.Cap+c.Len:], mask[r*T:(r+1)*T])
	}
	a.train, a.kcap, a.keyMask = false, c.Cap, c.mask
	m.embedForward(a)
	for l := range m.Layers {
		m.blockForward(l, a, c)
	}
	return a, nil
}
