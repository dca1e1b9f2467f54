//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly)

package rundir

import "os"

// Hold creates dir; this system has no advisory locks, so it holds nothing (readers
// fall back on the age of the run's files).
func Hold(dir string) (release func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return func() {}, nil
}

// Alive cannot tell on this system: known is always false.
func Alive(dir string) (alive, known bool) { return false, false }
