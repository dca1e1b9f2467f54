package train

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/aegis-safety/aegis/kernels"
	"github.com/aegis-safety/aegis/native/model"
)

// Optimizer updates parameters from their gradients.
//
// Step applies one update to every param in params using p.Grad, with
// learning rate lr (the caller owns the schedule). Params with a nil Grad
// are skipped, like torch skips params whose grad is None. Optimizer state is
// keyed by Param.Name, so names must be unique within the set.
//
// State returns the optimizer's per-parameter state as named float32
// tensors, for checkpoints; the slices alias the optimizer's buffers and are
// only valid until the next Step. LoadState replaces the state with a copy
// of a map previously returned by State.
type Optimizer interface {
	Step(params []*model.Param, lr float64)
	State() map[string][]float32
	LoadState(state map[string][]float32) error
}

// AdamW is Adam with decoupled weight decay, as torch.optim.AdamW
// (amsgrad=false, maximize=false). Per step t, for each element:
//
//	p *= 1 - lr*wd
//	m = b1*m + (1-b1)*g
//	v = b2*v + (1-b2)*g*g
//	p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
//
// The step count t is kept per parameter, as torch does, so a parameter
// first seen late starts its bias correction at t=1.
type AdamW struct {
	Beta1, Beta2 float64
	Eps          float64
	WeightDecay  float64

	state map[string]*adamState
}

type adamState struct {
	m, v []float32 // exp_avg, exp_avg_sq
	t    int       // steps taken
}

// NewAdamW returns an AdamW with the PyTorch defaults: betas (0.9, 0.999),
// eps 1e-8, weight decay 0.01.
func NewAdamW() *AdamW {
	return &AdamW{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}
}

// Step applies one AdamW update; see Optimizer.
func (o *AdamW) Step(params []*model.Param, lr float64) {
	if o.state == nil {
		o.state = make(map[string]*adamState)
	}
	for _, p := range params {
		if p.Grad == nil {
			continue
		}
		checkGrad(p)
		s := o.state[p.Name]
		if s == nil {
			s = &adamState{m: make([]float32, len(p.Data)), v: make([]float32, len(p.Data))}
			o.state[p.Name] = s
		} else if len(s.m) != len(p.Data) {
			panic(fmt.Sprintf("train: AdamW state for %q has %d elements, param has %d", p.Name, len(s.m), len(p.Data)))
		}
		s.t++
		// Scalars in float64, then rounded to float32 once, as torch does
		// with Python-float scalars applied to float32 tensors.
		bc1 := 1 - math.Pow(o.Beta1, float64(s.t))
		bc2 := 1 - math.Pow(o.Beta2, float64(s.t))
		// The kernel rounds as the loop in its doc does. Large tensors split across
		// cores; small ones skip the closure, so a step of them allocates nothing.
		if len(p.Data) < 1<<14 {
			kernels.AdamW(p.Data, p.Grad, s.m, s.v, lr, o.Beta1, o.Beta2, o.Eps, o.WeightDecay, bc1, bc2)
			continue
		}
		kernels.ParallelRange(len(p.Data), 8, func(lo, hi int) {
			kernels.AdamW(p.Data[lo:hi], p.Grad[lo:hi], s.m[lo:hi], s.v[lo:hi], lr, o.Beta1, o.Beta2, o.Eps, o.WeightDecay, bc1, bc2)
		})
	}
}

// State returns "<name>.exp_avg", "<name>.exp_avg_sq" and "<name>.step" (a
// one-element tensor, like torch's state_dict) for every parameter stepped
// so far. The slices alias the optimizer's buffers.
func (o *AdamW) State() map[string][]float32 {
	out := make(map[string][]float32, 3*len(o.state))
	for name, s := range o.state {
		out[name+".exp_avg"] = s.m
		out[name+".exp_avg_sq"] = s.v
		out[name+".step"] = []float32{float32(s.t)}
	}
	return out
}

// LoadState replaces the state with a copy of state, in the layout State
// returns. Every parameter needs all three entries with consistent sizes.
func (o *AdamW) LoadState(state map[string][]float32) error {
	next := make(map[string]*adamState)
	get := func(name string) *adamState {
		s := next[name]
		if s == nil {
			s = &adamState{t: -1} // -1: no step entry seen yet
			next[name] = s
		}
		return s
	}
	for key, t := range state {
		if name, ok := strings.CutSuffix(key, ".exp_avg_sq"); ok {
			get(name).v = slices.Clone(t)
		} else if name, ok := strings.CutSuffix(key, ".exp_avg"); ok {
			get(name).m = slices.Clone(t)
		} else if name, ok := strings.CutSuffix(key, ".step"); ok {
			if len(t) != 1 || !(t[0] >= 0) || t[0] != float32(math.Trunc(float64(t[0]))) {
				return fmt.Errorf("train: AdamW state %q must hold one non-negative integer, got %v", key, t)
			}
			get(name).t = int(t[0])
		} else {
			return fmt.Errorf("train: AdamW state has unexpected entry %q", key)
		}
	}
	for name, s := range next {
		if s.m == nil || s.v == nil || s.t < 0 {
			return fmt.Errorf("train: AdamW state for %q needs exp_avg, exp_avg_sq and step", name)
		}
		if len(s.m) != len(s.v) {
			return fmt.Errorf("train: AdamW state for %q: exp_avg has %d elements, exp_avg_sq %d", name, len(s.m), len(s.v))
		}
	}
	o.state = next
	return nil
}

// checkGrad panics when a gradient does not match its parameter: that is a
// bug in the caller, not a runtime condition to recover from.
func checkGrad(p *model.Param) {
	if len(p.Grad) != len(p.Data) {
		panic(fmt.Sprintf("train: param %q has %d values but %d grads", p.Name, len(p.Data), len(p.Grad)))
	}
}
