package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aegis-safety/aegis/kernels"
)

// TestAttentionGEMMMatchesLoops checks the GEMM form of attention against the loop form
// below, one query and one key at a time, on masks with padding, windows, GQA and a cache
// offset.
func TestAttentionGEMMMatchesLoops(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	rnd := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		return x
	}
	for _, c := range []struct{ B, T, P, heads, kv, hd, window int }{
		{2, 7, 0, 4, 2, 8, 0}, {3, 9, 0, 6, 3, 4, 3}, {1, 1, 5, 4, 1, 8, 0}, {2, 3, 4, 2, 2, 6, 2},
	} {
		tk := c.P + c.T
		s := attnShape{B: c.B, T: c.T, P: c.P, kcap: tk + 2, heads: c.heads, kvHeads: c.kv, hd: c.hd,
			window: c.window, qStride: c.heads * c.hd, kvWide: c.kv * c.hd}
		s.keyMask = make([]bool, c.B*s.kcap)
		for i := range s.keyMask {
			s.keyMask[i] = i%s.kcap >= c.B-1-i/s.kcap // row b has b... left pads
		}
		q, k, v := rnd(c.B*c.T*s.qStride), rnd(c.B*s.kcap*s.kvWide), rnd(c.B*s.kcap*s.kvWide)
		if c.P > 0 { // the cached form is forward only
			k, v = rnd(c.B*s.kcap*s.kvWide), rnd(c.B*s.kcap*s.kvWide)
		}
		out, want := make([]float32, c.B*c.T*s.qStride), make([]float32, c.B*c.T*s.qStride)
		s.probs = make([]float32, c.B*c.heads*c.T*tk)
		attnForward(&s, out, q, k, v)
		probs := append([]float32(nil), s.probs...)
		attnForwardLoop(&s, want, q, k, v)
		for i := range want {
			if math.Abs(float64(out[i]-want[i])) > 1e-5 {
				t.Fatalf("%+v: forward out[%d] = %v, loops %v", c, i, out[i], want[i])
			}
		}
		if c.P > 0 {
			continue
		}
		s.kcap = c.T
		s.keyMask = s.keyMask[:c.B*c.T]
		for i := range s.keyMask {
			s.keyMask[i] = i%c.T >= c.B-1-i/c.T
		}
		k, v = k[:c.B*c.T*s.kvWide], v[:c.B*c.T*s.kvWide]
		attnForward(&s, out, q, k, v)
		probs = append(probs[:0], s.probs...)
		dout := rnd(len(out))
		dq, dk, dv := make([]float32, len(q)), rnd(len(k)), rnd(len(v)) // dk, dv garbage: must be overwritten
		s.dprobs = make([]float32, c.T*c.T)
		attnBackward(&s, dq, dk, dv, dout, q, k, v)
		wq, wk, wv := make([]float32, len(q)), make([]float32, len(k)), make([]float32, len(v))
		s.probs = probs
		attnBackwardLoop(&s, wq, wk, wv, dout, q, k, v)
		for name, pair := range map[string][2][]float32{"dq": {dq, wq}, "dk": {dk, wk}, "dv": {dv, wv}} {
			for i := range pair[1] {
				if math.Abs(float64(pair[0][i]-pair[1][i])) > 1e-4 {
					t.Fatalf("%+v: %s[%d] = %v, loops %v", c, name, i, pair[0][i], pair[1][i])
				}
			}
		}
	}
}

// The loop forms of attention: the oracle for the GEMM forms in ops.go.

// attnForwardLoop computes out [B*T, heads*hd] from q [B*T, heads*hd] and k, v
// [B, kcap, kvHeads*hd], saving softmax probabilities [B, heads, T, P+T] in s.probs.
// Query head h reads KV head h/(heads/kvHeads), as repeat_interleave does in transformers.
// A query with no visible key outputs zeros.
func attnForwardLoop(s *attnShape, out, q, k, v []float32) {
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

// attnBackwardLoop computes dq [B*T, heads*hd] and dk, dv [B, T, kvHeads*hd] from dout, for
// P == 0 (training passes have no cache). Work is split by (sequence, KV head) so that the
// query heads sharing a KV head accumulate into dk and dv without races.
func attnBackwardLoop(s *attnShape, dq, dk, dv, dout, q, k, v []float32) {
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
