package train

import (
	"math"

	"github.com/aegis-safety/aegis/native/model"
)

// ClipGradNorm returns the global L2 norm of all gradients in params (those
// with a nil Grad are skipped) and, when maxNorm > 0, scales every gradient
// by maxNorm/(total+1e-6) if that factor is below 1, as
// torch.nn.utils.clip_grad_norm_ does. maxNorm <= 0 only measures.
//
// A non-finite norm (NaN or Inf gradients) is returned as is and the
// gradients are left untouched; the caller should skip the step.
func ClipGradNorm(params []*model.Param, maxNorm float64) (total float64) {
	var sum float64
	for _, p := range params {
		for _, g := range p.Grad {
			sum += float64(g) * float64(g)
		}
	}
	total = math.Sqrt(sum)
	if maxNorm <= 0 {
		return total
	}
	coef := maxNorm / (total + 1e-6)
	if !(coef < 1) { // also false for NaN
		return total
	}
	c := float32(coef)
	for _, p := range params {
		g := p.Grad
		for i := range g {
			g[i] *= c
		}
	}
	return total
}
