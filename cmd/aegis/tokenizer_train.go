package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aegis-safety/aegis/internal/progress"
	"github.com/aegis-safety/aegis/native/jsonl"
	"github.com/aegis-safety/aegis/native/tokenizer"
)

// tokenizerGroup is `aegis tokenizer SUB`: tools that make tokenizers.
var tokenizerGroup = group{name: "tokenizer", note: "Run 'aegis tokenizer train --help' for its flags.", subs: []subcommand{
	{"train", "learn a byte-level BPE tokenizer (as Hugging Face's BpeTrainer with ByteLevel)", runTokenizerTrain},
}}

func runTokenizerTrain(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("tokenizer train", "--in corpus.txt --vocab-size N --out tokenizer.json [--special-tokens A,B] [--min-frequency 2]",
		"Learns a byte-level BPE tokenizer from a text corpus (read line by line; GPT-2 split, the\n256 bytes as the initial alphabet, then the most frequent pairs merged) and writes a\ntokenizer.json that Hugging Face tokenizers loads and encodes identically.", c.stdout)
	in := fs.String("in", "", "training corpus, UTF-8 text")
	out := fs.String("out", "", "where to write tokenizer.json")
	size := fs.Int("vocab-size", 0, "vocabulary size, including the 256 bytes and the special tokens")
	minFreq := fs.Int("min-frequency", 2, "merge only pairs seen at least this often")
	special := fs.String("special-tokens", "", "comma-separated special tokens, given the first ids (e.g. \"<|endoftext|>\")")
	maxLine := fs.Int("max-line-bytes", tokenizer.DefaultMaxLine, "longest corpus line accepted, in bytes")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *maxLine < 1 {
		return fmt.Errorf("%w: --max-line-bytes must be positive", errUsage)
	}
	if *in == "" || *out == "" || *size <= 0 {
		return fmt.Errorf("%w: --in, --out and --vocab-size are required", errUsage)
	}
	if *minFreq < 1 {
		return fmt.Errorf("%w: --min-frequency must be at least 1", errUsage)
	}
	var specials []string
	if *special != "" {
		specials = strings.Split(*special, ",")
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer f.Close()
	var bar *progress.Bar
	data, err := tokenizer.TrainBPE(f, tokenizer.TrainOptions{VocabSize: *size, MinFrequency: *minFreq, SpecialTokens: specials, MaxLine: *maxLine,
		Progress: func(done, total int) {
			if bar == nil {
				bar = progress.New(c.progress, "tokenizer train", total, "merges")
			}
			bar.Add(1)
		}})
	if bar != nil {
		bar.Done()
	}
	var long *tokenizer.LineTooLongError
	if errors.As(err, &long) {
		return fmt.Errorf("%s: %w", *in, lineLimitHint(err))
	} else if err != nil {
		return err
	}
	// Check the result loads before writing it.
	tk, err := tokenizer.Parse(data)
	if err != nil {
		return fmt.Errorf("trained tokenizer does not load: %v", err)
	}
	if err := jsonl.WriteBytes(*out, data); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "wrote %s: %d tokens\n", *out, tk.VocabSize())
	return nil
}
