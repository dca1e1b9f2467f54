package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aegis-safety/aegis/internal/cli/sandboxflags"
	"github.com/aegis-safety/aegis/internal/progress"
	"github.com/aegis-safety/aegis/native/data"
	"github.com/aegis-safety/aegis/native/eval"
	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/rundir"
	"github.com/aegis-safety/aegis/native/sandbox"
	"github.com/aegis-safety/aegis/native/tokenizer"
	"github.com/aegis-safety/aegis/shared"
	"github.com/aegis-safety/aegis/wasm"
)

// evalSynopsis and evalAbout are the --help of `aegis eval`.
const evalSynopsis = "(--model DIR | --endpoint URL --model-name NAME) --prompts FILE [--attacks none|all|style,style] [--judge NAME|FILE.wasm] [--judge-endpoint URL --judge-model NAME [--rubric llamaguard|harmbench|strongreject]] [--concurrency N] --out DIR [--resume]"

const evalAbout = `Sends every prompt to the model under test, judges each answer and reports attack success.
The model is a local folder (--model: batched KV-cache decoding through its chat template,
greedy unless --temperature) or an OpenAI-compatible server (--endpoint URL --model-name
NAME: POST URL/chat/completions, the prompt as one user message, no system message unless
--system; --concurrency requests at once, --request-timeout each, --retries with
exponential backoff on 429, 5xx, timeouts and network errors).

--attacks none (the default) sends each prompt unchanged; all, or a list of styles, also
sends every harmful prompt rewritten by the attack module in each style (benign prompts
are always sent unchanged: they measure over-refusal). The styles are the attack module's:
the catalogue's for the built-in one ('aegis modules' lists them), those its manifest
lists for another --attack-module FILE.wasm (all of them with "all"). Answers are judged by --judge (a
built-in judge module or a FILE.wasm; default "judge"), and, with --judge-endpoint, by an
LLM judge too, asked with --rubric: llamaguard (the default) or harmbench decide unsafe
while the module decides refusal; strongreject decides refusal and unsafe (score >= 0.5).
An LLM answer the rubric cannot parse is a judge error: the attempt stays unjudged
("generated", counted in report.json's counts.judge_errors) and --resume retries it.

OUT/results.jsonl gets one line per attempt state change ({"id","status","prompt","attack",
"category","response","verdict"}, status pending -> generated -> judged; the latest line
per id wins); a failed attempt keeps its state with "error" set and the scan goes on.
--resume continues a scan, sending only unfinished attempts, and refuses another endpoint,
model or judge than the scan's (OUT/scan.json); Ctrl-C loses nothing finished. An
endpoint that refuses connections before it has ever answered stops the scan at once. OUT/report.json (ASR = unsafe / answered, overall and per category x attack with
Wilson 95% intervals, refusal and over-refusal rates, counts, win rates against
--baseline) and OUT/report.md are written at the end, also after an interruption.
'aegis eval report --out DIR' rewrites them; 'aegis eval compare A B' compares two scans.`

// evalFlags are the flags of `aegis eval`.
type evalFlags struct {
	mf modelFlags
	df debiasFlags
	lf sandboxflags.Limits
	lj llmJudgeFlags

	endpoint, modelName, apiKeyEnv             string
	prompts, split, attacks                    string
	attackModule, judge, out, system, baseline string
	limit, concurrency, batch, maxNew, retries int
	resume, overwrite                          bool
	temp                                       float64
	seed                                       uint64
	reqTimeout                                 time.Duration
	backoff                                    time.Duration // first wait between endpoint retries
}

func (f *evalFlags) register(fs *flagSet) {
	f.mf.register(fs)
	f.df.register(fs)
	f.lf.Register(fs.FlagSet)
	f.lj.register(fs)
	fs.StringVar(&f.endpoint, "endpoint", "", "OpenAI-compatible base URL (e.g. http://127.0.0.1:8000/v1)")
	fs.StringVar(&f.modelName, "model-name", "", "model name sent to --endpoint")
	fs.StringVar(&f.apiKeyEnv, "api-key-env", "OPENAI_API_KEY", "environment variable holding the endpoint's API key (unset: no key)")
	fs.StringVar(&f.prompts, "prompts", "", "prompts JSONL ({\"id\",\"prompt\",\"category\",\"source\",\"split\"})")
	fs.StringVar(&f.split, "split", "", "only prompts of these splits (comma-separated)")
	fs.IntVar(&f.limit, "limit", 0, "only the first N prompts (0: all)")
	fs.StringVar(&f.attacks, "attacks", "none", "none, all, or comma-separated attack styles")
	fs.StringVar(&f.attackModule, "attack-module", "attacks", "attack module: a built-in name or FILE.wasm")
	judgeModuleFlag(fs, &f.judge)
	fs.IntVar(&f.concurrency, "concurrency", 4, "endpoint requests at once")
	fs.IntVar(&f.batch, "batch-size", 8, "local model: prompts decoded together")
	fs.StringVar(&f.out, "out", "", "output folder (results.jsonl, report.json, report.md)")
	fs.BoolVar(&f.resume, "resume", false, "continue the scan in --out")
	fs.BoolVar(&f.overwrite, "overwrite", false, "start over, discarding --out's results.jsonl")
	fs.StringVar(&f.system, "system", "", "system message before each prompt (none by default)")
	fs.IntVar(&f.maxNew, "max-new-tokens", 256, "most tokens per answer")
	fs.Float64Var(&f.temp, "temperature", 0, "sampling temperature; 0 is greedy")
	fs.Uint64Var(&f.seed, "seed", 0, "seed of sampling and of the attack module")
	fs.DurationVar(&f.reqTimeout, "request-timeout", 60*time.Second, "time limit per endpoint request")
	fs.IntVar(&f.retries, "retries", 3, "further tries of a failed endpoint request (429, 5xx, network, timeout)")
	fs.StringVar(&f.baseline, "baseline", "", "results.jsonl of another scan: report win rates against it")
}

// check validates the flags' combinations and returns the LLM judge's rubric.
func (f *evalFlags) check(fs *flagSet) (eval.Rubric, error) {
	switch {
	case (f.mf.dir == "") == (f.endpoint == ""):
		return nil, fmt.Errorf("%w: give exactly one of --model DIR and --endpoint URL", errUsage)
	case f.endpoint != "" && f.modelName == "":
		return nil, fmt.Errorf("%w: --endpoint needs --model-name", errUsage)
	case f.prompts == "":
		return nil, fmt.Errorf("%w: --prompts is required", errUsage)
	case f.out == "":
		return nil, fmt.Errorf("%w: --out is required", errUsage)
	case f.resume && f.overwrite:
		return nil, fmt.Errorf("%w: --resume and --overwrite exclude each other", errUsage)
	case f.concurrency < 1 || f.batch < 1 || f.maxNew < 1 || f.temp < 0 || f.retries < 0 || f.reqTimeout <= 0:
		return nil, fmt.Errorf("%w: need --concurrency, --batch-size, --max-new-tokens >= 1, --temperature, --retries >= 0, --request-timeout > 0", errUsage)
	}
	return f.lj.check(fs)
}

func runEval(ctx context.Context, c *cli, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "compare":
			return runEvalCompare(ctx, c, args[1:])
		case "report":
			return runEvalReport(ctx, c, args[1:])
		}
	}
	fs := newFlags("eval", evalSynopsis, evalAbout, c.stdout)
	f := evalFlags{backoff: c.backoff}
	f.register(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	rubric, err := f.check(fs)
	if err != nil {
		return err
	}
	spec, err := styleSpec(f.attacks)
	if err != nil {
		return err
	}
	if f.attackModule == "attacks" { // the built-in module's styles are the catalogue's: check them now
		if _, err := moduleStyles(spec, shared.Manifest{Name: "attacks"}, f.attackModule); err != nil {
			return err
		}
	}
	prompts, err := data.ReadPrompts(f.prompts)
	if err != nil {
		return err
	}
	prompts = data.SelectPrompts(prompts, f.split, f.limit)
	c.handleInterrupt()
	h, closeHost, err := f.lf.Host(ctx, 0)
	if err != nil {
		return err
	}
	defer closeHost()
	judge, attack, styles, err := f.modules(ctx, h, rubric, spec)
	if err != nil {
		return err
	}
	label := f.modelName
	if f.endpoint == "" {
		label = f.mf.dir
	}
	var prog *progress.Bar
	res, err := eval.Scan(ctx, eval.ScanConfig{Dir: f.out, Prompts: prompts, Styles: styles, Attack: attack, Seed: f.seed,
		Gen: f.generator, Judge: judge, Resume: f.resume, Overwrite: f.overwrite, Model: label, Baseline: f.baseline, Setup: f.setup(),
		OnStart: func(todo int) { prog = progress.New(c.progress, "eval", todo, "attempts") },
		OnDone:  func(n int) { prog.Add(n) }})
	if prog != nil {
		prog.Done()
	}
	var scanErr *eval.ScanError
	if res != nil && (err == nil || errors.As(err, &scanErr)) {
		rep := res.Report
		fmt.Fprintf(c.stdout, "ASR %.1f%% (%d/%d answered harmful attempts), refusal %.1f%%, over-refusal %.1f%% (%d benign); %d attempts failed; %s\n",
			100*rep.ASR, rep.Overall.Unsafe, rep.Overall.N, 100*rep.RefusalRate, 100*rep.OverRefusalRate, rep.OverRefusal.N, res.Failed,
			filepath.Join(f.out, rundir.ReportFile))
	}
	if errors.Is(err, eval.ErrExists) || errors.Is(err, eval.ErrOtherSetup) {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if errors.Is(err, eval.ErrUnreachable) {
		return fmt.Errorf("%w; the scan stopped before sending anything more: continue it with --resume once it answers", err)
	}
	return err
}

// setup is what the scan measures (eval.Setup), with paths made absolute.
func (f *evalFlags) setup() eval.Setup {
	abs := func(p string) string {
		if p == "" {
			return ""
		}
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	s := eval.Setup{Judge: f.judge, JudgeEndpoint: strings.TrimRight(f.lj.endpoint, "/"), JudgeModel: f.lj.model}
	if _, builtin := wasm.Builtin(f.judge); !builtin {
		s.Judge = abs(f.judge)
	}
	if f.lj.endpoint != "" {
		s.Rubric = f.lj.rubric
	}
	if f.endpoint != "" {
		s.Endpoint, s.Model = strings.TrimRight(f.endpoint, "/"), f.modelName
	} else {
		s.Model, s.Adapter = abs(f.mf.dir), abs(f.mf.adapter)
	}
	return s
}

// modules loads --judge (with the LLM judge of --judge-endpoint over it) and, when
// attack styles are asked for (spec: see styleSpec), --attack-module into h, and
// resolves spec against that module's styles.
func (f *evalFlags) modules(ctx context.Context, h *sandbox.Host, rubric eval.Rubric, spec []string) (eval.Judge, data.Attacker, []string, error) {
	judge, err := openJudgeModule(ctx, h, f.judge)
	if err != nil {
		return nil, nil, nil, err
	}
	if f.lj.endpoint != "" {
		judge = f.lj.judge(rubric, judge, os.Getenv(f.apiKeyEnv), f.reqTimeout, f.retries, f.backoff)
	}
	if len(spec) == 0 {
		return judge, nil, nil, nil
	}
	am, err := sandboxflags.Open(ctx, h, sandbox.Ref{Name: f.attackModule, Kind: shared.KindAttack, Flag: "--attack-module"})
	if err != nil {
		return nil, nil, nil, err
	}
	styles, err := moduleStyles(spec, am.Manifest(), f.attackModule)
	if err != nil {
		return nil, nil, nil, err
	}
	return judge, am.Attack, styles, nil
}

// styleSpec reads --attacks: nil for none, ["all"] for all, else the listed style names
// (checked as names here; against the attack module's styles by moduleStyles).
func styleSpec(s string) ([]string, error) {
	switch strings.TrimSpace(s) {
	case "", "none":
		return nil, nil
	case "all":
		return []string{"all"}, nil
	}
	styles := data.SplitList(s)
	for _, st := range styles {
		if !sandbox.ValidStyleName(st) {
			return nil, fmt.Errorf("%w: attack style %q is not a style name", errUsage, st)
		}
	}
	return styles, nil
}

// moduleStyles resolves a styleSpec against an attack module: its manifest's styles
// when it lists them (an uploaded or third-party module's own), else the catalogue's
// (shared.Styles, which the built-in module implements). "all" is every one of them.
func moduleStyles(spec []string, mf shared.Manifest, flag string) ([]string, error) {
	known := mf.Styles
	if len(known) == 0 {
		known = shared.StyleIDs()
	}
	if len(spec) == 1 && spec[0] == "all" {
		return slices.Clone(known), nil
	}
	for _, st := range spec {
		if !slices.Contains(known, st) {
			if len(mf.Styles) == 0 || flag == "attacks" {
				return nil, fmt.Errorf("%w: unknown attack style %q ('aegis modules' lists them)", errUsage, st)
			}
			return nil, fmt.Errorf("%w: unknown attack style %q: attack module %s has %s", errUsage, st, mf.Name, strings.Join(known, ", "))
		}
	}
	return spec, nil
}

// generator makes the model under test: an endpoint client or a local model folder.
func (f *evalFlags) generator() (eval.Generator, error) {
	if f.endpoint != "" {
		return eval.EndpointGenerator{Concurrency: f.concurrency, Client: &eval.Client{Endpoint: f.endpoint, Model: f.modelName,
			APIKey: os.Getenv(f.apiKeyEnv), System: f.system, MaxTokens: f.maxNew, Temperature: f.temp,
			Timeout: f.reqTimeout, Retries: f.retries, Backoff: f.backoff}}, nil
	}
	m, err := f.mf.load()
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.Load(f.mf.dir)
	if err != nil {
		return nil, err
	}
	bias, err := f.df.load(m.Config.VocabSize)
	if err != nil {
		return nil, err
	}
	return &eval.LocalGenerator{Model: m, Tok: tok, System: f.system, MaxNewTokens: f.maxNew, Batch: f.batch,
		Sampling: model.Sampling{Temperature: f.temp, TopP: 1}, Seed: f.seed, Debias: bias}, nil
}

func runEvalReport(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("eval report", "--out DIR [--baseline results.jsonl]",
		"Recomputes OUT/report.json and OUT/report.md from OUT/results.jsonl.", c.stdout)
	out := fs.String("out", "", "the scan's folder")
	baseline := fs.String("baseline", "", "results.jsonl of another scan: report win rates against it")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: --out is required", errUsage)
	}
	rep, err := eval.WriteReport(*out, "", *baseline)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "ASR %.1f%% (%d/%d)\n", 100*rep.ASR, rep.Overall.Unsafe, rep.Overall.N)
	return nil
}

func runEvalCompare(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("eval compare", "A B",
		`Compares two scans attempt by attempt (paired by id, judged in both) and prints their win
rates as JSON: on a harmful prompt a scan wins when its answer is safe and the other's is
unsafe, on a benign prompt when it answers and the other refuses; otherwise a tie. A and B
are results.jsonl files or the folders holding them.`, c.stdout)
	if err := fs.ParseArgs(args, 2, "give two result sets: aegis eval compare A B"); err != nil {
		return err
	}
	return c.printJSON(eval.CompareScans(fs.Arg(0), fs.Arg(1)))
}
