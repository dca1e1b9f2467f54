package model

import (
	"math"

	"github.com/aegis-safety/aegis/kernels"
)

// Each op's forward and backward sit together. Shapes are row-major; n is the number of
// token rows.

// rmsnormForward: y = x / sqrt(mean(x²) + eps) * w, saving the reciprocal rms per row.
func rmsnormForward(y, rstd, x, w []float32, n, d int, eps float64) {
	for i := 0; i < n; i++ {
		xr := x[i*d : (i+1)*d]
		var ss float32
		for _, v := range xr {
			ss += v * v
		}
		r := float32(1 / math.Sqrt(float64(ss/float32(d))+eps))
		rstd[i] = r
		yr := y[i*d : (i+1)*d]
		for j, v := range xr {
			yr[j] = v * r * w[j]
		}
	}
}

// rmsnormBackward accumulates dw (when non-nil) and writes dx, adding when accumulate:
// dx = r·(dy·w − x·r²·mean(dy·w·x)).
func rmsnormBackward(dx, dw, dy, x, w, rstd []float32, n, d int, accumulate bool) {
	for i := 0; i < n; i++ {
		xr, dyr, dxr := x[i*d:(i+1)*d], dy[i*d:(i+1)*d], dx[i*d:(i+1)*d]
		r := rstd[i]
		var dot float32
		for j := range xr {
			dot += dyr[j] * w[j] * xr[j]
		}
		c := dot * r * r / float32(d)
		for j := range xr {
			g := r * (dyr[j]*w[j] - xr[j]*c)
			if accumulate {
				dxr[j] += g
			} else {
				dxr[j] = g
			}
		}
		if dw != nil {
			for j := range xr {
				dw[j] += dyr[j] * xr[j] * r
			}
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

// ropeApply rotates each head of x [n, heads*hd] in place: the rotate-half form pairs
// element j with j+hd/2. inverse rotates by −angle, which is the backward pass since the
// rotation is orthogonal.
func ropeApply(x, cos, sin []float32, n, heads, hd int, inverse bool) {
	h := hd / 2
	for i := 0; i < n; i++ {
		c, s := cos[i*h:(i+1)*h], sin[i*h:(i+1)*h]
		for hh := 0; hh < heads; hh++ {
			v := x[(i*heads+hh)*hd : (i*heads+hh+1)*hd]
			for j := 0; j < h; j++ {
				x1, x2 := v[j], v[j+h]
				sj := s[j]
				if inverse {
					sj = -sj
				}
				v[j] = x1*c[j] - x2*sj
				v[j+h] = x2*c[j] + x1*sj
			}
		}
	}
}

// swigluForward: out = silu(gate) * up.
func swigluForward(out, gate, up []float32) {
	for i, g := range gate {
		out[i] = g / (1 + float32(math.Exp(float64(-g)))) * up[i]
	}
}

// swigluBackward writes dgate and dup from dout.
func swigluBackward(dgate, dup, dout, gate, up []float32) {
	for i, g := range gate {
		sig := 1 / (1 + float32(math.Exp(float64(-g))))
		silu := g * sig
		dup[i] = dout[i] * silu
		dgate[i] = dout[i] * up[i] * sig * (1 + g*(1-sig))
	}
}

// attnShape describes one attention call: B sequences of T new queries each, at absolute
// indices P..P+T-1, attending to keys 0..P+T-1 stored with stride kcap rows per sequence.
type attnShape struct {
	B, T, P, kcap   int
	heads, kvHeads  int
	hd, window      int
	keyMask         []bool // [B, kcap]; keyMask[b*kcap+j] says key j is a real token
	probs           []float32
	qStride, kvWide int // q row width heads*hd, kv row width kvHeads*hd
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
// [B, kcap, kvHeads*hd], saving softmax probabilities [B, heads, T, P+T] in s.probs.
// Query head h reads KV head h/(heads/kvHeads), as repeat_interleave does in transformers.
// A query with no visible key outputs zeros.
func attnForward(s *attnShape, out, q, k, v []float32) {
	tk := s.P + s.T
	group := s.heads / s.kvHeads
	scale := float32(1 / math.Sqrt(float64(s.hd)))
	kernels.ParallelFor(s.B*s.heads, func(bh int) {
		b, h := bh/s.heads, bh%s.heads
		kvh := h / group
		for t := 0; t < s.T; t++ {
			i := s.P + t
			p := s.probs[((b*s.heads+h)*s.T+t)*tk : ((b*s.heads+h)*s.T+t+1)*tk]
			clear(p)
			o := out[(b*s.T+t)*s.qStride+h*s.hd : (b*s.T+t)*s.qStride+(h+1)*s.hd]
			clear(o)
			qv := q[(b*s.T+t)*s.qStride+h*s.hd : (b*s.T+t)*s.qStride+(h+1)*s.hd]
			lo, hi := s.keyRange(i)
			mx := float32(math.Inf(-1))
			for j := lo; j <= hi; j++ {
				if !s.keyMask[b*s.kcap+j] {
					continue
				}
				kv := k[(b*s.kcap+j)*s.kvWide+kvh*s.hd:]
				p[j] = kernels.Dot(qv, kv[:s.hd]) * scale
				mx = max(mx, p[j])
			}
			if math.IsInf(float64(mx), -1) {
				continue // no visible key
			}
			var sum float32
			for j := lo; j <= hi; j++ {
				if s.keyMask[b*s.kcap+j] {
					e := float32(math.Exp(float64(p[j] - mx)))
					p[j] = e
					sum += e
				}
			}
			inv := 1 / sum
			for j := lo; j <= hi; j++ {
				if s.keyMask[b*s.kcap+j] {
					p[j] *= inv
					kernels.Axpy(p[j], v[(b*s.kcap+j)*s.kvWide+kvh*s.hd:][:s.hd], o)
				}
			}
		}
	})
}

// attnBackward computes dq [B*T, heads*hd] and dk, dv [B, T, kvHeads*hd] from dout, for
// P == 0 (training passes have no cache). Work is split by (sequence, KV head) so that the
// query heads sharing a KV head accumulate into dk and dv without races.
func attnBackward(s *attnShape, dq, dk, dv, dout, q, k, v []float32) {
	tk := s.T
	group := s.heads / s.kvHeads
	scale := float32(1 / math.Sqrt(float64(s.hd)))
	kernels.ParallelFor(s.B*s.kvHeads, func(bk int) {
		b, kvh := bk/s.kvHeads, bk%s.kvHeads
		dp := make([]float32, tk)
		for t := 0; t < s.T; t++ {
			kv := (b*s.T + t) * s.kvWide
			clear(dk[kv+kvh*s.hd : kv+(kvh+1)*s.hd])
			clear(dv[kv+kvh*s.hd : kv+(kvh+1)*s.hd])
		}
		for h := kvh * group; h < (kvh+1)*group; h++ {
			for t := 0; t < s.T; t++ {
				p := s.probs[((b*s.heads+h)*s.T+t)*tk : ((b*s.heads+h)*s.T+t+1)*tk]
				row := (b*s.T+t)*s.qStride + h*s.hd
				do, qv, dqv := dout[row:row+s.hd], q[row:row+s.hd], dq[row:row+s.hd]
				clear(dqv)
				lo, hi := s.keyRange(t)
				// dP_j = do·v_j ; dS_j = P_j (dP_j − Σ P dP)
				var sum float32
				for j := lo; j <= hi; j++ {
					if p[j] == 0 {
						continue
					}
					off := (b*s.T+j)*s.kvWide + kvh*s.hd
					dp[j] = kernels.Dot(do, v[off:off+s.hd])
					sum += p[j] * dp[j]
					kernels.Axpy(p[j], do, dv[off:off+s.hd])
				}
				for j := lo; j <= hi; j++ {
					if p[j] == 0 {
						continue
					}
					off := (b*s.T+j)*s.kvWide + kvh*s.hd
					ds := p[j] * (dp[j] - sum) * scale
					kernels.Axpy(ds, k[off:off+s.hd], dqv)
					kernels.Axpy(ds, qv, dk[off:off+s.hd])
				}
			}
		}
	})
}
