package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aegis-safety/aegis/native/data"
	"github.com/aegis-safety/aegis/native/jsonl"
)

func runDataImport(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("data import", "--format F --in FILE --out prompts.jsonl|labels.jsonl [--pairs pairs.jsonl] [--category auto|CODE] [--behaviors FILE] [--attack-prompt] [--skip-bad]",
		`Converts a public safety dataset to prompts rows {"id","prompt","category","source","split"}.
Formats: advbench (harmful_behaviors.csv: goal,target), harmbench (behaviors CSV:
Behavior,FunctionalCategory,SemanticCategory,Tags,ContextString,BehaviorID), jailbreakbench
(Index,Goal,Target,Behavior,Category,Source), xstest (id,prompt,type,label,focus,note; safe
rows are benign), orbench (prompt,category; benign unless --category auto maps the toxic
set's categories), pku-saferlhf (JSONL; chosen = the safer response), hh-rlhf (JSONL
"\n\nHuman: ... \n\nAssistant: ..." transcripts), egida (JSON array or JSONL as published:
uuid, question, style - BaseInstruction is unattacked - and topics, an object of booleans;
also prompt, id, topic(s) as strings; chosen/rejected of its DPO files), trl (TRL
preference JSONL, standard or conversational). Categories map to S1-S14/benign; where a source has none
they are guessed from keywords (--category CODE sets them all).
Preference formats also write --pairs.
Labelled judge sets write labels rows {"id","prompt","response","category","unsafe","source",
"attack","annotations"} instead, for measuring a judge: unsafe is the human majority; there is
no "refusal" (these sets label harmfulness only); annotations keep the annotators' and the
other judges' 0/1 verdicts. jbb-judge (JailbreakBench's judge-comparison.csv: Index,goal,
prompt,target_response,human1,human2,human3,human_majority,harmbench_cf,gpt4_cf,
llamaguard2_cf,llama3_cf) and harmbench-cls (HarmBench's classifier validation set,
text_behaviors_val_set.json: behaviour id -> records with test_case, generation, human_0..2).
The prompt is the behaviour the annotators judged the response against (JBB's goal;
HarmBench's behaviour from --behaviors, its behaviors CSV); --attack-prompt uses the prompt
the model was sent instead (JBB's prompt, HarmBench's test_case), as aegis eval judges attack
variants. --behaviors also gives the categories (for jbb-judge: harmful-behaviors.csv).
A malformed row stops the import with FILE:LINE (in HarmBench's JSON also KEY[i]), or with
--skip-bad is skipped and reported on stderr; the counts are printed either way.`, c.stdout)
	format := fs.String("format", "", "input format: "+strings.Join(append(slices.Clone(data.Formats), data.LabelFormats...), ", "))
	in := fs.String("in", "", "input file")
	out := fs.String("out", "", "output prompts JSONL (labels JSONL for a labelled judge set)")
	pairs := fs.String("pairs", "", "output preference pairs JSONL (pku-saferlhf, hh-rlhf, trl, egida DPO records)")
	category := fs.String("category", "", "auto, or a code (S1-S14, benign) for every row")
	split := fs.String("split", "test", "split written on every row")
	skipBad := fs.Bool("skip-bad", false, "skip malformed rows (each reported) instead of failing")
	behaviors := fs.String("behaviors", "", "behaviours CSV a labelled judge set is joined with (harmbench-cls: HarmBench's behaviors CSV; jbb-judge: harmful-behaviors.csv)")
	attackPrompt := fs.Bool("attack-prompt", false, "labelled judge sets: the prompt is the one the model was sent, not the behaviour")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *format == "" || *in == "" || *out == "" {
		return fmt.Errorf("%w: --format, --in and --out are required", errUsage)
	}
	o := data.ImportOptions{Category: *category, Split: *split, SkipBad: *skipBad, Behaviors: *behaviors, AttackPrompt: *attackPrompt}
	if slices.Contains(data.LabelFormats, *format) {
		if *pairs != "" {
			return fmt.Errorf("%w: --format %s writes labels, it has no preference pairs", errUsage, *format)
		}
		return importLabels(c, *format, *in, *out, o)
	}
	if !slices.Contains(data.Formats, *format) {
		return fmt.Errorf("%w: unknown --format %q (%s)", errUsage, *format, strings.Join(append(slices.Clone(data.Formats), data.LabelFormats...), ", "))
	}
	if *behaviors != "" || *attackPrompt {
		return fmt.Errorf("%w: --behaviors and --attack-prompt are for the labelled judge sets (%s)", errUsage, strings.Join(data.LabelFormats, ", "))
	}
	im, err := data.Import(*format, *in, o)
	if err != nil {
		return err
	}
	reportSkipped(c, im.Skipped)
	if *pairs != "" && len(im.Pairs) == 0 && len(im.Prompts) > 0 {
		return fmt.Errorf("%w: --format %s has no preference pairs", errUsage, *format)
	}
	if err := jsonl.WriteFile(*out, im.Prompts); err != nil {
		return err
	}
	if *pairs != "" {
		if err := jsonl.WriteFile(*pairs, im.Pairs); err != nil {
			return err
		}
	}
	fmt.Fprintf(c.stdout, "%d prompts, %d pairs, %d malformed rows skipped\n", len(im.Prompts), len(im.Pairs), len(im.Skipped))
	return nil
}

// importLabels converts a labelled judge set to labels rows.
func importLabels(c *cli, format, in, out string, o data.ImportOptions) error {
	im, err := data.ImportLabels(format, in, o)
	if err != nil {
		return err
	}
	reportSkipped(c, im.Skipped)
	if err := jsonl.WriteFile(out, im.Labels); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%d labels (%d unsafe), %d malformed rows skipped\n", len(im.Labels), im.Unsafe(), len(im.Skipped))
	return nil
}

func reportSkipped(c *cli, skipped []string) {
	for _, s := range skipped {
		fmt.Fprintf(c.progress, "aegis data import: skipped %s\n", s)
	}
}

func runDataExport(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("data export", "--format trl|trl-conversational|openrlhf --in pairs.jsonl --out FILE",
		`Writes preference pairs ({"prompt","chosen","rejected"}, strings or message lists) for a
training framework: trl (TRL's standard format, all strings; a multi-turn conversation is
refused rather than flattened), trl-conversational (message lists: the prompt's turns, one
assistant message each in chosen and rejected), openrlhf (whole conversations in "chosen"
and "rejected", for --apply_chat_template --chosen_key chosen --rejected_key rejected).`, c.stdout)
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
	if err := jsonl.WriteFile(*out, rows); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%d pairs written as %s\n", len(rows), *format)
	return nil
}
