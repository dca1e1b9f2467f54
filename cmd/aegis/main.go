// Command aegis is the safety-alignment workbench: it red-teams Hugging Face-format
// models with sandboxed attack modules, retrofits them against jailbreaks, judges the
// answers and serves a live monitor. This package holds flags, validation and wiring
// only; the work is in native/ and internal/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aegis-safety/aegis/internal/demo"
)

// command is one subcommand: its one-line summary and its entry point, which parses args.
type command struct {
	summary string
	run     func(ctx context.Context, c *cli, args []string) error
}

var commands = map[string]command{
	"demo":       {"the safety retrofit end to end on the embedded model: evaluate, DPO retrofit, evaluate (demo pretrain rebuilds the model)", runDemo},
	"experiment": {"experiments on the embedded model: security vectors, the five methods compared (experiment secvec|compare)", experimentGroup.run},
	"logits":     {"print the raw logits of a model for a sequence of token ids", runLogits},
	"generate":   {"continue a sequence of token ids with a model (KV-cache decoding)", runGenerate},
	"bench":      {"measure GEMM, training and decoding throughput on this machine", benchGroup.run},
	"train":      {"fine-tune with sft, dpo, ipo, ptalign, secvec or apl (LoRA or full; checkpoints, resume)", runTrain},

	"tokenize":  {"tokenize JSONL text or chat messages with a tokenizer.json", runTokenize},
	"tokenizer": {"train a byte-level BPE tokenizer (tokenizer train)", tokenizerGroup.run},

	"attack":  {"rewrite prompts into jailbreak variants with a sandboxed attack module", runAttack},
	"judge":   {"judge responses (refusal, unsafe, harm categories) with a sandboxed judge module; judge eval measures a judge (module or LLM rubric) on labelled rows", runJudge},
	"modules": {"list the built-in WebAssembly modules and their manifests", runModules},
	"data":    {"build, import, export and self-generate safety datasets (data build|import|export|selfalign)", dataGroup.run},
	"debias":  {"training-free debiasing: fit a per-position logit bias, compare categories (debias fit|compare)", debiasGroup.run},
	"serve":   {"serve the web monitor, its JSON/websocket API and an OpenAI-compatible endpoint", runServe},
	"eval":    {"measure attack success of a local model or an OpenAI-compatible server (eval, eval compare)", runEval},
}

// group is a command made of subcommands (aegis NAME SUB [flags]): without one it prints
// its usage, the subcommands with their summaries in order, and a note.
type group struct {
	name string
	subs []subcommand
	note string // after the list
}

type subcommand struct {
	name, summary string
	run           func(ctx context.Context, c *cli, args []string) error
}

func (g group) run(ctx context.Context, c *cli, args []string) error {
	var names []string
	for _, s := range g.subs {
		names = append(names, s.name)
		if len(args) > 0 && args[0] == s.name {
			return s.run(ctx, c, args[1:])
		}
	}
	fmt.Fprintf(c.stdout, "Usage: aegis %s %s [flags]\n\n", g.name, strings.Join(names, "|"))
	for _, s := range g.subs {
		fmt.Fprintf(c.stdout, "  %-9s %s\n", s.name, strings.ReplaceAll(s.summary, "\n", "\n            "))
	}
	fmt.Fprintf(c.stdout, "\n%s\n", g.note)
	switch {
	case len(args) == 0:
		return fmt.Errorf("%w: give a subcommand: %s", errUsage, orList(names))
	case args[0] == "-h" || args[0] == "--help":
		return nil
	}
	return fmt.Errorf("%w: unknown subcommand %q (%s)", errUsage, args[0], strings.Join(names, ", "))
}

// errUsage marks an error caused by how the command was called (exit status 2).
var errUsage = errors.New("usage")

func usage(w io.Writer) {
	fmt.Fprintf(w, "aegis: a safety-alignment workbench for causal language models\n\nUsage:\n  aegis COMMAND [flags]\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nRun 'aegis COMMAND --help' for a command's flags.\n")
}

// cli is what a command reads and writes besides its flags. main makes the process's;
// tests make their own, so that they can run in parallel.
type cli struct {
	stdin            io.Reader
	stdout, progress io.Writer                      // results; progress bars and notes
	backoff          time.Duration                  // first wait between retries of an endpoint request
	serveModel       func() (dir string, err error) // what `aegis serve` serves on /v1 without --model (nil: nothing)
	graceful         atomic.Bool                    // see handleInterrupt
}

func main() { os.Exit(newCLI().main(os.Args[1:], os.Stderr)) }

// newCLI is the process's cli: the standard streams, progress on stderr, a second
// before the first endpoint retry, the embedded model as serve's default.
func newCLI() *cli {
	return &cli{stdin: os.Stdin, stdout: os.Stdout, progress: os.Stderr, backoff: time.Second, serveModel: demo.ModelDir}
}

// main runs a command line under the process's one signal context and returns the exit
// status. The first SIGINT or SIGTERM cancels the context: a command that has called
// handleInterrupt winds down (a checkpoint, the rows finished), any other one ends at
// once, as by the signal's default action. A second signal always ends the process.
func (c *cli) main(args []string, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, func() {
		stop() // restores the default action for the next signal
		if cause := context.Cause(ctx); cause != context.Canceled && !c.graceful.Load() {
			raise(cause)
		}
	})
	return c.run(ctx, args, stderr)
}

// handleInterrupt tells main that the running command reacts to its context's end, so
// that a first signal cancels the context instead of ending the process.
func (c *cli) handleInterrupt() { c.graceful.Store(true) }

// raise ends the process by the signal that cause reports, with its default action.
func raise(cause error) {
	sig := syscall.SIGINT
	if strings.HasPrefix(cause.Error(), syscall.SIGTERM.String()) {
		sig = syscall.SIGTERM
	}
	if p, err := os.FindProcess(os.Getpid()); err == nil && p.Signal(sig) == nil {
		// The default action ends the process now, unless the signal was ignored when the
		// process started (a background job's SIGINT): then end it as the shell reports it.
		time.Sleep(time.Second)
	}
	os.Exit(128 + int(sig))
}

func (c *cli) run(ctx context.Context, args []string, stderr io.Writer) int {
	stdout := c.stdout
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "aegis: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	err := cmd.run(ctx, c, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "aegis %s: %v\n", args[0], strings.TrimPrefix(err.Error(), "usage: "))
		return 2
	}
	fmt.Fprintf(stderr, "aegis %s: %v\n", args[0], oneLine(err.Error()))
	return 1
}

// oneLine keeps an error message to one line, as every command promises.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// flagSet is a command's flags and its --help text.
type flagSet struct {
	*flag.FlagSet
	help func()
}

// newFlags returns a flag set whose --help prints the command's description and flags to
// stdout and whose parse errors come back as usage errors.
func newFlags(name, synopsis, about string, stdout io.Writer) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError)}
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // parse reports errors in one line and prints help itself
	fs.help = func() {
		fmt.Fprintf(stdout, "Usage: aegis %s %s\n\n%s\n\nFlags:\n", name, synopsis, about)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parse parses args, printing help for --help and turning failures into usage errors.
func (fs *flagSet) parse(args []string) error {
	return fs.parseArgs(args, 0, "")
}

// required returns a usage error naming the first of the flags that is empty.
func (fs *flagSet) required(names ...string) error {
	for _, n := range names {
		if fs.Lookup(n).Value.String() == "" {
			return fmt.Errorf("%w: --%s is required", errUsage, n)
		}
	}
	return nil
}

// parseArgs is parse for a command that takes n arguments after its flags; without them
// the usage error says want.
func (fs *flagSet) parseArgs(args []string, n int, want string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.help()
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	switch {
	case n == 0 && fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	case fs.NArg() != n:
		return fmt.Errorf("%w: %s", errUsage, want)
	}
	return nil
}
