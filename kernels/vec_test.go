package kernels

import (
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
)

// The kernels are checked on every instruction set this CPU has, against float64
// arithmetic (what they approximate) and against the Generic kernels (what they must
// agree with), over every length up to 300, so that each vector width, unrolled loop and
// tail is crossed, and a few long rows that go to the assembly in several pieces.

var vecLengths = func() []int {
	var ns []int
	for n := 0; n <= 300; n++ {
		ns = append(ns, n)
	}
	return append(ns, 1000, 4096, 100000)
}()

// guardBits fills the memory just past a slice, to catch reads (a NaN that would
// spread into sums) and writes (a changed pattern) beyond its end.
const guardBits = 0x7fc0dead

const guardLen = 17

// vecBuf returns a slice of n normally distributed values times scale, followed in
// memory by guardLen guard values.
func vecBuf(r *rand.Rand, n int, scale float64) []float32 {
	s := make([]float32, n+guardLen)
	for i := range s[:n] {
		s[i] = float32(r.NormFloat64() * scale)
	}
	for i := n; i < len(s); i++ {
		s[i] = math.Float32frombits(guardBits)
	}
	return s[:n]
}

// guarded returns a copy of s followed in memory by guard values.
func guarded(s []float32) []float32 {
	g := make([]float32, len(s), len(s)+guardLen)
	copy(g, s)
	for range guardLen {
		g = append(g, math.Float32frombits(guardBits))
	}
	return g[:len(s)]
}

func checkGuard(t *testing.T, name string, s []float32) {
	t.Helper()
	for i, v := range s[len(s):cap(s)] {
		if math.Float32bits(v) != guardBits {
			t.Fatalf("%s: wrote past the end: [%d+%d] = %v", name, len(s), i, v)
		}
	}
}

// within reports whether got is within tol of want, counting NaN as equal to NaN and an
// infinity as equal only to itself.
func within(got float32, want, tol float64) bool {
	g := float64(got)
	switch {
	case math.IsNaN(want) || math.IsNaN(g):
		return math.IsNaN(want) && math.IsNaN(g)
	case math.IsInf(want, 0) || math.IsInf(g, 0):
		return g == want
	}
	return math.Abs(g-want) <= tol
}

// eps32 is float32's unit roundoff.
const eps32 = 1.0 / (1 << 24)

func TestDotAxpy(t *testing.T) {
	forEachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 1))
		for _, n := range vecLengths {
			x, y := vecBuf(r, n, 1), vecBuf(r, n+3, 1) // y may be longer
			var exact, mag float64
			for i := range x {
				exact += float64(x[i]) * float64(y[i])
				mag += math.Abs(float64(x[i]) * float64(y[i]))
			}
			// Any summation order is within n roundings of the magnitude.
			if got := Dot(x, y); !within(got, exact, float64(n+2)*eps32*mag) {
				t.Fatalf("n=%d: Dot = %v, want %v", n, got, exact)
			}

			a := float32(r.NormFloat64())
			want := make([]float64, n)
			for i := range want {
				want[i] = float64(a)*float64(x[i]) + float64(y[i])
			}
			yTail := y[n]
			Axpy(a, x, y)
			for i := range want {
				tol := 2 * eps32 * (math.Abs(float64(a)*float64(x[i])) + math.Abs(float64(y[i])))
				if !within(y[i], want[i], tol) {
					t.Fatalf("n=%d: Axpy y[%d] = %v, want %v", n, i, y[i], want[i])
				}
			}
			if y[n] != yTail {
				t.Fatalf("n=%d: Axpy wrote y[len(x)]", n)
			}
			checkGuard(t, "Axpy", y)
		}
		mustPanic(t, "Dot with short y", func() { Dot(make([]float32, 5), make([]float32, 4)) })
		mustPanic(t, "Axpy with short y", func() { Axpy(1, make([]float32, 5), make([]float32, 4)) })
	})
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", what)
		}
	}()
	f()
}

func TestScaleAddSumMax(t *testing.T) {
	forEachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(2, 2))
		for _, n := range vecLengths {
			x, y := vecBuf(r, n, 3), vecBuf(r, n, 3)

			got, want := guarded(x), slices.Clone(x)
			Scale(-1.5, got)
			scaleRef(-1.5, want)
			if !slices.Equal(got, want) {
				t.Fatalf("n=%d: Scale differs from Generic", n)
			}
			checkGuard(t, "Scale", got)

			dst := vecBuf(r, n, 0)
			Add(dst, x, y)
			want = make([]float32, n)
			addRef(want, x, y)
			if !slices.Equal(dst, want) {
				t.Fatalf("n=%d: Add differs from Generic", n)
			}
			checkGuard(t, "Add", dst)
			xx := slices.Clone(x)
			Add(xx, xx, y) // in place
			if !slices.Equal(xx, want) {
				t.Fatalf("n=%d: Add in place differs", n)
			}

			var exact, mag float64
			for _, v := range x {
				exact += float64(v)
				mag += math.Abs(float64(v))
			}
			if got := Sum(x); !within(got, exact, float64(n+2)*eps32*mag) {
				t.Fatalf("n=%d: Sum = %v, want %v", n, got, exact)
			}

			if got, want := Max(x), maxRef(x); got != want {
				t.Fatalf("n=%d: Max = %v, want %v", n, got, want)
			}
			if n > 0 {
				// Special values at every position: NaN wins, +Inf beats numbers, -Inf
				// only matters when alone.
				i := r.IntN(n)
				for _, s := range []float32{nan32(), inf32(1), inf32(-1), 1e30, -0.0} {
					x[i] = s
					if got, want := Max(x), maxRef(x); !sameFloat(got, want) {
						t.Fatalf("n=%d: Max with %v at %d = %v, want %v", n, s, i, got, want)
					}
				}
			}
		}
		if got := Max(nil); !math.IsInf(float64(got), -1) {
			t.Errorf("Max(nil) = %v", got)
		}
		allNegInf := slices.Repeat([]float32{inf32(-1)}, 37)
		if got := Max(allNegInf); !math.IsInf(float64(got), -1) {
			t.Errorf("Max(-Inf...) = %v", got)
		}
	})
}

func nan32() float32              { return float32(math.NaN()) }
func inf32(sign int) float32      { return float32(math.Inf(sign)) }
func isNaN32(f float32) bool      { return f != f }
func sameFloat(a, b float32) bool { return a == b || isNaN32(a) && isNaN32(b) }

// ulpsOff returns how far got is from the exact value, in float32 ulps at exact: the
// spacing of float32 there, 2^-149 among the subnormals. An infinite result counts as
// 2^128, the first value past the largest float32.
func ulpsOff(got float32, exact float64) float64 {
	g := float64(got)
	if math.IsInf(g, 1) {
		if float32(exact) == got {
			return 0 // exact overflows too
		}
		g = 0x1p128
	}
	exact = math.Min(exact, 0x1p128)
	_, e := math.Frexp(math.Max(math.Abs(exact), 0x1p-126))
	ulp := math.Ldexp(1, min(e-24, 104))
	return math.Abs(g-exact) / ulp
}

// expSpecial are inputs where exp is easy to get wrong.
var expSpecial = []float32{
	0, float32(math.Copysign(0, -1)), 1, -1, 0.5, -0.5,
	0.34657359, -0.34657359, 0.3465736, -0.3465736, // ±ln2/2, where n changes
	float32(math.Ln2), -float32(math.Ln2),
	10, -10, 20, -20, 50, -50, 80, -80, 100, -100,
	88, 88.72, 88.7228, 88.72283, 88.722839, 88.7229, 88.73, 89, 89.5, 1000, 1e30, math.MaxFloat32,
	-87, -87.33, -87.34, -88, -100, -103, -103.27, -103.28, -103.3, -103.9, -103.97, -103.98, -104, -104.5, -1000, -1e30, -math.MaxFloat32,
	1e-7, -1e-7, 1e-20, -1e-20, 1e-38, -1e-38,
	1e-40, -1e-40, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, // subnormal inputs
	float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
}

func TestExpSpecial(t *testing.T) {
	forEachISA(t, func(t *testing.T) {
		// Every special value in every lane of a vector, and in a tail.
		for rot := range 17 {
			src := make([]float32, 0, len(expSpecial)+rot)
			src = append(src, make([]float32, rot)...)
			src = append(src, expSpecial...)
			dst := make([]float32, len(src))
			Exp(dst, src)
			for i, x := range src {
				exact := math.Exp(float64(x))
				got := dst[i]
				switch {
				case math.IsNaN(float64(x)):
					if !isNaN32(got) {
						t.Fatalf("exp(NaN) = %v", got)
					}
				case math.IsInf(float64(x), -1) || x < -104:
					if got != 0 {
						t.Fatalf("exp(%v) = %v, want 0", x, got)
					}
				case ulpsOff(got, exact) > 2:
					t.Fatalf("exp(%v) = %v, want %v (%.2f ulps off)", x, got, exact, ulpsOff(got, exact))
				}
			}
		}
		// The overflow threshold: exp(88.72283) < MaxFloat32 < exp(88.72284).
		var d [2]float32
		Exp(d[:], []float32{88.72283, 88.72284})
		if math.IsInf(float64(d[0]), 0) || !math.IsInf(float64(d[1]), 1) {
			t.Errorf("exp(88.72283), exp(88.72284) = %v, %v; want finite, +Inf", d[0], d[1])
		}
	})
}

// TestExpSweep measures Exp's error over float32 inputs spread evenly, by bit pattern,
// across the whole range where exp is neither 0 nor +Inf, subnormal results included.
// With KERNELS_EXHAUSTIVE=1 it takes every float32 there (a few minutes).
func TestExpSweep(t *testing.T) {
	step := uint32(997)
	if os.Getenv("KERNELS_EXHAUSTIVE") != "" {
		step = 1
	} else if testing.Short() {
		step = 99991
	}
	forEachISA(t, func(t *testing.T) {
		const batch = 4096
		src, dst := make([]float32, 0, batch), make([]float32, batch)
		var worst float64
		var worstX float32
		flush := func() {
			Exp(dst[:len(src)], src)
			for i, x := range src {
				if e := ulpsOff(dst[i], math.Exp(float64(x))); e > worst || e != e {
					worst, worstX = e, x
				}
			}
			src = src[:0]
		}
		// Positive inputs up to 89, then negative ones down to -104.
		for _, r := range [][2]uint32{{0, 0x42b20000}, {0x80000000, 0xc2d00000}} {
			for b := r[0]; b <= r[1]; b += step {
				src = append(src, math.Float32frombits(b))
				if len(src) == batch {
					flush()
				}
			}
		}
		flush()
		t.Logf("max error %.3f ulps, at exp(%v)", worst, worstX)
		if !(worst <= 2) {
			t.Errorf("max error %.3f ulps at exp(%v), want <= 2", worst, worstX)
		}
	})
}

func TestExp(t *testing.T) {
	forEachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 3))
		for _, n := range vecLengths {
			src := vecBuf(r, n, 30)
			dst := vecBuf(r, n, 0)
			Exp(dst, src)
			for i, x := range src {
				if e := ulpsOff(dst[i], math.Exp(float64(x))); e > 2 {
					t.Fatalf("n=%d: exp(%v) = %v, %.2f ulps off", n, x, dst[i], e)
				}
			}
			checkGuard(t, "Exp", dst)
			Exp(src, src) // in place
			if !slices.Equal(src, dst) {
				t.Fatalf("n=%d: Exp in place differs", n)
			}
		}
	})
}

// softmax64 is softmax in float64 with all zeros when every entry is -Inf, and the
// float64 sum of exps. It subtracts the maximum in float32, as the kernels are defined
// to: that rounding alone moves exp by up to |x-max| * 2^-24 relative, more than the
// rest of a kernel's error for large differences.
func softmax64(x []float32) (p []float64, sum float64) {
	m := float32(math.Inf(-1))
	for _, v := range x {
		m = max(m, v)
	}
	p = make([]float64, len(x))
	if math.IsInf(float64(m), -1) {
		return p, 0
	}
	for i, v := range x {
		p[i] = math.Exp(float64(v - m))
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p, sum
}

// sumTol is the relative error allowed in a float32 sum of n positive terms that each
// carry a few ulps: generous for any summation order.
func sumTol(n int) float64 { return 8*eps32 + float64(n)*eps32/4 }

func TestSoftmaxLogSumExp(t *testing.T) {
	forEachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(4, 4))
		for _, n := range vecLengths {
			x := vecBuf(r, n, 4)
			if n > 2 {
				x[r.IntN(n)] = inf32(-1) // masked out
				x[0] = inf32(-1)
			}
			want, sum := softmax64(x)
			lse := LogSumExp(x)
			got := slices.Clone(x)
			SoftmaxInPlace(got)
			ref := slices.Clone(x)
			softmaxRef(ref)
			tol := sumTol(n)
			for i := range got {
				if math.IsInf(float64(x[i]), -1) && got[i] != 0 {
					t.Fatalf("n=%d: softmax of -Inf = %v, want 0", n, got[i])
				}
				if !within(got[i], want[i], tol*want[i]) || !within(got[i], float64(ref[i]), 2*tol*want[i]) {
					t.Fatalf("n=%d: softmax[%d] = %v, want %v (Generic %v)", n, i, got[i], want[i], ref[i])
				}
			}
			wantLSE := float64(Max(x)) + math.Log(sum)
			if n == 0 {
				wantLSE = math.Inf(-1)
			}
			if !within(lse, wantLSE, tol+4*eps32*math.Abs(wantLSE)) {
				t.Fatalf("n=%d: LogSumExp = %v, want %v", n, lse, wantLSE)
			}
		}
		for _, n := range []int{0, 1, 5, 16, 17, 40} {
			x := slices.Repeat([]float32{inf32(-1)}, n)
			SoftmaxInPlace(x)
			for _, v := range x {
				if v != 0 {
					t.Fatalf("softmax of %d×-Inf = %v", n, x)
				}
			}
			x = slices.Repeat([]float32{inf32(-1)}, n)
			if got := LogSumExp(x); !math.IsInf(float64(got), -1) {
				t.Fatalf("LogSumExp of %d×-Inf = %v", n, got)
			}
		}
		x := []float32{1, 2, nan32(), 3}
		SoftmaxInPlace(x)
		for _, v := range x {
			if !isNaN32(v) {
				t.Fatalf("softmax with NaN = %v", x)
			}
		}
		if got := LogSumExp([]float32{1, inf32(1), 3}); !math.IsInf(float64(got), 1) {
			t.Errorf("LogSumExp with +Inf = %v", got)
		}
		if got := LogSumExp([]float32{1, nan32(), 3}); !isNaN32(got) {
			t.Errorf("LogSumExp with NaN = %v", got)
		}
		// Softmax is shift invariant even far from 0.
		y := []float32{1000, 1001, 1002}
		SoftmaxInPlace(y)
		want, _ := softmax64([]float32{0, 1, 2})
		for i := range y {
			if !within(y[i], want[i], 4*eps32) {
				t.Errorf("softmax(1000, 1001, 1002) = %v, want %v", y, want)
			}
		}
	})
}

// swiglu64 returns silu(g)*u and the two gradients, in float64.
func swiglu64(g, u, dout float32) (out, dgate, dup, dgateMag float64) {
	gg, uu, dd := float64(g), float64(u), float64(dout)
	s := 1 / (1 + math.Exp(-gg))
	out = gg * s * uu
	dup = dd * gg * s
	dgate = dd * uu * s * (1 + gg*(1-s))
	// The last factor cancels near g = -1.28; errors scale with its terms.
	// 1-s, computed in float32, loses the digits of s to cancellation for large g: an
	// absolute error of about 2^-24, times g.
	dgateMag = math.Abs(dd*uu*s) * (1 + 2*math.Abs(gg))
	return
}

// swigluTiny is the absolute error allowed where s = sigmoid(g) is below the float32
// range: exp(-g) overflows for g < -88.7 and the kernels return 0 there, as did the
// model code.
const swigluTiny = 1e-36

func TestSwiGLU(t *testing.T) {
	forEachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 5))
		for _, n := range vecLengths {
			gate, up, dout := vecBuf(r, n, 3), vecBuf(r, n, 1), vecBuf(r, n, 1)
			for i := 0; i < n; i += 7 {
				gate[i] = []float32{100, -100, 0, 20, -20, 88, -88, 89, -89, 1e-30}[(i/7)%10]
			}
			out, dgate, dup := vecBuf(r, n, 0), vecBuf(r, n, 0), vecBuf(r, n, 0)
			SwiGLU(out, gate, up)
			SwiGLUBackward(dgate, dup, dout, gate, up)
			rOut, rDgate, rDup := make([]float32, n), make([]float32, n), make([]float32, n)
			swigluRef(rOut, gate, up)
			swigluBackwardRef(rDgate, rDup, dout, gate, up)
			for i := range gate {
				o, dg, du, dgMag := swiglu64(gate[i], up[i], dout[i])
				const tol = 8 * eps32
				tiny := swigluTiny * (1 + math.Abs(float64(gate[i]))) * (1 + math.Abs(float64(up[i]))) * (1 + math.Abs(float64(dout[i])))
				if !within(out[i], o, tol*math.Abs(o)+tiny) || !within(rOut[i], o, tol*math.Abs(o)+tiny) {
					t.Fatalf("n=%d: swiglu(%v, %v) = %v, want %v (Generic %v)", n, gate[i], up[i], out[i], o, rOut[i])
				}
				if !within(dup[i], du, tol*math.Abs(du)+tiny) || !within(rDup[i], du, tol*math.Abs(du)+tiny) {
					t.Fatalf("n=%d: dup(%v) = %v, want %v (Generic %v)", n, gate[i], dup[i], du, rDup[i])
				}
				if !within(dgate[i], dg, tol*dgMag+tiny) || !within(rDgate[i], dg, tol*dgMag+tiny) {
					t.Fatalf("n=%d: dgate(%v) = %v, want %v (Generic %v)", n, gate[i], dgate[i], dg, rDgate[i])
				}
			}
			for _, s := range [][]float32{out, dgate, dup} {
				checkGuard(t, "SwiGLU", s)
			}
			SwiGLU(gate, gate, up) // in place
			if !slices.Equal(gate, out) {
				t.Fatalf("n=%d: SwiGLU in place differs", n)
			}
		}
	})
}

func TestRMSNorm(t *testing.T) {
	forEachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(6, 6))
		const eps = 1e-6
		for _, n := range vecLengths[1:] {
			x, w, dy := vecBuf(r, n, 2), vecBuf(r, n, 1), vecBuf(r, n, 1)
			y := vecBuf(r, n, 0)
			rstd := RMSNorm(y, x, w, eps)
			var ss float64
			for _, v := range x {
				ss += float64(v) * float64(v)
			}
			r64 := 1 / math.Sqrt(ss/float64(n)+float64(float32(eps)))
			if !within(rstd, r64, sumTol(n)*r64) {
				t.Fatalf("n=%d: rstd = %v, want %v", n, rstd, r64)
			}
			for i := range x {
				want := float64(x[i]) * r64 * float64(w[i])
				if !within(y[i], want, (sumTol(n)+4*eps32)*math.Abs(want)) {
					t.Fatalf("n=%d: y[%d] = %v, want %v", n, i, y[i], want)
				}
			}
			checkGuard(t, "RMSNorm", y)
			xx := slices.Clone(x)
			if RMSNorm(xx, xx, w, eps) != rstd || !slices.Equal(xx, y) {
				t.Fatalf("n=%d: RMSNorm in place differs", n)
			}

			// Backward, with the float64 rstd so only the kernel's own error counts.
			var dot float64
			for i := range x {
				dot += float64(dy[i]) * float64(w[i]) * float64(x[i])
			}
			c := dot * r64 * r64 / float64(n)
			var dotMag float64
			for i := range x {
				dotMag += math.Abs(float64(dy[i]) * float64(w[i]) * float64(x[i]))
			}
			cMag := dotMag * r64 * r64 / float64(n)
			rs := float32(r64)
			for _, accumulate := range []bool{false, true} {
				dx, dw := vecBuf(r, n, 1), vecBuf(r, n, 1)
				dx0, dw0 := slices.Clone(dx), slices.Clone(dw)
				RMSNormBackward(dx, dw, dy, x, w, rs, accumulate)
				for i := range x {
					g := r64 * (float64(dy[i])*float64(w[i]) - float64(x[i])*c)
					gMag := r64 * (math.Abs(float64(dy[i])*float64(w[i])) + math.Abs(float64(x[i]))*cMag)
					want, wantMag := g, gMag
					if accumulate {
						want += float64(dx0[i])
						wantMag += math.Abs(float64(dx0[i]))
					}
					if !within(dx[i], want, (sumTol(n)+6*eps32)*wantMag) {
						t.Fatalf("n=%d acc=%v: dx[%d] = %v, want %v", n, accumulate, i, dx[i], want)
					}
					wantW := float64(dw0[i]) + float64(dy[i])*float64(x[i])*r64
					magW := math.Abs(float64(dw0[i])) + math.Abs(float64(dy[i])*float64(x[i])*r64)
					if !within(dw[i], wantW, 4*eps32*magW) {
						t.Fatalf("n=%d: dw[%d] = %v, want %v", n, i, dw[i], wantW)
					}
				}
				checkGuard(t, "RMSNormBackward dx", dx)
				checkGuard(t, "RMSNormBackward dw", dw)
				// Without dw, dx is the same.
				dx2 := slices.Clone(dx0)
				RMSNormBackward(dx2, nil, dy, x, w, rs, accumulate)
				if !slices.Equal(dx2, dx) {
					t.Fatalf("n=%d: dx depends on dw being there", n)
				}
			}
		}
	})
}

// adamWOptim is native/train's AdamW loop as it was when the kernel was written, with
// the rounding of every product made explicit: that is how Go compiles it for amd64 by
// default, while GOAMD64=v3 or arm64 may fuse its multiply-adds. AdamW must give exactly
// these bits.
func adamWOptim(w, g, m, v []float32, lr, beta1, beta2, epsilon, wd float64, step int) {
	bc1 := 1 - math.Pow(beta1, float64(step))
	bc2 := 1 - math.Pow(beta2, float64(step))
	decay := float32(1 - lr*wd)
	b1, c1 := float32(beta1), float32(1-beta1)
	b2, c2 := float32(beta2), float32(1-beta2)
	stepSize := float32(lr / bc1)
	bc2Sqrt := float32(math.Sqrt(bc2))
	eps := float32(epsilon)
	for i := range w {
		gi := g[i]
		w[i] *= decay
		m[i] = float32(b1*m[i]) + float32(c1*gi)
		v[i] = float32(b2*v[i]) + float32(c2*gi*gi)
		denom := float32(math.Sqrt(float64(v[i])))/bc2Sqrt + eps
		w[i] -= float32(stepSize * (m[i] / denom))
	}
}

func TestAdamW(t *testing.T) {
	forEachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, 7))
		for _, n := range vecLengths {
			p, m, v := vecBuf(r, n, 1), vecBuf(r, n, 0), vecBuf(r, n, 0)
			wp, wm, wv := slices.Clone(p), slices.Clone(m), slices.Clone(v)
			for step := 1; step <= 3; step++ {
				g := vecBuf(r, n, math.Pow(10, float64(r.IntN(9)-6)))
				if n > 0 {
					g[0] = 0
				}
				lr, b1, b2, eps, wd := 1e-3*float64(step), 0.9, 0.999, 1e-8, 0.01
				bc1 := 1 - math.Pow(b1, float64(step))
				bc2 := 1 - math.Pow(b2, float64(step))
				AdamW(p, g, m, v, lr, b1, b2, eps, wd, bc1, bc2)
				adamWOptim(wp, g, wm, wv, lr, b1, b2, eps, wd, step)
				for i := range p {
					if math.Float32bits(p[i]) != math.Float32bits(wp[i]) ||
						math.Float32bits(m[i]) != math.Float32bits(wm[i]) ||
						math.Float32bits(v[i]) != math.Float32bits(wv[i]) {
						t.Fatalf("n=%d step %d: [%d] p, m, v = %v %v %v, native/train has %v %v %v",
							n, step, i, p[i], m[i], v[i], wp[i], wm[i], wv[i])
					}
				}
			}
			for _, s := range [][]float32{p, m, v} {
				checkGuard(t, "AdamW", s)
			}
		}
	})
}

func TestCrossEntropyRow(t *testing.T) {
	forEachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(8, 8))
		for _, n := range append(vecLengths[1:], 32000) {
			logits := vecBuf(r, n, 3)
			target := r.IntN(n)
			if n > 3 {
				logits[(target+1)%n] = inf32(-1) // a masked class
			}
			p, sum := softmax64(logits)
			wantLoss := math.Log(sum) - (float64(logits[target]) - float64(Max(logits)))
			scale := float32(1 / (1 + r.Float64()*100))
			d := vecBuf(r, n, 0)
			loss := CrossEntropyRow(logits, target, d, scale)
			tol := sumTol(n)
			if !within(loss, wantLoss, tol+4*eps32*wantLoss) {
				t.Fatalf("n=%d: loss = %v, want %v", n, loss, wantLoss)
			}
			for i := range d {
				want := float64(scale) * p[i]
				if i == target {
					want -= float64(scale)
				}
				if !within(d[i], want, float64(scale)*(tol*p[i]+2*eps32)) {
					t.Fatalf("n=%d: dlogits[%d] = %v, want %v", n, i, d[i], want)
				}
			}
			checkGuard(t, "CrossEntropyRow", d)
			if l := CrossEntropyRow(logits, target, nil, scale); l != loss {
				t.Fatalf("n=%d: loss without dlogits %v, with %v", n, l, loss)
			}
			ref := make([]float32, n)
			if l := crossEntropyRowRef(logits, target, ref, scale); !within(l, float64(loss), 2*(tol+4*eps32*wantLoss)) {
				t.Fatalf("n=%d: loss %v, Generic %v", n, loss, l)
			}
		}
		// A confident, correct prediction: the loss is below float32's resolution of the
		// sum of exps, 1 + 8e-13, and comes out 0; the error is absolute, not relative.
		logits := []float32{0, 30, -5, 2}
		want := math.Log(1 + math.Exp(-30) + math.Exp(-35) + math.Exp(-28))
		if got := CrossEntropyRow(logits, 1, nil, 1); !within(got, want, eps32) {
			t.Errorf("confident loss = %v, want %v", got, want)
		}
		mustPanic(t, "target out of range", func() { CrossEntropyRow(logits, 4, make([]float32, 4), 1) })
		mustPanic(t, "short dlogits", func() { CrossEntropyRow(logits, 0, make([]float32, 3), 1) })
	})
}

func TestRoPE(t *testing.T) {
	forEachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(9, 9))
		for _, hd := range []int{0, 2, 4, 8, 14, 16, 30, 32, 34, 48, 64, 80, 96, 128, 130, 256} {
			for _, heads := range []int{0, 1, 2, 3, 8, 9} {
				h := hd / 2
				x := vecBuf(r, heads*hd, 1)
				cos, sin := make([]float32, h), make([]float32, h)
				for j := range cos {
					a := r.Float64() * 2 * math.Pi
					cos[j], sin[j] = float32(math.Cos(a)), float32(math.Sin(a))
				}
				for _, inverse := range []bool{false, true} {
					got := guarded(x)
					RoPE(got, cos, sin, heads, hd, inverse)
					checkGuard(t, "RoPE", got)
					for hh := 0; hh < heads; hh++ {
						v, o := x[hh*hd:(hh+1)*hd], got[hh*hd:(hh+1)*hd]
						for j := 0; j < h; j++ {
							c, s := float64(cos[j]), float64(sin[j])
							if inverse {
								s = -s
							}
							x1, x2 := float64(v[j]), float64(v[j+h])
							w1, w2 := x1*c-x2*s, x2*c+x1*s
							tol := 4 * eps32 * (math.Abs(x1*c) + math.Abs(x2*s))
							tol2 := 4 * eps32 * (math.Abs(x2*c) + math.Abs(x1*s))
							if !within(o[j], w1, tol) || !within(o[j+h], w2, tol2) {
								t.Fatalf("hd=%d heads=%d inverse=%v: head %d pair %d = %v %v, want %v %v",
									hd, heads, inverse, hh, j, o[j], o[j+h], w1, w2)
							}
						}
					}
				}
				back := slices.Clone(x)
				RoPE(back, cos, sin, heads, hd, false)
				RoPE(back, cos, sin, heads, hd, true)
				for i := range x {
					if !within(back[i], float64(x[i]), 1e-6) {
						t.Fatalf("hd=%d heads=%d: inverse(RoPE(x))[%d] = %v, x = %v", hd, heads, i, back[i], x[i])
					}
				}
			}
		}
		mustPanic(t, "odd head dimension", func() { RoPE(make([]float32, 6), make([]float32, 1), make([]float32, 1), 2, 3, false) })
		mustPanic(t, "short x", func() { RoPE(make([]float32, 7), make([]float32, 2), make([]float32, 2), 2, 4, false) })
	})
}

// TestVecNoAlloc checks that no kernel allocates.
func TestVecNoAlloc(t *testing.T) {
	forEachISA(t, func(t *testing.T) {
		x, y, z, w := make([]float32, 300), make([]float32, 300), make([]float32, 300), make([]float32, 300)
		for i := range x {
			x[i], y[i], w[i] = 0.5, 0.25, 1
		}
		allocs := testing.AllocsPerRun(10, func() {
			Dot(x, y)
			Axpy(1, x, z)
			Exp(z, x)
			SoftmaxInPlace(z)
			LogSumExp(x)
			SwiGLU(z, x, y)
			SwiGLUBackward(z, w, x, y, x)
			r := RMSNorm(z, x, w, 1e-6)
			RMSNormBackward(z, w, y, x, w, r, true)
			AdamW(z, y, x, w, 1e-3, 0.9, 0.999, 1e-8, 0.01, 0.1, 0.001)
			CrossEntropyRow(x, 3, z, 1)
			RoPE(z, x, y, 2, 150, false)
		})
		if allocs != 0 {
			t.Errorf("%v allocations per run", allocs)
		}
	})
}
