package model

import (
	"math"

	"github.com/aegis-safety/aegis/kernels"
)

// The ops of a decoder block, each forward beside its backward. Buffers are row-major
// float32; n is the number of token rows and d a row's width. Outputs come first in the
// argument lists, as in llm.c.

// dxMode says whether a backward pass writes its input gradient or adds to it: an input
// that feeds several ops (ln1 feeds q, k and v; the residual stream feeds a block and
// skips it) sums their gradients.
type dxMode bool

const (
	overwrite  dxMode = false
	accumulate dxMode = true
)

// beta is the GEMM β that realises the mode.
func (m dxMode) beta() float32 {
	if m == accumulate {
		return 1
	}
	return 0
}

// rmsnormForward: y [n, d] = x / sqrt(mean(x²) + eps) * w, saving the reciprocal rms of
// each row in rstd [n] for the backward pass.
func rmsnormForward(y, rstd, x, w []float32, n, d int, eps float64) {
	kernels.ParallelRange(n, d, func(lo, hi int) { rmsnormForwardRows(y, rstd, x, w, lo, hi, d, eps) })
}

func rmsnormForwardRows(y, rstd, x, w []float32, lo, hi, d int, eps float64) {
	for i := lo; i < hi; i++ {
		rstd[i] = kernels.RMSNorm(y[i*d:(i+1)*d], x[i*d:(i+1)*d], w, float32(eps))
	}
}

// rmsnormBackward accumulates dw [d] (when non-nil) and writes dx [n, d], or adds to it
// by mode: dx = r·(dy·w − x·r²·mean(dy·w·x)).
// The rows run in parallel; dw, shared by all rows, is accumulated after them.
func rmsnormBackward(dx, dw, dy, x, w, rstd []float32, n, d int, mode dxMode) {
	kernels.ParallelRange(n, d, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			kernels.RMSNormBackward(dx[i*d:(i+1)*d], nil, dy[i*d:(i+1)*d], x[i*d:(i+1)*d], w, rstd[i], mode == accumulate)
		}
	})
	if dw == nil {
		return
	}
	for i := 0; i < n; i++ {
		xr, dyr, r := x[i*d:(i+1)*d], dy[i*d:(i+1)*d], rstd[i]
		for j := range xr {
			dw[j] += dyr[j] * xr[j] * r
		}
	}
}

// ropeTable fills cos and sin [n, hd/2] for each row's position, in float32 as
// transformers computes them (angle = float32(pos) * inv_freq).
func ropeTable(cos, sin []float32, pos []int32, inv []float32) {
	h := len(inv)
	for i, p := range pos {
		for j, f := range inv {
			a := float32(p) * f
			cos[i*h+j] = float32(math.Cos(float64(a)))
			sin[i*h+j] = float32(math.Sin(float64(a)))
		}
	}
}

// ropeForward rotates each head of x [n, heads*hd] in place by its row's angles: the
// rotate-half form pairs element j with j+hd/2.
func ropeForward(x, cos, sin []float32, n, heads, hd int) {
	kernels.ParallelRange(n, heads*hd, func(lo, hi int) { ropeRows(x, cos, sin, lo, hi, heads, hd, false) })
}

// ropeBackward turns dL/d(rotated x) into dL/dx in place: the rotation is orthogonal, so
// its backward is the rotation by −angle.
func ropeBackward(dx, cos, sin []float32, n, heads, hd int) {
	kernels.ParallelRange(n, heads*hd, func(lo, hi int) { ropeRows(dx, cos, sin, lo, hi, heads, hd, true) })
}

func ropeRows(x, cos, sin []float32, lo, hi, heads, hd int, inverse bool) {
	h := hd / 2
	w := heads * hd
	for i := lo; i < hi; i++ {
		kernels.RoPE(x[i*w:(i+1)*w], cos[i*h:(i+1)*h], sin[i*h:(i+1)*h], heads, hd, inverse)
	}
}

// swigluForward: out = silu(gate) * up, elementwise over equal-length buffers.
func swigluForward(out, gate, up []float32) {
	kernels.ParallelRange(len(gate), 4, func(lo, hi int) { kernels.SwiGLU(out[lo:hi], gate[lo:hi], up[lo:hi]) })
}

// swigluBackward writes dgate and dup (overwriting) from dout.
func swigluBackward(dgate, dup, dout, gate, up []float32) {
	kernels.ParallelRange(len(gate), 4, func(lo, hi int) {
		kernels.SwiGLUBackward(dgate[lo:hi], dup[lo:hi], dout[lo:hi], gate[lo:hi], up[lo:hi])
	})
}

// attnShape describes one attention call: B sequences of T new queries each, at absolute
// indices P..P+T-1, attending to keys 0..P+T-1 stored with stride kcap rows per sequence.
type attnShape struct {
	B, T, P, kcap   int
	heads, kvHeads  int
	hd, window      int
	keyMask         []bool    // [B, kcap]; keyMask[b*kcap+j] says key j is a real token
	probs           []float32 // [B, heads, T, P+T] softmax probabilities, kept for backward
	dprobs          []float32 // backward scratch: [T, T]
	qStride, kvWide int       // q row width heads*hd, kv row width kvHeads*hd
}

// keyRange returns the keys [lo, hi] that query index i (absolute) may see.
func (s *attnShape) keyRange(i int) (lo, hi int) {
	lo, hi = 0, i
	if s.window > 0 && i-s.window+1 > 0 {
		lo = i - s.window + 1
	}
	return lo, hi
}

// attnForward computes out [B*T, heads*hd] from q [B*T, heads*hd] and k, v
// [B, kcap, kvHeads*hd], saving softmax probabilities in s.probs. Query head h reads KV
// head h/(heads/kvHeads), as repeat_interleave does in transformers. Per (sequence, head)
// it is two GEMMs, S = q kᵀ/√hd and out = softmax(S) v, with the causal, window and
// padding masks applied between them; a query with no visible key outputs zeros. The
// (sequence, head) pairs run one after another, each GEMM spreading over the cores.
func attnForward(s *attnShape, out, q, k, v []float32) {
	tk := s.P + s.T
	group := s.heads / s.kvHeads
	scale := float32(1 / math.Sqrt(float64(s.hd)))
	for bh := 0; bh < s.B*s.heads; bh++ {
		b, h := bh/s.heads, bh%s.heads
		kvh := h / group
		qb := q[b*s.T*s.qStride+h*s.hd:]
		kb := k[b*s.kcap*s.kvWide+kvh*s.hd:]
		vb := v[b*s.kcap*s.kvWide+kvh*s.hd:]
		p := s.probs[bh*s.T*tk : (bh+1)*s.T*tk]
		kernels.Sgemm(false, true, s.T, tk, s.hd, scale, qb, s.qStride, kb, s.kvWide, 0, p, tk)
		mask := s.keyMask[b*s.kcap : b*s.kcap+tk]
		for t := 0; t < s.T; t++ {
			row := p[t*tk : (t+1)*tk]
			lo, hi := s.keyRange(s.P + t)
			for j := range row {
				if j < lo || j > hi || !mask[j] {
					row[j] = float32(math.Inf(-1))
				}
			}
			kernels.SoftmaxInPlace(row)
		}
		kernels.Sgemm(false, false, s.T, s.hd, tk, 1, p, tk, vb, s.kvWide, 0, out[b*s.T*s.qStride+h*s.hd:], s.qStride)
	}
}

// attnBackward computes dq [B*T, heads*hd] and dk, dv [B, T, kvHeads*hd] from dout, for
// P == 0 (training passes have no cache). Per query head, with the heads that share a
// KV head accumulating into its dk and dv: dv += pᵀ dout; dp = dout vᵀ;
// ds = p ⊙ (dp − Σ p dp)/√hd; dq = ds k; dk += dsᵀ q.
func attnBackward(s *attnShape, dq, dk, dv, dout, q, k, v []float32) {
	T := s.T
	group := s.heads / s.kvHeads
	scale := float32(1 / math.Sqrt(float64(s.hd)))
	for bk := 0; bk < s.B*s.kvHeads; bk++ {
		b, kvh := bk/s.kvHeads, bk%s.kvHeads
		kb, vb := k[b*T*s.kvWide+kvh*s.hd:], v[b*T*s.kvWide+kvh*s.hd:]
		dkb, dvb := dk[b*T*s.kvWide+kvh*s.hd:], dv[b*T*s.kvWide+kvh*s.hd:]
		ds := s.dprobs[:T*T]
		for h := kvh * group; h < (kvh+1)*group; h++ {
			beta := float32(1)
			if h == kvh*group {
				beta = 0 // the group's first head overwrites dk and dv
			}
			p := s.probs[(b*s.heads+h)*T*T : (b*s.heads+h+1)*T*T]
			off := b*T*s.qStride + h*s.hd
			dob, qb, dqb := dout[off:], q[off:], dq[off:]
			kernels.Sgemm(true, false, T, s.hd, T, 1, p, T, dob, s.qStride, beta, dvb, s.kvWide)
			kernels.Sgemm(false, true, T, T, s.hd, 1, dob, s.qStride, vb, s.kvWide, 0, ds, T)
			for t := 0; t < T; t++ {
				pr, dr := p[t*T:(t+1)*T], ds[t*T:(t+1)*T]
				sum := kernels.Dot(pr, dr)
				for j, pj := range pr {
					dr[j] = pj * (dr[j] - sum) * scale
				}
			}
			kernels.Sgemm(false, false, T, s.hd, T, 1, ds, T, kb, s.kvWide, 0, dqb, s.qStride)
			kernels.Sgemm(true, false, T, s.hd, T, 1, ds, T, qb, s.qStride, beta, dkb, s.kvWide)
		}
	}
}
