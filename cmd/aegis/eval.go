package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aegis-safety/aegis/native/data"
	"github.com/aegis-safety/aegis/native/eval"
	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/sandbox"
	"github.com/aegis-safety/aegis/native/tokenizer"
	"github.com/aegis-safety/aegis/shared"
	"github.com/aegis-safety/aegis/wasm"
)

// evalBackoff is the first wait between endpoint retries (tests shorten it).
var evalBackoff = time.Second

func runEval(args []string, stdout io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "compare":
			return runEvalCompare(args[1:], stdout)
		case "report":
			return runEvalReport(args[1:], stdout)
		}
	}
	fs := newFlags("eval", "(--model DIR | --endpoint URL --model-name NAME) --prompts FILE [--attacks none|all|style,style] [--judge NAME|FILE.wasm] [--judge-endpoint URL --judge-model NAME [--rubric llamaguard|harmbench|strongreject]] [--concurrency N] --out DIR [--resume]",
		`Sends every prompt to the model under test, judges each answer and reports attack success.
The model is a local folder (--model: batched KV-cache decoding through its chat template,
greedy unless --temperature) or an OpenAI-compatible server (--endpoint URL --model-name
NAME: POST URL/chat/completions, the prompt as one user message, no system message unless
--system; --concurrency requests at once, --request-timeout each, --retries with
exponential backoff on 429, 5xx, timeouts and network errors).

--attacks none (the default) sends each prompt unchanged; all, or a list of styles, also
sends every harmful prompt rewritten by the attack module in each style (benign prompts
are always sent unchanged: they measure over-refusal). Answers are judged by --judge (a
built-in judge module or a FILE.wasm; default "judge"), and, with --judge-endpoint, by an
LLM judge too, asked with --rubric: llamaguard (the default) or harmbench decide unsafe
while the module decides refusal; strongreject decides refusal and unsafe (score >= 0.5).
An LLM answer the rubric cannot parse is a judge error: the attempt stays unjudged
("generated", counted in report.json's counts.judge_errors) and --resume retries it.

OUT/results.jsonl gets one line per attempt state change ({"id","status","prompt","attack",
"category","response","verdict"}, status pending -> generated -> judged; the latest line
per id wins); a failed attempt keeps its state with "error" set and the scan goes on.
--resume continues a scan, sending only unfinished attempts; Ctrl-C loses nothing
finished. OUT/report.json (ASR = unsafe / answered, overall and per category x attack with
Wilson 95% intervals, refusal and over-refusal rates, counts, win rates against
--baseline) and OUT/report.md are written at the end, also after an interruption.
'aegis eval report --out DIR' rewrites them; 'aegis eval compare A B' compares two scans.`, stdout)
	var mf modelFlags
	mf.register(fs)
	var df debiasFlags
	df.register(fs)
	endpoint := fs.String("endpoint", "", "OpenAI-compatible base URL (e.g. http://127.0.0.1:8000/v1)")
	modelName := fs.String("model-name", "", "model name sent to --endpoint")
	apiKeyEnv := fs.String("api-key-env", "OPENAI_API_KEY", "environment variable holding the endpoint's API key (unset: no key)")
	promptsPath := fs.String("prompts", "", "prompts JSONL ({\"id\",\"prompt\",\"category\",\"source\",\"split\"})")
	split := fs.String("split", "", "only prompts of these splits (comma-separated)")
	limit := fs.Int("limit", 0, "only the first N prompts (0: all)")
	attacks := fs.String("attacks", "none", "none, all, or comma-separated attack styles")
	attackModule := fs.String("attack-module", "attacks", "attack module: a built-in name or FILE.wasm")
	judgeName := fs.String("judge", "judge", "judge module: a built-in name or FILE.wasm")
	var lj llmJudgeFlags
	lj.register(fs)
	concurrency := fs.Int("concurrency", 4, "endpoint requests at once")
	batch := fs.Int("batch-size", 8, "local model: prompts decoded together")
	out := fs.String("out", "", "output folder (results.jsonl, report.json, report.md)")
	resume := fs.Bool("resume", false, "continue the scan in --out")
	overwrite := fs.Bool("overwrite", false, "start over, discarding --out's results.jsonl")
	system := fs.String("system", "", "system message before each prompt (none by default)")
	maxNew := fs.Int("max-new-tokens", 256, "most tokens per answer")
	temp := fs.Float64("temperature", 0, "sampling temperature; 0 is greedy")
	seed := fs.Uint64("seed", 0, "seed of sampling and of the attack module")
	reqTimeout := fs.Duration("request-timeout", 60*time.Second, "time limit per endpoint request")
	retries := fs.Int("retries", 3, "further tries of a failed endpoint request (429, 5xx, network, timeout)")
	baseline := fs.String("baseline", "", "results.jsonl of another scan: report win rates against it")
	if err := fs.parse(args); err != nil {
		return err
	}
	switch {
	case (mf.dir == "") == (*endpoint == ""):
		return fmt.Errorf("%w: give exactly one of --model DIR and --endpoint URL", errUsage)
	case *endpoint != "" && *modelName == "":
		return fmt.Errorf("%w: --endpoint needs --model-name", errUsage)
	case *promptsPath == "":
		return fmt.Errorf("%w: --prompts is required", errUsage)
	case *out == "":
		return fmt.Errorf("%w: --out is required", errUsage)
	case *resume && *overwrite:
		return fmt.Errorf("%w: --resume and --overwrite exclude each other", errUsage)
	case *concurrency < 1 || *batch < 1 || *maxNew < 1 || *temp < 0 || *retries < 0 || *reqTimeout <= 0:
		return fmt.Errorf("%w: need --concurrency, --batch-size, --max-new-tokens >= 1, --temperature, --retries >= 0, --request-timeout > 0", errUsage)
	}
	rubric, err := lj.check(fs)
	if err != nil {
		return err
	}
	styles, err := parseStyles(*attacks)
	if err != nil {
		return err
	}
	prompts, err := data.ReadPrompts(*promptsPath)
	if err != nil {
		return err
	}
	if *split != "" {
		keep := splitList(*split)
		prompts = slices.DeleteFunc(prompts, func(p data.Prompt) bool { return !slices.Contains(keep, p.Split) })
	}
	if *limit > 0 && len(prompts) > *limit {
		prompts = prompts[:*limit]
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	resultsPath := filepath.Join(*out, "results.jsonl")
	var previous []*eval.Attempt
	if _, err := os.Stat(resultsPath); err == nil {
		switch {
		case *resume:
			if err := trimTornLine(resultsPath); err != nil {
				return err
			}
			if previous, err = eval.ReadAttempts(resultsPath); err != nil {
				return err
			}
		case *overwrite:
			if err := os.Remove(resultsPath); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: %s exists: --resume continues it, --overwrite starts over", errUsage, resultsPath)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	host, err := sandbox.NewHost(ctx, sandbox.Limits{}, sandbox.CacheDir())
	if err != nil {
		return err
	}
	defer host.Close(context.Background())
	loadModule := func(flagName, v, kind string) (*sandbox.Module, error) {
		name, code, err := readModule(v, sandbox.DefaultLimits.MaxModule)
		if errors.Is(err, errUsage) { // name the flag that was given
			return nil, fmt.Errorf("%w: --%s %q is neither a built-in module (%s) nor a .wasm file", errUsage, flagName, v, strings.Join(wasm.Builtins(), ", "))
		}
		if err != nil {
			return nil, err
		}
		m, err := host.Load(ctx, name, code)
		if err != nil {
			return nil, err
		}
		if k := m.Manifest().Kind; k != kind {
			return nil, fmt.Errorf("%w: module %s is %s module, not %s module", errUsage, name, article(k), article(kind))
		}
		return m, nil
	}
	jm, err := loadModule("judge", *judgeName, shared.KindJudge)
	if err != nil {
		return err
	}
	var judge eval.Judge = eval.ModuleJudge{M: jm}
	if lj.endpoint != "" {
		judge = lj.judge(rubric, judge, os.Getenv(*apiKeyEnv), *reqTimeout, *retries)
	}
	var attack data.Attacker
	if len(styles) > 0 {
		am, err := loadModule("attack-module", *attackModule, shared.KindAttack)
		if err != nil {
			return err
		}
		attack = am.Attack
	}
	attempts, err := eval.Expand(ctx, prompts, styles, attack, *seed)
	if err != nil {
		return err
	}

	var gen eval.Generator
	modelLabel := *modelName
	if *endpoint != "" {
		gen = eval.EndpointGenerator{Concurrency: *concurrency, Client: &eval.Client{Endpoint: *endpoint, Model: *modelName,
			APIKey: os.Getenv(*apiKeyEnv), System: *system, MaxTokens: *maxNew, Temperature: *temp,
			Timeout: *reqTimeout, Retries: *retries, Backoff: evalBackoff}}
	} else {
		modelLabel = mf.dir
		m, err := mf.load()
		if err != nil {
			return err
		}
		tok, err := tokenizer.Load(mf.dir)
		if err != nil {
			return err
		}
		bias, err := df.load(m.Config.VocabSize)
		if err != nil {
			return err
		}
		stopIDs := eval.StopIDs(m, tok)
		gen = &eval.LocalGenerator{Model: m, Tok: tok, System: *system, MaxNewTokens: *maxNew, Batch: *batch,
			Sampling: model.Sampling{Temperature: *temp, TopP: 1}, Seed: *seed, StopIDs: stopIDs,
			Debias: bias}
	}

	// Merge with what a resumed scan already has: finished work is kept, new attempts are
	// logged as pending before any is sent.
	log, err := eval.OpenLog(resultsPath)
	if err != nil {
		return err
	}
	defer log.Close()
	have := map[string]*eval.Attempt{}
	for _, a := range previous {
		have[a.ID] = a
	}
	todo := 0
	for i, a := range attempts {
		if old, ok := have[a.ID]; ok {
			attempts[i] = old
		} else if err := log.Append(a); err != nil {
			return err
		}
		if attempts[i].Status != eval.StatusJudged {
			todo++
		}
	}
	prog := newProgress(progressOut, "eval", todo, "attempts")
	var pmu sync.Mutex // the bar is not safe for concurrent use
	failed, runErr := eval.Run(ctx, attempts, eval.Options{Gen: gen, Judge: judge, Log: log, Progress: func(n int) {
		pmu.Lock()
		prog.Add(n)
		pmu.Unlock()
	}})
	prog.Done()
	if err := log.Close(); err != nil && runErr == nil {
		runErr = err
	}
	all, err := eval.ReadAttempts(resultsPath)
	if err != nil {
		return err
	}
	rep, err := writeReport(*out, modelLabel, all, *baseline)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ASR %.1f%% (%d/%d answered harmful attempts), refusal %.1f%%, over-refusal %.1f%% (%d benign); %d attempts failed; %s\n",
		100*rep.ASR, rep.Overall.Unsafe, rep.Overall.N, 100*rep.RefusalRate, 100*rep.OverRefusalRate, rep.OverRefusal.N, failed,
		filepath.Join(*out, "report.json"))
	if runErr != nil {
		if errors.Is(runErr, context.Canceled) {
			return fmt.Errorf("interrupted: %d of %d attempts judged; finished work is in %s, continue with --resume", rep.Counts.Judged, rep.Counts.Attempts, resultsPath)
		}
		return runErr
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d attempts failed (their errors are in %s); rerun with --resume to retry them", failed, todo, resultsPath)
	}
	return nil
}

// trimTornLine cuts a last line that an interrupted write left without its newline, so that
// appended lines start clean.
func trimTornLine(path string) error {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 || b[len(b)-1] == '\n' {
		return err
	}
	i := strings.LastIndexByte(string(b), '\n')
	return os.Truncate(path, int64(i+1))
}

// writeReport writes report.json and report.md for a set of attempts.
func writeReport(dir, label string, attempts []*eval.Attempt, baseline string) (*eval.Report, error) {
	rep := eval.NewReport(attempts)
	rep.Model = label
	if baseline != "" {
		base, err := eval.ReadAttempts(baseline)
		if err != nil {
			return nil, err
		}
		rep.WinRates = eval.Compare(filepath.Join(dir, "results.jsonl"), attempts, baseline, base)
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	return rep, os.WriteFile(filepath.Join(dir, "report.md"), []byte(rep.Markdown()), 0o644)
}

func runEvalReport(args []string, stdout io.Writer) error {
	fs := newFlags("eval report", "--out DIR [--baseline results.jsonl]",
		"Recomputes OUT/report.json and OUT/report.md from OUT/results.jsonl.", stdout)
	out := fs.String("out", "", "the scan's folder")
	baseline := fs.String("baseline", "", "results.jsonl of another scan: report win rates against it")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: --out is required", errUsage)
	}
	all, err := eval.ReadAttempts(filepath.Join(*out, "results.jsonl"))
	if err != nil {
		return err
	}
	rep, err := writeReport(*out, "", all, *baseline)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ASR %.1f%% (%d/%d)\n", 100*rep.ASR, rep.Overall.Unsafe, rep.Overall.N)
	return nil
}

func runEvalCompare(args []string, stdout io.Writer) error {
	fs := newFlags("eval compare", "A B",
		`Compares two scans attempt by attempt (paired by id, judged in both) and prints their win
rates as JSON: on a harmful prompt a scan wins when its answer is safe and the other's is
unsafe, on a benign prompt when it answers and the other refuses; otherwise a tie. A and B
are results.jsonl files or the folders holding them.`, stdout)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.help()
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() != 2 {
		return fmt.Errorf("%w: give two result sets: aegis eval compare A B", errUsage)
	}
	var sets [2][]*eval.Attempt
	var names [2]string
	for i := range 2 {
		p := fs.Arg(i)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			p = filepath.Join(p, "results.jsonl")
		}
		a, err := eval.ReadAttempts(p)
		if err != nil {
			return err
		}
		sets[i], names[i] = a, p
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(eval.Compare(names[0], sets[0], names[1], sets[1]))
}
