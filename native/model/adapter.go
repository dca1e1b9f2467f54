package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
)

// Adapter is a named set of LoRA pairs on some of the model's linear layers. An adapter
// may be enabled or disabled (its contribution to the forward pass) and trainable or
// frozen (whether Backward writes its gradients) independently: a frozen, enabled adapter
// is how security vectors shape fine-tuning without learning.
type Adapter struct {
	Name      string
	Rank      int
	Alpha     float64
	Targets   []string // module names, e.g. "q_proj", "down_proj"
	RSLoRA    bool     // scale by alpha/√r (rank-stabilised LoRA) instead of alpha/r
	Enabled   bool
	Trainable bool
	loras     []*LoRA
}

// Scale is the factor on the low-rank update: lora_alpha / r as in PEFT, or
// lora_alpha / √r for rank-stabilised LoRA.
func (a *Adapter) Scale() float64 {
	if a.RSLoRA {
		return a.Alpha / math.Sqrt(float64(a.Rank))
	}
	return a.Alpha / float64(a.Rank)
}

// Params returns the adapter's tensors, A then B for each adapted layer in model order,
// named as PEFT names them in adapter_model.safetensors.
func (a *Adapter) Params() []*Param {
	ps := make([]*Param, 0, 2*len(a.loras))
	for _, l := range a.loras {
		ps = append(ps, l.A, l.B)
	}
	return ps
}

// AllTargets are the linear modules LoRA may adapt.
var AllTargets = []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}

// AddAdapter attaches a new LoRA adapter set, enabled and trainable, with A drawn as PEFT
// does (Kaiming-uniform with a=√5, i.e. U(−1/√in, 1/√in)) and B zero, so the model's
// output is unchanged until training moves B.
func (m *Model) AddAdapter(name string, rank int, alpha float64, targets []string, seed uint64) (*Adapter, error) {
	if m.Adapter(name) != nil {
		return nil, fmt.Errorf("adapter %q already exists", name)
	}
	if rank <= 0 {
		return nil, fmt.Errorf("adapter %q: rank must be positive", name)
	}
	if len(targets) == 0 {
		targets = AllTargets
	}
	for _, t := range targets {
		if !slices.Contains(AllTargets, t) {
			return nil, fmt.Errorf("adapter %q: unknown target module %q (known: %s)", name, t, strings.Join(AllTargets, ", "))
		}
	}
	a := &Adapter{Name: name, Rank: rank, Alpha: alpha, Targets: slices.Clone(targets), Enabled: true, Trainable: true}
	r := rand.New(rand.NewPCG(seed, 0x6c6f7261))
	for _, l := range m.linears() {
		if !a.targets(l) {
			continue
		}
		lo := a.attach(l)
		bound := 1 / math.Sqrt(float64(l.In))
		for i := range lo.A.Data {
			lo.A.Data[i] = float32((2*r.Float64() - 1) * bound)
		}
	}
	m.adapters = append(m.adapters, a)
	return a, nil
}

// targets reports whether the adapter applies to linear l (never to lm_head).
func (a *Adapter) targets(l *Linear) bool {
	if l.Name == "lm_head" || l.Name == "model.embed_tokens" {
		return false
	}
	mod := l.Name[strings.LastIndexByte(l.Name, '.')+1:]
	return slices.Contains(a.Targets, mod)
}

// attach adds a zeroed LoRA pair to l, with PEFT tensor names.
func (a *Adapter) attach(l *Linear) *LoRA {
	pre := "base_model.model." + l.Name
	lo := &LoRA{Set: a,
		A: &Param{Name: pre + ".lora_A.weight", Shape: []int{a.Rank, l.In}, Data: make([]float32, a.Rank*l.In), Grad: make([]float32, a.Rank*l.In)},
		B: &Param{Name: pre + ".lora_B.weight", Shape: []int{l.Out, a.Rank}, Data: make([]float32, l.Out*a.Rank), Grad: make([]float32, l.Out*a.Rank)},
	}
	l.loras = append(l.loras, lo)
	a.loras = append(a.loras, lo)
	return lo
}

// Adapter returns the adapter set called name, or nil.
func (m *Model) Adapter(name string) *Adapter {
	for _, a := range m.adapters {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// Adapters lists the attached adapter sets in the order they were added.
func (m *Model) Adapters() []*Adapter { return slices.Clone(m.adapters) }

// RemoveAdapter detaches the adapter set called name.
func (m *Model) RemoveAdapter(name string) error {
	a := m.Adapter(name)
	if a == nil {
		return fmt.Errorf("no adapter %q", name)
	}
	for _, l := range m.linears() {
		l.loras = slices.DeleteFunc(l.loras, func(lo *LoRA) bool { return lo.Set == a })
	}
	m.adapters = slices.DeleteFunc(m.adapters, func(x *Adapter) bool { return x == a })
	return nil
}

// MergeAdapter folds an adapter into the base weights (W += scale·B·A) and removes it.
func (m *Model) MergeAdapter(name string) error {
	a := m.Adapter(name)
	if a == nil {
		return fmt.Errorf("no adapter %q", name)
	}
	for _, l := range m.linears() {
		for _, lo := range l.loras {
			if lo.Set != a {
				continue
			}
			if l.wbf16 != nil {
				return fmt.Errorf("cannot merge into %s: the base is held in bfloat16", l.W.Name)
			}
			s := float32(a.Scale())
			for o := 0; o < l.Out; o++ {
				for k := 0; k < a.Rank; k++ {
					b := s * lo.B.Data[o*a.Rank+k]
					if b == 0 {
						continue
					}
					row := l.W.Data[o*l.In : (o+1)*l.In]
					for i, av := range lo.A.Data[k*l.In : (k+1)*l.In] {
						row[i] += b * av
					}
				}
			}
		}
	}
	return m.RemoveAdapter(name)
}
