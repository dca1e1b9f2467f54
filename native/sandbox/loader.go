package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aegis-safety/aegis/wasm"
)

// ErrUsage is wrapped by the errors of Open that come from how a module was chosen (a name
// that is neither a built-in module nor a .wasm file, a module of another kind) rather
// than from the module itself. Commands report them as usage errors.
var ErrUsage = errors.New("module choice")

// usageError is an error of ErrUsage whose message does not repeat it.
type usageError string

func (e usageError) Error() string { return string(e) }
func (e usageError) Unwrap() error { return ErrUsage }

// Ref names a module to load.
type Ref struct {
	// Name is a built-in module's name (see package wasm) or the path of a .wasm file.
	Name string
	// Kind is the manifest kind the module must have (shared.KindAttack,
	// shared.KindJudge); "" accepts any.
	Kind string
	// Flag is where Name was given (e.g. "--judge"), for error messages.
	Flag string
}

// Open loads the module r names into h: a built-in module (compiled without the compile
// time limit: it is part of aegis), or a .wasm file that is refused before it is read
// when it is larger than h's MaxModule. It compiles the module,
// reads its manifest and checks its kind. Errors name the flag or the module; those of
// the choice itself wrap ErrUsage.
func (h *Host) Open(ctx context.Context, r Ref) (*Module, error) {
	name, code, err := r.read(h.limits.MaxModule)
	if err != nil {
		return nil, err
	}
	timeout := h.limits.CompileTimeout
	if _, builtin := wasm.Builtin(r.Name); builtin {
		timeout = 0 // part of aegis: trusted, and slow to compile only the first time
	}
	m, err := h.load(ctx, name, code, timeout)
	if err != nil {
		return nil, err
	}
	if k := m.Manifest().Kind; r.Kind != "" && k != r.Kind {
		m.Close(ctx)
		return nil, usageError(fmt.Sprintf("module %s is %s module, not %s module", name, article(k), article(r.Kind)))
	}
	return m, nil
}

// read returns a built-in module's code or reads a .wasm file, refusing one larger than
// maxBytes before reading it.
func (r Ref) read(maxBytes int) (name string, code []byte, err error) {
	if b, ok := wasm.Builtin(r.Name); ok {
		return r.Name, b, nil
	}
	if !strings.HasSuffix(r.Name, ".wasm") && !strings.ContainsRune(r.Name, os.PathSeparator) {
		flag := r.Flag
		if flag == "" {
			flag = "module"
		}
		return "", nil, usageError(fmt.Sprintf("%s %q is neither a built-in module (%s) nor a .wasm file",
			flag, r.Name, strings.Join(wasm.Builtins(), ", ")))
	}
	f, err := os.Open(r.Name)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	code, err = io.ReadAll(io.LimitReader(f, int64(maxBytes)+1))
	if err != nil {
		return "", nil, err
	}
	name = filepath.Base(r.Name)
	if len(code) > maxBytes {
		return "", nil, fmt.Errorf("module %s: file is above the module size limit of %d bytes (--max-module-bytes)", name, maxBytes)
	}
	return name, code, nil
}
