package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestGemvPath: products of 1..gemvMaxRows rows in the NT layout (the dot-product path)
// match the oracle, for float32 and bfloat16 B, strided operands and every beta.
func TestGemvPath(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for m := 1; m <= gemvMaxRows+1; m++ {
		for _, nk := range [][2]int{{1, 1}, {37, 19}, {300, 129}, {2000, 64}} {
			n, k := nk[0], nk[1]
			lda, ldb, ldc := k+3, k+1, n+2
			a, b, c := randSlice(r, m*lda), randSlice(r, n*ldb), randSlice(r, m*ldc)
			bh := make([]uint16, len(b))
			NarrowBF16(bh, b)
			bw := make([]float32, len(b))
			WidenBF16(bw, bh)
			for _, beta := range []float32{0, 1, -0.5} {
				want := append([]float32(nil), c...)
				SgemmRef(false, true, m, n, k, 1.5, a, lda, bw, ldb, beta, want, ldc)
				got := append([]float32(nil), c...)
				got16 := append([]float32(nil), c...)
				if beta == 0 {
					for i := range got {
						got[i], got16[i] = float32(math.NaN()), float32(math.NaN())
					}
				}
				Sgemm(false, true, m, n, k, 1.5, a, lda, bw, ldb, beta, got, ldc)
				SgemmBF16(false, true, m, n, k, 1.5, a, lda, bh, ldb, beta, got16, ldc)
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						w := want[i*ldc+j]
						tol := 1e-4 * float64(k) * (1 + math.Abs(float64(w)))
						if d := math.Abs(float64(got[i*ldc+j] - w)); !(d <= tol) {
							t.Fatalf("m=%d n=%d k=%d beta=%v: c[%d,%d] = %v, want %v", m, n, k, beta, i, j, got[i*ldc+j], w)
						}
						if d := math.Abs(float64(got16[i*ldc+j] - w)); !(d <= tol) {
							t.Fatalf("bf16 m=%d n=%d k=%d beta=%v: c[%d,%d] = %v, want %v", m, n, k, beta, i, j, got16[i*ldc+j], w)
						}
					}
				}
			}
		}
	}
}
