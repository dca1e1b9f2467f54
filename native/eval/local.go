package eval

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/tokenizer"
)

// LocalGenerator decodes prompts with a local model, BatchSize rows at a time through one
// KV cache. Prompts are rendered with the tokenizer's chat template (one user message,
// after a system message when System is set) when it has one, else encoded as plain text;
// rows are left-padded to the longest prompt of the batch, which the model's mask-derived
// positions make equivalent to decoding each alone (model.Decode). Rows stop at a stop id
// (by default the eos tokens) or after MaxNewTokens; the stop token is not part of the
// answer.
//
// A prompt longer than the model's context (max_position_embeddings) fails alone; an
// answer ends where the context is full.
//
// Limits: a Model is not safe for concurrent use, so Parallel is 1; the batch's cache holds
// the longest prompt plus MaxNewTokens for every row.
type LocalGenerator struct {
	Model        *model.Model
	Tok          *tokenizer.Tokenizer
	System       string
	Template     string // chat template text overriding the tokenizer's ("" keeps it)
	MaxNewTokens int
	Batch        int
	Sampling     model.Sampling // zero: greedy
	Seed         uint64
	StopIDs      []int32 // nil: Tok.StopIDs(Model.Config.EOSIDs())
	// Debias[l] is subtracted from every row's logits of its l-th new token (see
	// model.DecodeOptions.Debias).
	Debias [][]float32
}

func (g *LocalGenerator) BatchSize() int { return max(1, g.Batch) }
func (g *LocalGenerator) Parallel() int  { return 1 }

// Encode renders and tokenizes one prompt (see tokenizer.EncodePrompt).
func (g *LocalGenerator) Encode(prompt string) ([]int32, error) {
	return g.Tok.EncodePrompt(g.System, prompt, g.Template)
}

// Generate decodes a batch of prompts together.
func (g *LocalGenerator) Generate(ctx context.Context, prompts []string) ([]string, []error) {
	return g.GenerateSeeded(ctx, prompts, nil)
}

// GenerateSeeded is Generate with prompt i sampled from seeds[i] instead of a seed
// derived from Seed and the prompt (nil seeds: Generate).
func (g *LocalGenerator) GenerateSeeded(ctx context.Context, prompts []string, seeds []uint64) ([]string, []error) {
	if seeds != nil && len(seeds) != len(prompts) {
		panic("eval: GenerateSeeded: len(seeds) != len(prompts)")
	}
	out, errs := make([]string, len(prompts)), make([]error, len(prompts))
	ids, rows := make([][]int32, 0, len(prompts)), make([]int, 0, len(prompts))
	var rowSeeds []uint64
	for i, p := range prompts {
		x, err := g.Encode(p)
		if err == nil && len(x) == 0 {
			err = errors.New("the prompt encodes to no tokens")
		}
		if err == nil {
			err = g.Model.Config.CheckLength(len(x))
		}
		if err != nil {
			errs[i] = fmt.Errorf("encoding the prompt: %w", err)
			continue
		}
		ids, rows = append(ids, x), append(rows, i)
		if seeds != nil {
			rowSeeds = append(rowSeeds, seeds[i])
		}
	}
	gen, err := g.decode(ctx, ids, rowSeeds)
	for j, i := range rows {
		if err != nil {
			errs[i] = err
			continue
		}
		out[i] = g.Tok.Decode(gen[j], true)
	}
	return out, errs
}

// decode runs the batch through model.Decode, each row sampled from its own sampler
// seeded by seeds[r], or when seeds is nil by g.Seed and its prompt (so a prompt's answer
// does not depend on its batch), and returns each row's new tokens without the stop id.
func (g *LocalGenerator) decode(ctx context.Context, prompts [][]int32, seeds []uint64) ([][]int32, error) {
	stop := g.StopIDs
	if stop == nil {
		stop = g.Tok.StopIDs(g.Model.Config.EOSIDs())
	}
	samplers := make([]*model.Sampler, len(prompts))
	for r, p := range prompts {
		if seeds != nil {
			samplers[r] = model.NewSampler(g.Sampling, seeds[r])
			continue
		}
		h := fnv.New64a()
		for _, id := range p {
			h.Write([]byte{byte(id), byte(id >> 8), byte(id >> 16), byte(id >> 24)})
		}
		samplers[r] = model.NewSampler(g.Sampling, g.Seed^h.Sum64())
	}
	out, err := g.Model.Decode(ctx, prompts, model.DecodeOptions{MaxNewTokens: g.MaxNewTokens,
		Samplers: samplers, StopIDs: stop, Debias: g.Debias})
	if err != nil {
		return nil, err
	}
	for r, o := range out {
		if n := len(o); n > 0 && slices.Contains(stop, o[n-1]) {
			out[r] = o[:n-1]
		}
	}
	return out, nil
}
