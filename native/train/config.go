package train

import (
	"fmt"

	"github.com/aegis-safety/aegis/native/model"
)

// Config is a training run's settings; it is written to the run folder's config.json
// under the JSON names of TRL's TrainingArguments where they exist. Each field gives its
// default (DefaultConfig, which is also `aegis train`'s flag defaults) and its limits,
// which NewTrainer enforces.
type Config struct {
	// Method is a name of the method table with an objective: sft, dpo, ipo, ptalign or
	// secvec (no default; apl runs through NewAPL).
	Method string `json:"method"`
	// Model and Data are the model folder and the data file, recorded for the reader of
	// the run folder (no default; the trainer is handed the model and the examples).
	Model string `json:"model"`
	Data  string `json:"data"`
	// Full fine-tunes every base weight instead of a LoRA adapter (default false; not
	// with secvec, whose adapter is the point).
	Full bool `json:"full"`
	// LoRARank is the adapter's rank r (default 8; > 0 unless Full).
	LoRARank int `json:"lora_rank"`
	// LoRAAlpha scales the adapter by alpha/r (default 16).
	LoRAAlpha float64 `json:"lora_alpha"`
	// LoRATargets are the modules LoRA adapts (default model.AllTargets).
	LoRATargets []string `json:"lora_targets"`
	// Optimizer is adamw or sgd (default adamw).
	Optimizer string `json:"optimizer"`
	// LR is the peak learning rate (default 5e-5; >= 0).
	LR float64 `json:"learning_rate"`
	// WeightDecay is AdamW's decoupled decay or SGD's L2 term (default 0).
	WeightDecay float64 `json:"weight_decay"`
	// Momentum is SGD's momentum (default 0).
	Momentum float64 `json:"momentum"`
	// Schedule is the decay after warmup: linear, cosine or constant (default linear).
	Schedule string `json:"lr_scheduler_type"`
	// Warmup is the number of linear warmup steps (default 0: the first step uses the
	// full rate; >= 0).
	Warmup int `json:"warmup_steps"`
	// Steps is the number of optimizer steps (default 0: Epochs passes over the data;
	// >= 0).
	Steps int `json:"max_steps"`
	// Epochs is the number of passes over the data when Steps is 0 (default 1; >= 0, and
	// Steps or Epochs positive).
	Epochs int `json:"num_train_epochs"`
	// BatchSize is the examples (pairs) of one forward pass (default 8; > 0).
	BatchSize int `json:"per_device_train_batch_size"`
	// GradAccum is the micro-batches of one optimizer step (default 1; > 0).
	GradAccum int `json:"gradient_accumulation_steps"`
	// Beta is DPO's and IPO's β (default 0.1; > 0 for methods with a reference).
	Beta float64 `json:"beta"`
	// RPOAlpha weighs the chosen answers' NLL in the loss, TRL's rpo_alpha (default 0:
	// left out; > 0 when set, and only for dpo and ipo).
	RPOAlpha float64 `json:"rpo_alpha,omitempty"`
	// Alpha weighs PT-ALIGN's unlikelihood term (default 1).
	Alpha float64 `json:"alpha"`
	// MaxGradNorm clips the global gradient norm (default 1; <= 0 disables clipping).
	MaxGradNorm float64 `json:"max_grad_norm"`
	// Seed seeds the data order and the LoRA initialisation (default 42).
	Seed uint64 `json:"seed"`
	// Shuffle reshuffles the data every epoch (default true).
	Shuffle bool `json:"shuffle"`
	// SaveSteps checkpoints every N steps, besides the end and a cancel (default 100;
	// 0: only those).
	SaveSteps int `json:"save_steps"`
	// SaveLimit keeps the newest N checkpoints (default 2; 0 keeps all).
	SaveLimit int `json:"save_total_limit"`
	// SecVec is the PEFT folder of a security vector kept active and frozen during the
	// run, recorded for the reader (default none; the caller loads it on the model).
	SecVec string `json:"security_vectors,omitempty"`
}

// DefaultConfig returns the default settings, as documented on Config's fields: the
// defaults of `aegis train`'s flags and the server's launch form. Method, Model and Data
// are left empty.
func DefaultConfig() Config {
	return Config{
		LoRARank: 8, LoRAAlpha: 16, LoRATargets: append([]string(nil), model.AllTargets...),
		Optimizer: "adamw", LR: 5e-5, Schedule: "linear", Epochs: 1, BatchSize: 8, GradAccum: 1,
		Beta: 0.1, Alpha: 1, MaxGradNorm: 1, Seed: 42, Shuffle: true, SaveSteps: 100, SaveLimit: 2,
	}
}

// method is the config's entry of the method table (the zero Method if unknown).
func (c *Config) method() Method {
	m, _ := Lookup(c.Method)
	return m
}

// Pairs reports whether the method trains on preference pairs.
func (c *Config) Pairs() bool { return c.method().Data == PreferencePairs }

func (c *Config) validate() error {
	m, ok := Lookup(c.Method)
	if !ok || m.objective == nil {
		return fmt.Errorf("unknown method %q (want %s)", c.Method, MethodNames(true))
	}
	var refs []string
	for _, r := range Methods(true) {
		if r.Reference {
			refs = append(refs, r.Name)
		}
	}
	switch {
	case c.Optimizer != "adamw" && c.Optimizer != "sgd":
		return fmt.Errorf("unknown optimizer %q (want adamw or sgd)", c.Optimizer)
	case c.Schedule != "linear" && c.Schedule != "cosine" && c.Schedule != "constant":
		return fmt.Errorf("unknown lr schedule %q (want linear, cosine or constant)", c.Schedule)
	case m.SecurityVector && c.Full:
		return fmt.Errorf("security vectors are a LoRA adapter on a frozen base; --full does not apply")
	case !c.Full && c.LoRARank <= 0:
		return fmt.Errorf("LoRA rank must be positive")
	case c.BatchSize <= 0 || c.GradAccum <= 0:
		return fmt.Errorf("batch size and gradient accumulation must be positive")
	case c.Steps < 0 || c.Epochs < 0 || (c.Steps == 0 && c.Epochs == 0):
		return fmt.Errorf("need a positive number of steps or epochs")
	case !(c.LR >= 0) || c.Warmup < 0:
		return fmt.Errorf("learning rate and warmup must not be negative")
	case m.Reference && !(c.Beta > 0):
		return fmt.Errorf("beta must be positive")
	case c.RPOAlpha != 0 && (!m.Reference || !(c.RPOAlpha > 0)):
		return fmt.Errorf("rpo_alpha applies to %s and must be positive", orList(refs, "and"))
	}
	return nil
}
