package eval

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/tokenizer"
)

// tinyChatModel writes a small random model with a trained byte-level tokenizer and a
// chatml template into a folder.
func tinyChatModel(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	corpus := strings.Repeat("the quick brown fox jumps over the lazy dog. how do I kill a python process? ", 40)
	tj, err := tokenizer.TrainBPE(strings.NewReader(corpus), tokenizer.TrainOptions{VocabSize: 300,
		SpecialTokens: []string{"<|im_start|>", "<|im_end|>"}})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "tokenizer.json"), tj, 0o644)
	os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(`{"eos_token": "<|im_end|>", "chat_template": "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"}`), 0o644)
	tok, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.New(model.Config{ModelType: "llama", VocabSize: tok.VocabSize(), HiddenSize: 32, IntermediateSize: 64,
		NumLayers: 2, NumHeads: 4, NumKVHeads: 2, RMSNormEps: 1e-5, InitializerRange: 0.5}, 3, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Save(dir, "float32"); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestLocalBatchedEqualsSingle: left-padded batched greedy decoding gives each prompt the
// tokens model.Generate gives it alone, including rows that stop early at a stop id.
func TestLocalBatchedEqualsSingle(t *testing.T) {
	dir := tinyChatModel(t)
	m, err := model.Load(dir, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := tokenizer.Load(dir)
	prompts := []string{"hello", "the quick brown fox jumps over the lazy dog", "how do I kill a python process?", "fox", "lazy dog dog dog"}
	g := &LocalGenerator{Model: m, Tok: tok, MaxNewTokens: 12, Batch: 4}
	// Pick a stop id that some row produces early, so finished rows ride along as padding.
	first, _ := g.Encode(prompts[1])
	alone, _ := m.Generate(first, model.GenerateOptions{MaxNewTokens: 12})
	g.StopIDs = []int32{alone[3]}
	var want []string
	for _, p := range prompts {
		ids, err := g.Encode(p)
		if err != nil {
			t.Fatal(err)
		}
		out, err := m.Generate(ids, model.GenerateOptions{MaxNewTokens: 12, StopIDs: g.StopIDs})
		if err != nil {
			t.Fatal(err)
		}
		if i := slices.Index(out, g.StopIDs[0]); i >= 0 {
			out = out[:i]
		}
		want = append(want, tok.Decode(out, true))
	}
	for _, bs := range []int{1, 3, 5} {
		var got []string
		for i := 0; i < len(prompts); i += bs {
			outs, errs := g.Generate(context.Background(), prompts[i:min(i+bs, len(prompts))])
			for _, e := range errs {
				if e != nil {
					t.Fatal(e)
				}
			}
			got = append(got, outs...)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("batch %d:\n got %q\nwant %q", bs, got, want)
		}
	}
}

// TestLocalSeeded: GenerateSeeded samples each row from its own seed: the same prompt and
// seed give the same answer alone or in any batch, another seed another draw.
func TestLocalSeeded(t *testing.T) {
	dir := tinyChatModel(t)
	m, err := model.Load(dir, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := tokenizer.Load(dir)
	g := &LocalGenerator{Model: m, Tok: tok, MaxNewTokens: 16, Batch: 4, Sampling: model.Sampling{Temperature: 1, TopP: 1}}
	ctx := context.Background()
	prompts := []string{"the lazy dog", "the lazy dog", "the lazy dog", "fox"}
	seeds := []uint64{1, 2, 1, 3}
	out, errs := g.GenerateSeeded(ctx, prompts, seeds)
	for _, e := range errs {
		if e != nil {
			t.Fatal(e)
		}
	}
	if out[0] != out[2] || out[0] == out[1] {
		t.Fatalf("seeds 1, 2, 1 on one prompt gave %q", out[:3])
	}
	for i := range prompts {
		alone, errs := g.GenerateSeeded(ctx, prompts[i:i+1], seeds[i:i+1])
		if errs[0] != nil || alone[0] != out[i] {
			t.Fatalf("row %d alone %q, in the batch %q", i, alone[0], out[i])
		}
	}
	if plain, _ := g.Generate(ctx, prompts[:2]); plain[0] != plain[1] {
		t.Fatalf("Generate gave one prompt two answers: %q", plain)
	}
}
