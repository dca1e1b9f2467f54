package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestForwardRows: the logits of the listed rows are Forward's logits of those rows, on a
// padded batch, and Backward refuses to follow the pass.
func TestForwardRows(t *testing.T) {
	m := tinyModel(t, "qwen2", 5)
	b := paddedBatch(m.Config.VocabSize, 3)
	V := m.Config.VocabSize
	full, err := m.Forward(b)
	if err != nil {
		t.Fatal(err)
	}
	full = append([]float32(nil), full...)
	rows := []int{20, 0, 6, 9}
	got, err := m.ForwardRows(b, rows)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows)*V {
		t.Fatalf("%d logits for %d rows", len(got), len(rows))
	}
	for k, r := range rows {
		for v := 0; v < V; v++ {
			if d := math.Abs(float64(got[k*V+v] - full[r*V+v])); d > 1e-5 {
				t.Fatalf("row %d, id %d: %g, Forward %g", r, v, got[k*V+v], full[r*V+v])
			}
		}
	}
	if err := m.Backward(make([]float32, len(full))); err == nil {
		t.Error("Backward after ForwardRows")
	}
	if _, err := m.ForwardRows(b, []int{b.B * b.T}); err == nil {
		t.Error("a row outside the batch")
	}
}

// TestTokenGrad checks the one-hot gradient against central differences of L = Σ R·logits
// along E[v]: moving the embedding row of a token that occurs once in the batch by ε·E[v]
// moves that token's input alone, so dL/dε = TokenGrad[v]. The model is untied, so the
// move does not reach lm_head.
func TestTokenGrad(t *testing.T) {
	m := tinyModel(t, "llama", 11)
	V, C := m.Config.VocabSize, m.Config.HiddenSize
	b := &Batch{B: 2, T: 5, IDs: []int32{1, 2, 3, 4, 5, 6, 7, 8, 0, 0}, Mask: []bool{true, true, true, true, true, true, true, true, false, false}}
	r := rand.New(rand.NewPCG(2, 2))
	R := make([]float32, b.B*b.T*V)
	for i := range R {
		if b.Mask[i/V] {
			R[i] = float32(r.NormFloat64())
		}
	}
	loss := func() float64 {
		logits, err := m.Forward(b)
		if err != nil {
			t.Fatal(err)
		}
		var s float64
		for i, l := range logits {
			s += float64(R[i]) * float64(l)
		}
		return s
	}
	if err := m.TokenGrad(make([]float32, V), []int{0}); err == nil {
		t.Error("TokenGrad before any Backward")
	}
	loss()
	if err := m.Backward(R); err != nil {
		t.Fatal(err)
	}
	rows := []int{2, 6} // ids 3 and 7
	g := make([]float32, len(rows)*V)
	if err := m.TokenGrad(g, rows); err != nil {
		t.Fatal(err)
	}
	E := m.Embed.W.Data
	for k, row := range rows {
		cur := int(b.IDs[row])
		for _, v := range []int{0, 9, 22} {
			dir := append([]float32(nil), E[v*C:(v+1)*C]...)
			orig := append([]float32(nil), E[cur*C:(cur+1)*C]...)
			const eps = 1e-2
			for i := range dir {
				E[cur*C+i] = orig[i] + eps*dir[i]
			}
			up := loss()
			for i := range dir {
				E[cur*C+i] = orig[i] - eps*dir[i]
			}
			down := loss()
			copy(E[cur*C:], orig)
			fd := (up - down) / (2 * eps)
			if d := math.Abs(fd - float64(g[k*V+v])); d > 1e-2*math.Max(1, math.Abs(fd)) {
				t.Errorf("row %d, id %d: TokenGrad %.5f, finite difference %.5f", row, v, g[k*V+v], fd)
			}
		}
	}
	loss() // a new pass: the gradient of the last Backward is gone
	if err := m.TokenGrad(g, rows); err == nil {
		t.Error("TokenGrad after a new forward")
	}
}

// TestForwardRowsAfter: rows continuing a shared cached prefix, right-padded, get the
// logits ForwardRows gives the whole sequences, and the cache serves a second batch
// unchanged.
func TestForwardRowsAfter(t *testing.T) {
	m := tinyModel(t, "mistral", 8) // a sliding window of 3 reaches back into the prefix
	V := m.Config.VocabSize
	prefix := []int32{3, 9, 4, 1}
	c, err := m.PrefixCache(prefix, 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, rest := range [][][]int32{{{5, 6, 7}, {8, 2}}, {{1}, {2, 2, 2, 2, 2}}} {
		T := 0
		for _, r := range rest {
			T = max(T, len(r))
		}
		b := &Batch{B: 2, T: T, IDs: make([]int32, 2*T), Mask: make([]bool, 2*T)}
		full := &Batch{B: 2, T: len(prefix) + T, IDs: make([]int32, 2*(len(prefix)+T)), Mask: make([]bool, 2*(len(prefix)+T))}
		var rows, fullRows []int
		for r, x := range rest {
			copy(full.IDs[r*full.T:], prefix)
			copy(full.IDs[r*full.T+len(prefix):], x)
			copy(b.IDs[r*T:], x)
			for i := range x {
				b.Mask[r*T+i], rows = true, append(rows, r*T+i)
				fullRows = append(fullRows, r*full.T+len(prefix)+i)
			}
			for i := range len(prefix) + len(x) {
				full.Mask[r*full.T+i] = true
			}
		}
		got, err := m.ForwardRowsAfter(c, b, rows)
		if err != nil {
			t.Fatal(err)
		}
		got = append([]float32(nil), got...)
		want, err := m.ForwardRows(full, fullRows)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if d := math.Abs(float64(got[i] - want[i])); d > 1e-5 {
				t.Fatalf("%v: row %d, id %d: %g, whole sequence %g", rest, i/V, i%V, got[i], want[i])
			}
		}
	}
	// A view of the first row continues the same prefix.
	one, err := m.ForwardRowsAfter(c.Rows(1), &Batch{B: 1, T: 2, IDs: []int32{8, 2}}, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	one = append([]float32(nil), one...)
	want, _ := m.ForwardRows(&Batch{B: 1, T: 6, IDs: []int32{3, 9, 4, 1, 8, 2}}, []int{5})
	for i := range want {
		if d := math.Abs(float64(one[i] - want[i])); d > 1e-5 {
			t.Fatalf("a view of one row: id %d: %g, whole sequence %g", i, one[i], want[i])
		}
	}
	if _, err := m.ForwardRowsAfter(c, &Batch{B: 3, T: 1, IDs: []int32{1, 2, 3}}, nil); err == nil {
		t.Error("a batch of another size than the cache")
	}
	if _, err := m.ForwardRowsAfter(c, &Batch{B: 2, T: 6, IDs: make([]int32, 12)}, nil); err == nil {
		t.Error("more tokens than the cache holds")
	}
}
