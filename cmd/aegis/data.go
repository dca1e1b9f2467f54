package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aegis-safety/aegis/internal/cli/sandboxflags"
	"github.com/aegis-safety/aegis/internal/progress"
	"github.com/aegis-safety/aegis/native/data"
	"github.com/aegis-safety/aegis/native/jsonl"
	"github.com/aegis-safety/aegis/shared"
)

// dataGroup is `aegis data`.
var dataGroup = group{name: "data", note: "Run 'aegis data SUBCOMMAND --help' for its flags.", subs: []subcommand{
	{"build", "seed prompts × attack styles with held-out splits (prompts and preference pairs)", runDataBuild},
	{"import", "convert a public dataset (advbench, harmbench, jailbreakbench, xstest, orbench,\npku-saferlhf, hh-rlhf, egida, trl) to prompts or preference pairs", runDataImport},
	{"export", "write preference pairs for TRL (standard, conversational) or OpenRLHF", runDataExport},
	{"selfalign", "PT-ALIGN pairs written by the model itself from < 50 seed annotations", runDataSelfAlign},
}}

// parseStyles reads none|all|style,style against the catalogue.
func parseStyles(s string) ([]string, error) {
	switch strings.TrimSpace(s) {
	case "", "none":
		return nil, nil
	case "all":
		return shared.StyleIDs(), nil
	}
	styles := data.SplitList(s)
	for _, st := range styles {
		if _, ok := shared.LookupStyle(st); !ok {
			return nil, fmt.Errorf("%w: unknown attack style %q ('aegis modules' lists them)", errUsage, st)
		}
	}
	return styles, nil
}

func runDataBuild(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("data build", "--out prompts.jsonl [--pairs pairs.jsonl] [--styles all|none|a,b] [--holdout-topics S5,S13] [--holdout-styles a,b]",
		`Builds the safety dataset from the seed data shipped with aegis (short harmful requests per
harm category, benign look-alike prompts, safe refusals; no harmful answers): every harmful
seed, plain and rewritten in each attack style by the attack module, plus the benign
prompts. Splits follow Egida: "train" rows share neither a held-out topic (category) nor a
held-out attack style with the "heldout_topic", "heldout_style" and "heldout_both" rows;
benign prompts alternate between "train" and "test". --pairs also writes TRL preference
pairs {"prompt","chosen","rejected","category","attack","split"} for the harmful rows:
chosen is a safe refusal, rejected only the opening of a compliance.`, c.stdout)
	var mf sandboxflags.Module
	mf.Register(fs.FlagSet, shared.KindAttack)
	fs.Lookup("module").DefValue = "attacks"
	out := fs.String("out", "", "output prompts JSONL")
	pairsOut := fs.String("pairs", "", "optional output of preference pairs (JSONL)")
	styles := fs.String("styles", "all", "attack styles crossed with the seeds: all, none, or a comma-separated list")
	topics := fs.String("holdout-topics", "S5,S13", "categories held out of training")
	heldStyles := fs.String("holdout-styles", "past_tense,caesar,payload_splitting", "attack styles held out of training (the default: those of them among --styles)")
	seed := fs.Uint64("seed", 0, "base seed of the attack module")
	if err := fs.parse(args); err != nil {
		return err
	}
	if mf.Name == "" {
		mf.Name = "attacks"
	}
	if *out == "" {
		return fmt.Errorf("%w: --out is required", errUsage)
	}
	st, err := parseStyles(*styles)
	if err != nil {
		return err
	}
	held := data.SplitList(*heldStyles)
	if !fs.IsSet("holdout-styles") {
		// The default held-out styles apply to those among --styles; a style named in
		// --holdout-styles itself must be built.
		held = slices.DeleteFunc(held, func(h string) bool { return !slices.Contains(st, h) })
	}
	if len(st) == 0 {
		held = nil
	}
	seeds, err := data.LoadSeeds()
	if err != nil {
		return err
	}
	c.handleInterrupt()
	opt := data.BuildOptions{Styles: st, HoldoutTopics: data.SplitList(*topics), HoldoutStyles: held, Seed: *seed}
	if len(st) > 0 {
		m, closeHost, err := mf.Open(ctx)
		if err != nil {
			return err
		}
		defer closeHost()
		prog := progress.New(c.progress, "build", len(seeds.Harmful), "seeds")
		opt.Attack = func(ctx context.Context, in shared.AttackInput) ([]shared.AttackVariant, error) {
			defer prog.Add(1)
			return m.Attack(ctx, in)
		}
		defer prog.Done()
	}
	prompts, pairs, err := data.Build(ctx, seeds, opt)
	if err != nil {
		return err
	}
	if err := jsonl.WriteFile(*out, prompts); err != nil {
		return err
	}
	if *pairsOut != "" {
		if err := jsonl.WriteFile(*pairsOut, pairs); err != nil {
			return err
		}
	}
	counts := data.CountSplits(prompts)
	fmt.Fprintf(c.stdout, "%d prompts (%d train, %d test, %d heldout_topic, %d heldout_style, %d heldout_both), %d pairs\n",
		len(prompts), counts[data.SplitTrain], counts[data.SplitTest], counts[data.SplitHeldTopic],
		counts[data.SplitHeldStyle], counts[data.SplitHeldBoth], len(pairs))
	return nil
}
