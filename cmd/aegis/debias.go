package main

import (
	"context"
	"fmt"

	"github.com/aegis-safety/aegis/internal/progress"
	"github.com/aegis-safety/aegis/native/debias"
	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/tokenizer"
)

// debiasGroup is `aegis debias`.
var debiasGroup = group{name: "debias",
	note: "Apply a fitted bias with --debias FILE [--debias-scale L] on 'aegis generate' and 'aegis eval'.",
	subs: []subcommand{
		{"fit", "estimate an aligned model's per-position logit bias against its reference (TSDI)", runDebiasFit},
		{"compare", "per-category attack success of two eval scans (before and after --debias)", runDebiasCompare},
	}}

func runDebiasFit(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("debias fit", "--model ALIGNED [--adapter DIR] --reference REF --prompts FILE --positions L --out bias.safetensors",
		`Training-free safety debiasing (TSDI). Draws --n random prompts whose tokens come from a
pool of benign text (--prompts: a .txt file with one text per line, or JSONL rows with a
"prompt" or "text" field; rows with category other than "benign" are skipped), renders each
as one user message, lets the aligned model (--model, with --adapter if given) generate
--positions tokens (temperature --temperature, seeded), and averages the difference of the
aligned and reference logits at each generated position on the same prefix, centered per
position over the vocabulary. The result is a safetensors file with tensor "bias" [L, V]
and metadata; decoding with --debias FILE subtracts scale x bias[l] from the logits of the
l-th new token.`, c.stdout)
	var mf modelFlags
	mf.register(fs)
	refDir := fs.String("reference", "", "the reference (pre-alignment) model folder")
	promptsPath := fs.String("prompts", "", "benign text: .txt lines or JSONL with \"prompt\"/\"text\"")
	L := fs.Int("positions", 16, "generated positions to estimate (L)")
	n := fs.Int("n", 64, "random prompts")
	minTok := fs.Int("min-tokens", 8, "shortest random prompt in tokens")
	maxTok := fs.Int("max-tokens", 32, "longest random prompt in tokens")
	temp := fs.Float64("temperature", 1, "the aligned model's sampling temperature while fitting (0: greedy)")
	seed := fs.Uint64("seed", 42, "seed for the prompts and the sampling")
	out := fs.String("out", "", "output file (.safetensors)")
	if err := fs.parse(args); err != nil {
		return err
	}
	switch {
	case *refDir == "" || *promptsPath == "" || *out == "":
		return fmt.Errorf("%w: --model, --reference, --prompts and --out are required", errUsage)
	case *L <= 0 || *n <= 0 || *minTok <= 0 || *maxTok < *minTok || *temp < 0:
		return fmt.Errorf("%w: need --positions, --n, --min-tokens positive, --max-tokens >= --min-tokens, --temperature >= 0", errUsage)
	}
	texts, err := debias.ReadTexts(*promptsPath)
	if err != nil {
		return err
	}
	aligned, err := mf.load()
	if err != nil {
		return err
	}
	ref, err := model.Load(*refDir, model.Options{BF16Base: mf.bf16})
	if err != nil {
		return err
	}
	tok, err := tokenizer.Load(mf.dir)
	if err != nil {
		return err
	}
	prompts, err := debias.RandomPrompts(tok, texts, *n, *minTok, *maxTok, *seed)
	if err != nil {
		return err
	}
	p := progress.New(c.progress, "debias fit", *n, "prompts")
	b, err := debias.Fit(aligned, ref, prompts, debias.FitOptions{Positions: *L, Sampling: model.Sampling{Temperature: *temp, TopP: 1},
		Seed: *seed, StopIDs: aligned.Config.EOSIDs(), OnPrompt: func(int) { p.Add(1) }})
	if err != nil {
		return err
	}
	b.Meta["aligned"], b.Meta["reference"], b.Meta["adapter"], b.Meta["prompts_file"] = mf.dir, *refDir, mf.adapter, *promptsPath
	if err := b.Save(*out); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "fitted a [%d, %d] bias on %d prompts (position 0 norm %.4g); wrote %s\n", b.L, b.V, *n, b.SquaredNorm(0), *out)
	return nil
}

func runDebiasCompare(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("debias compare", "BEFORE AFTER",
		`Prints the attack success rate per harm category of two eval scans (results.jsonl files
or the folders holding them), typically without and with --debias, as JSON rows
{"category","n_before","n_after","asr_before","asr_after","delta"} ending with "overall".
Categories with the largest delta are where debiasing costs safety.`, c.stdout)
	if err := fs.ParseArgs(args, 2, "give two result sets: aegis debias compare BEFORE AFTER"); err != nil {
		return err
	}
	return c.printJSON(debias.CompareScans(fs.Arg(0), fs.Arg(1)))
}

// debiasFlags are --debias FILE and --debias-scale on generate and eval.
type debiasFlags struct {
	file  string
	scale float64
}

func (d *debiasFlags) register(fs *flagSet) {
	fs.StringVar(&d.file, "debias", "", "a TSDI bias from 'aegis debias fit': subtract it from the first positions' logits")
	fs.Float64Var(&d.scale, "debias-scale", 1, "lambda: how much of the --debias bias to subtract")
}

// load returns the scaled bias rows, or nil without --debias (debias.LoadScaled).
func (d *debiasFlags) load(vocab int) ([][]float32, error) {
	return debias.LoadScaled(d.file, d.scale, vocab)
}
