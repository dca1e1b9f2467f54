package kernels

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
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
	gemmItemsPerWorker = 4
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
	if m <= gemvMaxRows && b.trans && !transA {
		gemvNT(m, n, k, alpha, a, lda, b, beta, c, ldc)
		return
	}
	kern := gemmKernelFor(isa)
	nr := kern.nr
	workers := runtime.GOMAXPROCS(0)
	if m*n*k < gemmSerialWork {
		workers = 1
	}

	// k is cut into equal blocks of at most kc, and n into equal blocks of at most nc
	// (whole micro-panels), so no block is a sliver.
	kBlocks := ceilDiv(k, kern.kc)
	nc := min(kern.nc, max(nr, gemmPackBudget/k/nr*nr))
	nBlocks := ceilDiv(n, nc)
	j := &gemmJob{
		kern: kern, transA: transA, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, lda: lda, b: b, c: c, ldc: ldc,
		kc: ceilDiv(k, kBlocks), kBlocks: kBlocks,
		phases: make([]gemmPhase, 2*nBlocks),
	}
	nc = ceilDiv(ceilDiv(n, nBlocks), nr) * nr
	for i := range nBlocks {
		j.plan(j.phases[2*i:2*i+2], i*nc, min(nc, n-i*nc), workers)
	}

	bbuf := gemmPoolB.Get().(*gemmBuf)
	defer gemmPoolB.Put(bbuf)
	j.bp = bbuf.floats(ceilDiv(nc, nr) * nr * k)
	gemmTeamRun(j, workers)
}

// A gemmJob is one product, cut into phases of units of work that any number of
// workers claim in turn: for each block of nc columns, packing op(B) (one unit per
// micro-panel and k block), then computing (one unit per item, a block of C).
type gemmJob struct {
	kern        *gemmKernel
	transA      bool
	m, n, k     int
	alpha, beta float32
	a           []float32
	lda         int
	b           gemmB
	c           []float32
	ldc         int
	kc, kBlocks int
	bp          []float32 // packed op(B) for the current column block
	phases      []gemmPhase
	seq         uint64 // number in the team's sequence of jobs
}

type gemmPhase struct {
	pack       bool
	jc, ncb    int // the column block
	panels     int // its micro-panels
	units      int
	mcw, npw   int // an item's rows and micro-panels
	nChunks    int // items across the block
	next, done atomic.Int64
	_          [64]byte // keep the next phase's counters off this cache line
}

// plan fills in the pack and compute phases of the column block [jc, jc+ncb).
func (j *gemmJob) plan(ph []gemmPhase, jc, ncb, workers int) {
	mr, nr := j.kern.mr, j.kern.nr
	panels := ceilDiv(ncb, nr)
	// The packed block is k blocks × panels micro-panels: block pb starts at
	// pb*kc*panels*nr, its micro-panel q at q*kcb*nr within it.
	ph[0] = gemmPhase{pack: true, jc: jc, ncb: ncb, panels: panels, units: j.kBlocks * panels}

	// Cut the m×ncb block into items. With several workers there are a few items per
	// worker when the shape allows, so one slowed by other load, or late to start,
	// does not hold up the rest for long. Items split m first (no work is repeated);
	// when m is too short, they split the columns too, each packing its own copy of A.
	want := 1
	if workers > 1 {
		want = workers * gemmItemsPerWorker
	}
	m := j.m
	mChunks := max(ceilDiv(m, j.kern.mc), min(want, ceilDiv(m, gemmMinRows)))
	mcw := ceilDiv(ceilDiv(m, mChunks), mr) * mr
	mChunks = ceilDiv(m, mcw)
	nChunks := 1
	if mChunks < want {
		nChunks = min(ceilDiv(want, mChunks), panels)
	}
	npw := ceilDiv(panels, nChunks)
	nChunks = ceilDiv(panels, npw)
	ph[1] = gemmPhase{jc: jc, ncb: ncb, panels: panels, units: mChunks * nChunks,
		mcw: mcw, npw: npw, nChunks: nChunks}
}

// work claims and does units until there are none left. Between phases it waits for
// the previous phase to finish, as the phases depend on each other.
func (j *gemmJob) work() {
	var abuf *gemmBuf
	for i := range j.phases {
		ph := &j.phases[i]
		if i > 0 {
			j.phases[i-1].wait()
		}
		for {
			u := int(ph.next.Add(1) - 1)
			if u >= ph.units {
				break
			}
			if ph.pack {
				j.packB(ph, u)
			} else {
				if abuf == nil {
					abuf = gemmPoolA.Get().(*gemmBuf)
				}
				j.compute(ph, u, abuf)
			}
			ph.done.Add(1)
		}
	}
	if abuf != nil {
		gemmPoolA.Put(abuf)
	}
}

// packB packs micro-panel u of the phase's column block of op(B).
func (j *gemmJob) packB(ph *gemmPhase, u int) {
	nr := j.kern.nr
	pb, q := u/ph.panels, u%ph.panels
	p0 := pb * j.kc
	kcb := min(j.kc, j.k-p0)
	j0 := q * nr
	dst := j.bp[pb*j.kc*ph.panels*nr+q*kcb*nr:][:kcb*nr]
	j.b.pack(dst, p0, kcb, ph.jc+j0, min(nr, ph.ncb-j0), nr)
}

// compute does item u: rows [i0, i0+mcb) × columns [j0, j0+ncw) of the column block,
// over all of k.
func (j *gemmJob) compute(ph *gemmPhase, u int, abuf *gemmBuf) {
	kern := j.kern
	mr, nr, kc := kern.mr, kern.nr, j.kc
	ap := abuf.floats(ph.mcw*kc + mr*nr)
	tile := ap[ph.mcw*kc:]
	i0 := u / ph.nChunks * ph.mcw
	mcb := min(ph.mcw, j.m-i0)
	j0 := u % ph.nChunks * ph.npw * nr
	ncw := min(ph.npw*nr, ph.ncb-j0)
	c := j.c[i0*j.ldc+ph.jc+j0:]
	for pb := 0; pb < j.kBlocks; pb++ {
		p0 := pb * kc
		kcb := min(kc, j.k-p0)
		packA(ap, j.a, j.lda, j.transA, i0, mcb, p0, kcb, mr)
		bp := j.bp[pb*kc*ph.panels*nr+j0*kcb:]
		beta := j.beta
		if pb > 0 {
			beta = 1
		}
		kern.macro(ap, bp, mcb, ncw, kcb, j.alpha, beta, c, j.ldc, tile)
	}
}

// wait returns once every unit of the phase is done. The wait is short (the rest of a
// unit another worker is doing), so it spins, yielding the processor, and only falls
// back to sleeping if the other worker seems to have lost its CPU.
func (ph *gemmPhase) wait() {
	start := time.Now()
	for i := 0; ph.done.Load() != int64(ph.units); i++ {
		if i%64 == 63 && time.Since(start) > gemmSpinWait {
			time.Sleep(20 * time.Microsecond)
		} else {
			runtime.Gosched()
		}
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
