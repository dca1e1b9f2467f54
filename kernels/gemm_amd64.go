//go:build !purego

package kernels

//go:generate go run ./internal/gemmgen

// The assembly microkernels (gemm_amd64.s). Each computes one full mr×nr tile of C over
// k steps of packed panels: C = alpha*(a × b) + beta*C, not reading C when beta == 0.

//go:noescape
func sgemmKernel8x32AVX512(k int, a, b, c *float32, ldc int, alpha, beta float32)

//go:noescape
func sgemmKernel12x32AVX512(k int, a, b, c *float32, ldc int, alpha, beta float32)

//go:noescape
func sgemmKernel14x32AVX512(k int, a, b, c *float32, ldc int, alpha, beta float32)

//go:noescape
func sgemmKernel6x64AVX512(k int, a, b, c *float32, ldc int, alpha, beta float32)

//go:noescape
func sgemmKernel6x16AVX2(k int, a, b, c *float32, ldc int, alpha, beta float32)

// Zen 4 has a 32 KiB L1d and 1 MiB L2 per core: a kc×32 B micro-panel of 16-32 KiB sits
// in L1 while it sweeps an mc×kc A block in L2.
var (
	gemmAVX512 = &gemmKernel{name: AVX512, mr: 8, nr: 32, kc: 512, mc: 256, nc: 4096,
		tile: func(k int, ap, bp, c []float32, ldc int, alpha, beta float32) {
			_, _, _ = ap[8*k-1], bp[32*k-1], c[7*ldc+31] // the kernel trusts these bounds
			sgemmKernel8x32AVX512(k, &ap[0], &bp[0], &c[0], ldc, alpha, beta)
		}}
	gemmAVX2 = &gemmKernel{name: AVX2, mr: 6, nr: 16, kc: 256, mc: 192, nc: 4096,
		tile: func(k int, ap, bp, c []float32, ldc int, alpha, beta float32) {
			_, _, _ = ap[6*k-1], bp[16*k-1], c[5*ldc+15]
			sgemmKernel6x16AVX2(k, &ap[0], &bp[0], &c[0], ldc, alpha, beta)
		}}
)

func gemmKernelFor(isa string) *gemmKernel {
	switch isa {
	case AVX512:
		return gemmAVX512
	case AVX2:
		return gemmAVX2
	}
	return gemmGeneric
}

// Packing loops (gemm_pack_amd64.s), AVX2: see transposeF32, copyRows, widenRows.
const gemmAsmPack = true

//go:noescape
func gemmTransposeF32(dst *float32, ldd int, src *float32, lds int, rows, n int)

//go:noescape
func gemmTransposeBF16(dst *float32, ldd int, src *uint16, lds int, rows, n int)

//go:noescape
func gemmCopyRows(dst *float32, ldd, cstride int, src *float32, lds, n, cols int)

//go:noescape
func gemmWidenRows(dst *float32, ldd int, src *uint16, lds, n, cols int)
