package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
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

// gemmCase is one product: shape, layout, scalars and padding of the leading dimensions.
type gemmCase struct {
	m, n, k     int
	tA, tB      bool
	alpha, beta float32
	pad         int // extra elements per stored row of A, B and C
}

func (g gemmCase) String() string {
	l := func(t bool) string {
		if t {
			return "T"
		}
		return "N"
	}
	return fmt.Sprintf("%s%s/%dx%dx%d/alpha=%v/beta=%v/pad=%d", l(g.tA), l(g.tB), g.m, g.n, g.k, g.alpha, g.beta, g.pad)
}

// operands returns random A, B, C with their strides.
func (g gemmCase) operands(r *rand.Rand) (a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	ar, ac := g.m, g.k
	if g.tA {
		ar, ac = g.k, g.m
	}
	br, bc := g.k, g.n
	if g.tB {
		br, bc = g.n, g.k
	}
	lda, ldb, ldc = ac+g.pad, bc+g.pad, g.n+g.pad
	a = randSlice(r, max(0, (ar-1)*lda+ac))
	b = randSlice(r, max(0, (br-1)*ldb+bc))
	c = randSlice(r, max(0, (g.m-1)*ldc+g.n))
	return
}

// check runs Sgemm and compares with the float64 oracle. The error bound grows with k:
// float32 sums in a different order differ by about k·ε·Σ|a·b|.
func (g gemmCase) check(t testing.TB, r *rand.Rand) {
	a, lda, b, ldb, c, ldc := g.operands(r)
	want := naive(g.tA, g.tB, g.m, g.n, g.k, g.alpha, a, lda, b, ldb, g.beta, c, ldc)
	got := append([]float32(nil), c...)
	if g.beta == 0 {
		for i := 0; i < g.m; i++ {
			for j := 0; j < g.n; j++ {
				got[i*ldc+j] = float32(math.NaN()) // beta == 0 must not read C
			}
		}
	}
	Sgemm(g.tA, g.tB, g.m, g.n, g.k, g.alpha, a, lda, b, ldb, g.beta, got, ldc)
	tol := 2e-6 * float64(g.k+4) * (math.Abs(float64(g.alpha))*math.Sqrt(float64(g.k)+1) + math.Abs(float64(g.beta)))
	for i := 0; i < g.m; i++ {
		for j := 0; j < ldc && i*ldc+j < len(got); j++ {
			x := i*ldc + j
			if j >= g.n { // padding between rows must be left alone
				if got[x] != c[x] {
					t.Fatalf("%v: padding c[%d,%d] changed from %v to %v", g, i, j, c[x], got[x])
				}
				continue
			}
			if d := math.Abs(float64(got[x] - want[x])); !(d <= tol*(1+math.Abs(float64(want[x])))) {
				t.Fatalf("%v (isa %s): c[%d,%d]=%v want %v (|diff| %.3g > tol %.3g)",
					g, ISA(), i, j, got[x], want[x], d, tol)
			}
		}
	}
}

// gemmEdgeSizes are the dimensions around every kernel's mr, nr and blocking boundaries.
func gemmEdgeSizes() []int {
	set := map[int]bool{1: true, 2: true, 3: true, 300: true}
	for _, name := range Supported() {
		kern := gemmKernelFor(name)
		for _, v := range []int{kern.mr, kern.nr, 2 * kern.mr, 2 * kern.nr, kern.kc} {
			for _, d := range []int{-1, 0, 1} {
				if v+d >= 1 && v+d <= 300 {
					set[v+d] = true
				}
			}
		}
	}
	var s []int
	for v := range set {
		s = append(s, v)
	}
	slices.Sort(s)
	return s
}

func TestSgemmEdges(t *testing.T) {
	sizes := gemmEdgeSizes()
	forEachISA(testing.TB(t), func(t testing.TB) {
		r := rand.New(rand.NewPCG(3, 4))
		for _, m := range sizes {
			for _, n := range sizes {
				// Every (m, n) pair with a k that moves through the sizes too, cycling
				// the layout, scalars and padding so all combinations are hit.
				i := m*7 + n*13
				k := sizes[i%len(sizes)]
				g := gemmCase{m: m, n: n, k: k, tA: i&1 != 0, tB: i&2 != 0, pad: i % 3}
				g.alpha = []float32{1, -0.5, 2}[i/4%3]
				g.beta = []float32{0, 1, 0.75, -1}[i/12%4]
				g.check(t, r)
			}
		}
	})
}

func TestSgemmScalars(t *testing.T) {
	forEachISA(testing.TB(t), func(t testing.TB) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, shape := range [][3]int{{1, 1, 1}, {37, 45, 70}, {70, 100, 300}, {9, 33, 257}} {
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					for _, alpha := range []float32{0, 1, -1.5} {
						for _, beta := range []float32{0, 1, 0.5} {
							g := gemmCase{m: shape[0], n: shape[1], k: shape[2], tA: tA, tB: tB,
								alpha: alpha, beta: beta, pad: 5}
							g.check(t, r)
						}
					}
				}
			}
		}
	})
}

// TestSgemmLarge crosses the k, m and n blocking and runs on several goroutines.
func TestSgemmLarge(t *testing.T) {
	shapes := [][3]int{{300, 300, 300}, {513, 129, 1100}, {64, 2100, 40}, {1030, 77, 33}}
	if testing.Short() {
		shapes = shapes[:1]
	}
	forEachISA(testing.TB(t), func(t testing.TB) {
		r := rand.New(rand.NewPCG(7, 8))
		for i, s := range shapes {
			g := gemmCase{m: s[0], n: s[1], k: s[2], tA: i&1 != 0, tB: i&2 == 0, alpha: 0.5, beta: float32(i % 2), pad: i}
			g.check(t, r)
		}
	})
}

func TestSgemmBF16(t *testing.T) {
	forEachISA(testing.TB(t), func(t testing.TB) {
		r := rand.New(rand.NewPCG(9, 10))
		for _, s := range [][3]int{{1, 1, 1}, {17, 31, 33}, {100, 70, 300}, {8, 600, 64}} {
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					g := gemmCase{m: s[0], n: s[1], k: s[2], tA: tA, tB: tB, alpha: 1.5, beta: 0.5, pad: 3}
					a, lda, b, ldb, c, ldc := g.operands(r)
					bh := make([]uint16, len(b))
					NarrowBF16(bh, b)
					WidenBF16(b, bh)
					want := append([]float32(nil), c...)
					Sgemm(tA, tB, g.m, g.n, g.k, g.alpha, a, lda, b, ldb, g.beta, want, ldc)
					got := append([]float32(nil), c...)
					SgemmBF16(tA, tB, g.m, g.n, g.k, g.alpha, a, lda, bh, ldb, g.beta, got, ldc)
					if !slices.Equal(got, want) { // same packed values, same kernel: bit-exact
						t.Fatalf("%v: SgemmBF16 differs from Sgemm on the widened B", g)
					}
				}
			}
		}
	})
}

func TestSgemmPanics(t *testing.T) {
	a := make([]float32, 12)
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"short a", func() { Sgemm(false, false, 4, 3, 4, 1, a[:15-4], 4, a, 3, 0, a, 3) }},
		{"small ldc", func() { Sgemm(false, false, 2, 3, 2, 1, a, 2, a, 3, 0, a, 2) }},
		{"negative", func() { Sgemm(false, false, -1, 3, 2, 1, a, 2, a, 3, 0, a, 3) }},
		{"short c", func() { Sgemm(false, false, 5, 3, 2, 1, a, 2, a, 3, 0, a, 3) }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			tc.f()
		}()
	}
}

// gemmBenchShapes are the target shapes and the model's: M = tokens, N and K = model
// dimensions (Qwen2-0.5B: hidden 896, MLP 4864; smaller configs 256..688).
var gemmBenchShapes = []struct {
	name    string
	tA, tB  bool
	m, n, k int
}{
	{"NN/1024x1024x1024", false, false, 1024, 1024, 1024},
	{"NN/512x2048x768", false, false, 512, 2048, 768},
	{"NT/1024x1024x1024", false, true, 1024, 1024, 1024},
	{"NT/512x2048x768", false, true, 512, 2048, 768},
	{"NT/1024x688x256", false, true, 1024, 688, 256},
	{"NT/1024x256x688", false, true, 1024, 256, 688},
	{"NT/1024x4096x256", false, true, 1024, 4096, 256},
	{"NT/1024x896x4864", false, true, 1024, 896, 4864},
	{"NN/1024x256x688", false, false, 1024, 256, 688},
	{"TN/256x256x1024", true, false, 256, 256, 1024},
	{"TN/688x256x1024", true, false, 688, 256, 1024},
	{"NN/256x256x1024", false, false, 256, 256, 1024},
	{"NT/64x64x64", false, true, 64, 64, 64},
	{"NT/1x4864x896", false, true, 1, 4864, 896},   // one token of generation
	{"NT/4x896x896", false, true, 4, 896, 896},     // a few rows of generation
	{"NT/1024x16x896", false, true, 1024, 16, 896}, // LoRA down
	{"NT/1024x896x16", false, true, 1024, 896, 16}, // LoRA up
	{"TN/16x896x1024", true, false, 16, 896, 1024}, // LoRA A gradient
}

func BenchmarkSgemm(b *testing.B) {
	for _, s := range gemmBenchShapes {
		b.Run(s.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			g := gemmCase{m: s.m, n: s.n, k: s.k, tA: s.tA, tB: s.tB}
			a, lda, bb, ldb, c, ldc := g.operands(r)
			b.ResetTimer()
			for b.Loop() {
				Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, ldc)
			}
			b.ReportMetric(2*float64(s.m)*float64(s.n)*float64(s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func BenchmarkSgemmBF16(b *testing.B) {
	for _, s := range gemmBenchShapes[:8] {
		if !s.tB && s.name[:2] != "NN" {
			continue
		}
		b.Run(s.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			g := gemmCase{m: s.m, n: s.n, k: s.k, tA: s.tA, tB: s.tB}
			a, lda, bf, ldb, c, ldc := g.operands(r)
			bh := make([]uint16, len(bf))
			NarrowBF16(bh, bf)
			b.ResetTimer()
			for b.Loop() {
				SgemmBF16(s.tA, s.tB, s.m, s.n, s.k, 1, a, lda, bh, ldb, 0, c, ldc)
			}
			b.ReportMetric(2*float64(s.m)*float64(s.n)*float64(s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
