package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

func tinyConfig(kind string) Config {
	c := Config{ModelType: "llama", VocabSize: 23, HiddenSize: 16, IntermediateSize: 24, NumLayers: 2,
		NumHeads: 4, NumKVHeads: 2, RMSNormEps: 1e-5, RopeTheta: 10000, InitializerRange: 0.3}
	switch kind {
	case "qwen2":
		c.ModelType, c.TieWordEmbeddings = "qwen2", true
	case "mistral":
		w := 3
		c.ModelType, c.SlidingWindow, c.HeadDim = "mistral", &w, 6
	case "biased":
		c.AttentionBias, c.MLPBias = true, true
		c.RopeScaling = &Scaling{RopeType: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 4}
	}
	return c
}

func tinyModel(t *testing.T, kind string, seed uint64) *Model {
	t.Helper()
	m, err := New(tinyConfig(kind), seed, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Random norms and biases, so that their gradients are tested on non-trivial values.
	r := rand.New(rand.NewPCG(seed, 9))
	for _, p := range m.BaseParams() {
		if len(p.Shape) == 1 {
			for i := range p.Data {
				p.Data[i] += float32(0.2 * r.NormFloat64())
			}
		}
	}
	return m
}

// paddedBatch has a full row, a right-padded row and a left-padded row.
func paddedBatch(vocab int, seed uint64) *Batch {
	r := rand.New(rand.NewPCG(seed, 1))
	B, T := 3, 7
	b := &Batch{B: B, T: T, IDs: make([]int32, B*T), Mask: make([]bool, B*T)}
	for i := range b.IDs {
		b.IDs[i] = int32(r.IntN(vocab))
		b.Mask[i] = true
	}
	for t := 5; t < T; t++ {
		b.Mask[T+t], b.IDs[T+t] = false, 0
	}
	for t := 0; t < 3; t++ {
		b.Mask[2*T+t], b.IDs[2*T+t] = false, 0
	}
	return b
}

// TestFiniteDifferences checks every parameter's analytic gradient against central
// differences of L = Σ R·logits over the real rows.
func TestFiniteDifferences(t *testing.T) {
	for _, kind := range []string{"llama", "qwen2", "mistral", "biased", "lora"} {
		t.Run(kind, func(t *testing.T) {
			m := tinyModel(t, map[string]string{"lora": "llama"}[kind]+map[bool]string{true: kind}[kind != "lora"], 3)
			if kind == "lora" {
				a, err := m.AddAdapter("sv", 2, 4, nil, 5)
				if err != nil {
					t.Fatal(err)
				}
				r := rand.New(rand.NewPCG(4, 4))
				for _, p := range a.Params() {
					for i := range p.Data {
						p.Data[i] = float32(0.3 * r.NormFloat64())
					}
				}
				// A frozen but enabled second adapter must shape the gradients without learning.
				f, _ := m.AddAdapter("frozen", 3, 3, []string{"q_proj", "down_proj"}, 6)
				for _, p := range f.Params() {
					for i := range p.Data {
						p.Data[i] = float32(0.3 * r.NormFloat64())
					}
				}
				f.Trainable = false
			} else if err := m.SetBaseTrainable(true); err != nil {
				t.Fatal(err)
			}
			b := paddedBatch(m.Config.VocabSize, 7)
			V := m.Config.VocabSize
			r := rand.New(rand.NewPCG(8, 8))
			R := make([]float32, b.B*b.T*V)
			for i := range R {
				if b.Mask[i/V] {
					R[i] = float32(r.NormFloat64())
				}
			}
			loss := func() float64 {
				logits, err := m.Forward(b)
				if err != nil {
					t.Fatal(err)
				}
				var s float64
				for i, l := range logits {
					s += float64(R[i]) * float64(l)
				}
				return s
			}
			loss()
			ZeroGrad(m.Params())
			if err := m.Backward(R); err != nil {
				t.Fatal(err)
			}
			params := m.Params()
			if len(params) == 0 {
				t.Fatal("no trainable params")
			}
			for _, p := range params {
				grad := append([]float32(nil), p.Grad...)
				for k := 0; k < 4; k++ {
					i := r.IntN(len(p.Data))
					if p.Name == "model.embed_tokens.weight" && k < 2 {
						i = int(b.IDs[0])*m.Config.HiddenSize + k // a row that is used
					}
					old := p.Data[i]
					const eps = 1e-3 // small enough for the curvature of std-0.3 weights, large enough for float32
					p.Data[i] = old + eps
					up := loss()
					p.Data[i] = old - eps
					down := loss()
					p.Data[i] = old
					fd := (up - down) / (2 * eps)
					if d := math.Abs(fd - float64(grad[i])); d > 2e-2*math.Max(1, math.Abs(fd)) {
						t.Errorf("%s[%d]: analytic %.5f, finite difference %.5f", p.Name, i, grad[i], fd)
					}
				}
			}
		})
	}
}

// TestPaddingInvariance: a padded row's real positions see exactly what the row alone sees.
func TestPaddingInvariance(t *testing.T) {
	for _, kind := range []string{"llama", "qwen2", "biased"} {
		m := tinyModel(t, kind, 11)
		b := paddedBatch(m.Config.VocabSize, 12)
		V := m.Config.VocabSize
		logits, err := m.Forward(b)
		if err != nil {
			t.Fatal(err)
		}
		logits = append([]float32(nil), logits...)
		for row := 0; row < b.B; row++ {
			var ids []int32
			var at []int
			for t := 0; t < b.T; t++ {
				if b.Mask[row*b.T+t] {
					ids = append(ids, b.IDs[row*b.T+t])
					at = append(at, t)
				}
			}
			alone, err := m.Forward(&Batch{B: 1, T: len(ids), IDs: ids})
			if err != nil {
				t.Fatal(err)
			}
			for j, tt := range at {
				for v := 0; v < V; v++ {
					got, want := logits[(row*b.T+tt)*V+v], alone[j*V+v]
					if math.Abs(float64(got-want)) > 1e-5*(1+math.Abs(float64(want))) {
						t.Fatalf("%s row %d pos %d: padded %v alone %v", kind, row, tt, got, want)
					}
				}
			}
		}
	}
}

// TestCacheMatchesForward: decoding token by token (and in chunks, batched with left
// padding) gives the same logits as one full forward pass.
func TestCacheMatchesForward(t *testing.T) {
	for _, kind := range []string{"llama", "qwen2", "mistral", "biased"} {
		m := tinyModel(t, kind, 21)
		V := m.Config.VocabSize
		b := paddedBatch(V, 22)
		b.Mask[b.T+5], b.Mask[b.T+6] = true, true // generation batches are left-padded only
		full, err := m.Forward(b)
		if err != nil {
			t.Fatal(err)
		}
		full = append([]float32(nil), full...)
		for _, chunk := range []int{1, 3} {
			c := m.NewCache(b.B, b.T)
			for t0 := 0; t0 < b.T; t0 += chunk {
				t1 := min(t0+chunk, b.T)
				var ids []int32
				var mask []bool
				for row := 0; row < b.B; row++ {
					ids = append(ids, b.IDs[row*b.T+t0:row*b.T+t1]...)
					mask = append(mask, b.Mask[row*b.T+t0:row*b.T+t1]...)
				}
				got, err := m.Step(c, ids, mask)
				if err != nil {
					t.Fatal(err)
				}
				for row := 0; row < b.B; row++ {
					for v := 0; v < V; v++ {
						want := full[(row*b.T+t1-1)*V+v]
						g := got[row*V+v]
						if math.Abs(float64(g-want)) > 1e-5*(1+math.Abs(float64(want))) {
							t.Fatalf("%s chunk %d row %d pos %d: cached %v full %v", kind, chunk, row, t1-1, g, want)
						}
					}
				}
			}
			if _, err := m.Step(c, make([]int32, b.B), nil); err == nil {
				t.Fatal("step past the cache's capacity succeeded")
			}
		}
	}
}

func TestGenerateGreedyMatchesArgmax(t *testing.T) {
	m := tinyModel(t, "llama", 31)
	prompt := []int32{1, 2, 3}
	out, err := m.Generate(prompt, GenerateOptions{MaxNewTokens: 6})
	if err != nil {
		t.Fatal(err)
	}
	seq := append([]int32(nil), prompt...)
	for i := 0; i < 6; i++ {
		logits, err := m.Forward(&Batch{B: 1, T: len(seq), IDs: seq})
		if err != nil {
			t.Fatal(err)
		}
		next := Argmax(logits[(len(seq)-1)*m.Config.VocabSize:])
		if next != out[i] {
			t.Fatalf("token %d: generate %d, argmax of full forward %d", i, out[i], next)
		}
		seq = append(seq, next)
	}
}

func TestSampler(t *testing.T) {
	logits := []float32{0, 3, 1, 2.5, -1}
	// top-p 0.5 keeps only token 1 (p ≈ 0.53), whatever the seed.
	s := NewSampler(Sampling{Temperature: 1, TopP: 0.5}, 1)
	for i := 0; i < 50; i++ {
		if id := s.Next(logits); id != 1 {
			t.Fatalf("top-p 0.5 sampled %d", id)
		}
	}
	// top-k 2 keeps tokens 1 and 3; both must appear, nothing else.
	s = NewSampler(Sampling{Temperature: 1, TopK: 2}, 2)
	seen := map[int32]int{}
	for i := 0; i < 400; i++ {
		seen[s.Next(logits)]++
	}
	if len(seen) != 2 || seen[1] == 0 || seen[3] == 0 {
		t.Fatalf("top-k 2 sampled %v", seen)
	}
	// Plain sampling follows the softmax: frequencies within a few percent.
	s = NewSampler(Sampling{Temperature: 1}, 3)
	counts := make([]float64, len(logits))
	const N = 20000
	for i := 0; i < N; i++ {
		counts[s.Next(logits)]++
	}
	var z float64
	for _, l := range logits {
		z += math.Exp(float64(l))
	}
	for i, l := range logits {
		want := math.Exp(float64(l)) / z
		if math.Abs(counts[i]/N-want) > 0.015 {
			t.Errorf("token %d frequency %.3f, softmax %.3f", i, counts[i]/N, want)
		}
	}
	// Same seed, same tokens.
	a, b := NewSampler(Sampling{Temperature: 0.8, TopP: 0.9}, 42), NewSampler(Sampling{Temperature: 0.8, TopP: 0.9}, 42)
	for i := 0; i < 20; i++ {
		if a.Next(logits) != b.Next(logits) {
			t.Fatal("same seed diverged")
		}
	}
}
