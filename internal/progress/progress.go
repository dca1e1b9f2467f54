// Package progress draws the progress of long commands: on a terminal a bar redrawn in
// place with a rate and an ETA, elsewhere (logs, CI, pipes) a plain line every few
// seconds, so that output meant for files stays readable.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Redraw intervals: often enough to look live on a terminal, rarely enough not to
// flood a log.
const (
	ttyEvery  = 100 * time.Millisecond
	lineEvery = 2 * time.Second
)

// Bar reports the advance of a job counted in units. It is not safe for concurrent use.
type Bar struct {
	w           io.Writer
	label, unit string
	total, done int
	drawn       int // done at the last draw
	start, last time.Time
	tty         bool
}

// New returns a bar for total units of a job called label, drawn on w.
func New(w io.Writer, label string, total int, unit string) *Bar {
	b := &Bar{w: w, label: label, total: total, unit: unit, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			b.tty = true
		}
	}
	return b
}

// due reports whether it is time to draw again, and if so marks now as drawn.
func (b *Bar) due(now time.Time, force bool) bool {
	every := lineEvery
	if b.tty {
		every = ttyEvery
	}
	if !force && now.Sub(b.last) < every {
		return false
	}
	b.last = now
	return true
}

// Add records n more units done.
func (b *Bar) Add(n int) {
	b.done += n
	if now := time.Now(); b.due(now, false) {
		b.draw(now)
	}
}

// Shrink lowers the total by n: work that turned out not to be needed (a Best-of-N
// request that succeeded before its budget of samples ran out), so that an ETA computed
// from an upper bound tightens.
func (b *Bar) Shrink(n int) { b.total -= n }

// Done draws the final state and ends the line.
func (b *Bar) Done() {
	if b.drawn != b.done || b.tty {
		b.draw(time.Now())
	}
	if b.tty {
		fmt.Fprintln(b.w)
	}
}

func (b *Bar) draw(now time.Time) {
	b.drawn = b.done
	el := now.Sub(b.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(b.done) / el
	}
	eta := "?"
	if rate > 0 {
		eta = time.Duration(float64(b.total-b.done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	if !b.tty {
		fmt.Fprintf(b.w, "%s: %d/%d %s, %.3g %s/s, ETA %s\n", b.label, b.done, b.total, b.unit, rate, b.unit, eta)
		return
	}
	const width = 30
	fill := 0
	if b.total > 0 {
		fill = min(width, width*b.done/b.total)
	}
	bar := strings.Repeat("=", fill) + strings.Repeat(" ", width-fill)
	fmt.Fprintf(b.w, "\r%s [%s] %d/%d %s  %.3g %s/s  ETA %s ", b.label, bar, b.done, b.total, b.unit, rate, b.unit, eta)
}
