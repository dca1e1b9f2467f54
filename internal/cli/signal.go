package cli

import (
	"context"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Signals is the process's one signal context. The first SIGINT or SIGTERM cancels it: a
// command that has called Handle winds down (a checkpoint, the rows finished), any other
// one ends at once, as by the signal's default action. A second signal always ends the
// process. The zero value is ready to use.
type Signals struct {
	graceful atomic.Bool
}

// Run runs f under the signal context and returns its exit status.
func (s *Signals) Run(f func(ctx context.Context) int) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, func() {
		stop() // restores the default action for the next signal
		if cause := context.Cause(ctx); cause != context.Canceled && !s.graceful.Load() {
			raise(cause)
		}
	})
	return f(ctx)
}

// Handle tells Run that the running command reacts to its context's end, so that a first
// signal cancels the context instead of ending the process.
func (s *Signals) Handle() { s.graceful.Store(true) }

// raise ends the process by the signal that cause reports, with its default action.
func raise(cause error) {
	sig := syscall.SIGINT
	if strings.HasPrefix(cause.Error(), syscall.SIGTERM.String()) {
		sig = syscall.SIGTERM
	}
	if p, err := os.FindProcess(os.Getpid()); err == nil && p.Signal(sig) == nil {
		// The default action ends the process now, unless the signal was ignored when the
		// process started (a background job's SIGINT): then end it as the shell reports it.
		time.Sleep(time.Second)
	}
	os.Exit(128 + int(sig))
}
