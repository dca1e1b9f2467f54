package progress

import (
	"fmt"
	"io"
	"time"
)

// Train is the progress of a training run: steps with the loss and tokens/s. Its ETA
// counts only the steps of this process, so that a resumed run does not look fast.
type Train struct {
	b      *Bar
	tokens int
	loss   float64
	first  int // steps done before this process started
}

// NewTrain returns the bar of a run called label of total steps, done of them already.
func NewTrain(w io.Writer, label string, total, done int) *Train {
	b := New(w, label, total, "steps")
	b.done, b.drawn = done, done
	return &Train{b: b, first: done}
}

// Step records one optimizer step of the given loss over tokens tokens.
func (t *Train) Step(loss float64, tokens int) {
	t.tokens += tokens
	t.loss = loss
	b := t.b
	b.done++
	if now := time.Now(); b.due(now, b.done == b.total) {
		t.draw(now)
	}
}

// Done ends the bar's line.
func (t *Train) Done() {
	if t.b.tty {
		fmt.Fprintln(t.b.w)
	}
}

func (t *Train) draw(now time.Time) {
	b := t.b
	b.drawn = b.done
	el := now.Sub(b.start).Seconds()
	tps := 0.0
	if el > 0 {
		tps = float64(t.tokens) / el
	}
	if b.tty {
		b.draw(now)
		fmt.Fprintf(b.w, " loss %.4f  %.0f tok/s ", t.loss, tps)
		return
	}
	eta := "?"
	if n := b.done - t.first; n > 0 && el > 0 {
		eta = (time.Duration(float64(b.total-b.done)*el/float64(n)) * time.Second).Round(time.Second).String()
	}
	fmt.Fprintf(b.w, "%s: %d/%d steps, loss %.4f, %.0f tokens/s, ETA %s\n", b.label, b.done, b.total, t.loss, tps, eta)
}
