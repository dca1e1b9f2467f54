package train

import (
	"context"

	"github.com/aegis-safety/aegis/native/model"
)

// FitOptions say what Fit does around the training loop.
type FitOptions struct {
	// Resume continues the run folder's run from its latest checkpoint.
	Resume bool
	// OnStart, if set, sees the trainer once it is ready (resumed, if asked) and before
	// the first step: TotalSteps and StepsDone are known then.
	OnStart func(*Trainer)
	// OnStep, if set, sees every event after it is written.
	OnStep func(Event)
	// Final is the folder SaveFinal writes the result to ("" writes none), Merge its
	// merge argument; the base model folder it records is cfg.Model.
	Final string
	Merge bool
}

// Fit is the one training entry: it trains m on exs with cfg into the run folder dir
// (NewTrainer, Resume when asked, Run) and saves the result to o.Final. The Trainer is
// returned also when Run fails or is cancelled (its StepsDone says how far it got); it
// is nil when NewTrainer refused cfg or the data.
func Fit(ctx context.Context, m *model.Model, exs []Example, cfg Config, dir string, o FitOptions) (*Trainer, error) {
	t, err := NewTrainer(m, exs, cfg, dir)
	if err != nil {
		return nil, err
	}
	if o.Resume {
		if _, err := t.Resume(); err != nil {
			return t, err
		}
	}
	if o.OnStart != nil {
		o.OnStart(t)
	}
	t.OnStep = o.OnStep
	if err := t.Run(ctx); err != nil {
		return t, err
	}
	if o.Final == "" {
		return t, nil
	}
	return t, t.SaveFinal(o.Final, o.Merge, cfg.Model)
}
