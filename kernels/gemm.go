package kernels

import (
	"runtime"
	"sync"
)

// Sgemm computes C = alpha*op(A)*op(B) + beta*C on row-major float32 matrices, where op(X)
// is X or its transpose. C is m×n, op(A) is m×k, op(B) is k×n; lda, ldb and ldc are the
// row strides of A, B and C as stored. beta == 0 overwrites C without reading it, so C may
// hold garbage (NaN included) on entry, as in BLAS.
//
// The three layouts the model needs are NT (activations × weightsᵀ, the forward pass),
// NN (gradient × weights, the input gradient) and TN (gradientᵀ × activations, the
// weight gradient); TT is supported for completeness.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	parallelRows(m, n, k, func(i0, i1 int) {
		sgemmRef(transA, transB, i0, i1, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	})
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

// parallelRows splits [0, m) into contiguous chunks run on up to GOMAXPROCS goroutines,
// keeping small problems on the calling goroutine where spawning costs more than it saves.
func parallelRows(m, n, k int, f func(i0, i1 int)) {
	workers := runtime.GOMAXPROCS(0)
	if work := m * n * k; work < 1<<16 || m < 2 || workers < 2 {
		f(0, m)
		return
	}
	if workers > m {
		workers = m
	}
	var wg sync.WaitGroup
	chunk := (m + workers - 1) / workers
	for i0 := 0; i0 < m; i0 += chunk {
		i1 := min(i0+chunk, m)
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i0, i1)
		}()
	}
	wg.Wait()
}

// Dot returns the inner product of x and y[:len(x)].
func Dot(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// Axpy computes y += a*x over len(x) elements.
func Axpy(a float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += a * v
	}
}

// ParallelFor runs f(i) for i in [0, n) on up to GOMAXPROCS goroutines.
func ParallelFor(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}
