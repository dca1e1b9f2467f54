package model

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// TestDecodeBatchEqualsAlone: rows of different lengths decoded together, each with its
// own seeded sampler, get the tokens each gets alone from Generate with that seed, stop
// ids and debiasing included; a row that stops early rides along without disturbing
// the others.
func TestDecodeBatchEqualsAlone(t *testing.T) {
	m := tinyModel(t, "mistral", 41)
	prompts := [][]int32{{1, 2, 3, 4, 5, 6}, {7}, {8, 9, 10}, {3, 3}}
	samp := Sampling{Temperature: 0.9, TopK: 8}
	debias := [][]float32{{0.5, -1, 2}, {0, 0, 0, 3}}
	alone := make([][]int32, len(prompts))
	for r, p := range prompts {
		out, err := m.Generate(p, GenerateOptions{MaxNewTokens: 8, Sampling: samp, Seed: uint64(r), Debias: debias})
		if err != nil {
			t.Fatal(err)
		}
		alone[r] = out
	}
	stop := []int32{alone[1][2]} // row 1 stops after three tokens
	for r, p := range prompts {
		alone[r], _ = m.Generate(p, GenerateOptions{MaxNewTokens: 8, Sampling: samp, Seed: uint64(r), Debias: debias, StopIDs: stop})
	}
	if len(alone[1]) != 3 {
		t.Fatalf("row 1 alone: %v, want three tokens ending at %d", alone[1], stop[0])
	}
	var samplers []*Sampler
	for r := range prompts {
		samplers = append(samplers, NewSampler(samp, uint64(r)))
	}
	got, err := m.Decode(context.Background(), prompts, DecodeOptions{MaxNewTokens: 8, Samplers: samplers, StopIDs: stop, Debias: debias})
	if err != nil {
		t.Fatal(err)
	}
	for r := range prompts {
		if !slices.Equal(got[r], alone[r]) {
			t.Errorf("row %d: batched %v, alone %v", r, got[r], alone[r])
		}
	}
}

// TestDecodeSharedSampler: one sampler shared by all rows draws for them in row order, so
// identical prompts get different samples, reproducibly.
func TestDecodeSharedSampler(t *testing.T) {
	m := tinyModel(t, "llama", 42)
	p := []int32{4, 5, 6}
	run := func() [][]int32 {
		out, err := m.Decode(context.Background(), [][]int32{p, p, p}, DecodeOptions{MaxNewTokens: 10,
			Samplers: []*Sampler{NewSampler(Sampling{Temperature: 1.5}, 7)}})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	a, b := run(), run()
	for r := range a {
		if len(a[r]) != 10 || !slices.Equal(a[r], b[r]) {
			t.Fatalf("row %d: %v then %v", r, a[r], b[r])
		}
	}
	if slices.Equal(a[0], a[1]) && slices.Equal(a[1], a[2]) {
		t.Errorf("a shared sampler gave every row the same tokens: %v", a[0])
	}
}

// TestDecodeOnTokenAndErrors: OnToken sees every token with its row and ends a row by
// returning false; a cancelled context, an empty prompt and a wrong sampler count fail.
func TestDecodeOnTokenAndErrors(t *testing.T) {
	m := tinyModel(t, "qwen2", 43)
	prompts := [][]int32{{1, 2}, {3, 4, 5}}
	seen := make([][]int32, 2)
	out, err := m.Decode(context.Background(), prompts, DecodeOptions{MaxNewTokens: 6,
		OnToken: func(r int, id int32) bool {
			seen[r] = append(seen[r], id)
			return r != 0 || len(seen[r]) < 2
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out[0]) != 2 || len(out[1]) != 6 || !slices.Equal(out[0], seen[0]) || !slices.Equal(out[1], seen[1]) {
		t.Errorf("out %v, seen %v", out, seen)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Decode(ctx, prompts, DecodeOptions{MaxNewTokens: 4}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	if _, err := m.Decode(context.Background(), [][]int32{{1}, {}}, DecodeOptions{MaxNewTokens: 4}); err == nil {
		t.Error("an empty prompt decoded")
	}
	if _, err := m.Decode(context.Background(), prompts, DecodeOptions{MaxNewTokens: 4, Samplers: make([]*Sampler, 3)}); err == nil {
		t.Error("three samplers for two rows accepted")
	}
}

// TestDecodeOnLogits: OnLogits sees each row's chosen token with the logits it was drawn
// from, which are Forward's logits over the prompt and the tokens before it (minus the
// debias row), just before OnToken sees the token.
func TestDecodeOnLogits(t *testing.T) {
	m := tinyModel(t, "llama", 43)
	prompts := [][]int32{{1, 2, 3, 4}, {5, 6}}
	debias := [][]float32{{0, 2, -1}}
	V := m.Config.VocabSize
	seen := make([][][]float32, len(prompts))
	var order []string
	out, err := m.Decode(context.Background(), prompts, DecodeOptions{MaxNewTokens: 5, Samplers: []*Sampler{NewSampler(Sampling{Temperature: 1}, 3)},
		Debias: debias,
		OnLogits: func(r int, id int32, logits []float32) {
			seen[r] = append(seen[r], slices.Clone(logits))
			order = append(order, "logits")
		},
		OnToken: func(r int, id int32) bool { order = append(order, "token"); return true }})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(order); i += 2 {
		if order[i] != "logits" || order[i+1] != "token" {
			t.Fatalf("calls in the order %v", order)
		}
	}
	for r, p := range prompts {
		if len(seen[r]) != len(out[r]) {
			t.Fatalf("row %d: %d logits rows for %d tokens", r, len(seen[r]), len(out[r]))
		}
		ids := append(slices.Clone(p), out[r]...)
		logits, err := m.Forward(&Batch{B: 1, T: len(ids), IDs: ids})
		if err != nil {
			t.Fatal(err)
		}
		for k := range out[r] {
			want := slices.Clone(logits[(len(p)+k-1)*V : (len(p)+k)*V])
			if k < len(debias) {
				SubBias(want, debias[k])
			}
			for v := range V {
				if d := want[v] - seen[r][k][v]; d > 1e-4 || d < -1e-4 {
					t.Fatalf("row %d token %d: logit %d is %g, Forward gives %g", r, k, v, seen[r][k][v], want[v])
				}
			}
		}
	}
}
