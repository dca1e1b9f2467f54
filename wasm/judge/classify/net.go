package classify

import "math"

// The network, fastText-style with a small MLP on top:
//
//	x_g = mean of Emb[bucket] over the features of group g      x: [NumGroups*EmbDim]
//	h   = relu(W1 x + B1)                                       h: [Hidden]
//	out = W2 h + B2                                             out: [NumOut]
//
// out holds the logits of: "the request is harmful"; "the answer refuses" given a benign
// request (over-refusal); a softmax over refuse / comply / neither given a harmful
// request; and the 14 categories. So
//
//	P(unsafe)  = P(harmful) P(comply | harmful)
//	P(refusal) = P(harmful) P(refuse | harmful) + (1 - P(harmful)) P(refuse | benign)
//
// Each factor learns from every row that informs it (harm from the requests of all rows,
// the three outcomes from every answer to a harmful request), which generalises further
// than one head per label that must learn the conjunctions from its positives alone; and
// on a harmful request an answer that does not comply is far likelier a refusal than
// neither, which the softmax knows and two independent heads do not.
const (
	EmbDim  = 16 // Model.Forward is unrolled for 16
	Hidden  = 48
	InDim   = NumGroups * EmbDim
	NumCats = 14
	NumOut  = OutCat0 + NumCats
)

// Output indices.
const (
	OutHarmful       = 0
	OutBenignRefuses = 1
	OutRefuse        = 2 // the softmax over what an answer to a harmful request does
	OutComply        = 3
	OutNeither       = 4
	OutCat0          = 5
)

// Net holds float32 parameters: the trainer's model and its gradients share this shape.
type Net struct {
	Emb    []float32 // [Dim][EmbDim]
	W1, B1 []float32 // [Hidden][InDim], [Hidden]
	W2, B2 []float32 // [NumOut][Hidden], [NumOut]
}

// NewNet returns zero parameters.
func NewNet() *Net {
	return &Net{Emb: make([]float32, Dim*EmbDim), W1: make([]float32, Hidden*InDim), B1: make([]float32, Hidden),
		W2: make([]float32, NumOut*Hidden), B2: make([]float32, NumOut)}
}

// Params lists the parameter slices in a fixed order (serialisation and the optimiser).
func (n *Net) Params() [][]float32 { return [][]float32{n.Emb, n.W1, n.B1, n.W2, n.B2} }

// Acts are one sample's activations, kept for the backward pass.
type Acts struct {
	Count [NumGroups]int  // features per group
	X     [InDim]float32  // pooled input
	H     [Hidden]float32 // hidden layer after relu
	Out   [NumOut]float32 // logits
	DH    [Hidden]float32 // scratch: dL/dh
	DX    [InDim]float32  // scratch: dL/dx
}

// Forward computes the logits of a feature set into a. keep, when not nil, says which
// features take part (the trainer's feature dropout).
func (n *Net) Forward(fs []Feature, keep []bool, a *Acts) {
	a.X, a.Count = [InDim]float32{}, [NumGroups]int{}
	for i, f := range fs {
		if keep != nil && !keep[i] {
			continue
		}
		a.Count[f.Group]++
		x := a.X[int(f.Group)*EmbDim:][:EmbDim]
		e := n.Emb[int(f.Bucket)*EmbDim:][:EmbDim]
		for j := range x {
			x[j] += e[j]
		}
	}
	meanPool(a)
	mlp(n.W1, n.B1, n.W2, n.B2, a)
}

// Backward adds the gradients of a sample whose logits' gradient is dOut to g.
// touched collects the embedding rows it wrote (so the trainer can clear and update
// only those).
func (n *Net) Backward(fs []Feature, keep []bool, a *Acts, dOut *[NumOut]float32, g *Net, touched []uint32) []uint32 {
	// out = W2 h + B2
	a.DH = [Hidden]float32{}
	for o := 0; o < NumOut; o++ {
		d := dOut[o]
		if d == 0 {
			continue
		}
		g.B2[o] += d
		w, gw := n.W2[o*Hidden:][:Hidden], g.W2[o*Hidden:][:Hidden]
		for j := range gw {
			gw[j] += d * a.H[j]
			a.DH[j] += d * w[j]
		}
	}
	// h = relu(W1 x + B1)
	a.DX = [InDim]float32{}
	for j := 0; j < Hidden; j++ {
		if a.H[j] <= 0 {
			continue
		}
		d := a.DH[j]
		g.B1[j] += d
		w, gw := n.W1[j*InDim:][:InDim], g.W1[j*InDim:][:InDim]
		for k := range gw {
			gw[k] += d * a.X[k]
			a.DX[k] += d * w[k]
		}
	}
	// x_g = mean of Emb rows
	for i, f := range fs {
		if keep != nil && !keep[i] {
			continue
		}
		inv := 1 / float32(a.Count[f.Group])
		dx := a.DX[int(f.Group)*EmbDim:][:EmbDim]
		ge := g.Emb[int(f.Bucket)*EmbDim:][:EmbDim]
		for j := range ge {
			ge[j] += dx[j] * inv
		}
		touched = append(touched, f.Bucket)
	}
	return touched
}

func meanPool(a *Acts) {
	for g, c := range a.Count {
		if c == 0 {
			continue
		}
		inv := 1 / float32(c)
		x := a.X[g*EmbDim:][:EmbDim]
		for j := range x {
			x[j] *= inv
		}
	}
}

// mlp is the layers above the pooling, shared by the float and the quantised model.
func mlp(w1, b1, w2, b2 []float32, a *Acts) {
	for j := 0; j < Hidden; j++ {
		s := b1[j]
		w := w1[j*InDim:][:InDim]
		for k, x := range a.X {
			s += w[k] * x
		}
		a.H[j] = max(s, 0)
	}
	for o := 0; o < NumOut; o++ {
		s := b2[o]
		w := w2[o*Hidden:][:Hidden]
		for j, h := range a.H {
			s += w[j] * h
		}
		a.Out[o] = s
	}
}

// Sigmoid is the logistic function.
func Sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// Softmax returns the probabilities of logits.
func Softmax(logits []float32) []float64 {
	p := make([]float64, len(logits))
	mx := math.Inf(-1)
	for _, l := range logits {
		mx = max(mx, float64(l))
	}
	sum := 0.0
	for i, l := range logits {
		p[i] = math.Exp(float64(l) - mx)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}
