package data

import (
	"context"
	"fmt"
	"slices"

	"github.com/aegis-safety/aegis/shared"
)

// Splits of a built dataset, Egida-style: training rows never share a held-out topic
// (harm category) or a held-out attack style with the evaluation rows.
const (
	SplitTrain        = "train"
	SplitTest         = "test"          // benign rows kept for over-refusal evaluation
	SplitHeldTopic    = "heldout_topic" // a held-out category, with a training style (or none)
	SplitHeldStyle    = "heldout_style" // a training category with a held-out style
	SplitHeldBoth     = "heldout_both"  // a held-out category with a held-out style
	SourceSeed        = "aegis-seed"
	sourceSeedAttacks = "aegis-seed+attacks"
)

// Attacker rewrites a prompt into variants of the given styles (the attack module).
type Attacker func(ctx context.Context, in shared.AttackInput) ([]shared.AttackVariant, error)

// BuildOptions controls Build.
type BuildOptions struct {
	Styles         []string // attack styles crossed with every harmful seed (none: plain prompts only)
	HoldoutTopics  []string // categories held out of training
	HoldoutStyles  []string // styles held out of training
	Seed           uint64   // base seed of the attack module
	Attack         Attacker // needed when Styles is not empty
	BenignTestEach int      // every Nth benign prompt goes to the test split (default 2)
}

// Pair is a TRL preference row: chosen is a safe refusal, rejected the opening of an
// unsafe compliance (the project ships no harmful content, so rejected stops where the
// harm would begin; on-policy rejected answers come from sampling the model).
type Pair struct {
	ID       string `json:"id,omitempty"`
	Prompt   any    `json:"prompt"`
	Chosen   any    `json:"chosen"`
	Rejected any    `json:"rejected"`
	Category string `json:"category,omitempty"`
	Attack   string `json:"attack,omitempty"`
	Split    string `json:"split,omitempty"`
	pos      string // FILE:LINE of a pair read by ReadPairs, for Export's errors
}

// Build crosses the seeds with the attack styles and assigns splits. It returns the
// prompts (plain harmful seeds, their variants, benign look-alikes) and refusal preference
// pairs for every harmful prompt.
func Build(ctx context.Context, s *Seeds, o BuildOptions) ([]Prompt, []Pair, error) {
	for _, c := range o.HoldoutTopics {
		if !shared.ValidCategory(c) || c == shared.Benign {
			return nil, nil, fmt.Errorf("held-out topic %q is not a harm category (S1-S14)", c)
		}
	}
	for _, st := range append(slices.Clone(o.Styles), o.HoldoutStyles...) {
		if _, ok := shared.LookupStyle(st); !ok {
			return nil, nil, fmt.Errorf("unknown attack style %q", st)
		}
	}
	for _, st := range o.HoldoutStyles {
		if !slices.Contains(o.Styles, st) {
			return nil, nil, fmt.Errorf("held-out style %q is not among the styles built", st)
		}
	}
	if len(o.Styles) > 0 && o.Attack == nil {
		return nil, nil, fmt.Errorf("styles given but no attack module")
	}
	every := o.BenignTestEach
	if every <= 0 {
		every = 2
	}
	var prompts []Prompt
	var pairs []Pair
	add := func(p Prompt) {
		prompts = append(prompts, p)
		if p.Category != shared.Benign {
			pairs = append(pairs, Pair{ID: p.ID, Prompt: p.Prompt, Chosen: s.Refusals[p.Category],
				Rejected: s.Compliant[p.Category], Category: p.Category, Attack: p.Attack, Split: p.Split})
		}
	}
	for _, h := range s.Harmful {
		heldTopic := slices.Contains(o.HoldoutTopics, h.Category)
		p := h
		p.Split = SplitTrain
		if heldTopic {
			p.Split = SplitHeldTopic
		}
		add(p)
		if len(o.Styles) == 0 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		vs, err := o.Attack(ctx, shared.AttackInput{Prompt: h.Prompt, Category: h.Category,
			Seed: RowSeed(o.Seed, h.ID), Params: &shared.AttackParams{Styles: o.Styles}})
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", h.ID, err)
		}
		for _, v := range vs {
			heldStyle := slices.Contains(o.HoldoutStyles, v.Style)
			split := SplitTrain
			switch {
			case heldTopic && heldStyle:
				split = SplitHeldBoth
			case heldTopic:
				split = SplitHeldTopic
			case heldStyle:
				split = SplitHeldStyle
			}
			add(Prompt{ID: h.ID + "/" + v.Style, Prompt: v.Prompt, Category: h.Category,
				Source: sourceSeedAttacks, Split: split, Attack: v.Style})
		}
	}
	for i, b := range s.Benign {
		b.Split = SplitTrain
		if i%every == every-1 {
			b.Split = SplitTest
		}
		add(b)
	}
	return prompts, pairs, nil
}
