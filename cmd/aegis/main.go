// Command aegis is the safety-alignment workbench: it red-teams Hugging Face-format
// models with sandboxed attack modules, retrofits them against jailbreaks, judges the
// answers and serves a live monitor. This package holds flags, validation and wiring
// only; the work is in native/ and internal/.
package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"time"

	// base is the command-line framework (the name cli is the commands' environment).
	base "github.com/aegis-safety/aegis/internal/cli"
	"github.com/aegis-safety/aegis/internal/demo"
)

// commands are aegis's commands, listed by name in its usage.
var commands = []subcommand{
	{"demo", "the safety retrofit end to end on the embedded model: evaluate, DPO retrofit, evaluate (demo pretrain rebuilds the model)", runDemo},
	{"experiment", "experiments on the embedded model: security vectors, the five methods compared (experiment secvec|compare)", experimentGroup.run},
	{"logits", "print the raw logits of a model for a sequence of token ids", runLogits},
	{"generate", "continue a sequence of token ids with a model (KV-cache decoding)", runGenerate},
	{"bench", "measure GEMM, training and decoding throughput on this machine", benchGroup.run},
	{"train", "fine-tune with sft, dpo, ipo, ptalign, secvec or apl (LoRA or full; checkpoints, resume)", runTrain},

	{"tokenize", "tokenize JSONL text or chat messages with a tokenizer.json", runTokenize},
	{"tokenizer", "train a byte-level BPE tokenizer (tokenizer train)", tokenizerGroup.run},

	{"attack", "rewrite prompts into jailbreak variants with a sandboxed attack module", runAttack},
	{"judge", "judge responses (refusal, unsafe, harm categories) with a sandboxed judge module; judge eval measures a judge (module or LLM rubric) on labelled rows", runJudge},
	{"modules", "list the built-in WebAssembly modules and their manifests", runModules},
	{"data", "build, import, export and self-generate safety datasets (data build|import|export|selfalign)", dataGroup.run},
	{"debias", "training-free debiasing: fit a per-position logit bias, compare categories (debias fit|compare)", debiasGroup.run},
	{"serve", "serve the web monitor, its JSON/websocket API and an OpenAI-compatible endpoint", runServe},
	{"eval", "measure attack success of a local model or an OpenAI-compatible server (eval, eval compare)", runEval},
}

// group is a command made of subcommands (aegis NAME SUB [flags]): see base.Group.
type group struct {
	name string
	subs []subcommand
	note string // after the list
}

// subcommand is a command: its name, its one-line summary and its entry point, which
// parses args.
type subcommand struct {
	name, summary string
	run           func(ctx context.Context, c *cli, args []string) error
}

func (g group) run(ctx context.Context, c *cli, args []string) error {
	return base.Group{Name: "aegis " + g.name, Subs: c.bind(g.subs), Note: g.note}.Run(ctx, c.stdout, args)
}

// bind makes subs the framework's commands, run with c.
func (c *cli) bind(subs []subcommand) []base.Command {
	cmds := make([]base.Command, len(subs))
	for i, s := range subs {
		cmds[i] = base.Command{Name: s.name, Summary: s.summary, Run: func(ctx context.Context, args []string) error { return s.run(ctx, c, args) }}
	}
	return cmds
}

// errUsage marks an error caused by how the command was called (exit status 2).
var errUsage = base.ErrUsage

// cli is what a command reads and writes besides its flags. main makes the process's;
// tests make their own, so that they can run in parallel.
type cli struct {
	stdin            io.Reader
	stdout, progress io.Writer                      // results; progress bars and notes
	backoff          time.Duration                  // first wait between retries of an endpoint request
	serveModel       func() (dir string, err error) // what `aegis serve` serves on /v1 without --model (nil: nothing)
	signals          base.Signals                   // see handleInterrupt
}

func main() { os.Exit(newCLI().main(os.Args[1:], os.Stderr)) }

// newCLI is the process's cli: the standard streams, progress on stderr, a second
// before the first endpoint retry, the embedded model as serve's default.
func newCLI() *cli {
	return &cli{stdin: os.Stdin, stdout: os.Stdout, progress: os.Stderr, backoff: time.Second, serveModel: demo.ModelDir}
}

// main runs a command line under the process's one signal context (base.Signals) and
// returns the exit status (base.Program.Run).
func (c *cli) main(args []string, stderr io.Writer) int {
	aegis := base.Program{Name: "aegis", About: "a safety-alignment workbench for causal language models", Commands: c.bind(commands)}
	return c.signals.Run(func(ctx context.Context) int { return aegis.Run(ctx, args, c.stdout, stderr) })
}

// handleInterrupt tells main that the running command reacts to its context's end, so
// that a first signal cancels the context instead of ending the process.
func (c *cli) handleInterrupt() { c.signals.Handle() }

// printJSON prints v to stdout as one indented JSON document, or, when err is set,
// nothing: it returns err.
func (c *cli) printJSON(v any, err error) error {
	if err != nil {
		return err
	}
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// flagSet is a command's flags and its --help text: see base.FlagSet.
type flagSet struct{ *base.FlagSet }

// newFlags returns the flags of `aegis NAME`, whose --help prints the synopsis, about and
// the flags to stdout and whose parse errors come back as usage errors.
func newFlags(name, synopsis, about string, stdout io.Writer) *flagSet {
	return &flagSet{base.NewFlagSet("aegis "+name, synopsis, about, stdout)}
}

// parse parses args, printing help for --help and turning failures into usage errors.
func (fs *flagSet) parse(args []string) error { return fs.Parse(args) }
