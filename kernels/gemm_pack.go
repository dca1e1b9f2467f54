package kernels

import "math"

// Packing copies a block of op(A) or op(B) into the order the microkernel reads it, so
// the kernel walks memory sequentially whatever the layout: this is where the transposes
// are absorbed. Missing rows or columns of a partial micro-panel are zero-filled.

// packA packs rows [i0, i0+mc) and columns [p0, p0+kc) of op(A) into mr-row micro-panels:
// panel r holds ap[r*kc*mr + p*mr + i] = op(A)[i0+r*mr+i, p0+p].
func packA(ap, a []float32, lda int, trans bool, i0, mc, p0, kc, mr int) {
	for r := 0; r*mr < mc; r++ {
		rows := min(mr, mc-r*mr)
		dst := ap[r*kc*mr:][:kc*mr]
		if rows < mr {
			clear(dst)
		}
		ib := i0 + r*mr
		if trans { // op(A)[i, p] = a[p*lda+i]: each step is a contiguous run of rows
			for p := 0; p < kc; p++ {
				copy(dst[p*mr:p*mr+rows], a[(p0+p)*lda+ib:])
			}
			continue
		}
		for i := 0; i < rows; i++ { // op(A)[i, p] = a[i*lda+p]: rows are scattered
			src := a[(ib+i)*lda+p0:][:kc]
			for p, v := range src {
				dst[p*mr+i] = v
			}
		}
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
		for p := 0; p < kc; p++ {
			copy(dst[p*nr:p*nr+cols], b.f32[(p0+p)*b.ld+j0:])
		}
	case b.f32 != nil: // op(B)[p, j] = b[j*ld+p]
		for j := 0; j < cols; j++ {
			src := b.f32[(j0+j)*b.ld+p0:][:kc]
			for p, v := range src {
				dst[p*nr+j] = v
			}
		}
	case !b.trans:
		for p := 0; p < kc; p++ {
			src := b.bf16[(p0+p)*b.ld+j0:][:cols]
			d := dst[p*nr:][:cols]
			for j, h := range src {
				d[j] = math.Float32frombits(uint32(h) << 16)
			}
		}
	default:
		for j := 0; j < cols; j++ {
			src := b.bf16[(j0+j)*b.ld+p0:][:kc]
			for p, h := range src {
				dst[p*nr+j] = math.Float32frombits(uint32(h) << 16)
			}
		}
	}
}
