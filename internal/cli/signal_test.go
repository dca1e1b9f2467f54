package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSignalsHelperProcess is not a test: TestSignals runs the test binary through it as a
// program under Signals, so that it can send that process real signals. It prints "ready"
// once the command runs; a graceful command prints how its context ended and exits 3, an
// abrupt one never looks at its context, a stubborn one says when its context ends and
// goes on.
func TestSignalsHelperProcess(t *testing.T) {
	mode := os.Getenv("CLI_SIGNALS_HELPER")
	if mode == "" {
		return
	}
	var s Signals
	os.Exit(s.Run(func(ctx context.Context) int {
		if mode == "abrupt" {
			fmt.Println("ready")
			time.Sleep(time.Minute)
			fmt.Println("not ended")
			return 4
		}
		s.Handle()
		fmt.Println("ready")
		<-ctx.Done()
		if mode == "stubborn" {
			fmt.Println("cancelled")
			time.Sleep(time.Minute)
		}
		fmt.Println("wound down:", context.Cause(ctx))
		return 3
	}))
}

// TestSignals: the first SIGINT or SIGTERM ends a command that does not handle it as the
// signal's default action would (also when the signal was ignored at start, as a
// background job's SIGINT: then with status 128+signal), and cancels the context of one
// that does, which then winds down and returns its status. A second signal always ends
// the process.
func TestSignals(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		mode, shell string
		sig         syscall.Signal
		again       bool   // a second signal after the context's end
		want        string // how the process ended
	}{
		{"abrupt", "", syscall.SIGINT, false, "signal: interrupt"},
		{"abrupt", "", syscall.SIGTERM, false, "signal: terminated"},
		{"abrupt", "trap '' INT; exec", syscall.SIGINT, false, "exit status 130"},
		{"graceful", "", syscall.SIGINT, false, "exit status 3; wound down: interrupt signal received"},
		{"graceful", "", syscall.SIGTERM, false, "exit status 3; wound down: terminated signal received"},
		{"stubborn", "", syscall.SIGINT, true, "signal: interrupt"},
		{"stubborn", "", syscall.SIGTERM, true, "signal: terminated"},
	} {
		t.Run(c.mode+" "+c.sig.String()+" "+c.shell, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestSignalsHelperProcess$")
			if c.shell != "" {
				if _, err := exec.LookPath("sh"); err != nil {
					t.Skip("no sh")
				}
				cmd = exec.Command("sh", "-c", c.shell+` "$0" "$@"`, os.Args[0], "-test.run=^TestSignalsHelperProcess$")
			}
			cmd.Env = append(os.Environ(), "CLI_SIGNALS_HELPER="+c.mode)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := bufio.NewScanner(stdout)
			if !lines.Scan() || lines.Text() != "ready" {
				cmd.Process.Kill()
				t.Fatalf("helper did not start: %q", lines.Text())
			}
			if err := cmd.Process.Signal(c.sig); err != nil {
				t.Fatal(err)
			}
			if c.again {
				if !lines.Scan() || lines.Text() != "cancelled" {
					cmd.Process.Kill()
					t.Fatalf("the context did not end: %q", lines.Text())
				}
				// Again until it ends: the first signal's handler may not have been put
				// back yet when the line comes.
				ended := make(chan bool)
				defer close(ended)
				go func() {
					for cmd.Process.Signal(c.sig) == nil {
						select {
						case <-ended:
							return
						case <-time.After(100 * time.Millisecond):
						}
					}
				}()
			}
			var rest []string
			for lines.Scan() {
				rest = append(rest, lines.Text())
			}
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("helper ended with %v", err)
			}
			got := strings.Join(append([]string{ee.Error()}, rest...), "; ")
			if got != c.want {
				t.Errorf("%s, want %s", got, c.want)
			}
		})
	}
}
