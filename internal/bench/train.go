package bench

import (
	"errors"
	"math/rand/v2"
	"time"

	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/train"
)

// ErrShortSeq is returned for sequences too short to score a token.
var ErrShortSeq = errors.New("--seq must be at least 2 (a prompt token and a scored one)")

// Trainer is the trainer `aegis train --method sft` runs, on random token rows: batch
// rows of seq tokens a step (the first token the prompt, the rest scored), AdamW at a
// constant 1e-4 with the default clipping, full fine-tuning when rank is 0, else a LoRA
// adapter of that rank (alpha 2·rank) on a frozen base.
func Trainer(m *model.Model, batch, seq, steps, rank int) (*train.Trainer, error) {
	if seq < 2 {
		return nil, ErrShortSeq
	}
	r := rand.New(rand.NewPCG(3, 4))
	V := m.Config.VocabSize
	exs := make([]train.Example, batch)
	for i := range exs {
		exs[i] = train.Example{Prompt: RandomIDs(r, 1, V), Chosen: RandomIDs(r, seq-1, V)}
	}
	cfg := train.DefaultConfig()
	cfg.Method, cfg.Schedule, cfg.LR, cfg.Steps, cfg.BatchSize, cfg.Seed = "sft", "constant", 1e-4, steps, batch, 2
	cfg.Full = rank == 0
	if rank > 0 {
		cfg.LoRARank, cfg.LoRAAlpha = rank, float64(2*rank)
	}
	return train.NewTrainer(m, exs, cfg, "")
}

// TrainResult is what TimeSteps measured.
type TrainResult struct {
	StepSeconds float64 // mean time of a step
	Loss        float64 // the last step's
	Trainable   int     // trainable parameters
}

// TimeSteps times steps steps of tr on m, calling onStep after each.
func TimeSteps(tr *train.Trainer, m *model.Model, steps int, onStep func()) (TrainResult, error) {
	var res TrainResult
	var total time.Duration
	for range steps {
		t0 := time.Now()
		e, err := tr.Step()
		if err != nil {
			return res, err
		}
		res.Loss = e.Loss
		total += time.Since(t0)
		onStep()
	}
	res.StepSeconds = total.Seconds() / float64(steps)
	for _, p := range m.Params() {
		res.Trainable += len(p.Data)
	}
	return res, nil
}
