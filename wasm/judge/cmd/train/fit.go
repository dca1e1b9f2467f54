package main

import (
	"math"

	"github.com/aegis-safety/aegis/shared"
	"github.com/aegis-safety/aegis/wasm/judge/classify"
)

// config holds the training hyperparameters (chosen on the validation split, -valid).
type config struct {
	epochs     int
	batch      int
	lr         float64 // Adam's step size at the start; it decays linearly to 0
	dropout    float64 // share of features dropped from each training sample
	catDrop    float64 // share of samples trained without the caller's category hint
	promptDrop float64 // share of samples trained without the request's features
	auxScale   float32 // weight of the harmful-request and category losses
	seed       uint64
}

func defaultConfig() config {
	return config{epochs: 12, batch: 32, lr: 5e-3, dropout: 0.2, catDrop: 0.8, promptDrop: 0.2, auxScale: 0.5, seed: 1}
}

// rng is splitmix64: tiny, and the same sequence on every platform.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// adam is Adam over one parameter slice; lazy for the embedding table (only the rows a
// batch touched are updated, as fastText-style trainers do).
type adam struct{ m, v []float32 }

func newAdam(n int) *adam { return &adam{make([]float32, n), make([]float32, n)} }

func (o *adam) update(w, g []float32, lo, hi int, lr, c1, c2 float64) {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	for i := lo; i < hi; i++ {
		o.m[i] = b1*o.m[i] + (1-b1)*g[i]
		o.v[i] = b2*o.v[i] + (1-b2)*g[i]*g[i]
		w[i] -= float32(lr * (float64(o.m[i]) / c1) / (math.Sqrt(float64(o.v[i])/c2) + eps))
		g[i] = 0
	}
}

// fit trains the network and returns the quantised model.
func fit(train []*row, cfg config) *classify.Model {
	for _, r := range train {
		if r.f == nil {
			r.f = classify.Features(r.Prompt, r.Response, r.Category)
		}
	}
	rnd := &rng{cfg.seed}
	net := initNet(rnd)
	grad := classify.NewNet()
	opt := make([]*adam, 0, 5)
	for _, p := range net.Params() {
		opt = append(opt, newAdam(len(p)))
	}
	catIndex := map[string]int{}
	for i, c := range shared.HarmCodes() {
		catIndex[c] = i
	}
	noCat := classify.Features("", "", "")[0]
	order := make([]int, len(train))
	for i := range order {
		order[i] = i
	}
	steps := cfg.epochs * ((len(train) + cfg.batch - 1) / cfg.batch)
	step := 0
	var a classify.Acts
	var touched []uint32
	var keep []bool
	for e := 0; e < cfg.epochs; e++ {
		for i := len(order) - 1; i > 0; i-- {
			j := int(rnd.next() % uint64(i+1))
			order[i], order[j] = order[j], order[i]
		}
		for b := 0; b < len(order); b += cfg.batch {
			touched = touched[:0]
			for _, k := range order[b:min(b+cfg.batch, len(order))] {
				r := train[k]
				fs := r.f
				if rnd.float() < cfg.catDrop { // the category hint is the last feature
					fs = append(fs[:len(fs)-1:len(fs)-1], noCat)
				}
				keep = dropMask(keep[:0], fs, cfg.dropout, cfg.promptDrop, rnd)
				net.Forward(fs, keep, &a)
				d := lossGrad(&a, r, catIndex, cfg.auxScale)
				touched = net.Backward(fs, keep, &a, &d, grad, touched)
			}
			step++
			lr := cfg.lr * (1 - float64(step-1)/float64(steps))
			applyAdam(net, grad, opt, touched, lr, step)
		}
	}
	return classify.Quantize(net)
}

// dropMask drops each feature with probability p, and the whole request with probability
// promptDrop, so that the answer's own features learn to carry the outcome (a harmful
// request's usual answer is a refusal, and without this the request alone can outvote a
// short answer that plainly complies).
func dropMask(keep []bool, fs []classify.Feature, p, promptDrop float64, rnd *rng) []bool {
	noPrompt := rnd.float() < promptDrop
	for _, f := range fs {
		keep = append(keep, rnd.float() >= p && !(noPrompt && f.Group == classify.GroupPrompt))
	}
	return keep
}

// lossGrad is dL/dlogits of one row: binary cross-entropy for the harmful-request head
// on every row and for the over-refusal head on benign rows; on harmful rows, softmax
// cross-entropy over refuse / comply / neither and (scaled by aux) over the categories.
func lossGrad(a *classify.Acts, r *row, catIndex map[string]int, aux float32) [classify.NumOut]float32 {
	var d [classify.NumOut]float32
	bce := func(o int, y bool) {
		t := float32(0)
		if y {
			t = 1
		}
		d[o] = float32(classify.Sigmoid(float64(a.Out[o]))) - t
	}
	softmax := func(lo, n, gold int, w float32) {
		p := classify.Softmax(a.Out[lo : lo+n])
		for j := range p {
			g := float32(p[j])
			if j == gold {
				g--
			}
			d[lo+j] = w * g
		}
	}
	c, harmful := catIndex[r.Category]
	bce(classify.OutHarmful, harmful)
	if !harmful {
		bce(classify.OutBenignRefuses, r.Refusal)
		return d
	}
	outcome := 2 // neither
	switch {
	case r.Refusal:
		outcome = 0
	case r.Unsafe:
		outcome = 1
	}
	softmax(classify.OutRefuse, 3, outcome, 1)
	softmax(classify.OutCat0, classify.NumCats, c, aux)
	return d
}

func initNet(rnd *rng) *classify.Net {
	n := classify.NewNet()
	uniform := func(w []float32, bound float64) {
		for i := range w {
			w[i] = float32((2*rnd.float() - 1) * bound)
		}
	}
	uniform(n.Emb, 1.0/classify.EmbDim)
	uniform(n.W1, math.Sqrt(6.0/(classify.InDim+classify.Hidden)))
	uniform(n.W2, math.Sqrt(6.0/(classify.Hidden+classify.NumOut)))
	return n
}

// applyAdam updates the dense layers and the embedding rows the batch touched, and
// clears their gradients.
func applyAdam(net, grad *classify.Net, opt []*adam, touched []uint32, lr float64, step int) {
	c1 := 1 - math.Pow(0.9, float64(step))
	c2 := 1 - math.Pow(0.999, float64(step))
	p, g := net.Params(), grad.Params()
	for i := 1; i < len(p); i++ {
		opt[i].update(p[i], g[i], 0, len(p[i]), lr, c1, c2)
	}
	done := map[uint32]bool{}
	for _, b := range touched {
		if !done[b] {
			done[b] = true
			lo := int(b) * classify.EmbDim
			opt[0].update(p[0], g[0], lo, lo+classify.EmbDim, lr, c1, c2)
		}
	}
}
