package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/aegis-safety/aegis/internal/bench"
	"github.com/aegis-safety/aegis/internal/progress"
	"github.com/aegis-safety/aegis/native/tokenizer"
)

// benchTokenize times single-thread encoding and, in the same run, Hugging Face
// tokenizers (Rust, through its Node binding) on the same documents.
func benchTokenize(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("bench tokenize", "--tokenizer FILE|DIR [--text FILE] [--mb N] [--rounds R] [--hf=false] [--json]",
		"Encodes a few MB of mixed text (English, code, numbers, whitespace runs, CJK, Cyrillic,\nArabic, emoji; or --text FILE, one document per blank-line-separated paragraph) one\ndocument at a time on one thread, and prints MB/s and tokens/s: the best of --rounds\npasses, and cold_* for the first pass (empty caches). With --hf (the default) it runs\nscripts/tokenizer_bench.mjs on the same documents (Node and `npm ci` in\nscripts/tokenizer_ref; RAYON_NUM_THREADS=1 so HF is single-threaded too), checks that\nboth produced the same ids, and prints the ratios.", c.stdout)
	path := fs.String("tokenizer", "", "tokenizer.json or a folder holding it")
	textFile := fs.String("text", "", "text to encode instead of the generated mix")
	mb := fs.Float64("mb", 4, "megabytes of generated text")
	rounds := fs.Int("rounds", 3, "timed passes (the fastest counts; the first warms caches)")
	hf := fs.Bool("hf", true, "also time Hugging Face tokenizers (needs node and scripts/tokenizer_ref)")
	script := fs.String("hf-script", filepath.Join("scripts", "tokenizer_bench.mjs"), "the reference script")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *path == "" {
		return fmt.Errorf("%w: --tokenizer is required", errUsage)
	}
	if *rounds < 1 || *mb <= 0 {
		return fmt.Errorf("%w: need --rounds >= 1 and --mb > 0", errUsage)
	}
	tk, err := tokenizer.Load(*path)
	if err != nil {
		return err
	}
	var docs []string
	if *textFile != "" {
		if docs, err = bench.ReadDocs(*textFile); err != nil {
			return err
		}
	} else {
		docs = bench.Docs(int(*mb * 1e6))
	}
	bar := progress.New(c.progress, "bench tokenize", *rounds, "passes")
	e := bench.TimeEncode(tk, docs, *rounds, func() { bar.Add(1) })
	bar.Done()
	keys, vals := e.Figures(len(docs))
	if *hf {
		ref, err := bench.RunHF(*script, *path, docs, *rounds)
		keys = e.AddHF(keys, vals, ref, err)
	}
	return bench.Report(c.stdout, *asJSON, keys, vals)
}
