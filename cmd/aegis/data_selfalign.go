package main

import (
	"context"
	"fmt"

	"github.com/aegis-safety/aegis/internal/cli/sandboxflags"
	"github.com/aegis-safety/aegis/native/data"
	"github.com/aegis-safety/aegis/native/eval"
	"github.com/aegis-safety/aegis/native/jsonl"
	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/tokenizer"
	"github.com/aegis-safety/aegis/shared"
)

func runDataSelfAlign(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("data selfalign", "--model DIR [--seeds FILE] --out pairs.jsonl [--rounds N] [--seed S]",
		`PT-ALIGN's self-generated data. From fewer than 50 seed annotations (--seeds: JSON
{"domains":[{"name","category","topics","positive":[...],"toxic":[...]}]}, a JSON list or
JSONL of domains; default the shipped example) the model writes --topics topics per domain,
--instructions requests per topic, then per request a positive answer under one of the
domain's positive constraints and a toxic answer under one of its toxic (red-team)
constraints, refined over --rounds drafts. The judge module (--module, default "judge")
filters: the positive answer must be judged safe, and the toxic one must differ from it
(--strict-toxic: must be judged unsafe). Writes TRL pairs {"prompt","chosen","rejected",
"category"} for 'aegis train --method ptalign'. Decoding is seeded: the same --seed gives
the same file.`, c.stdout)
	var mf modelFlags
	mf.register(fs)
	var jf sandboxflags.Module
	jf.Register(fs.FlagSet, shared.KindJudge)
	seeds := fs.String("seeds", "", "seed annotations (default: the shipped example)")
	out := fs.String("out", "", "output pairs (JSONL)")
	var o data.SelfAlignOptions
	fs.IntVar(&o.TopicsPerDomain, "topics", 4, "topics per domain")
	fs.IntVar(&o.InstructionsPerTopic, "instructions", 4, "requests per topic")
	fs.IntVar(&o.Rounds, "rounds", 2, "answer drafts (the first writes, later ones refine)")
	fs.BoolVar(&o.StrictToxic, "strict-toxic", false, "keep a pair only if its toxic answer is judged unsafe")
	fs.Uint64Var(&o.Seed, "seed", 42, "seed for constraint choice and sampling")
	maxNew := fs.Int("max-new-tokens", 128, "longest generated text in tokens")
	temp := fs.Float64("temperature", 0.7, "sampling temperature (0: greedy)")
	batch := fs.Int("batch-size", 8, "prompts decoded together")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: --out is required", errUsage)
	}
	if jf.Name == "" {
		jf.Name = "judge"
	}
	domains, err := data.ReadSelfAlignSeeds(*seeds)
	if err != nil {
		return err
	}
	m, err := mf.load()
	if err != nil {
		return err
	}
	tok, err := tokenizer.Load(mf.dir)
	if err != nil {
		return err
	}
	gen := eval.Texts{Gen: &eval.LocalGenerator{Model: m, Tok: tok, MaxNewTokens: *maxNew, Batch: *batch,
		Sampling: model.Sampling{Temperature: *temp, TopP: 1}, Seed: o.Seed}}
	c.handleInterrupt()
	jm, closeHost, err := jf.Open(ctx)
	if err != nil {
		return err
	}
	defer closeHost()
	pairs, st, err := data.SelfAlign(ctx, gen, eval.UnsafeJudge(eval.ModuleJudge{M: jm}), domains, o)
	if err != nil {
		return err
	}
	if err := jsonl.WriteFile(*out, pairs); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%d domains, %d topics, %d instructions: kept %d pairs (dropped: %d unsafe positive, %d safe toxic, %d identical, %d empty); wrote %s\n",
		len(domains), st.Topics, st.Instructions, st.Kept, st.UnsafePositive, st.SafeToxic, st.Identical, st.Empty, *out)
	return nil
}
