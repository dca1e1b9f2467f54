package debias

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/safetensors"
	"github.com/aegis-safety/aegis/native/tokenizer"
)

// Bias is a per-position logit bias: L rows of V values.
type Bias struct {
	L, V int
	Data []float32 // [L, V] row-major
	// Count[l] is the number of prompts that reached position l.
	Count []int
	Meta  map[string]string
}

// Row is position l's bias.
func (b *Bias) Row(l int) []float32 { return b.Data[l*b.V : (l+1)*b.V] }

// SquaredNorm is the sum of the squares of row l.
func (b *Bias) SquaredNorm(l int) float64 {
	var sum float64
	for _, v := range b.Row(l) {
		sum += float64(v) * float64(v)
	}
	return sum
}

// Scaled returns λ·bias as rows for model.GenerateOptions.Debias and
// eval.LocalGenerator.Debias.
func (b *Bias) Scaled(lambda float64) [][]float32 {
	out := make([][]float32, b.L)
	for l := range out {
		row := make([]float32, b.V)
		for j, v := range b.Row(l) {
			row[j] = float32(lambda * float64(v))
		}
		out[l] = row
	}
	return out
}

// FitOptions control Fit.
type FitOptions struct {
	Positions int            // L, the generated positions estimated
	Sampling  model.Sampling // how the aligned model generates (zero: greedy)
	Seed      uint64         // the sampler's seed
	StopIDs   []int32        // end a prompt's generation
	OnPrompt  func(done int) // progress, if set
	_         struct{}       // keep the literal keyed
}

// Fit estimates the aligned model's per-position logit bias against ref over prompts
// (token ids, already rendered): see the package comment. Both models must share the
// vocabulary.
func Fit(aligned, ref *model.Model, prompts [][]int32, o FitOptions) (*Bias, error) {
	L, V := o.Positions, aligned.Config.VocabSize
	switch {
	case L <= 0:
		return nil, fmt.Errorf("debias: positions must be positive")
	case ref.Config.VocabSize != V:
		return nil, fmt.Errorf("debias: the aligned model's vocabulary (%d) differs from the reference's (%d)", V, ref.Config.VocabSize)
	case len(prompts) == 0:
		return nil, fmt.Errorf("debias: no prompts")
	}
	sum := make([]float64, L*V)
	count := make([]int, L)
	la := make([]float32, V)
	for p, prompt := range prompts {
		if len(prompt) == 0 {
			return nil, fmt.Errorf("debias: prompt %d is empty", p)
		}
		ca, cr := aligned.NewCache(1, len(prompt)+L), ref.NewCache(1, len(prompt)+L)
		smp := model.NewSampler(o.Sampling, o.Seed+uint64(p))
		next := prompt
		for l := range L {
			a, err := aligned.Step(ca, next, nil)
			if err != nil {
				return nil, err
			}
			copy(la, a) // Step reuses its slice; keep the aligned row while the reference runs
			r, err := ref.Step(cr, next, nil)
			if err != nil {
				return nil, err
			}
			row := sum[l*V : (l+1)*V]
			for j := range V {
				row[j] += float64(la[j]) - float64(r[j])
			}
			count[l]++
			id := smp.Next(la)
			if slices.Contains(o.StopIDs, id) {
				break
			}
			next = []int32{id}
		}
		if o.OnPrompt != nil {
			o.OnPrompt(p + 1)
		}
	}
	b := &Bias{L: L, V: V, Data: make([]float32, L*V), Count: count, Meta: map[string]string{}}
	for l := range L {
		if count[l] == 0 {
			continue
		}
		row := sum[l*V : (l+1)*V]
		var mean float64
		for j := range row {
			row[j] /= float64(count[l])
			mean += row[j]
		}
		mean /= float64(V)
		for j, v := range row {
			b.Data[l*V+j] = float32(v - mean)
		}
	}
	b.Meta["positions"] = strconv.Itoa(L)
	b.Meta["prompts"] = strconv.Itoa(len(prompts))
	b.Meta["centered"] = "true"
	b.Meta["seed"] = strconv.FormatUint(o.Seed, 10)
	return b, nil
}

// RandomPrompts draws n prompts of between minLen and maxLen tokens, each token drawn
// uniformly from the tokens of texts (so with the corpus's unigram frequencies), decoded
// and rendered as one user message with the generation prompt (plain text when the
// tokenizer has no chat template).
func RandomPrompts(tok *tokenizer.Tokenizer, texts []string, n, minLen, maxLen int, seed uint64) ([][]int32, error) {
	var pool []int32
	for _, t := range texts {
		for _, id := range tok.Encode(t, false) {
			if !tok.IsSpecial(id) {
				pool = append(pool, id)
			}
		}
	}
	if len(pool) == 0 {
		return nil, fmt.Errorf("debias: the benign text has no tokens")
	}
	if minLen <= 0 || maxLen < minLen {
		return nil, fmt.Errorf("debias: need 0 < min length <= max length")
	}
	rng := rand.New(rand.NewPCG(seed, 0x74736469))
	c := tok.Config
	chat := c != nil && (c.ChatTemplate != "" || len(c.Templates) > 0)
	out := make([][]int32, n)
	for i := range out {
		ids := make([]int32, minLen+rng.IntN(maxLen-minLen+1))
		for j := range ids {
			ids[j] = pool[rng.IntN(len(pool))]
		}
		text := tok.Decode(ids, true)
		if !chat {
			out[i] = tok.Encode(text, true)
			continue
		}
		p, _, err := tok.EncodeChat([]tokenizer.Message{{Role: "user", Content: text}}, tokenizer.ChatOptions{AddGenerationPrompt: true})
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// Save writes the bias as safetensors: "bias" [L, V] float32, "count" [L] (as float32),
// and the metadata.
func (b *Bias) Save(path string) error {
	cnt := make([]float32, b.L)
	for i, c := range b.Count {
		cnt[i] = float32(c)
	}
	return safetensors.Write(path, []safetensors.Tensor{
		{Name: "bias", DType: safetensors.F32, Shape: []int{b.L, b.V}, F32: b.Data},
		{Name: "count", DType: safetensors.F32, Shape: []int{b.L}, F32: cnt},
	}, b.Meta)
}

// LoadScaled reads the bias at path (Load) for a model of vocab tokens and returns
// scale·bias as rows (Scaled); it returns nil, no debiasing, when path is "".
func LoadScaled(path string, scale float64, vocab int) ([][]float32, error) {
	if path == "" {
		return nil, nil
	}
	b, err := Load(path)
	if err != nil {
		return nil, err
	}
	if b.V != vocab {
		return nil, fmt.Errorf("%s: the bias is over %d tokens, the model's vocabulary has %d", path, b.V, vocab)
	}
	return b.Scaled(scale), nil
}

// Load reads a bias written by Save.
func Load(path string) (*Bias, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, ok := f.Info("bias")
	if !ok || len(info.Shape) != 2 {
		return nil, fmt.Errorf("%s: no [L, V] tensor \"bias\"", path)
	}
	data, err := f.Float32("bias")
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	b := &Bias{L: info.Shape[0], V: info.Shape[1], Data: slices.Clone(data), Count: make([]int, info.Shape[0]), Meta: map[string]string{}}
	if c, err := f.Float32("count"); err == nil && len(c) == b.L {
		for i, v := range c {
			b.Count[i] = int(v)
		}
	}
	for k, v := range f.Metadata() {
		b.Meta[k] = v
	}
	return b, nil
}
