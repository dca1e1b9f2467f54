package main

import (
	"github.com/aegis-safety/aegis/internal/demo"
	"github.com/aegis-safety/aegis/internal/progress"
	"github.com/aegis-safety/aegis/native/train"
)

// stages returns the progress display of a demo or experiment pipeline and sets o's
// callbacks to draw it; the caller calls Finish.
func (c *cli) stages(label string, o *demo.Options) *progress.Stages {
	st := progress.NewStages(c.progress, label, demo.TrainingStage)
	o.OnStage, o.OnDone, o.Logf = st.Stage, st.Add, st.Logf
	o.OnStep = func(e train.Event) { st.Step(e.Loss, e.Tokens) }
	return st
}
