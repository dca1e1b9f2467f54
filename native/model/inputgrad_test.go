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
