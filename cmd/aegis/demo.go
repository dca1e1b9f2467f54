package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/aegis-safety/aegis/internal/demo"
	"github.com/aegis-safety/aegis/internal/progress"
	"github.com/aegis-safety/aegis/native/jsonl"
	"github.com/aegis-safety/aegis/native/train"
)

func runDemo(ctx context.Context, c *cli, args []string) error {
	if len(args) > 0 && args[0] == "pretrain" {
		return runDemoPretrain(ctx, c, args[1:])
	}
	fs := newFlags("demo", "[--json FILE] [--samples FILE] [--runs DIR]",
		`The safety retrofit end to end on the embedded model, with no network: evaluates the
unaligned model (attack styles the retrofit trains on, held-out attack styles, held-out
harm categories, benign look-alikes), builds DPO pairs Egida-style (chosen: an ordinary
refusal; rejected: the model's own judged-unsafe answer; plus benign anchors, the model's own
helpful answers over a refusal, unless --no-anchors), retrofits with LoRA DPO plus the refusals' NLL (TRL's
rpo_alpha), evaluates again, and prints
a before/after table per split and per category. The three run folders (two eval scans
and the training run) go under --runs, which 'aegis serve --runs DIR' shows live.
'aegis demo pretrain' rebuilds the embedded model from its recipe.`, c.stdout)
	jsonOut := fs.String("json", "", `write {"method","seconds","before","after",...} to this file`)
	samplesOut := fs.String("samples", "", "write one JSONL row per generated answer to this file")
	runs := fs.String("runs", defaultRunsDir(), "folder for the run folders")
	modelDir := fs.String("model", "", "use this model folder instead of the embedded model")
	seed := fs.Uint64("seed", 1, "seed of the data and the retrofit")
	noAnchors := fs.Bool("no-anchors", false, "train on the refusal pairs only, without the benign anchor pairs")
	epochs := fs.Int("epochs", 0, "retrofit epochs (default 1)")
	lr := fs.Float64("lr", 0, "retrofit learning rate (default 1e-3)")
	rpo := fs.Float64("rpo-alpha", 0, "weight of the refusals' NLL in the DPO loss (TRL's rpo_alpha; default 1, -1 for none)")
	var lf limitFlags
	lf.register(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	o := demo.Options{RunsDir: *runs, Seed: *seed, NoAnchors: *noAnchors, Epochs: *epochs, LR: *lr, RPOAlpha: *rpo}
	closePl, err := c.openPipeline(ctx, &o, *modelDir, lf, *jsonOut, *samplesOut)
	if err != nil {
		return err
	}
	defer closePl()
	st := c.stages("demo: ", &o)
	fmt.Fprintf(c.progress, "demo: model %s; runs in %s (watch them with: aegis serve --runs %s)\n", o.ModelDir, *runs, *runs)
	res, samples, err := demo.Run(ctx, o)
	if err := c.finishPipeline(st, "stages", *runs, *jsonOut, res, err); err != nil || *samplesOut == "" {
		return err
	}
	return jsonl.WriteFile(*samplesOut, samples)
}

// finishPipeline ends a demo or experiment run: its display closed, an interruption
// reported with where the finished stages or runs are, else the table printed and --json
// written.
func (c *cli) finishPipeline(st *progress.Stages, what, runs, jsonOut string, res interface{ Text(io.Writer) }, err error) error {
	st.Finish()
	switch {
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("interrupted; finished %s are in %s", what, runs)
	case err != nil:
		return err
	}
	res.Text(c.stdout)
	if jsonOut == "" {
		return nil
	}
	return jsonl.WriteJSON(jsonOut, res)
}

// defaultRunsDir is where the demo's runs go without --runs: a folder under the home.
func defaultRunsDir() string {
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".aegis", "runs")
	}
	return "aegis-runs"
}

// runDemoPretrain rebuilds the embedded model from its recipe.
func runDemoPretrain(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("demo pretrain", "--out DIR [--run DIR] [--epochs N]",
		`Makes the embedded demo model from nothing, by its recorded recipe: writes the synthetic
corpus (through the built-in attack module), trains a byte-level BPE tokenizer on it,
initialises a small Llama from the recipe's seed and trains it with full AdamW SFT. The
model folder (config.json, model.safetensors in bfloat16, tokenizer.json,
tokenizer_config.json, recipe.json with the time and loss) goes to --out; the training
run (corpus, events, checkpoints) to --run, which 'aegis serve' shows.`, c.stdout)
	out := fs.String("out", "", "model folder to write (internal/demo/model rebuilds the embedded one)")
	run := fs.String("run", "", "training run folder (default: OUT.run)")
	epochs := fs.Int("epochs", 0, "override the recipe's epochs")
	var lf limitFlags
	lf.register(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: --out is required", errUsage)
	}
	if *run == "" {
		*run = *out + ".run"
	}
	if _, err := os.Stat(*run); err == nil {
		return fmt.Errorf("%s exists; remove it or choose another --run", *run)
	}
	r := demo.DefaultRecipe()
	if *epochs > 0 {
		r.Train.Epochs = *epochs
	}
	c.handleInterrupt()
	h, closeHost, err := lf.host(ctx, 1)
	if err != nil {
		return err
	}
	defer closeHost()
	attack, err := demo.BuiltinAttacker(ctx, h)
	if err != nil {
		return err
	}
	var bar *progress.Train
	b, err := demo.Pretrain(ctx, r, attack, *out, demo.PretrainOptions{RunDir: *run,
		Logf:    func(f string, a ...any) { fmt.Fprintf(c.progress, "demo pretrain: "+f+"\n", a...) },
		OnStart: func(steps int) { bar = progress.NewTrain(c.progress, "train demo pretrain", steps, 0) },
		OnStep:  func(e train.Event) { bar.Step(e.Loss, e.Tokens) }})
	if bar != nil {
		bar.Done()
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted; the run folder %s keeps its checkpoint", *run)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "pretrained %d parameters on %d rows (%d tokens an epoch) in %d steps, %.0f s: loss %.4f -> %.4f; model in %s\n",
		b.Params, b.Rows, b.Tokens, b.Steps, b.Seconds, b.FirstLoss, b.FinalLoss, *out)
	return nil
}

// openPipeline prepares what the demo and the experiments share: o's model folder (the
// embedded one unless modelDir is given), the folders of the output files, and the
// built-in attack and judge modules under the limits lf, one instance of each at a time.
// From here Ctrl-C stops the pipeline, which keeps its finished stages. The returned
// func closes the modules.
func (c *cli) openPipeline(ctx context.Context, o *demo.Options, modelDir string, lf limitFlags, outs ...string) (func(), error) {
	for _, f := range outs {
		if f != "" {
			if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
				return nil, err
			}
		}
	}
	c.handleInterrupt()
	h, closeHost, err := lf.host(ctx, 1)
	if err != nil {
		return nil, err
	}
	o.ModelDir = modelDir
	if err := o.UseBuiltins(ctx, h); err != nil {
		closeHost()
		return nil, err
	}
	return closeHost, nil
}
