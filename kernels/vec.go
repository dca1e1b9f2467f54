package kernels

import "math"

// The element-wise and row kernels of training: attention's dot products and axpys, exp
// for SiLU, softmax and cross-entropy, RMSNorm, RoPE and AdamW.
//
// Each kernel runs over the length of one named slice, n; every other slice must hold at
// least n values (a shorter one panics before anything is written) and only its first n
// are touched. An output may be the very same slice as an input where a kernel says so,
// but slices must not otherwise overlap. No kernel allocates.
//
// The assembly versions keep sums in vector lanes, so their float32 rounding differs
// from the plain Go order: reductions (Dot, Sum, the sums inside RMSNorm, softmax and
// cross-entropy) agree with the Generic kernels within the error bound of any float32
// summation order, and results built on Exp within a few ulps. AdamW, Scale and Add give
// identical bits on every instruction set, and Max the same value.

// Dot returns the inner product of x and y[:len(x)].
func Dot(x, y []float32) float32 {
	return dotVec(x, y[:len(x)])
}

// Axpy computes y += a*x over len(x) elements.
func Axpy(a float32, x, y []float32) {
	axpyVec(a, x, y[:len(x)])
}

// Scale computes x *= a.
func Scale(a float32, x []float32) {
	scaleVec(a, x)
}

// Add sets dst = x + y over len(x) elements; dst may be x or y.
func Add(dst, x, y []float32) {
	addVec(dst[:len(x)], x, y[:len(x)])
}

// Sum returns the sum of x.
func Sum(x []float32) float32 {
	return sumVec(x)
}

// Max returns the largest element of x: NaN if x holds one, -Inf if x is empty.
func Max(x []float32) float32 {
	return maxVec(x)
}

// Exp sets dst[i] = exp(src[i]) over len(src) elements; dst may be src.
//
// The result is within 1 ulp of the true value for every float32 input (checked
// exhaustively), subnormal results included: the assembly does not flush them to zero.
// exp(-Inf) = 0, results below half the smallest subnormal (inputs below about -103.97)
// round to 0, inputs above about 88.72 overflow to +Inf, and NaN stays NaN.
func Exp(dst, src []float32) {
	expVec(dst[:len(src)], src)
}

// SoftmaxInPlace replaces x by softmax(x), computed stably by subtracting the maximum
// first. Entries of -Inf become exactly 0, so -Inf works as a mask; if every entry is
// -Inf the row becomes all zeros. A NaN or +Inf entry makes the row NaN.
func SoftmaxInPlace(x []float32) {
	if isa == Generic {
		softmaxRef(x)
		return
	}
	m := maxVec(x)
	if math.IsInf(float64(m), -1) {
		clear(x)
		return
	}
	// Normalise by multiplying with the reciprocal: one rounding more than dividing, and
	// what the attention code always did.
	scaleVec(1/expSumVec(x, x, m), x)
}

// LogSumExp returns log(Σ exp(x[i])), computed stably: -Inf for an empty x or one of
// only -Inf entries, +Inf if an entry is +Inf, NaN if one is NaN.
func LogSumExp(x []float32) float32 {
	if isa == Generic {
		return logSumExpRef(x)
	}
	m := maxVec(x)
	if math.IsInf(float64(m), 0) {
		return m
	}
	s := expSumVec(nil, x, m)
	return float32(float64(m) + math.Log(float64(s)))
}

// SwiGLU sets out = silu(gate) * up over len(gate) elements, where
// silu(g) = g / (1 + exp(-g)); out may be gate or up. Large |g| gives no NaN: silu
// tends to 0 and g.
func SwiGLU(out, gate, up []float32) {
	n := len(gate)
	swigluVec(out[:n], gate, up[:n])
}

// SwiGLUBackward computes the gradients of SwiGLU over len(gate) elements from the
// output gradient dout: with s = sigmoid(g),
//
//	dup   = dout * g*s
//	dgate = dout * up * s * (1 + g*(1-s))
//
// It overwrites dgate and dup, which must not overlap the inputs.
func SwiGLUBackward(dgate, dup, dout, gate, up []float32) {
	n := len(gate)
	swigluBackwardVec(dgate[:n], dup[:n], dout[:n], gate, up[:n])
}

// RMSNorm normalises one row: with d = len(x) and r = 1/sqrt(Σx²/d + eps), it sets
// y = x * r * w and returns r for the backward pass; y may be x. The sum of squares
// accumulates in float32; r is formed in float64.
func RMSNorm(y, x, w []float32, eps float32) (rstd float32) {
	n := len(x)
	y, w = y[:n], w[:n]
	if isa == Generic {
		return rmsNormRef(y, x, w, eps)
	}
	r := rmsRstd(dotVec(x, x), n, eps)
	rmsScaleVec(y, x, w, r)
	return r
}

// RMSNormBackward computes the gradients of RMSNorm for one row of d = len(x) values,
// given the output gradient dy and the rstd that RMSNorm returned: with
// c = (Σ dy*w*x) * r² / d,
//
//	dx = r * (dy*w - x*c)
//
// overwriting dx, or adding to it when accumulate is set. If dw is not nil it also
// accumulates dw += dy * x * r. dx and dw must not overlap the inputs.
func RMSNormBackward(dx, dw, dy, x, w []float32, rstd float32, accumulate bool) {
	n := len(x)
	dx, dy, w = dx[:n], dy[:n], w[:n]
	if dw != nil {
		dw = dw[:n]
	}
	if isa == Generic {
		rmsNormBackwardRef(dx, dw, dy, x, w, rstd, accumulate)
		return
	}
	c := dot3Vec(dy, w, x) * rstd * rstd / float32(n)
	rmsBackwardVec(dx, dw, dy, x, w, rstd, c, accumulate)
}

// AdamW applies one AdamW update to the parameters p from their gradients g, with the
// first and second moments m and v, over len(p) elements, in the order of PyTorch's
// single-tensor AdamW:
//
//	p *= 1 - lr*weightDecay
//	m  = beta1*m + (1-beta1)*g
//	v  = beta2*v + (1-beta2)*g*g
//	p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps)
//
// where bc1 = 1-beta1^t and bc2 = 1-beta2^t are the bias corrections of step t. The
// scalar expressions are evaluated in float64 and rounded to float32 once; every
// per-element operation is then a single float32 rounding, with no fused multiply-add,
// so all instruction sets give the same bits as native/train's loop compiled for amd64
// (where Go fuses no multiply-adds unless GOAMD64=v3).
func AdamW(p, g, m, v []float32, lr, beta1, beta2, eps, weightDecay, bc1, bc2 float64) {
	n := len(p)
	g, m, v = g[:n], m[:n], v[:n]
	k := newAdamConsts(lr, beta1, beta2, eps, weightDecay, bc1, bc2)
	adamWVec(p, g, m, v, &k)
}

// CrossEntropyRow returns the cross-entropy loss of one row of logits against the class
// target, logsumexp(logits) - logits[target], computed stably with the sum of exps in
// float32: the error is a few ulps of the loss, or about 1e-7 absolute for losses too
// small for float32 to resolve 1 + their exp. If dlogits is not nil it is overwritten
// with the gradient times scale, scale * (softmax(logits) - onehot(target)). Entries of
// -Inf are classes that get probability 0. A target outside the row panics before
// anything is written.
func CrossEntropyRow(logits []float32, target int, dlogits []float32, scale float32) (loss float32) {
	_ = logits[target]
	if dlogits != nil {
		dlogits = dlogits[:len(logits)]
	}
	if isa == Generic {
		return crossEntropyRowRef(logits, target, dlogits, scale)
	}
	m := maxVec(logits)
	s := expSumVec(dlogits, logits, m)
	return ceFinish(logits, target, dlogits, scale, m, s, scaleVec)
}

// RoPE rotates one token's row x of heads×headDim values by the angles whose cosines
// and sines are cos and sin (headDim/2 values each), in the rotate-half layout: in each
// head, element j pairs with element j+headDim/2,
//
//	x1, x2 = v[j], v[j+h]
//	v[j]   = x1*cos[j] - x2*sin[j]
//	v[j+h] = x2*cos[j] + x1*sin[j]
//
// With inverse the rotation is by the opposite angle (sin negated), which is the
// backward pass. headDim must be even.
func RoPE(x, cos, sin []float32, heads, headDim int, inverse bool) {
	if headDim%2 != 0 {
		panic("kernels: RoPE needs an even head dimension")
	}
	h := headDim / 2
	ropeVec(x[:heads*headDim], cos[:h], sin[:h], heads, headDim, inverse)
}
