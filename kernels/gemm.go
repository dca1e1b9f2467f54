package kernels

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
