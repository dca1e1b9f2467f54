package model

// Param is one trainable tensor: its values, its gradient (same length, accumulated by
// Backward; nil for base tensors while the base is frozen) and its name in Hugging Face (or PEFT) naming.
type Param struct {
	Name  string
	Shape []int
	Data  []float32
	Grad  []float32
}

// ZeroGrad clears the gradients of ps.
func ZeroGrad(ps []*Param) {
	for _, p := range ps {
		clear(p.Grad)
	}
}
