package train

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aegis-safety/aegis/native/model"
)

// SGD is stochastic gradient descent with optional momentum, as
// torch.optim.SGD (maximize=false). Weight decay is the coupled L2 kind: it
// is added to the gradient before momentum. Per element:
//
//	d = g + wd*p
//	buf = d                          (first step)
//	buf = momentum*buf + (1-dampening)*d   (later steps)
//	d = d + momentum*buf  if Nesterov, else d = buf
//	p -= lr*d
//
// With Momentum 0 no state is kept and the update is p -= lr*(g + wd*p).
type SGD struct {
	Momentum    float64
	Dampening   float64
	WeightDecay float64
	Nesterov    bool // needs Momentum > 0 and Dampening 0, as in torch

	buf map[string][]float32 // momentum buffers by param name
}

// Step applies one SGD update; see Optimizer.
func (o *SGD) Step(params []*model.Param, lr float64) {
	if o.Nesterov && (o.Momentum <= 0 || o.Dampening != 0) {
		panic("train: Nesterov SGD needs Momentum > 0 and Dampening 0")
	}
	if o.Momentum != 0 && o.buf == nil {
		o.buf = make(map[string][]float32)
	}
	wd := float32(o.WeightDecay)
	mu := float32(o.Momentum)
	damp := float32(1 - o.Dampening)
	step := float32(lr)
	for _, p := range params {
		if p.Grad == nil {
			continue
		}
		checkGrad(p)
		w, g := p.Data, p.Grad
		if o.Momentum == 0 {
			for i := range w {
				w[i] -= step * (g[i] + wd*w[i])
			}
			continue
		}
		b, ok := o.buf[p.Name]
		if ok && len(b) != len(w) {
			panic(fmt.Sprintf("train: SGD momentum buffer for %q has %d elements, param has %d", p.Name, len(b), len(w)))
		}
		if !ok {
			b = make([]float32, len(w))
			o.buf[p.Name] = b
		}
		for i := range w {
			d := g[i] + wd*w[i]
			if ok {
				b[i] = mu*b[i] + damp*d
			} else {
				b[i] = d // torch starts the buffer at the first gradient, undamped
			}
			if o.Nesterov {
				d += mu * b[i]
			} else {
				d = b[i]
			}
			w[i] -= step * d
		}
	}
}

// State returns "<name>.momentum_buffer" for every parameter stepped with
// momentum so far (nothing when Momentum is 0). The slices alias the
// optimizer's buffers.
func (o *SGD) State() map[string][]float32 {
	out := make(map[string][]float32, len(o.buf))
	for name, b := range o.buf {
		out[name+".momentum_buffer"] = b
	}
	return out
}

// LoadState replaces the momentum buffers with a copy of state, in the
// layout State returns.
func (o *SGD) LoadState(state map[string][]float32) error {
	next := make(map[string][]float32, len(state))
	for key, b := range state {
		name, ok := strings.CutSuffix(key, ".momentum_buffer")
		if !ok {
			return fmt.Errorf("train: SGD state has unexpected entry %q", key)
		}
		next[name] = slices.Clone(b)
	}
	o.buf = next
	return nil
}
