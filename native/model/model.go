package model

import (
	"fmt"
	"math/rand/v2"

	"github.com/aegis-safety/aegis/kernels"
)

// Model is a Llama-family decoder with its weights, the activations of the last forward
// pass, and its LoRA adapter sets. A Model is not safe for concurrent use.
type Model struct {
	Config  Config
	Embed   *Linear // model.embed_tokens: weight [V, H], used as a lookup table (and as lm_head when tied)
	Layers  []*Layer
	Norm    *Param  // model.norm.weight [H]
	LMHead  *Linear // nil when tie_word_embeddings
	invFreq []float32

	adapters   []*Adapter
	trainBase  bool
	acts       *activations
	scratchTmp []float32 // LoRA intermediates
}

// Layer is one decoder block.
type Layer struct {
	InputNorm, PostNorm *Param // input_layernorm, post_attention_layernorm [H]
	Q, K, V, O          *Linear
	Gate, Up, Down      *Linear
}

// Options controls how New and Load hold a model.
type Options struct {
	// BF16Base keeps the embedding and linear weights in bfloat16 (rounded if stored
	// wider), halving their memory; such a base can run and carry adapters but not be
	// trained.
	BF16Base bool
}

// New returns a model with weights drawn as transformers initialises them: normal with
// std initializer_range for linears and embeddings, ones for norms, zero biases.
func New(cfg Config, seed uint64, opt Options) (*Model, error) {
	cfg.fillDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := build(&cfg, opt)
	r := rand.New(rand.NewPCG(seed, 0x61656769))
	std := cfg.InitializerRange
	for _, l := range m.linears() {
		w := l.W.Data
		if opt.BF16Base {
			w = make([]float32, l.In*l.Out)
		}
		for i := range w {
			w[i] = float32(r.NormFloat64() * std)
		}
		if opt.BF16Base {
			kernels.NarrowBF16(l.wbf16, w)
		}
	}
	for _, p := range m.norms() {
		for i := range p.Data {
			p.Data[i] = 1
		}
	}
	return m, nil
}

// build allocates a zeroed model for cfg, which must be valid.
func build(cfg *Config, opt Options) *Model {
	c := cfg
	h, kvw, qw := c.HiddenSize, c.NumKVHeads*c.HeadDim, c.NumHeads*c.HeadDim
	m := &Model{Config: *c, invFreq: c.InvFreq()}
	m.Embed = newLinear("model.embed_tokens", h, c.VocabSize, false)
	for i := 0; i < c.NumLayers; i++ {
		p := fmt.Sprintf("model.layers.%d.", i)
		norm := func(name string) *Param {
			return &Param{Name: p + name + ".weight", Shape: []int{h}, Data: make([]float32, h)}
		}
		m.Layers = append(m.Layers, &Layer{
			InputNorm: norm("input_layernorm"),
			PostNorm:  norm("post_attention_layernorm"),
			Q:         newLinear(p+"self_attn.q_proj", h, qw, c.QKVBias()),
			K:         newLinear(p+"self_attn.k_proj", h, kvw, c.QKVBias()),
			V:         newLinear(p+"self_attn.v_proj", h, kvw, c.QKVBias()),
			O:         newLinear(p+"self_attn.o_proj", qw, h, c.OBias()),
			Gate:      newLinear(p+"mlp.gate_proj", h, c.IntermediateSize, c.MLPBias),
			Up:        newLinear(p+"mlp.up_proj", h, c.IntermediateSize, c.MLPBias),
			Down:      newLinear(p+"mlp.down_proj", c.IntermediateSize, h, c.MLPBias),
		})
	}
	m.Norm = &Param{Name: "model.norm.weight", Shape: []int{h}, Data: make([]float32, h)}
	if !c.TieWordEmbeddings {
		m.LMHead = newLinear("lm_head", h, c.VocabSize, false)
	}
	if opt.BF16Base {
		for _, l := range m.linears() {
			l.wbf16, l.W.Data = make([]uint16, l.In*l.Out), nil
		}
	}
	return m
}

// linears lists the model's weight matrices in a fixed order: the embedding, each
// layer's projections, and lm_head when untied.
func (m *Model) linears() []*Linear {
	ls := []*Linear{m.Embed}
	for _, l := range m.Layers {
		ls = append(ls, l.Q, l.K, l.V, l.O, l.Gate, l.Up, l.Down)
	}
	if m.LMHead != nil {
		ls = append(ls, m.LMHead)
	}
	return ls
}

// norms lists the RMSNorm weights.
func (m *Model) norms() []*Param {
	var ps []*Param
	for _, l := range m.Layers {
		ps = append(ps, l.InputNorm, l.PostNorm)
	}
	return append(ps, m.Norm)
}

// baseParams lists every base weight in HF order: embeddings, each layer, norm, lm_head.
func (m *Model) baseParams() []*Param {
	ps := []*Param{m.Embed.W}
	lin := func(l *Linear) {
		ps = append(ps, l.W)
		if l.B != nil {
			ps = append(ps, l.B)
		}
	}
	for _, l := range m.Layers {
		ps = append(ps, l.InputNorm)
		lin(l.Q)
		lin(l.K)
		lin(l.V)
		lin(l.O)
		ps = append(ps, l.PostNorm)
		lin(l.Gate)
		lin(l.Up)
		lin(l.Down)
	}
	ps = append(ps, m.Norm)
	if m.LMHead != nil {
		lin(m.LMHead)
	}
	return ps
}

// BaseParams returns the base model's tensors (whether trainable or not), in HF order.
func (m *Model) BaseParams() []*Param { return m.baseParams() }

// SetBaseTrainable makes the base weights trainable (allocating their gradients) or frozen.
// A base held in bfloat16 cannot be trained.
func (m *Model) SetBaseTrainable(on bool) error {
	if on {
		for _, l := range m.linears() {
			if l.wbf16 != nil {
				return fmt.Errorf("%s is held in bfloat16; load the model in float32 to train the base", l.W.Name)
			}
		}
		for _, p := range m.baseParams() {
			if p.Grad == nil {
				p.Grad = make([]float32, len(p.Data))
			}
		}
	} else {
		for _, p := range m.baseParams() {
			p.Grad = nil
		}
	}
	m.trainBase = on
	return nil
}

// Params returns the trainable parameters: the base (when trainable) and every trainable
// adapter's A and B, enabled or not.
func (m *Model) Params() []*Param {
	var ps []*Param
	if m.trainBase {
		ps = append(ps, m.baseParams()...)
	}
	for _, a := range m.adapters {
		if a.Trainable {
			ps = append(ps, a.Params()...)
		}
	}
	return ps
}

// NumParams counts the base model's parameters.
func (m *Model) NumParams() int {
	n := 0
	for _, p := range m.baseParams() {
		n += numel(p.Shape)
	}
	return n
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
