package kernels

import "math"

// The plain Go kernels below define what the vector kernels compute: they are the
// Generic instruction set, the fallback on every other architecture, and the tests'
// oracle. They do every float32 operation the way the model code did before it moved to
// this package, so switching to the Generic kernels changes no result. Slices arrive
// already cut to length by the exported functions.

func dotRef(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func axpyRef(a float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += a * v
	}
}

func scaleRef(a float32, x []float32) {
	for i := range x {
		x[i] *= a
	}
}

func addRef(dst, x, y []float32) {
	for i := range x {
		dst[i] = x[i] + y[i]
	}
}

func sumRef(x []float32) float32 {
	var s float32
	for _, v := range x {
		s += v
	}
	return s
}

func maxRef(x []float32) float32 {
	m := float32(math.Inf(-1))
	for _, v := range x {
		m = max(m, v) // NaN wins, as with the builtin everywhere
	}
	return m
}

// exp32 is exp in float64, rounded once: within half an ulp of the true value.
func exp32(x float32) float32 { return float32(math.Exp(float64(x))) }

func expRef(dst, src []float32) {
	for i, v := range src {
		dst[i] = exp32(v)
	}
}

// expSumRef sets dst[i] = exp(src[i]-shift), or only sums when dst is nil, and returns
// the sum.
func expSumRef(dst, src []float32, shift float32) float32 {
	var s float32
	for i, v := range src {
		e := exp32(v - shift)
		if dst != nil {
			dst[i] = e
		}
		s += e
	}
	return s
}

func softmaxRef(x []float32) {
	m := maxRef(x)
	if math.IsInf(float64(m), -1) {
		clear(x) // empty, or every entry -Inf: nothing is reachable
		return
	}
	inv := 1 / expSumRef(x, x, m)
	scaleRef(inv, x)
}

func logSumExpRef(x []float32) float32 {
	m := maxRef(x)
	if math.IsInf(float64(m), 0) {
		return m // -Inf when empty or all -Inf; +Inf dominates everything else
	}
	s := expSumRef(nil, x, m)
	return float32(float64(m) + math.Log(float64(s)))
}

func swigluRef(out, gate, up []float32) {
	for i, g := range gate {
		out[i] = g / (1 + exp32(-g)) * up[i]
	}
}

func swigluBackwardRef(dgate, dup, dout, gate, up []float32) {
	for i, g := range gate {
		sig := 1 / (1 + exp32(-g))
		silu := g * sig
		dup[i] = dout[i] * silu
		dgate[i] = dout[i] * up[i] * sig * (1 + g*(1-sig))
	}
}

// rmsRstd turns a row's sum of squares into 1/sqrt(mean + eps), in float64 as the
// model code does.
func rmsRstd(ss float32, d int, eps float32) float32 {
	return float32(1 / math.Sqrt(float64(ss/float32(d))+float64(eps)))
}

func rmsNormRef(y, x, w []float32, eps float32) float32 {
	var ss float32
	for _, v := range x {
		ss += v * v
	}
	r := rmsRstd(ss, len(x), eps)
	rmsScaleRef(y, x, w, r)
	return r
}

func rmsScaleRef(y, x, w []float32, r float32) {
	for j, v := range x {
		y[j] = v * r * w[j]
	}
}

func rmsNormBackwardRef(dx, dw, dy, x, w []float32, r float32, accumulate bool) {
	c := dot3Ref(dy, w, x) * r * r / float32(len(x))
	rmsBackwardRef(dx, dw, dy, x, w, r, c, accumulate)
}

// dot3Ref returns Σ x*y*z.
func dot3Ref(x, y, z []float32) float32 {
	var s float32
	for j := range x {
		s += x[j] * y[j] * z[j]
	}
	return s
}

// rmsBackwardRef is RMSNormBackward once c = (Σ dy*w*x) * r² / d is known.
func rmsBackwardRef(dx, dw, dy, x, w []float32, r, c float32, accumulate bool) {
	for j := range x {
		g := r * (dy[j]*w[j] - x[j]*c)
		if accumulate {
			dx[j] += g
		} else {
			dx[j] = g
		}
	}
	if dw != nil {
		for j := range x {
			dw[j] += dy[j] * x[j] * r
		}
	}
}

// adamConsts holds AdamW's per-step scalars rounded to float32, in the order the
// assembly reads them.
type adamConsts struct {
	decay, b1, c1, b2, c2, step, bc2Sqrt, eps float32
}

func newAdamConsts(lr, beta1, beta2, eps, weightDecay, bc1, bc2 float64) adamConsts {
	// float64, then rounded to float32 once, as torch does with Python-float scalars
	// applied to float32 tensors and as native/train's AdamW does.
	return adamConsts{
		decay:   float32(1 - lr*weightDecay),
		b1:      float32(beta1),
		c1:      float32(1 - beta1),
		b2:      float32(beta2),
		c2:      float32(1 - beta2),
		step:    float32(lr / bc1),
		bc2Sqrt: float32(math.Sqrt(bc2)),
		eps:     float32(eps),
	}
}

func adamWRef(p, g, m, v []float32, k *adamConsts) {
	// The conversions round every product to float32 and so keep the compiler from
	// fusing multiply-adds (it may, with GOAMD64=v3): the assembly rounds each step too,
	// so every instruction set gives the same bits.
	for i, gi := range g {
		p[i] = float32(p[i] * k.decay)
		m[i] = float32(k.b1*m[i]) + float32(k.c1*gi)
		v[i] = float32(k.b2*v[i]) + float32(float32(k.c2*gi)*gi)
		denom := float32(math.Sqrt(float64(v[i])))/k.bc2Sqrt + k.eps
		p[i] -= float32(k.step * float32(m[i]/denom))
	}
}

func crossEntropyRowRef(logits []float32, target int, dlogits []float32, scale float32) float32 {
	m := maxRef(logits)
	s := expSumRef(dlogits, logits, m)
	return ceFinish(logits, target, dlogits, scale, m, s, scaleRef)
}

// ceFinish turns the row maximum m and the sum s of exp(logits-m), already stored in
// dlogits when non-nil, into the loss and the gradient.
func ceFinish(logits []float32, target int, dlogits []float32, scale, m, s float32,
	scaleFn func(float32, []float32)) float32 {
	// -log p[target] = log(s) - (logits[target] - m); in float64 the difference is exact.
	loss := float32(math.Log(float64(s)) - (float64(logits[target]) - float64(m)))
	if dlogits != nil {
		scaleFn(scale/s, dlogits)
		dlogits[target] -= scale
	}
	return loss
}

func ropeRef(x, cos, sin []float32, heads, headDim int, inverse bool) {
	h := headDim / 2
	for hh := 0; hh < heads; hh++ {
		v := x[hh*headDim : (hh+1)*headDim]
		for j := 0; j < h; j++ {
			x1, x2 := v[j], v[j+h]
			sj := sin[j]
			if inverse {
				sj = -sj
			}
			v[j] = x1*cos[j] - x2*sj
			v[j+h] = x2*cos[j] + x1*sj
		}
	}
}
