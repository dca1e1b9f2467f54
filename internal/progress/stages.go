package progress

import (
	"fmt"
	"io"
)

// Stages draws a pipeline of stages (the demo, the experiments): a training bar for
// training stages, an answers bar for the others, and log lines between them.
type Stages struct {
	w        io.Writer
	label    string
	training func(stage string) bool
	bar      *Bar
	tbar     *Train
}

// NewStages returns the display of a pipeline whose lines start with label; training
// tells the stages counted in optimizer steps from those counted in answers.
func NewStages(w io.Writer, label string, training func(stage string) bool) *Stages {
	return &Stages{w: w, label: label, training: training}
}

// Stage ends the current stage and starts one of n steps or answers.
func (s *Stages) Stage(name string, n int) {
	s.Finish()
	if s.training(name) {
		s.tbar = NewTrain(s.w, "train "+s.label+name, n, 0)
		return
	}
	s.bar = New(s.w, s.label+name, n, "answers")
}

// Add records n answers of an answering stage.
func (s *Stages) Add(n int) {
	if s.bar != nil {
		s.bar.Add(n)
	}
}

// Step records a step of a training stage.
func (s *Stages) Step(loss float64, tokens int) {
	if s.tbar != nil {
		s.tbar.Step(loss, tokens)
	}
}

// Logf ends the current bar and prints a log line.
func (s *Stages) Logf(f string, a ...any) {
	s.Finish()
	fmt.Fprintf(s.w, s.label+f+"\n", a...)
}

// Finish ends the current bar, if any.
func (s *Stages) Finish() {
	if s.bar != nil {
		s.bar.Done()
		s.bar = nil
	}
	if s.tbar != nil {
		s.tbar.Done()
		s.tbar = nil
	}
}
