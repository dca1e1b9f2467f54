//go:build !amd64

package kernels

// Without assembly every kernel is the plain Go one.

func dotVec(x, y []float32) float32                       { return dotRef(x, y) }
func dot3Vec(x, y, z []float32) float32                   { return dot3Ref(x, y, z) }
func axpyVec(a float32, x, y []float32)                   { axpyRef(a, x, y) }
func scaleVec(a float32, x []float32)                     { scaleRef(a, x) }
func addVec(dst, x, y []float32)                          { addRef(dst, x, y) }
func sumVec(x []float32) float32                          { return sumRef(x) }
func maxVec(x []float32) float32                          { return maxRef(x) }
func expVec(dst, src []float32)                           { expRef(dst, src) }
func expSumVec(dst, src []float32, shift float32) float32 { return expSumRef(dst, src, shift) }
func swigluVec(out, gate, up []float32)                   { swigluRef(out, gate, up) }
func swigluBackwardVec(dgate, dup, dout, gate, up []float32) {
	swigluBackwardRef(dgate, dup, dout, gate, up)
}
func rmsScaleVec(y, x, w []float32, r float32) { rmsScaleRef(y, x, w, r) }
func rmsBackwardVec(dx, dw, dy, x, w []float32, r, c float32, accumulate bool) {
	rmsBackwardRef(dx, dw, dy, x, w, r, c, accumulate)
}
func adamWVec(p, g, m, v []float32, k *adamConsts) { adamWRef(p, g, m, v, k) }
func ropeVec(x, cos, sin []float32, heads, headDim int, inverse bool) {
	ropeRef(x, cos, sin, heads, headDim, inverse)
}
