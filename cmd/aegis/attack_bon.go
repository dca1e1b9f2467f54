package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/aegis-safety/aegis/internal/cli/sandboxflags"
	"github.com/aegis-safety/aegis/internal/progress"
	"github.com/aegis-safety/aegis/native/attack/bon"
	"github.com/aegis-safety/aegis/native/eval"
	"github.com/aegis-safety/aegis/native/jsonl"
	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/tokenizer"
)

const attackBonSynopsis = "--model DIR [--adapter DIR] --in prompts.jsonl --out results.jsonl [--n N] [--judge NAME|FILE.wasm] [--batch B] [--temperature T] [--max-new-tokens M] [--seed S] [--json report.json]"

const attackBonAbout = `Best-of-N jailbreaking (Hughes et al. 2024, arXiv 2412.03556). Each request is sent to the
model up to --n times, each time under a fresh random augmentation of its text: every word
of more than 3 characters has its middle characters shuffled with probability --scramble,
every ASCII letter its case flipped with probability --caps, every printable ASCII
character its code moved by 1 up or down with probability --noise (the paper's 0.6, 0.6
and 0.06 by default). Each answer is sampled at --temperature (1, as in the paper) and
judged by --judge (a built-in judge module, "judge" by default, or a FILE.wasm), which is
shown the original request; the attack on a request stops at its first answer judged
unsafe. Sample k of a request is seeded by --seed, the request's id and k alone, so the
results depend neither on --batch nor on the order of the work. --batch samples (of one
request, or of several when few remain to one) are decoded together.

Input rows are {"id","prompt","category"}. Output rows, one per request in input order:
{"id","base_id","prompt","attack":"bon","category","response","jailbroken","samples","n"},
with id BASE_ID/bon, prompt the augmented prompt that succeeded (or the last one tried) and
response its answer, samples the 1-based index of the first success (or the samples tried);
a request whose sample could not be generated or judged ends there with "error" set and is
left out of the ASR. Printed: the ASR at N = 1, 2, 4, ... up to --n (the share of requests
whose first success came within N samples); --json writes it as {"asr_at_n", "prompts",
"queries", "seconds", ...}; queries counts every answer generated, which can exceed the
samples used when a batch runs past a success. The progress bar counts samples out of the
budget (requests x --n), which shrinks as requests succeed early: its ETA is an upper bound.
Ctrl-C stops early and keeps every finished request's row.`

// bonFlags are the flags of `aegis attack bon`.
type bonFlags struct {
	mf          modelFlags
	lf          sandboxflags.Limits
	in, out     string
	judge, json string
	n, batch    int
	maxNew      int
	temp        float64
	seed        uint64
	aug         bon.Augment
	afterRow    func() // tests: called after each finished request
}

func (f *bonFlags) register(fs *flagSet) {
	f.mf.register(fs)
	f.lf.Register(fs.FlagSet)
	judgeModuleFlag(fs, &f.judge)
	fs.StringVar(&f.in, "in", "", `input JSONL of requests ({"id","prompt","category"})`)
	fs.StringVar(&f.out, "out", "", "output JSONL, one row per request")
	fs.StringVar(&f.json, "json", "", "also write the report (ASR at N, queries, seconds) to this file")
	fs.IntVar(&f.n, "n", 100, "most samples per request (at least 1; no upper cap)")
	fs.IntVar(&f.batch, "batch", 8, "samples decoded together")
	fs.IntVar(&f.maxNew, "max-new-tokens", 256, "most tokens per answer")
	fs.Float64Var(&f.temp, "temperature", 1, "sampling temperature of the answers; 0 is greedy")
	fs.Uint64Var(&f.seed, "seed", 0, "base seed of the augmentations and of sampling")
	fs.Float64Var(&f.aug.Scramble, "scramble", bon.DefaultAugment.Scramble, "probability that a word of more than 3 characters has its middle shuffled")
	fs.Float64Var(&f.aug.Caps, "caps", bon.DefaultAugment.Caps, "probability that an ASCII letter's case is flipped")
	fs.Float64Var(&f.aug.Noise, "noise", bon.DefaultAugment.Noise, "probability that a printable ASCII character is moved by ±1")
}

// check validates the flags.
func (f *bonFlags) check(fs *flagSet) error {
	if err := fs.Required("model", "in", "out"); err != nil {
		return err
	}
	switch {
	case f.n < 1:
		return fmt.Errorf("%w: --n must be at least 1", errUsage)
	case f.batch < 1 || f.maxNew < 1:
		return fmt.Errorf("%w: --batch and --max-new-tokens must be at least 1", errUsage)
	case !(f.temp >= 0):
		return fmt.Errorf("%w: --temperature must be at least 0", errUsage)
	}
	if err := f.aug.Check(); err != nil {
		return fmt.Errorf("%w: --%v", errUsage, err)
	}
	_, err := f.lf.Check()
	return err
}

func runAttackBon(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("attack bon", attackBonSynopsis, attackBonAbout, c.stdout)
	var f bonFlags
	f.register(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := f.check(fs); err != nil {
		return err
	}
	c.handleInterrupt()
	return f.run(ctx, c)
}

// bonRow is a line of `aegis attack bon --out`.
type bonRow struct {
	ID         string `json:"id"`
	BaseID     string `json:"base_id"`
	Prompt     string `json:"prompt"`
	Attack     string `json:"attack"`
	Category   string `json:"category"`
	Response   string `json:"response"`
	Jailbroken bool   `json:"jailbroken"`
	Samples    int    `json:"samples"`
	N          int    `json:"n"`
	Error      string `json:"error,omitempty"`
}

// bonReport is `aegis attack bon --json`.
type bonReport struct {
	bon.Report
	Model        string  `json:"model"`
	Adapter      string  `json:"adapter,omitempty"`
	Judge        string  `json:"judge"`
	Temperature  float64 `json:"temperature"`
	MaxNewTokens int     `json:"max_new_tokens"`
	Batch        int     `json:"batch"`
}

// run reads the requests, loads the model and the judge, attacks, and writes the rows
// of the finished requests, the report and the table, also after an interruption.
func (f *bonFlags) run(ctx context.Context, c *cli) error {
	prompts, err := readBonPrompts(f.in)
	if err != nil {
		return err
	}
	w, err := jsonl.Create(f.out)
	if err != nil {
		return err
	}
	defer w.Abort()
	gen, err := f.generator()
	if err != nil {
		return err
	}
	h, closeHost, err := f.lf.Host(ctx, 0)
	if err != nil {
		return err
	}
	defer closeHost()
	judge, err := openJudgeModule(ctx, h, f.judge)
	if err != nil {
		return err
	}
	start := time.Now()
	bar := progress.New(c.progress, "bon", len(prompts)*f.n, "samples")
	out, runErr := bon.Run(ctx, bon.Config{Gen: gen, Judge: judge, N: f.n, Augment: f.aug, Seed: f.seed, Batch: f.batch,
		OnProgress: func(done, dropped int) { bar.Shrink(dropped); bar.Add(done) }, OnResult: func(bon.Result) {
			if f.afterRow != nil {
				f.afterRow()
			}
		}}, prompts)
	bar.Done()
	if out == nil {
		return runErr
	}
	for _, r := range out.Results {
		w.Encode(f.row(r))
	}
	if err := w.Commit(); err != nil {
		return err
	}
	rep := bonReport{Report: bon.NewReport(out.Results, f.n), Model: f.mf.dir, Adapter: f.mf.adapter, Judge: f.judge,
		Temperature: f.temp, MaxNewTokens: f.maxNew, Batch: f.batch}
	rep.Total, rep.Queries, rep.Seconds = len(prompts), out.Queries, time.Since(start).Seconds()
	rep.Augment, rep.Seed, rep.Interrupted = f.aug, f.seed, runErr != nil
	printBonTable(c.stdout, rep.Report, f.out)
	if f.json != "" {
		if err := jsonl.WriteJSON(f.json, rep); err != nil {
			return err
		}
	}
	if errors.Is(runErr, context.Canceled) {
		return fmt.Errorf("interrupted: %d of %d requests finished, their rows are in %s", len(out.Results), len(prompts), f.out)
	}
	return runErr
}

func (f *bonFlags) row(r bon.Result) bonRow {
	row := bonRow{ID: r.ID + "/bon", BaseID: r.ID, Prompt: r.Prompt, Attack: "bon", Category: r.Category,
		Response: r.Response, Jailbroken: r.Jailbroken, Samples: r.Samples, N: f.n}
	if r.Err != nil {
		row.Error = r.Err.Error()
	}
	return row
}

// generator is the model under test, sampled at --temperature.
func (f *bonFlags) generator() (eval.Generator, error) {
	m, err := f.mf.load()
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.Load(f.mf.dir)
	if err != nil {
		return nil, err
	}
	return &eval.LocalGenerator{Model: m, Tok: tok, MaxNewTokens: f.maxNew, Batch: f.batch,
		Sampling: model.Sampling{Temperature: f.temp, TopP: 1}, Seed: f.seed}, nil
}

// readBonPrompts reads `aegis attack bon --in`: rows as `aegis attack` takes them, ids
// unique (they seed the samples).
func readBonPrompts(path string) ([]bon.Prompt, error) {
	seen := map[string]bool{}
	rows, err := jsonl.ReadLines(path, func(r *attackRow) error {
		if err := r.check(); err != nil {
			return err
		}
		if seen[r.ID] {
			return fmt.Errorf("id %q repeats an earlier row", r.ID)
		}
		seen[r.ID] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no requests", path)
	}
	ps := make([]bon.Prompt, len(rows))
	for i, r := range rows {
		ps[i] = bon.Prompt{ID: r.Row.ID, Prompt: r.Row.Prompt, Category: r.Row.Category}
	}
	return ps, nil
}

// printBonTable prints the ASR at each N of the report.
func printBonTable(w io.Writer, rep bon.Report, out string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "N\tASR\tjailbroken\t")
	for _, p := range rep.ASRAtN {
		fmt.Fprintf(tw, "%d\t%.3f\t%d/%d\t\n", p.N, p.ASR, p.Jailbroken, rep.Prompts-rep.Failed)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d of %d requests finished (%d failed), %d answers generated, %.1fs; %s\n",
		rep.Prompts, rep.Total, rep.Failed, rep.Queries, rep.Seconds, filepath.Clean(out))
}
