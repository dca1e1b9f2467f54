package train

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aegis-safety/aegis/native/jsonl"
	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/rundir"
)

// Started reports whether the run folder dir holds a run that has taken a step: a
// checkpoint after step 1 or later, or a line in events.jsonl. A folder whose run was
// interrupted before its first step (config.json, perhaps reference log-probs) has not
// started: it can be resumed, or a new run started in it.
func Started(dir string) bool {
	for _, s := range checkpoints(dir) {
		if s > 0 {
			return true
		}
	}
	lines := 0
	jsonl.Each(filepath.Join(dir, rundir.EventsFile), func(string, []byte) error { lines++; return nil })
	return lines > 0
}

// FitOptions say what Fit does around the training loop.
type FitOptions struct {
	// Resume continues the run folder's run from its latest checkpoint.
	Resume bool
	// OnStart, if set, sees the trainer once it is ready (resumed, if asked) and before
	// the first step: TotalSteps and StepsDone are known then.
	OnStart func(*Trainer)
	// OnStep, if set, sees every event after it is written.
	OnStep func(Event)
	// Warn, if set, is told in one line what Resume passed over (see Trainer.Resume).
	Warn func(string)
	// Final is the folder SaveFinal writes the result to ("" writes none), Merge its
	// merge argument; the base model folder it records is cfg.Model.
	Final string
	Merge bool
}

// Fit is the one training entry: it trains m on exs with cfg into the run folder dir
// (NewTrainer, Resume when asked, Run) and saves the result to o.Final. The Trainer is
// returned also when Run fails or is cancelled (its StepsDone says how far it got); it
// is nil when NewTrainer refused cfg or the data, or when dir holds a run that has
// taken steps and Resume is not set (see Started). A new run in the folder of one
// interrupted before its first step replaces what that one left (its reference
// log-probs, which may be of other data).
func Fit(ctx context.Context, m *model.Model, exs []Example, cfg Config, dir string, o FitOptions) (*Trainer, error) {
	release, err := rundir.Hold(dir) // readers see the run alive until Fit returns
	if err != nil {
		return nil, err
	}
	defer release()
	if !o.Resume {
		if Started(dir) {
			return nil, fmt.Errorf("%s holds a run that has taken steps; resume it or choose another folder", dir)
		}
		for _, f := range []string{rundir.RefLogpsFile, rundir.EventsFile, rundir.Checkpoint(0)} {
			if err := os.RemoveAll(filepath.Join(dir, f)); err != nil {
				return nil, err
			}
		}
	}
	t, err := NewTrainer(m, exs, cfg, dir)
	if err != nil {
		return nil, err
	}
	t.Warn = o.Warn
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
