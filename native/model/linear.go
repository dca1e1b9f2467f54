package model

import (
	"github.com/aegis-safety/aegis/kernels"
)

// Linear is y = x Wᵀ + b with optional LoRA adapters: y += scale · (x Aᵀ) Bᵀ for every
// enabled adapter. W is [Out, In] as in PyTorch. When the base is held in bfloat16, W.Data
// is nil and wbf16 holds the weight, widened inside each GEMM.
type Linear struct {
	Name    string // HF module path, e.g. "model.layers.0.self_attn.q_proj"
	In, Out int
	W       *Param
	B       *Param // nil without bias
	wbf16   []uint16
	loras   []*LoRA
}

// LoRA is one adapter's low-rank pair on one Linear: A is [r, In], B is [Out, r].
type LoRA struct {
	Set  *Adapter
	A, B *Param
}

func newLinear(name string, in, out int, bias bool) *Linear {
	l := &Linear{Name: name, In: in, Out: out}
	l.W = &Param{Name: name + ".weight", Shape: []int{out, in}, Data: make([]float32, out*in)}
	if bias {
		l.B = &Param{Name: name + ".bias", Shape: []int{out}, Data: make([]float32, out)}
	}
	return l
}

// gemmW computes C = alpha·op(X)·op(W) + beta·C with W as held: float32, or bfloat16
// widened inside the GEMM's packing (no float32 copy of W is made).
func (l *Linear) gemmW(transA, transB bool, m, n, k int, alpha float32, x []float32, ldx int, ldw int, beta float32, c []float32, ldc int) {
	if l.wbf16 != nil {
		kernels.SgemmBF16(transA, transB, m, n, k, alpha, x, ldx, l.wbf16, ldw, beta, c, ldc)
		return
	}
	kernels.Sgemm(transA, transB, m, n, k, alpha, x, ldx, l.W.Data, ldw, beta, c, ldc)
}

// row writes row i of W (as float32) to dst: the embedding lookup.
func (l *Linear) row(dst []float32, i int) {
	if l.wbf16 != nil {
		kernels.WidenBF16(dst, l.wbf16[i*l.In:(i+1)*l.In])
		return
	}
	copy(dst, l.W.Data[i*l.In:(i+1)*l.In])
}

// forward computes y [n, Out] from x [n, In]. tmp is scratch for the LoRA intermediates.
func (l *Linear) forward(y, x []float32, n int, tmp *[]float32) {
	l.gemmW(false, true, n, l.Out, l.In, 1, x, l.In, l.In, 0, y, l.Out)
	if l.B != nil {
		for i := 0; i < n; i++ {
			kernels.Axpy(1, l.B.Data, y[i*l.Out:(i+1)*l.Out])
		}
	}
	for _, lo := range l.loras {
		if !lo.Set.Enabled {
			continue
		}
		r := lo.Set.Rank
		h := grow(tmp, n*r) // [n, r] x Aᵀ
		kernels.Sgemm(false, true, n, r, l.In, 1, x, l.In, lo.A.Data, l.In, 0, h, r)
		kernels.Sgemm(false, true, n, l.Out, r, float32(lo.Set.Scale()), h, r, lo.B.Data, r, 1, y, l.Out)
	}
}

// backward takes dy [n, Out] and the forward's input x [n, In]; it writes (or, by mode,
// adds to) dx [n, In] when dx is non-nil, and accumulates the gradients of W and b when
// they are trainable (non-nil Grad) and of every trainable, enabled adapter.
func (l *Linear) backward(dx, dy, x []float32, n int, mode dxMode, tmp *[]float32) {
	if l.W.Grad != nil {
		kernels.Sgemm(true, false, l.Out, l.In, n, 1, dy, l.Out, x, l.In, 1, l.W.Grad, l.In)
		if l.B != nil {
			for i := 0; i < n; i++ {
				kernels.Axpy(1, dy[i*l.Out:(i+1)*l.Out], l.B.Grad)
			}
		}
	}
	if dx != nil {
		l.gemmW(false, false, n, l.In, l.Out, 1, dy, l.Out, l.In, mode.beta(), dx, l.In)
	}
	for _, lo := range l.loras {
		if !lo.Set.Enabled {
			continue
		}
		r, s := lo.Set.Rank, float32(lo.Set.Scale())
		buf := grow(tmp, 2*n*r)
		h, dh := buf[:n*r], buf[n*r:] // [n, r] each: x Aᵀ (recomputed, not stored) and its gradient
		kernels.Sgemm(false, true, n, r, l.In, 1, x, l.In, lo.A.Data, l.In, 0, h, r)
		kernels.Sgemm(false, false, n, r, l.Out, s, dy, l.Out, lo.B.Data, r, 0, dh, r)
		if lo.Set.Trainable {
			kernels.Sgemm(true, false, l.Out, r, n, s, dy, l.Out, h, r, 1, lo.B.Grad, r)
			kernels.Sgemm(true, false, r, l.In, n, 1, dh, r, x, l.In, 1, lo.A.Grad, l.In)
		}
		if dx != nil {
			kernels.Sgemm(false, false, n, l.In, r, 1, dh, r, lo.A.Data, l.In, 1, dx, l.In)
		}
	}
}

// grow returns (*buf)[:n], reallocating when too small.
func grow(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	return (*buf)[:n]
}

func growI32(buf *[]int32, n int) []int32 {
	if cap(*buf) < n {
		*buf = make([]int32, n)
	}
	return (*buf)[:n]
}
