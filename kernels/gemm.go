package kernels

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Sgemm computes C = alpha*op(A)*op(B) + beta*C on row-major float32 matrices, where op(X)
// is X or its transpose. C is m×n, op(A) is m×k, op(B) is k×n; lda, ldb and ldc are the
// row strides of A, B and C as stored. beta == 0 overwrites C without reading it, so C may
// hold garbage (NaN included) on entry, as in BLAS; alpha == 0 (or k == 0) reads neither
// A nor B. Sgemm panics if a slice is too short for its shape and stride.
//
// The three layouts the model needs are NT (activations × weightsᵀ, the forward pass),
// NN (gradient × weights, the input gradient) and TN (gradientᵀ × activations, the
// weight gradient); TT is supported for completeness. All four run at the same speed:
// the transposes are absorbed when the operands are packed.
//
// Large products run on up to GOMAXPROCS goroutines. C must not overlap A or B.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm("Sgemm", transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	gemm(transA, m, n, k, alpha, a, lda, gemmB{f32: b, ld: ldb, trans: transB}, beta, c, ldc)
}

// SgemmBF16 is Sgemm with B held as bfloat16 (the high halves of float32 values), as
// frozen weights are. B is widened to float32 a block at a time while it is packed, so
// no float32 copy of the whole of B is ever made. The result is exactly that of Sgemm
// on the widened B.
func SgemmBF16(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []uint16, ldb int, beta float32, c []float32, ldc int) {
	checkGemm("SgemmBF16", transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	gemm(transA, m, n, k, alpha, a, lda, gemmB{bf16: b, ld: ldb, trans: transB}, beta, c, ldc)
}

// SgemmRef is the plain, single-threaded Sgemm: the oracle for faster kernels.
func SgemmRef(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmRef(transA, transB, 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// sgemmRef computes rows [i0, i1) of C.
func sgemmRef(transA, transB bool, i0, i1, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := i0; i < i1; i++ {
		crow := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(crow)
		} else if beta != 1 {
			for j := range crow {
				crow[j] *= beta
			}
		}
	}
	if alpha == 0 || k == 0 {
		return
	}
	switch {
	case !transA && transB: // C[i,j] += alpha * dot(A[i,:], B[j,:])
		for i := i0; i < i1; i++ {
			arow := a[i*lda : i*lda+k]
			crow := c[i*ldc : i*ldc+n]
			for j := range crow {
				crow[j] += alpha * Dot(arow, b[j*ldb:j*ldb+k])
			}
		}
	case !transA && !transB: // C[i,:] += alpha*A[i,p] * B[p,:]
		for i := i0; i < i1; i++ {
			crow := c[i*ldc : i*ldc+n]
			for p := 0; p < k; p++ {
				if s := alpha * a[i*lda+p]; s != 0 {
					Axpy(s, b[p*ldb:p*ldb+n], crow)
				}
			}
		}
	case transA && !transB: // C[i,:] += alpha*A[p,i] * B[p,:]
		for i := i0; i < i1; i++ {
			crow := c[i*ldc : i*ldc+n]
			for p := 0; p < k; p++ {
				if s := alpha * a[p*lda+i]; s != 0 {
					Axpy(s, b[p*ldb:p*ldb+n], crow)
				}
			}
		}
	default: // TT: C[i,j] += alpha * sum_p A[p,i] B[j,p]
		for i := i0; i < i1; i++ {
			crow := c[i*ldc : i*ldc+n]
			for j := range crow {
				var s float32
				for p := 0; p < k; p++ {
					s += a[p*lda+i] * b[j*ldb+p]
				}
				crow[j] += alpha * s
			}
		}
	}
}

// checkGemm panics unless the slices and strides hold the matrices the shape needs. The
// assembly kernels write C through raw pointers, so this is what keeps them in bounds.
func checkGemm(fn string, transA, transB bool, m, n, k, lenA, lda, lenB, ldb, lenC, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels: %s: negative dimension m=%d n=%d k=%d", fn, m, n, k))
	}
	check := func(name string, rows, cols, length, ld int) {
		if rows == 0 || cols == 0 {
			return
		}
		if ld < cols {
			panic(fmt.Sprintf("kernels: %s: ld%s=%d < %d columns", fn, name, ld, cols))
		}
		if need := (rows-1)*ld + cols; length < need {
			panic(fmt.Sprintf("kernels: %s: len(%s)=%d < %d for %d×%d with stride %d",
				fn, name, length, need, rows, cols, ld))
		}
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if m > 0 && n > 0 && k > 0 {
		check("a", ar, ac, lenA, lda)
		check("b", br, bc, lenB, ldb)
	}
	check("c", m, n, lenC, ldc)
}

// A gemmKernel is a register-blocked microkernel and the cache blocking tuned for it.
//
// tile computes one mr×nr tile: C = alpha*(ap × bp) + beta*C over k steps, where ap is an
// A micro-panel (mr values per step) and bp a B micro-panel (nr values per step), and
// beta == 0 does not read C. Every tile call is one short, non-preemptible stretch of
// assembly: at most kc steps.
//
// Blocking (as in BLIS): op(B) is packed kc×nr micro-panel by micro-panel for a block of
// nc columns and all of k; a worker packs mc×kc blocks of op(A) into mr-row micro-panels
// and sweeps each B micro-panel (kept in L1) across the A block (kept in L2).
type gemmKernel struct {
	name       string
	mr, nr     int
	kc, mc, nc int
	tile       func(k int, ap, bp, c []float32, ldc int, alpha, beta float32)
}

// Parallel and memory limits.
const (
	// gemmSerialWork is the multiply-add count (m*n*k) below which a product stays on the
	// calling goroutine: waking another costs microseconds, about this much arithmetic.
	gemmSerialWork = 1 << 18
	// gemmPackBudget bounds the packed op(B) block (k × nc floats), so that huge n (a
	// vocabulary) is done in column blocks instead of one copy of all of B.
	gemmPackBudget = 4 << 20
)

var (
	gemmItemsPerWorker = 2
	gemmMinRows        = 32
)

// gemmB is the B operand: float32 or bfloat16, as stored.
type gemmB struct {
	f32   []float32
	bf16  []uint16
	ld    int
	trans bool
}

func gemm(transA bool, m, n, k int, alpha float32, a []float32, lda int, b gemmB,
	beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	kern := gemmKernelFor(isa)
	mr, nr := kern.mr, kern.nr

	workers := runtime.GOMAXPROCS(0)
	if m*n*k < gemmSerialWork {
		workers = 1
	}

	// k is cut into equal blocks of at most kc, and n into equal blocks of at most nc
	// (whole micro-panels), so no block is a sliver.
	kBlocks := ceilDiv(k, kern.kc)
	kc := ceilDiv(k, kBlocks)
	nc := min(kern.nc, max(nr, gemmPackBudget/k/nr*nr))
	nBlocks := ceilDiv(n, nc)
	nc = ceilDiv(ceilDiv(n, nBlocks), nr) * nr

	bbuf := gemmPoolB.Get().(*gemmBuf)
	defer gemmPoolB.Put(bbuf)
	bp := bbuf.floats(ceilDiv(nc, nr) * nr * k)

	for jc := 0; jc < n; jc += nc {
		ncb := min(nc, n-jc)
		panels := ceilDiv(ncb, nr)

		// Pack op(B)[:, jc:jc+ncb]: k blocks × panels micro-panels, shared by all workers.
		// Block pb starts at pb*kc*panels*nr; its micro-panel j at j*kcb*nr within it.
		units := kBlocks * panels
		gemmParallel(min(workers, units), func(w, nw int) {
			for u := w * units / nw; u < (w+1)*units/nw; u++ {
				pb, j := u/panels, u%panels
				p0 := pb * kc
				kcb := min(kc, k-p0)
				j0 := j * nr
				dst := bp[pb*kc*panels*nr+j*kcb*nr:][:kcb*nr]
				b.pack(dst, p0, kcb, jc+j0, min(nr, ncb-j0), nr)
			}
		})

		// Cut the m×ncb block into items; workers take them in turn. There are at least
		// two items per worker when the shape allows, so a worker slowed by other load
		// does not hold up the rest for long.
		want := 1
		if workers > 1 {
			want = workers * gemmItemsPerWorker
		}
		mChunks := max(ceilDiv(m, kern.mc), min(want, ceilDiv(m, gemmMinRows)))
		mcw := ceilDiv(ceilDiv(m, mChunks), mr) * mr
		mChunks = ceilDiv(m, mcw)
		nChunks := 1
		if mChunks < want {
			nChunks = min(ceilDiv(want, mChunks), panels)
		}
		npw := ceilDiv(panels, nChunks)
		nChunks = ceilDiv(panels, npw)
		items := mChunks * nChunks

		var next atomic.Int64
		gemmParallel(min(workers, items), func(int, int) {
			wb := gemmPoolA.Get().(*gemmBuf)
			defer gemmPoolA.Put(wb)
			ap := wb.floats(mcw*kc + mr*nr)
			tile := ap[mcw*kc:]
			for {
				it := int(next.Add(1) - 1)
				if it >= items {
					return
				}
				i0 := it / nChunks * mcw
				mcb := min(mcw, m-i0)
				j0 := it % nChunks * npw * nr
				ncw := min(npw*nr, ncb-j0)
				for pb := 0; pb < kBlocks; pb++ {
					p0 := pb * kc
					kcb := min(kc, k-p0)
					packA(ap, a, lda, transA, i0, mcb, p0, kcb, mr)
					bb := bp[pb*kc*panels*nr+j0*kcb:]
					betaB := beta
					if pb > 0 {
						betaB = 1
					}
					kern.macro(ap, bb, mcb, ncw, kcb, alpha, betaB, c[i0*ldc+jc+j0:], ldc, tile)
				}
			}
		})
	}
}

// macro multiplies a packed mcb×kcb block of A by packed kcb×ncw panels of B into C:
// each B micro-panel stays in L1 while it sweeps the A block.
func (kern *gemmKernel) macro(ap, bp []float32, mcb, ncw, kcb int, alpha, beta float32,
	c []float32, ldc int, tile []float32) {
	mr, nr := kern.mr, kern.nr
	for jr := 0; jr < ncw; jr += nr {
		bpan := bp[jr*kcb:]
		cols := min(nr, ncw-jr)
		for ir := 0; ir < mcb; ir += mr {
			apan := ap[ir*kcb:]
			rows := min(mr, mcb-ir)
			if rows == mr && cols == nr {
				kern.tile(kcb, apan, bpan, c[ir*ldc+jr:], ldc, alpha, beta)
				continue
			}
			// Edge tile: compute the whole padded tile aside, then update the part of C
			// that exists.
			kern.tile(kcb, apan, bpan, tile, nr, 1, 0)
			for i := 0; i < rows; i++ {
				crow := c[(ir+i)*ldc+jr:][:cols]
				trow := tile[i*nr:][:cols]
				if beta == 0 {
					for j, t := range trow {
						crow[j] = alpha * t
					}
				} else {
					for j, t := range trow {
						crow[j] = alpha*t + beta*crow[j]
					}
				}
			}
		}
	}
}

// scaleC sets C = beta*C, writing zeros without reading C when beta == 0.
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		crow := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(crow)
		} else if beta != 1 {
			for j := range crow {
				crow[j] *= beta
			}
		}
	}
}

// gemmParallel runs f(w, workers) for w in [0, workers) and waits; the caller is worker 0.
func gemmParallel(workers int, f func(w, workers int)) {
	if workers <= 1 {
		f(0, 1)
		return
	}
	var wg sync.WaitGroup
	wg.Add(workers - 1)
	for w := 1; w < workers; w++ {
		go func() {
			defer wg.Done()
			f(w, workers)
		}()
	}
	f(0, workers)
	wg.Wait()
}

// gemmBuf is a reusable, 64-byte aligned packing buffer.
type gemmBuf struct{ buf []float32 }

// Packed B blocks (megabytes, one per call) and packed A blocks (one per worker) are
// pooled apart so that neither is handed out where the other is needed.
var (
	gemmPoolB = sync.Pool{New: func() any { return new(gemmBuf) }}
	gemmPoolA = sync.Pool{New: func() any { return new(gemmBuf) }}
)

// floats returns n floats starting on a cache line, reusing the buffer when it is big
// enough. The contents are garbage.
func (g *gemmBuf) floats(n int) []float32 {
	if cap(g.buf) < n {
		s := make([]float32, n+15)
		off := int(uintptr(unsafe.Pointer(&s[0]))&63) / 4
		if off != 0 {
			off = 16 - off
		}
		g.buf = s[off : off+n : off+n]
	}
	return g.buf[:n]
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
