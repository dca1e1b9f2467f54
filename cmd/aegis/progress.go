package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aegis-safety/aegis/internal/demo"
	"github.com/aegis-safety/aegis/native/train"
)

// progress reports the advance of a long job: a redrawn bar with rate and ETA on a
// terminal, a plain line every few seconds otherwise (logs, CI, pipes).
type progress struct {
	w           io.Writer
	label, unit string
	total, done int
	drawn       int // done at the last draw
	start, last time.Time
	tty         bool
}

func newProgress(w io.Writer, label string, total int, unit string) *progress {
	p := &progress{w: w, label: label, total: total, unit: unit, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// Add records n more units done.
func (p *progress) Add(n int) {
	p.done += n
	now := time.Now()
	every := 2 * time.Second
	if p.tty {
		every = 100 * time.Millisecond
	}
	if now.Sub(p.last) >= every {
		p.last = now
		p.draw(now)
	}
}

// Done draws the final state and ends the line.
func (p *progress) Done() {
	if p.drawn != p.done || p.tty {
		p.draw(time.Now())
	}
	if p.tty {
		fmt.Fprintln(p.w)
	}
}

func (p *progress) draw(now time.Time) {
	p.drawn = p.done
	el := now.Sub(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(p.done) / el
	}
	eta := "?"
	if rate > 0 {
		eta = time.Duration(float64(p.total-p.done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	if !p.tty {
		fmt.Fprintf(p.w, "%s: %d/%d %s, %.3g %s/s, ETA %s\n", p.label, p.done, p.total, p.unit, rate, p.unit, eta)
		return
	}
	const width = 30
	fill := 0
	if p.total > 0 {
		fill = min(width, width*p.done/p.total)
	}
	bar := strings.Repeat("=", fill) + strings.Repeat(" ", width-fill)
	fmt.Fprintf(p.w, "\r%s [%s] %d/%d %s  %.3g %s/s  ETA %s ", p.label, bar, p.done, p.total, p.unit, rate, p.unit, eta)
}

// stages draws the progress of a pipeline of stages (the demo, the experiments): a
// training bar for training stages, an answers bar for the others, and log lines between.
type stages struct {
	label string
	bar   *progress
	tbar  *trainBar
}

func newStages(label string) *stages { return &stages{label: label} }

func (s *stages) stage(name string, n int) {
	s.finish()
	if demo.TrainingStage(name) {
		s.tbar = newTrainBar(progressOut, s.label+name, n, 0)
		return
	}
	s.bar = newProgress(progressOut, s.label+name, n, "answers")
}

func (s *stages) add(n int) {
	if s.bar != nil {
		s.bar.Add(n)
	}
}

func (s *stages) step(e train.Event) {
	if s.tbar != nil {
		s.tbar.step(e)
	}
}

func (s *stages) logf(f string, a ...any) {
	s.finish()
	fmt.Fprintf(progressOut, s.label+f+"\n", a...)
}

func (s *stages) finish() {
	if s.bar != nil {
		s.bar.Done()
		s.bar = nil
	}
	if s.tbar != nil {
		s.tbar.done()
		s.tbar = nil
	}
}
