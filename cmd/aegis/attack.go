package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aegis-safety/aegis/internal/cli/sandboxflags"
	"github.com/aegis-safety/aegis/native/data"
	"github.com/aegis-safety/aegis/native/jsonl"
	"github.com/aegis-safety/aegis/native/sandbox"
	"github.com/aegis-safety/aegis/shared"
)

// attackRow is a line of `aegis attack --in`.
type attackRow struct {
	ID       string `json:"id"`
	Prompt   string `json:"prompt"`
	Category string `json:"category"`
}

// check is the one validation of an attack command's input row.
func (r *attackRow) check() error {
	switch {
	case r.ID == "":
		return errors.New(`missing "id"`)
	case r.Prompt == "":
		return errors.New(`missing "prompt"`)
	case r.Category != "" && !shared.ValidCategory(r.Category):
		return fmt.Errorf("category %q is not in the taxonomy (S1-S14, benign)", r.Category)
	}
	return nil
}

// variantRow is a line of `aegis attack --out`.
type variantRow struct {
	ID       string `json:"id"`
	BaseID   string `json:"base_id"`
	Prompt   string `json:"prompt"`
	Attack   string `json:"attack"`
	Category string `json:"category"`
}

func runAttack(ctx context.Context, c *cli, args []string) error {
	if len(args) > 0 && args[0] == "bon" {
		return runAttackBon(ctx, c, args[1:])
	}
	if len(args) > 0 && args[0] == "gcg" {
		return runAttackGCG(ctx, c, args[1:])
	}
	fs := newFlags("attack", "--module NAME|FILE.wasm --in prompts.jsonl --out variants.jsonl [--styles a,b] [--variants N] [--seed S]",
		`Rewrites every prompt with an attack module, running module instances concurrently in
the WebAssembly sandbox. Input rows are {"id","prompt","category"}; output rows are
{"id","base_id","prompt","attack","category"}, one per variant, in input order, with id
BASE_ID/STYLE (BASE_ID/STYLE/K when --variants > 1). Each prompt's seed is derived from
--seed and its id, so output does not depend on concurrency. Ctrl-C stops early and keeps
every row already written. 'aegis modules' lists the built-in styles.
'aegis attack bon --model DIR ...' is Best-of-N jailbreaking (see 'aegis attack bon --help');
'aegis attack gcg --model DIR ...' is the white-box GCG suffix attack on a local model
(see 'aegis attack gcg --help').`, c.stdout)
	var mf sandboxflags.Module
	mf.Register(fs.FlagSet, shared.KindAttack)
	in := fs.String("in", "", "input JSONL of prompts")
	out := fs.String("out", "", "output JSONL of variants")
	styles := fs.String("styles", "", "comma-separated style ids (default: all the module has)")
	variants := fs.Int("variants", 1, "variants per style")
	seed := fs.Uint64("seed", 0, "base seed")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := fs.Required("in"); err != nil {
		return err
	}
	rows, err := jsonl.ReadLines(*in, func(r *attackRow) error {
		return r.check()
	})
	if err != nil {
		return err
	}
	params := &shared.AttackParams{Variants: *variants}
	if *styles != "" {
		params.Styles = strings.Split(*styles, ",")
	}
	c.handleInterrupt()
	return mf.Map(ctx, c.progress, *out, "prompts", len(rows), func(ctx context.Context, m *sandbox.Module, i int) ([]any, error) {
		r := rows[i].Row
		vs, err := m.Attack(ctx, shared.AttackInput{Prompt: r.Prompt, Category: r.Category, Seed: data.RowSeed(*seed, r.ID), Params: params})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rows[i].Pos, err)
		}
		out := make([]any, len(vs))
		count := map[string]int{}
		for j, v := range vs {
			id := r.ID + "/" + v.Style
			if *variants > 1 {
				id = fmt.Sprintf("%s/%d", id, count[v.Style])
			}
			count[v.Style]++
			out[j] = variantRow{ID: id, BaseID: r.ID, Prompt: v.Prompt, Attack: v.Style, Category: r.Category}
		}
		return out, nil
	})
}
