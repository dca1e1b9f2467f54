package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aegis-safety/aegis/internal/bench"
	"github.com/aegis-safety/aegis/internal/progress"
	"github.com/aegis-safety/aegis/kernels"
	"github.com/aegis-safety/aegis/native/model"
)

// benchGroup is `aegis bench`: throughput on this machine.
var benchGroup = group{name: "bench", note: "Add --json for one JSON object. Run 'aegis bench SUB --help' for a benchmark's flags.", subs: []subcommand{
	{"gemm", "float32 matrix multiply, GFLOP/s", benchGEMM},
	{"train", "training steps (forward, backward, AdamW) on random tokens, tokens/s", benchTrain},
	{"generate", "KV-cache decoding, tokens/s", benchGenerate},
	{"tokenize", "encoding MB/s, against Hugging Face tokenizers (Rust) when Node has it", benchTokenize},
	{"gcg", "GCG attack steps (gradient, candidates, batched scoring), seconds per step", benchGCG},
}}

func setThreads(n int) (int, error) {
	if n < 0 {
		return 0, fmt.Errorf("%w: --threads must be positive", errUsage)
	}
	return bench.SetThreads(n), nil
}

func benchGEMM(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("bench gemm", "--m M --n N --k K [--layout nn|nt|tn|tt] [--threads T] [--json]",
		"Times C = A·B on random float32 matrices (C is M×N, the inner dimension K) and prints\nGFLOP/s (2·M·N·K per multiply), the median over repeated runs.", c.stdout)
	m := fs.Int("m", 1024, "rows of C")
	n := fs.Int("n", 1024, "columns of C")
	k := fs.Int("k", 1024, "inner dimension")
	layout := fs.String("layout", "nn", "operand layouts: nn, nt (B transposed), tn, tt")
	threads := fs.Int("threads", 0, "worker threads (0: all cores)")
	isa := fs.String("isa", kernels.ISA(), "instruction set: "+strings.Join(kernels.Supported(), ", "))
	secs := fs.Float64("seconds", 2, "how long to measure")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *m <= 0 || *n <= 0 || *k <= 0 || len(*layout) != 2 || strings.Trim(*layout, "nt") != "" {
		return fmt.Errorf("%w: need positive --m --n --k and --layout nn, nt, tn or tt", errUsage)
	}
	t, err := setThreads(*threads)
	if err != nil {
		return err
	}
	if err := kernels.SetISA(*isa); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	g := bench.GEMM{M: *m, N: *n, K: *k, TA: (*layout)[0] == 't', TB: (*layout)[1] == 't'}
	med, runs := g.Time(*secs)
	return bench.Report(c.stdout, *asJSON, []string{"gflops", "seconds", "m", "n", "k", "layout", "threads", "isa", "runs"},
		map[string]any{"gflops": g.GFLOPS(med), "seconds": med, "m": *m, "n": *n, "k": *k, "layout": *layout,
			"threads": t, "isa": kernels.ISA(), "runs": runs})
}

// benchModel builds a randomly initialised model from a config.json.
func benchModel(path, baseDType string, seed uint64) (*model.Model, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: --model-config is required", errUsage)
	}
	if baseDType != "f32" && baseDType != "bf16" {
		return nil, fmt.Errorf("%w: --base-dtype must be f32 or bf16", errUsage)
	}
	return bench.RandomModel(path, baseDType == "bf16", seed)
}

func benchTrain(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("bench train", "--model-config config.json [--batch B] [--seq T] [--steps S] [--threads N] [--lora-rank R] [--base-dtype bf16] [--json]",
		"Times training steps (forward, cross-entropy, backward, AdamW) of a randomly initialised\nmodel on random tokens: full fine-tuning, or LoRA on a frozen base with --lora-rank.\nPrints tokens/s and seconds per step (after one untimed warm-up step) and peak RSS.", c.stdout)
	cfgPath := fs.String("model-config", "", "a Hugging Face config.json")
	batch := fs.Int("batch", 8, "sequences per step")
	seq := fs.Int("seq", 128, "tokens per sequence")
	steps := fs.Int("steps", 5, "timed steps")
	threads := fs.Int("threads", 0, "worker threads (0: all cores)")
	rank := fs.Int("lora-rank", 0, "train a LoRA adapter of this rank on a frozen base (0: full fine-tuning)")
	baseDType := fs.String("base-dtype", "f32", "base weights in memory: f32 or bf16 (bf16 needs --lora-rank)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the timed steps to this file (go tool pprof)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *batch <= 0 || *seq <= 0 || *steps <= 0 || *rank < 0 {
		return fmt.Errorf("%w: --batch, --seq and --steps must be positive", errUsage)
	}
	t, err := setThreads(*threads)
	if err != nil {
		return err
	}
	m, err := benchModel(*cfgPath, *baseDType, 1)
	if err != nil {
		return err
	}
	tr, err := bench.Trainer(m, *batch, *seq, *steps+1, *rank)
	switch {
	case errors.Is(err, bench.ErrShortSeq):
		return fmt.Errorf("%w: %v", errUsage, err)
	case err != nil && *rank == 0:
		return fmt.Errorf("%w: %v (use --lora-rank with --base-dtype bf16)", errUsage, err)
	case err != nil:
		return err
	}
	if _, err := tr.Step(); err != nil { // warm-up: buffers, page faults
		return err
	}
	stopProfile, err := bench.StartProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	bar := progress.New(c.progress, "bench train", *steps, "steps")
	res, err := bench.TimeSteps(tr, m, *steps, func() { bar.Add(1) })
	if err != nil {
		return err
	}
	bar.Done()
	return bench.Report(c.stdout, *asJSON, []string{"tokens_per_s", "step_s", "loss", "threads", "trainable", "peak_rss_mb", "isa"},
		map[string]any{"tokens_per_s": float64(*batch**seq) / res.StepSeconds, "step_s": res.StepSeconds, "loss": res.Loss, "threads": t,
			"trainable": res.Trainable, "peak_rss_mb": bench.PeakRSSMB(), "isa": kernels.ISA()})
}

func benchGenerate(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("bench generate", "(--model DIR | --model-config config.json) [--batch B] [--prompt-len P] [--new-tokens N] [--threads T] [--json]",
		"Times KV-cache decoding: a prompt of random tokens is prefilled, then N tokens are\ndecoded greedily, one step per token for B sequences at once. Prints decode tokens/s\n(B·N / decode time) and the prefill time.", c.stdout)
	var mf modelFlags
	mf.register(fs)
	cfgPath := fs.String("model-config", "", "a config.json for a randomly initialised model (instead of --model)")
	batch := fs.Int("batch", 1, "sequences decoded together")
	promptLen := fs.Int("prompt-len", 32, "prompt tokens")
	newTokens := fs.Int("new-tokens", 64, "tokens to decode")
	threads := fs.Int("threads", 0, "worker threads (0: all cores)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the decoding to this file (go tool pprof)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *batch <= 0 || *promptLen <= 0 || *newTokens <= 0 {
		return fmt.Errorf("%w: --batch, --prompt-len and --new-tokens must be positive", errUsage)
	}
	t, err := setThreads(*threads)
	if err != nil {
		return err
	}
	var m *model.Model
	if *cfgPath != "" {
		base := "f32"
		if mf.bf16 {
			base = "bf16"
		}
		m, err = benchModel(*cfgPath, base, 1)
	} else {
		m, err = mf.load()
	}
	if err != nil {
		return err
	}
	stopProfile, err := bench.StartProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	bar := progress.New(c.progress, "bench generate", *newTokens, "tokens")
	res, err := bench.TimeDecode(m, *batch, *promptLen, *newTokens, func() { bar.Add(1) })
	if err != nil {
		return err
	}
	bar.Done()
	prefill, decode, B := res.Prefill, res.Decode, *batch
	return bench.Report(c.stdout, *asJSON, []string{"tokens_per_s", "prefill_s", "decode_s", "batch", "threads", "isa"},
		map[string]any{"tokens_per_s": float64(B**newTokens) / decode.Seconds(), "prefill_s": prefill.Seconds(),
			"decode_s": decode.Seconds(), "batch": B, "threads": t, "isa": kernels.ISA()})
}
