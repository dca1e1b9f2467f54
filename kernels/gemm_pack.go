package kernels

import "math"

// Packing copies a block of op(A) or op(B) into the order the microkernel reads it, so
// the kernel walks memory sequentially whatever the layout: this is where the transposes
// are absorbed. Missing rows or columns of a partial micro-panel are zero-filled.
//
// Transposing is the costly case (a gather in Go); on amd64 it is done eight rows at a
// time by AVX2 assembly, which keeps packing to a few percent of a large product.

// packA packs rows [i0, i0+mc) and columns [p0, p0+kc) of op(A) into mr-row micro-panels:
// panel r holds ap[r*kc*mr + p*mr + i] = op(A)[i0+r*mr+i, p0+p].
func packA(ap, a []float32, lda int, trans bool, i0, mc, p0, kc, mr int) {
	if trans {
		packAT(ap, a, lda, i0, mc, p0, kc, mr)
		return
	}
	for r := 0; r*mr < mc; r++ {
		rows := min(mr, mc-r*mr)
		dst := ap[r*kc*mr:][:kc*mr]
		if rows < mr {
			clear(dst)
		}
		// op(A)[i, p] = a[i*lda+p]: the rows are transposed into steps.
		ib := i0 + r*mr
		transposeF32(dst, mr, a[ib*lda+p0:], lda, rows, kc)
	}
}

// packAT is packA for op(A) = Aᵀ: op(A)[i, p] = a[p*lda+i], so each step of a panel is
// a contiguous run of a row of a. Two panels are filled at a time, so that each read
// takes a whole cache line of a row.
func packAT(ap, a []float32, lda int, i0, mc, p0, kc, mr int) {
	i := 0
	if gemmAsmPack && isa != Generic && mr == 8 {
		for ; i+16 <= mc; i += 16 {
			src, dst := a[p0*lda+i0+i:], ap[i*kc:]
			_, _ = src[(kc-1)*lda+15], dst[kc*16-1] // the assembly trusts these bounds
			gemmCopyRows(&dst[0], 8, kc*8, &src[0], lda, kc, 16)
		}
	}
	for ; i < mc; i += mr {
		rows := min(mr, mc-i)
		panel := ap[i*kc:][:kc*mr]
		if rows < mr {
			clear(panel)
		}
		copyRows(panel, mr, a[p0*lda+i0+i:], lda, kc, rows)
	}
}

// pack packs rows [p0, p0+kc) and columns [j0, j0+cols) of op(B) into one nr-column
// micro-panel: dst[p*nr + j] = op(B)[p0+p, j0+j], widening bfloat16 on the way.
func (b *gemmB) pack(dst []float32, p0, kc, j0, cols, nr int) {
	dst = dst[:kc*nr]
	if cols < nr {
		clear(dst)
	}
	switch {
	case b.f32 != nil && !b.trans: // contiguous rows of B
		copyRows(dst, nr, b.f32[p0*b.ld+j0:], b.ld, kc, cols)
	case b.f32 != nil: // op(B)[p, j] = b[j*ld+p]
		transposeF32(dst, nr, b.f32[j0*b.ld+p0:], b.ld, cols, kc)
	case !b.trans:
		widenRows(dst, nr, b.bf16[p0*b.ld+j0:], b.ld, kc, cols)
	default:
		transposeBF16(dst, nr, b.bf16[j0*b.ld+p0:], b.ld, cols, kc)
	}
}

// copyRows sets dst[p*ld+i] = src[p*lds+i] for p < n, i < cols.
func copyRows(dst []float32, ld int, src []float32, lds, n, cols int) {
	if n == 0 {
		return
	}
	c8 := 0
	if gemmAsmPack && isa != Generic && cols >= 8 {
		c8 = cols &^ 7
		_, _ = src[(n-1)*lds+c8-1], dst[(n-1)*ld+c8-1] // the assembly trusts these bounds
		gemmCopyRows(&dst[0], ld, 8, &src[0], lds, n, c8)
	}
	if c8 < cols {
		for p := 0; p < n; p++ {
			copy(dst[p*ld+c8:p*ld+cols], src[p*lds+c8:])
		}
	}
}

// transposeF32 sets dst[p*ld+i] = src[i*lds+p] for i < rows, p < n.
func transposeF32(dst []float32, ld int, src []float32, lds, rows, n int) {
	i := 0
	if gemmAsmPack && isa != Generic && n >= 8 {
		n8 := n &^ 7
		if i = rows &^ 7; i > 0 {
			_, _ = src[(i-1)*lds+n8-1], dst[(n8-1)*ld+i-1] // the assembly trusts these bounds
			gemmTransposeF32(&dst[0], ld, &src[0], lds, i, n8)
		}
		transposeGo(dst[n8*ld:], ld, src[n8:], lds, i, n-n8)
	}
	if i < rows {
		transposeGo(dst[i:], ld, src[i*lds:], lds, rows-i, n)
	}
}

func transposeGo(dst []float32, ld int, src []float32, lds, rows, n int) {
	if rows == 0 || n == 0 {
		return
	}
	i := 0
	for ; i+4 <= rows; i += 4 { // four rows at a time: fewer passes over dst
		s0 := src[i*lds:][:n]
		s1 := src[(i+1)*lds:][:n]
		s2 := src[(i+2)*lds:][:n]
		s3 := src[(i+3)*lds:][:n]
		for p := range s0 {
			d := dst[p*ld+i:][:4]
			d[0], d[1], d[2], d[3] = s0[p], s1[p], s2[p], s3[p]
		}
	}
	for ; i < rows; i++ {
		for p, v := range src[i*lds:][:n] {
			dst[p*ld+i] = v
		}
	}
}

// transposeBF16 is transposeF32 from bfloat16, widening.
func transposeBF16(dst []float32, ld int, src []uint16, lds, rows, n int) {
	i := 0
	if gemmAsmPack && isa != Generic && n >= 8 {
		n8 := n &^ 7
		if i = rows &^ 7; i > 0 {
			_, _ = src[(i-1)*lds+n8-1], dst[(n8-1)*ld+i-1]
			gemmTransposeBF16(&dst[0], ld, &src[0], lds, i, n8)
		}
		transposeBF16Go(dst[n8*ld:], ld, src[n8:], lds, i, n-n8)
	}
	if i < rows {
		transposeBF16Go(dst[i:], ld, src[i*lds:], lds, rows-i, n)
	}
}

func transposeBF16Go(dst []float32, ld int, src []uint16, lds, rows, n int) {
	if n == 0 {
		return
	}
	for i := 0; i < rows; i++ {
		for p, h := range src[i*lds:][:n] {
			dst[p*ld+i] = math.Float32frombits(uint32(h) << 16)
		}
	}
}

// widenRows sets dst[p*ld+i] = float32(src[p*lds+i]) for p < n, i < cols, widening
// bfloat16.
func widenRows(dst []float32, ld int, src []uint16, lds, n, cols int) {
	if n == 0 {
		return
	}
	c8 := 0
	if gemmAsmPack && isa != Generic && cols >= 8 {
		c8 = cols &^ 7
		_, _ = src[(n-1)*lds+c8-1], dst[(n-1)*ld+c8-1] // the assembly trusts these bounds
		gemmWidenRows(&dst[0], ld, &src[0], lds, n, c8)
	}
	if c8 < cols {
		for p := 0; p < n; p++ {
			d := dst[p*ld+c8 : p*ld+cols]
			for i, h := range src[p*lds+c8:][:len(d)] {
				d[i] = math.Float32frombits(uint32(h) << 16)
			}
		}
	}
}
