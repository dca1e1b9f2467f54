package kernels

// gemmGeneric is the pure-Go microkernel: a 4×4 tile keeps its 16 accumulators in
// registers on 64-bit targets with 32 floating-point registers (arm64) and spills little
// elsewhere. It runs the same packing and blocking as the assembly kernels, so the
// driver is tested on every architecture.
var gemmGeneric = &gemmKernel{name: Generic, mr: 4, nr: 4, kc: 256, mc: 128, nc: 4096, tile: tileGo4x4}

func tileGo4x4(k int, ap, bp, c []float32, ldc int, alpha, beta float32) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	ap, bp = ap[:4*k], bp[:4*k]
	for p := 0; p+4 <= len(ap); p += 4 {
		a, b := ap[p:p+4:p+4], bp[p:p+4:p+4]
		a0, a1, a2, a3 := a[0], a[1], a[2], a[3]
		b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	acc := [4][4]float32{
		{c00, c01, c02, c03}, {c10, c11, c12, c13},
		{c20, c21, c22, c23}, {c30, c31, c32, c33},
	}
	for i := range acc {
		row := c[i*ldc:][:4]
		if beta == 0 {
			for j, v := range acc[i] {
				row[j] = alpha * v
			}
		} else {
			for j, v := range acc[i] {
				row[j] = alpha*v + beta*row[j]
			}
		}
	}
}
