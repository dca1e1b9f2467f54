package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/aegis-safety/aegis/native/data"
)

func runDataImport(args []string, stdout io.Writer) error {
	fs := newFlags("data import", "--format F --in FILE --out prompts.jsonl [--pairs pairs.jsonl] [--category auto|CODE] [--skip-bad]",
		`Converts a public safety dataset to prompts rows {"id","prompt","category","source","split"}.
Formats: advbench (harmful_behaviors.csv: goal,target), harmbench (behaviors CSV:
Behavior,FunctionalCategory,SemanticCategory,Tags,ContextString,BehaviorID), jailbreakbench
(Index,Goal,Target,Behavior,Category,Source), xstest (id,prompt,type,label,focus,note; safe
rows are benign), orbench (prompt,category; benign unless --category auto maps the toxic
set's categories), pku-saferlhf (JSONL; chosen = the safer response), hh-rlhf (JSONL
"\n\nHuman: ... \n\nAssistant: ..." transcripts), egida (JSON array or JSONL: prompt,
topic(s), jailbreak style; chosen/rejected of its DPO files), trl (TRL preference JSONL,
standard or conversational). Categories map to S1-S14/benign; where a source has none
they are guessed from keywords (--category CODE sets them all).
Preference formats also write --pairs. A malformed row stops the import with FILE:LINE,
or with --skip-bad is skipped and reported on stderr; the counts are printed either way.`, stdout)
	format := fs.String("format", "", "input format: "+strings.Join(data.Formats, ", "))
	in := fs.String("in", "", "input file")
	out := fs.String("out", "", "output prompts JSONL")
	pairs := fs.String("pairs", "", "output preference pairs JSONL (pku-saferlhf, hh-rlhf, trl, egida DPO records)")
	category := fs.String("category", "", "auto, or a code (S1-S14, benign) for every row")
	split := fs.String("split", "test", "split written on every row")
	skipBad := fs.Bool("skip-bad", false, "skip malformed rows (each reported) instead of failing")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *format == "" || *in == "" || *out == "" {
		return fmt.Errorf("%w: --format, --in and --out are required", errUsage)
	}
	known := false
	for _, f := range data.Formats {
		known = known || f == *format
	}
	if !known {
		return fmt.Errorf("%w: unknown --format %q (%s)", errUsage, *format, strings.Join(data.Formats, ", "))
	}
	im, err := data.Import(*format, *in, data.ImportOptions{Category: *category, Split: *split, SkipBad: *skipBad})
	if err != nil {
		return err
	}
	for _, s := range im.Skipped {
		fmt.Fprintf(progressOut, "aegis data import: skipped %s\n", s)
	}
	if *pairs != "" && len(im.Pairs) == 0 && len(im.Prompts) > 0 {
		return fmt.Errorf("%w: --format %s has no preference pairs", errUsage, *format)
	}
	if err := data.WriteJSONL(*out, im.Prompts); err != nil {
		return err
	}
	if *pairs != "" {
		if err := data.WriteJSONL(*pairs, im.Pairs); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "%d prompts, %d pairs, %d malformed rows skipped\n", len(im.Prompts), len(im.Pairs), len(im.Skipped))
	return nil
}

func runDataExport(args []string, stdout io.Writer) error {
	fs := newFlags("data export", "--format trl|trl-conversational|openrlhf --in pairs.jsonl --out FILE",
		`Writes preference pairs ({"prompt","chosen","rejected"}, strings or message lists) for a
training framework: trl (TRL's standard format, all strings; a multi-turn conversation is
refused rather than flattened), trl-conversational (message lists: the prompt's turns, one
assistant message each in chosen and rejected), openrlhf (whole conversations in "chosen"
and "rejected", for --apply_chat_template --chosen_key chosen --rejected_key rejected).`, stdout)
	format := fs.String("format", "trl", strings.Join(data.ExportFormats, ", "))
	in := fs.String("in", "", "input preference pairs JSONL")
	out := fs.String("out", "", "output JSONL")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *in == "" || *out == "" {
		return fmt.Errorf("%w: --in and --out are required", errUsage)
	}
	pairs, err := data.ReadPairs(*in)
	if err != nil {
		return err
	}
	rows, err := data.Export(*format, pairs)
	if err != nil {
		if strings.HasPrefix(err.Error(), "unknown export format") {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		return err
	}
	if err := data.WriteJSONL(*out, rows); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d pairs written as %s\n", len(rows), *format)
	return nil
}
