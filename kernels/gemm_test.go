package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// naive is the textbook triple loop in float64, the oracle for every layout.
func naive(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) []float32 {
	out := append([]float32(nil), c...)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				ai, bi := i*lda+p, p*ldb+j
				if transA {
					ai = p*lda + i
				}
				if transB {
					bi = j*ldb + p
				}
				av, bv := a[ai], b[bi]
				s += float64(av) * float64(bv)
			}
			v := float64(alpha) * s
			if beta != 0 {
				v += float64(beta) * float64(c[i*ldc+j])
			}
			out[i*ldc+j] = float32(v)
		}
	}
	return out
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

func TestSgemmLayouts(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	shapes := [][3]int{{1, 1, 1}, {3, 5, 7}, {17, 1, 33}, {64, 48, 40}, {130, 70, 257}, {1, 300, 2}}
	for _, s := range shapes {
		m, n, k := s[0], s[1], s[2]
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, ab := range [][2]float32{{1, 0}, {0.5, 1}, {-2, 0.25}} {
					lda, ldb := k, n
					if tA {
						lda = m
					}
					if tB {
						ldb = k
					}
					a := randSlice(r, m*k)
					b := randSlice(r, k*n)
					c := randSlice(r, m*n)
					want := naive(tA, tB, m, n, k, ab[0], a, lda, b, ldb, ab[1], c, n)
					got := append([]float32(nil), c...)
					if ab[1] == 0 {
						for i := range got {
							got[i] = float32(math.NaN()) // beta == 0 must not read C
						}
					}
					Sgemm(tA, tB, m, n, k, ab[0], a, lda, b, ldb, ab[1], got, n)
					for i := range want {
						if d := math.Abs(float64(got[i] - want[i])); d > 1e-4*(1+math.Abs(float64(want[i]))) {
							t.Fatalf("%dx%dx%d tA=%v tB=%v alpha=%v beta=%v: c[%d]=%v want %v",
								m, n, k, tA, tB, ab[0], ab[1], i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}
