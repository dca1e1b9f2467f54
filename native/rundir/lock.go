package rundir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// LockFile marks a run folder as being written: the process writing the run (aegis train,
// aegis eval, the demo) holds an advisory lock (flock) on it from start to end, and the
// operating system drops the lock when that process ends, however it ends (Ctrl-C, a
// crash, kill -9). A reader tells a running run from an interrupted one at once with
// Alive, without heartbeats or time limits. The file holds the writer's process id, for
// people; it stays in the folder after the run.
const LockFile = "aegis.lock"

// ErrBusy is Hold's error when another process is writing the run.
var ErrBusy = errors.New("the run folder is being written by another process")

// lockPID is the process id a lock file names, for messages ("" when unknown).
func lockPID(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, LockFile))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
