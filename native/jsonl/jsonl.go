// Package jsonl reads and writes JSON Lines files, one JSON value a line, the format of
// every aegis data set, attempts log and event stream.
//
// Reading is one loop for every file kind: [Each] hands each non-blank line to a callback
// with its position "FILE:LINE" (so that every error names the line), lines may be of any
// length, and a UTF-8 byte order mark before the first line is dropped. [Read] decodes
// each line into a value, refusing unknown trailing data. Writing is atomic: [Create]
// writes under a temporary name in the destination's folder and [Writer.Commit] syncs
// and renames it into place, so a full disk, a crash or Ctrl-C never leaves a truncated
// file under the final name.
package jsonl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// ErrTorn marks an error on the last line of a file when that line has no newline: the
// trace of a write that was interrupted. Append-only logs (attempts, events) ignore such a
// line; other readers report it as any other bad line.
var ErrTorn = errors.New("the last line is incomplete")

// tornError is a callback's error on a torn last line: its message is the callback's,
// and it matches both that error and ErrTorn.
type tornError struct{ err error }

func (e tornError) Error() string   { return e.err.Error() }
func (e tornError) Unwrap() []error { return []error{e.err, ErrTorn} }

// Each calls fn with "FILE:LINE" and the bytes of every non-blank line of the file at
// path (without surrounding white space), stopping at fn's first error. An error fn
// returns for a last line that has no newline also matches ErrTorn.
func Each(path string, fn func(pos string, line []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return EachReader(f, path, fn)
}

// EachReader is Each over r, with name in place of the file name.
func EachReader(r io.Reader, name string, fn func(pos string, line []byte) error) error {
	return eachLine(r, func(n int, line []byte) error { return fn(fmt.Sprintf("%s:%d", name, n), line) }, name)
}

// EachN is Each with the 1-based line number in place of the position, for readers that
// keep it (an example remembers its line).
func EachN(path string, fn func(n int, line []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return eachLine(f, fn, path)
}

func eachLine(r io.Reader, fn func(n int, line []byte) error, name string) error {
	br := bufio.NewReaderSize(r, 1<<16)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\ufeff"))
		}
		last := errors.Is(err, io.EOF)
		if t := bytes.TrimSpace(line); len(t) > 0 {
			if ferr := fn(n, t); ferr != nil {
				if last && line[len(line)-1] != '\n' {
					return tornError{ferr}
				}
				return ferr
			}
		}
		if last {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s:%d: %w", name, n, err)
		}
	}
}

// Decode decodes one JSON value from line into v, refusing trailing data after it.
func Decode(line []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// Read decodes every non-blank line of path into a T and passes it to check (nil: no
// check), returning the rows in file order. The first line that does not decode or that
// check refuses is an error "FILE:LINE: ...".
func Read[T any](path string, check func(*T) error) ([]T, error) {
	lines, err := ReadLines(path, check)
	rows := make([]T, len(lines))
	for i, l := range lines {
		rows[i] = l.Row
	}
	return rows, err
}

// Line is a decoded row and its position "FILE:LINE", for errors found after reading.
type Line[T any] struct {
	Pos string
	Row T
}

// ReadLines is Read keeping each row's position.
func ReadLines[T any](path string, check func(*T) error) ([]Line[T], error) {
	var rows []Line[T]
	err := Each(path, func(pos string, line []byte) error {
		var v T
		if err := Decode(line, &v); err != nil {
			return fmt.Errorf("%s: not a JSON object of the expected shape: %v", pos, err)
		}
		if check != nil {
			if err := check(&v); err != nil {
				return fmt.Errorf("%s: %v", pos, err)
			}
		}
		rows = append(rows, Line[T]{pos, v})
		return nil
	})
	return rows, err
}

// Writer writes a file atomically: under a temporary name in the destination's folder
// until Commit renames it into place. Encode writes JSON lines; Write writes raw bytes
// (a whole JSON document, a report). A Writer is not safe for concurrent use.
type Writer struct {
	f      *os.File
	bw     *bufio.Writer
	enc    *json.Encoder
	path   string
	err    error
	direct bool // writing path itself (a device or pipe), not a temporary
	done   bool // committed or aborted
}

// Create starts writing path. Nothing appears under path until Commit; Abort (or a
// failed Commit) removes the temporary. A path that exists and is not a regular file
// (/dev/stdout, a named pipe) is written directly: it cannot be replaced by a rename.
func Create(path string) (*Writer, error) {
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() && !st.IsDir() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		return newWriter(f, path, true), nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(0o644); err != nil { // CreateTemp's 0600 is not an output file's mode
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return newWriter(f, path, false), nil
}

func newWriter(f *os.File, path string, direct bool) *Writer {
	w := &Writer{f: f, bw: bufio.NewWriterSize(f, 1<<16), path: path, direct: direct}
	w.enc = json.NewEncoder(w.bw)
	w.enc.SetEscapeHTML(false) // people read these files: keep <, > and & as they are
	return w
}

// Encode writes v as one JSON line.
func (w *Writer) Encode(v any) error {
	if w.err == nil {
		w.err = w.enc.Encode(v)
	}
	return w.err
}

// Write writes p as it is.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.bw.Write(p)
	w.err = err
	return n, err
}

// Commit flushes, syncs and closes the temporary and renames it to the final name. After
// any earlier write error it removes the temporary and returns that error.
func (w *Writer) Commit() error {
	if w.done {
		return errors.New("jsonl: Commit after Commit or Abort")
	}
	w.done = true
	err := w.err
	if err == nil {
		err = w.bw.Flush()
	}
	if w.direct {
		if cerr := w.f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(w.f.Name(), w.path)
	}
	if err != nil {
		os.Remove(w.f.Name())
	}
	return err
}

// Abort drops the temporary, leaving any file already under the final name as it was.
// After Commit it does nothing, so that it can be deferred.
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.f.Close()
	if !w.direct {
		os.Remove(w.f.Name())
	}
}

// Path is the final name the Writer commits to.
func (w *Writer) Path() string { return w.path }

// WriteFile writes rows to path as JSON lines, atomically.
func WriteFile[T any](path string, rows []T) error {
	w, err := Create(path)
	if err != nil {
		return err
	}
	for i := range rows {
		if err := w.Encode(rows[i]); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Commit()
}

// WriteJSON writes v to path as one indented JSON document, atomically.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteBytes(path, append(b, '\n'))
}

// WriteBytes writes b to path, atomically.
func WriteBytes(path string, b []byte) error {
	w, err := Create(path)
	if err != nil {
		return err
	}
	w.Write(b)
	return w.Commit()
}

// Log is an append-only JSON Lines file (an attempts log, an event stream). Each Append
// writes one whole line with one write call, so a crash or Ctrl-C loses at most the line
// being written, never a finished one, and readers see whole lines or a torn last one
// (see ErrTorn). A Log is safe for concurrent use.
type Log struct {
	mu sync.Mutex
	f  *os.File
}

// OpenLog opens path for appending, creating it if needed.
func OpenLog(path string) (*Log, error) {
	return openLog(path, os.O_APPEND)
}

// CreateLog creates path, or empties it, for appending.
func CreateLog(path string) (*Log, error) {
	return openLog(path, os.O_TRUNC)
}

func openLog(path string, mode int) (*Log, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|mode, 0o644)
	if err != nil {
		return nil, err
	}
	return &Log{f: f}, nil
}

// Append writes v as one line.
func (l *Log) Append(v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err := l.f.Write(buf.Bytes())
	return err
}

// Close closes the file.
func (l *Log) Close() error { return l.f.Close() }

// TrimTorn cuts a last line that an interrupted write left without its newline, so that
// lines appended after it start clean.
func TrimTorn(path string) error {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 || b[len(b)-1] == '\n' {
		return err
	}
	return os.Truncate(path, int64(bytes.LastIndexByte(b, '\n')+1))
}
