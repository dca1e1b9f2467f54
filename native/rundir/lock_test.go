//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package rundir

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHold: a held run folder is alive; a second writer is refused naming the first's
// pid; once released it reads as not alive, and a folder without the file as unknown.
func TestHold(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if alive, known := Alive(dir); alive || known {
		t.Fatal("a missing folder is known")
	}
	release, err := Hold(dir)
	if err != nil {
		t.Fatal(err)
	}
	if alive, known := Alive(dir); !alive || !known {
		t.Fatalf("held: alive %v known %v", alive, known)
	}
	defer func(d time.Duration) { holdWait = d }(holdWait)
	holdWait = 100 * time.Millisecond
	if _, err := Hold(dir); !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second writer: %v", err)
	}
	release()
	if alive, known := Alive(dir); alive || !known {
		t.Fatalf("released: alive %v known %v", alive, known)
	}
	r2, err := Hold(dir) // a resumed run takes it again
	if err != nil {
		t.Fatal(err)
	}
	r2()
}

// TestHoldKilled: the lock of a process killed with SIGKILL is gone at once.
func TestHoldKilled(t *testing.T) {
	if dir := os.Getenv("RUNDIR_HOLD"); dir != "" { // the child
		if _, err := Hold(dir); err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString("held\n")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHoldKilled$")
	cmd.Env = append(os.Environ(), "RUNDIR_HOLD="+dir)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := out.Read(buf); err != nil || string(buf) != "held\n" {
		t.Fatalf("child: %q %v", buf, err)
	}
	if alive, _ := Alive(dir); !alive {
		t.Fatal("the child's run is not alive")
	}
	cmd.Process.Kill()
	cmd.Wait()
	if alive, known := Alive(dir); alive || !known {
		t.Fatalf("after kill -9: alive %v known %v", alive, known)
	}
}
