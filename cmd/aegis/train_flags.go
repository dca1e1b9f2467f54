package main

import (
	"slices"
	"strings"

	"github.com/aegis-safety/aegis/native/train"
)

// configFlag is a command-line flag that sets a train.Config field. Its default is the
// field's value in the Config it is bound to (train.DefaultConfig()), never a literal.
type configFlag struct {
	name, usage string
	field       func(*configFlags) any // a *string, *int, *float64, *bool or *uint64
}

// configFlagList is every flag of `aegis train` that sets a train.Config field, with its
// usage there; `aegis train --method apl` binds a subset, some with its own usage.
var configFlagList = []configFlag{
	{"method", "objective: " + train.MethodNames(true), func(f *configFlags) any { return &f.c.Method }},
	{"model", "model folder (config.json, model.safetensors, tokenizer.json for text data)", func(f *configFlags) any { return &f.c.Model }},
	{"data", "training data (JSONL)", func(f *configFlags) any { return &f.c.Data }},
	{"full", "full fine-tuning of every base weight instead of LoRA", func(f *configFlags) any { return &f.c.Full }},
	{"lora-rank", "LoRA rank r", func(f *configFlags) any { return &f.c.LoRARank }},
	{"lora-alpha", "LoRA alpha (scale alpha/r)", func(f *configFlags) any { return &f.c.LoRAAlpha }},
	{"lora-targets", "comma-separated modules LoRA adapts", func(f *configFlags) any { return &f.targets }},
	{"optimizer", "adamw or sgd", func(f *configFlags) any { return &f.c.Optimizer }},
	{"lr", "peak learning rate", func(f *configFlags) any { return &f.c.LR }},
	{"weight-decay", "weight decay (AdamW: decoupled; SGD: L2)", func(f *configFlags) any { return &f.c.WeightDecay }},
	{"momentum", "SGD momentum", func(f *configFlags) any { return &f.c.Momentum }},
	{"lr-scheduler", "learning-rate decay after warmup: linear, cosine or constant", func(f *configFlags) any { return &f.c.Schedule }},
	{"warmup-steps", "linear warmup steps (0: the first step uses the full rate)", func(f *configFlags) any { return &f.c.Warmup }},
	{"steps", "optimizer steps (overrides --epochs)", func(f *configFlags) any { return &f.c.Steps }},
	{"epochs", "passes over the data when --steps is 0", func(f *configFlags) any { return &f.c.Epochs }},
	{"batch-size", "examples (pairs) per forward pass", func(f *configFlags) any { return &f.c.BatchSize }},
	{"grad-accum", "micro-batches per optimizer step", func(f *configFlags) any { return &f.c.GradAccum }},
	{"beta", "DPO/IPO beta", func(f *configFlags) any { return &f.c.Beta }},
	{"rpo-alpha", "DPO/IPO: add this times the NLL of the chosen responses (TRL's rpo_alpha; 0 leaves it out)", func(f *configFlags) any { return &f.c.RPOAlpha }},
	{"alpha", "PT-ALIGN weight of the unlikelihood term", func(f *configFlags) any { return &f.c.Alpha }},
	{"max-grad-norm", "clip the global gradient norm to this (0 disables)", func(f *configFlags) any { return &f.c.MaxGradNorm }},
	{"seed", "seed for data order and LoRA initialisation", func(f *configFlags) any { return &f.c.Seed }},
	{"no-shuffle", "keep the data file's order", func(f *configFlags) any { return &f.noShuffle }},
	{"save-steps", "checkpoint every N steps (also at the end and on Ctrl-C)", func(f *configFlags) any { return &f.c.SaveSteps }},
	{"save-total-limit", "keep only the newest N checkpoints (0 keeps all)", func(f *configFlags) any { return &f.c.SaveLimit }},
	{"security-vectors", "PEFT folder of a security vector (from --method secvec) kept active and frozen", func(f *configFlags) any { return &f.c.SecVec }},
}

// configFlags binds flags to a train.Config. The two settings whose flag differs from
// the field (a comma-separated list, a negated bool) are held here until done.
type configFlags struct {
	c         *train.Config
	targets   string
	noShuffle bool
}

// bindConfig fills *c with train.DefaultConfig() and registers the flags of
// configFlagList on fs with those defaults: every one when names is empty, else those
// named. usage replaces the usage text of the flags it names.
func bindConfig(fs *flagSet, c *train.Config, usage map[string]string, names ...string) *configFlags {
	*c = train.DefaultConfig()
	f := &configFlags{c: c, targets: strings.Join(c.LoRATargets, ","), noShuffle: !c.Shuffle}
	for _, cf := range configFlagList {
		if len(names) > 0 && !slices.Contains(names, cf.name) {
			continue
		}
		u := cf.usage
		if s, ok := usage[cf.name]; ok {
			u = s
		}
		switch p := cf.field(f).(type) {
		case *string:
			fs.StringVar(p, cf.name, *p, u)
		case *int:
			fs.IntVar(p, cf.name, *p, u)
		case *float64:
			fs.Float64Var(p, cf.name, *p, u)
		case *bool:
			fs.BoolVar(p, cf.name, *p, u)
		case *uint64:
			fs.Uint64Var(p, cf.name, *p, u)
		}
	}
	return f
}

// done moves the parsed list and negated flags into the Config.
func (f *configFlags) done() {
	f.c.LoRATargets = strings.Split(f.targets, ",")
	f.c.Shuffle = !f.noShuffle
}
