//go:build amd64

package kernels

// The kernels of vec.go on amd64: each picks the assembly for the instruction set in use
// and feeds it slices already cut to a common length.
//
// Go cannot preempt a goroutine inside assembly, so a long slice goes to the assembly in
// pieces of vecChunk elements, each a few microseconds of work at most; a goroutine in
// a long loop of them still reaches a preemption point often.
const vecChunk = 1 << 14

// dotVec and axpyVec go straight to the assembly in the common case, a short row on
// AVX-512: attention calls them per key on a head's 32 to 128 values, where the
// overhead of the chunking loop is as large as the arithmetic.
func dotVec(x, y []float32) float32 {
	if isa == AVX512 && len(x) <= vecChunk {
		return dotAVX512(x, y)
	}
	return dotLong(x, y)
}

func dotLong(x, y []float32) float32 {
	var s float32
	for len(x) > 0 {
		n := min(len(x), vecChunk)
		switch isa {
		case AVX512:
			s += dotAVX512(x[:n], y[:n])
		case AVX2:
			s += dotAVX2(x[:n], y[:n])
		default:
			s += dotRef(x[:n], y[:n])
		}
		x, y = x[n:], y[n:]
	}
	return s
}

func dot3Vec(x, y, z []float32) float32 {
	var s float32
	for len(x) > 0 {
		n := min(len(x), vecChunk)
		switch isa {
		case AVX512:
			s += dot3AVX512(x[:n], y[:n], z[:n])
		case AVX2:
			s += dot3AVX2(x[:n], y[:n], z[:n])
		default:
			s += dot3Ref(x[:n], y[:n], z[:n])
		}
		x, y, z = x[n:], y[n:], z[n:]
	}
	return s
}

func axpyVec(a float32, x, y []float32) {
	if isa == AVX512 && len(x) <= vecChunk {
		axpyAVX512(a, x, y)
		return
	}
	axpyLong(a, x, y)
}

func axpyLong(a float32, x, y []float32) {
	for len(x) > 0 {
		n := min(len(x), vecChunk)
		switch isa {
		case AVX512:
			axpyAVX512(a, x[:n], y[:n])
		case AVX2:
			axpyAVX2(a, x[:n], y[:n])
		default:
			axpyRef(a, x[:n], y[:n])
		}
		x, y = x[n:], y[n:]
	}
}

func scaleVec(a float32, x []float32) {
	for len(x) > 0 {
		n := min(len(x), vecChunk)
		switch isa {
		case AVX512:
			scaleAVX512(a, x[:n])
		case AVX2:
			scaleAVX2(a, x[:n])
		default:
			scaleRef(a, x[:n])
		}
		x = x[n:]
	}
}

func addVec(dst, x, y []float32) {
	for len(x) > 0 {
		n := min(len(x), vecChunk)
		switch isa {
		case AVX512:
			addAVX512(dst[:n], x[:n], y[:n])
		case AVX2:
			addAVX2(dst[:n], x[:n], y[:n])
		default:
			addRef(dst[:n], x[:n], y[:n])
		}
		dst, x, y = dst[n:], x[n:], y[n:]
	}
}

func sumVec(x []float32) float32 {
	var s float32
	for len(x) > 0 {
		n := min(len(x), vecChunk)
		switch isa {
		case AVX512:
			s += sumAVX512(x[:n])
		case AVX2:
			s += sumAVX2(x[:n])
		default:
			s += sumRef(x[:n])
		}
		x = x[n:]
	}
	return s
}

func maxVec(x []float32) float32 {
	m := maxRef(nil)
	for len(x) > 0 {
		n := min(len(x), vecChunk)
		switch isa {
		case AVX512:
			m = max(m, maxAVX512(x[:n]))
		case AVX2:
			m = max(m, maxAVX2(x[:n]))
		default:
			m = max(m, maxRef(x[:n]))
		}
		x = x[n:]
	}
	return m
}

func expVec(dst, src []float32) {
	for len(src) > 0 {
		n := min(len(src), vecChunk)
		switch isa {
		case AVX512:
			expAVX512(dst[:n], src[:n])
		case AVX2:
			expAVX2(dst[:n], src[:n])
		default:
			expRef(dst[:n], src[:n])
		}
		dst, src = dst[n:], src[n:]
	}
}

// expSumVec sets dst[i] = exp(src[i]-shift) and returns their sum; a nil dst only sums.
func expSumVec(dst, src []float32, shift float32) float32 {
	var s float32
	for len(src) > 0 {
		n := min(len(src), vecChunk)
		var d []float32 // empty: the assembly only sums
		if dst != nil {
			d, dst = dst[:n], dst[n:]
		}
		switch isa {
		case AVX512:
			s += expSumAVX512(d, src[:n], shift)
		case AVX2:
			s += expSumAVX2(d, src[:n], shift)
		default:
			s += expSumRef(d, src[:n], shift)
		}
		src = src[n:]
	}
	return s
}

func swigluVec(out, gate, up []float32) {
	for len(gate) > 0 {
		n := min(len(gate), vecChunk)
		switch isa {
		case AVX512:
			swigluAVX512(out[:n], gate[:n], up[:n])
		case AVX2:
			swigluAVX2(out[:n], gate[:n], up[:n])
		default:
			swigluRef(out[:n], gate[:n], up[:n])
		}
		out, gate, up = out[n:], gate[n:], up[n:]
	}
}

func swigluBackwardVec(dgate, dup, dout, gate, up []float32) {
	for len(gate) > 0 {
		n := min(len(gate), vecChunk)
		switch isa {
		case AVX512:
			swigluBackwardAVX512(dgate[:n], dup[:n], dout[:n], gate[:n], up[:n])
		case AVX2:
			swigluBackwardAVX2(dgate[:n], dup[:n], dout[:n], gate[:n], up[:n])
		default:
			swigluBackwardRef(dgate[:n], dup[:n], dout[:n], gate[:n], up[:n])
		}
		dgate, dup, dout, gate, up = dgate[n:], dup[n:], dout[n:], gate[n:], up[n:]
	}
}

func rmsScaleVec(y, x, w []float32, r float32) {
	for len(x) > 0 {
		n := min(len(x), vecChunk)
		switch isa {
		case AVX512:
			rmsScaleAVX512(y[:n], x[:n], w[:n], r)
		case AVX2:
			rmsScaleAVX2(y[:n], x[:n], w[:n], r)
		default:
			rmsScaleRef(y[:n], x[:n], w[:n], r)
		}
		y, x, w = y[n:], x[n:], w[n:]
	}
}

// rmsBackwardVec is RMSNormBackward once c = (Σ dy*w*x) * r² / d is known.
func rmsBackwardVec(dx, dw, dy, x, w []float32, r, c float32, accumulate bool) {
	for len(x) > 0 {
		n := min(len(x), vecChunk)
		var dwn []float32 // empty: the assembly leaves dw alone
		if dw != nil {
			dwn, dw = dw[:n], dw[n:]
		}
		switch isa {
		case AVX512:
			rmsBackwardAVX512(dx[:n], dwn, dy[:n], x[:n], w[:n], r, c, accumulate)
		case AVX2:
			rmsBackwardAVX2(dx[:n], dwn, dy[:n], x[:n], w[:n], r, c, accumulate)
		default:
			rmsBackwardRef(dx[:n], dwn, dy[:n], x[:n], w[:n], r, c, accumulate)
		}
		dx, dy, x, w = dx[n:], dy[n:], x[n:], w[n:]
	}
}

func adamWVec(p, g, m, v []float32, k *adamConsts) {
	for len(p) > 0 {
		n := min(len(p), vecChunk)
		switch isa {
		case AVX512:
			adamWAVX512(p[:n], g[:n], m[:n], v[:n], k)
		case AVX2:
			adamWAVX2(p[:n], g[:n], m[:n], v[:n], k)
		default:
			adamWRef(p[:n], g[:n], m[:n], v[:n], k)
		}
		p, g, m, v = p[n:], g[n:], m[n:], v[n:]
	}
}

func ropeVec(x, cos, sin []float32, heads, headDim int, inverse bool) {
	if isa == Generic || headDim == 0 {
		ropeRef(x, cos, sin, heads, headDim, inverse)
		return
	}
	var sign uint32
	if inverse {
		sign = 1 << 31
	}
	// Whole heads per call, about vecChunk values.
	step := max(1, vecChunk/headDim)
	for h := 0; h < heads; h += step {
		nh := min(step, heads-h)
		xs := x[h*headDim : (h+nh)*headDim]
		if isa == AVX512 {
			ropeAVX512(xs, cos, sin, nh, headDim/2, sign)
		} else {
			ropeAVX2(xs, cos, sin, nh, headDim/2, sign)
		}
	}
}

// The assembly kernels. Every slice they take holds at least as many values as the one
// whose length they use; the functions above make sure of that.

//go:noescape
func dotAVX512(x, y []float32) float32

//go:noescape
func dot3AVX512(x, y, z []float32) float32

//go:noescape
func axpyAVX512(a float32, x, y []float32)

//go:noescape
func scaleAVX512(a float32, x []float32)

//go:noescape
func addAVX512(dst, x, y []float32)

//go:noescape
func sumAVX512(x []float32) float32

//go:noescape
func maxAVX512(x []float32) float32

//go:noescape
func expAVX512(dst, src []float32)

//go:noescape
func expSumAVX512(dst, src []float32, shift float32) float32

//go:noescape
func swigluAVX512(out, gate, up []float32)

//go:noescape
func swigluBackwardAVX512(dgate, dup, dout, gate, up []float32)

//go:noescape
func rmsScaleAVX512(y, x, w []float32, r float32)

//go:noescape
func rmsBackwardAVX512(dx, dw, dy, x, w []float32, r, c float32, accumulate bool)

//go:noescape
func adamWAVX512(p, g, m, v []float32, k *adamConsts)

//go:noescape
func ropeAVX512(x, cos, sin []float32, heads, half int, sign uint32)

//go:noescape
func dotAVX2(x, y []float32) float32

//go:noescape
func dot3AVX2(x, y, z []float32) float32

//go:noescape
func axpyAVX2(a float32, x, y []float32)

//go:noescape
func scaleAVX2(a float32, x []float32)

//go:noescape
func addAVX2(dst, x, y []float32)

//go:noescape
func sumAVX2(x []float32) float32

//go:noescape
func maxAVX2(x []float32) float32

//go:noescape
func expAVX2(dst, src []float32)

//go:noescape
func expSumAVX2(dst, src []float32, shift float32) float32

//go:noescape
func swigluAVX2(out, gate, up []float32)

//go:noescape
func swigluBackwardAVX2(dgate, dup, dout, gate, up []float32)

//go:noescape
func rmsScaleAVX2(y, x, w []float32, r float32)

//go:noescape
func rmsBackwardAVX2(dx, dw, dy, x, w []float32, r, c float32, accumulate bool)

//go:noescape
func adamWAVX2(p, g, m, v []float32, k *adamConsts)

//go:noescape
func ropeAVX2(x, cos, sin []float32, heads, half int, sign uint32)
