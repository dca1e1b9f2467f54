package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/aegis-safety/aegis/shared"
)

// sampleRow is a line of `aegis judge --in`.
type sampleRow struct {
	ID       string  `json:"id"`
	Prompt   string  `json:"prompt"`
	Response *string `json:"response"`
	Category string  `json:"category"`
	Attack   string  `json:"attack,omitempty"`
}

// verdictRow is a line of `aegis judge --out`.
type verdictRow struct {
	ID         string   `json:"id"`
	Category   string   `json:"category,omitempty"`
	Attack     string   `json:"attack,omitempty"`
	Refusal    bool     `json:"refusal"`
	Unsafe     bool     `json:"unsafe"`
	Score      float64  `json:"score"`
	Categories []string `json:"categories"`
}

func runJudge(args []string, stdout io.Writer) error {
	fs := newFlags("judge", "--module NAME|FILE.wasm --in samples.jsonl --out verdicts.jsonl",
		`Judges every response with a judge module, running module instances concurrently in the
WebAssembly sandbox. Input rows are {"id","prompt","response","category"} (optionally
"attack"); output rows are {"id","category","attack","refusal","unsafe","score",
"categories"} in input order. Ctrl-C stops early and keeps every row already written.`, stdout)
	var mf moduleFlags
	mf.register(fs, shared.KindJudge)
	in := fs.String("in", "", "input JSONL of samples")
	out := fs.String("out", "", "output JSONL of verdicts")
	if err := fs.parse(args); err != nil {
		return err
	}
	rows, err := readJSONL(*in, func(r *sampleRow) error {
		switch {
		case r.ID == "":
			return errors.New(`missing "id"`)
		case r.Response == nil:
			return errors.New(`missing "response"`)
		case r.Category != "" && !shared.ValidCategory(r.Category):
			return fmt.Errorf("category %q is not in the taxonomy (S1-S14, benign)", r.Category)
		}
		return nil
	})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	m, closeHost, err := mf.open(ctx, shared.KindJudge)
	if err != nil {
		return err
	}
	defer closeHost()
	f, err := createOut(*out)
	if err != nil {
		return err
	}
	defer f.Close()
	prog := newProgress(progressOut, "judge", len(rows), "samples")
	_, err = runOrdered(ctx, len(rows), mf.concurrency, func(ctx context.Context, i int) ([]any, error) {
		r := rows[i].row
		v, err := m.Judge(ctx, shared.JudgeInput{Prompt: r.Prompt, Response: *r.Response, Category: r.Category})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rows[i].pos, err)
		}
		return []any{verdictRow{ID: r.ID, Category: r.Category, Attack: r.Attack, Refusal: v.Refusal,
			Unsafe: v.Unsafe, Score: v.Score, Categories: v.Categories}}, nil
	}, f, prog)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
