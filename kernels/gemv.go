package kernels

// Products with very few rows of C and B stored as [n, k] rows (the NT layout of a
// linear layer's forward pass while decoding one token per sequence) are memory-bound
// matrix-vector work: packing B would read and write all of it once more than the
// product reads it, so they take dot products against B's rows in place.

// gemvMaxRows is the largest m sent down the dot-product path.
const gemvMaxRows = 4

// gemvNT computes C = alpha·A·Bᵀ + beta·C for m <= gemvMaxRows, with B [n, k] rows.
func gemvNT(m, n, k int, alpha float32, a []float32, lda int, b gemmB, beta float32, c []float32, ldc int) {
	ParallelRange(n, m*k, func(lo, hi int) {
		// bfloat16 rows are widened a block at a time (kept in L2), never all of B.
		var buf []float32
		block := hi - lo
		if b.bf16 != nil {
			block = max(1, min(block, (32<<10)/k))
			buf = make([]float32, block*k)
		}
		for j0 := lo; j0 < hi; j0 += block {
			j1 := min(j0+block, hi)
			var rows []float32
			ld := b.ld
			if b.bf16 != nil {
				widenRows(buf, k, b.bf16[j0*b.ld:], b.ld, j1-j0, k)
				rows, ld = buf, k
			} else {
				rows = b.f32[j0*b.ld:]
			}
			for j := j0; j < j1; j++ {
				row := rows[(j-j0)*ld : (j-j0)*ld+k]
				for i := 0; i < m; i++ {
					v := alpha * Dot(a[i*lda:i*lda+k], row)
					if beta != 0 {
						v += beta * c[i*ldc+j]
					}
					c[i*ldc+j] = v
				}
			}
		}
	})
}
