// Package regfile reads the files a model folder is made of (config.json, weights,
// tokenizer files, adapters) only when they are regular files. Opening a named pipe for
// reading blocks until something writes to it, and a device can be endless, so a FIFO, a
// device, a socket or a folder given where a model file belongs is refused with one line
// naming it instead of hanging the command. Data files are not read through it: reading
// a JSONL file from a pipe is a feature.
package regfile

import (
	"fmt"
	"io/fs"
	"os"
)

// Check returns an error naming path when it exists and is not a regular file (symbolic
// links are followed). A missing file is the caller's to report: Check returns the
// os.Stat error for it.
func Check(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file (%s)", path, kind(st.Mode()))
	}
	return nil
}

// kind names a file type for Check's error.
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return m.Type().String()
}

// ReadFile is os.ReadFile for a regular file; anything else is refused before it is
// opened (see Check).
func ReadFile(path string) ([]byte, error) {
	if err := Check(path); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

// Open is os.Open for a regular file (see Check).
func Open(path string) (*os.File, error) {
	if err := Check(path); err != nil {
		return nil, err
	}
	return os.Open(path)
}
