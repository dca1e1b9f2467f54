//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package rundir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// holdWait is how long Hold tries to take a lock that is held, which a reader's Alive
// does for a moment.
var holdWait = 2 * time.Second

// Hold creates dir if needed and takes its LockFile for this process until release is
// called (or the process ends). It fails with ErrBusy while another process holds it. On
// a file system without locks it holds nothing and says nothing: readers then fall back
// on the age of the run's files.
func Hold(dir string) (release func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	fd := int(f.Fd())
	deadline := time.Now().Add(holdWait)
	for {
		err = syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close() // no locks here (ENOLCK, EOPNOTSUPP): write the run unmarked
			return func() {}, nil
		}
		if time.Now().After(deadline) {
			f.Close()
			if pid := lockPID(dir); pid != "" {
				return nil, fmt.Errorf("%s: %w (pid %s)", dir, ErrBusy, pid)
			}
			return nil, fmt.Errorf("%s: %w", dir, ErrBusy)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() {
		syscall.Flock(fd, syscall.LOCK_UN)
		f.Close()
	}, nil
}

// Alive reports whether a process holds dir's LockFile (alive), and whether that can be
// told (known: the file exists and the file system has locks). A run folder without the
// file was written by an older aegis, or is still starting.
func Alive(dir string) (alive, known bool) {
	f, err := os.Open(filepath.Join(dir, LockFile))
	if err != nil {
		return false, false
	}
	defer f.Close()
	fd := int(f.Fd())
	switch err := syscall.Flock(fd, syscall.LOCK_SH|syscall.LOCK_NB); {
	case err == nil:
		syscall.Flock(fd, syscall.LOCK_UN)
		return false, true
	case errors.Is(err, syscall.EWOULDBLOCK):
		return true, true
	}
	return false, false
}
