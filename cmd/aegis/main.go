// Command aegis is the safety-alignment workbench: it loads Hugging Face-format models,
// runs them, and (as the project grows) red-teams, retrofits and judges them.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one subcommand: its one-line summary and its entry point, which parses args.
type command struct {
	summary string
	run     func(args []string, stdout io.Writer) error
}

var commands = map[string]command{
	"demo":       {"the safety retrofit end to end on the embedded model: evaluate, DPO retrofit, evaluate (demo pretrain rebuilds the model)", runDemo},
	"experiment": {"experiments on the embedded model: security vectors, the five methods compared (experiment secvec|compare)", runExperiment},
	"logits":     {"print the raw logits of a model for a sequence of token ids", runLogits},
	"generate":   {"continue a sequence of token ids with a model (KV-cache decoding)", runGenerate},
	"bench":      {"measure GEMM, training and decoding throughput on this machine", runBench},
	"train":      {"fine-tune with sft, dpo, ipo, ptalign, secvec or apl (LoRA or full; checkpoints, resume)", runTrain},

	"tokenize":  {"tokenize JSONL text or chat messages with a tokenizer.json", runTokenize},
	"tokenizer": {"train a byte-level BPE tokenizer (tokenizer train)", runTokenizerCmd},

	"attack":  {"rewrite prompts into jailbreak variants with a sandboxed attack module", runAttack},
	"judge":   {"judge responses (refusal, unsafe, harm categories) with a sandboxed judge module; judge eval measures a judge (module or LLM rubric) on labelled rows", runJudge},
	"modules": {"list the built-in WebAssembly modules and their manifests", runModules},
	"data":    {"build, import, export and self-generate safety datasets (data build|import|export|selfalign)", runData},
	"debias":  {"training-free debiasing: fit a per-position logit bias, compare categories (debias fit|compare)", runDebias},
	"serve":   {"serve the web monitor, its JSON/websocket API and an OpenAI-compatible endpoint", runServe},
	"eval":    {"measure attack success of a local model or an OpenAI-compatible server (eval, eval compare)", runEval},
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

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
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
	err := cmd.run(args[1:], stdout)
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
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.help()
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}
