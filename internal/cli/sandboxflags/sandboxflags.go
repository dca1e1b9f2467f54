// Package sandboxflags is the command-line face of native/sandbox: the limit flags of
// every command that loads WebAssembly modules, the --module and --concurrency of the
// commands that run one module over rows, and that run itself, its output written in
// input order. Wrong flags and a wrong module choice are usage errors (cli.ErrUsage).
package sandboxflags

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/aegis-safety/aegis/internal/cli"
	"github.com/aegis-safety/aegis/internal/progress"
	"github.com/aegis-safety/aegis/native/jsonl"
	"github.com/aegis-safety/aegis/native/sandbox"
	"github.com/aegis-safety/aegis/wasm"
)

// Limits are the sandbox limit flags: --memory-pages, --timeout, --compile-timeout,
// --max-output and --max-module-bytes.
type Limits struct {
	pages          uint
	timeout        time.Duration
	compileTimeout time.Duration
	maxOutput      int
	maxModule      int
}

// Register adds the limit flags to fs, with sandbox.DefaultLimits as defaults.
func (f *Limits) Register(fs *cli.FlagSet) { f.RegisterWith(fs, sandbox.DefaultLimits) }

// RegisterWith is Register with other defaults.
func (f *Limits) RegisterWith(fs *cli.FlagSet, d sandbox.Limits) {
	fs.UintVar(&f.pages, "memory-pages", uint(d.MemoryPages), "linear memory limit per module instance, in 64 KiB pages")
	fs.DurationVar(&f.timeout, "timeout", d.CallTimeout, "time limit per module call")
	fs.DurationVar(&f.compileTimeout, "compile-timeout", d.CompileTimeout, "time limit to compile a module")
	fs.IntVar(&f.maxOutput, "max-output", d.MaxOutput, "largest output document a module may return, in bytes")
	fs.IntVar(&f.maxModule, "max-module-bytes", d.MaxModule, "largest .wasm file accepted, in bytes")
}

// Check checks the flags and returns them as sandbox limits.
func (f *Limits) Check() (sandbox.Limits, error) {
	if f.pages == 0 || f.pages > 65536 || f.timeout <= 0 || f.compileTimeout <= 0 || f.maxOutput <= 0 || f.maxModule <= 0 {
		return sandbox.Limits{}, fmt.Errorf("%w: --memory-pages (1-65536), --timeout, --compile-timeout, --max-output and --max-module-bytes must be positive", cli.ErrUsage)
	}
	return sandbox.Limits{MemoryPages: uint32(f.pages), CallTimeout: f.timeout, CompileTimeout: f.compileTimeout,
		MaxOutput: f.maxOutput, MaxModule: f.maxModule}, nil
}

// Host checks the limits and makes a sandbox host under them, with instances live
// instances per module (0: GOMAXPROCS). The returned func closes it.
func (f *Limits) Host(ctx context.Context, instances int) (*sandbox.Host, func(), error) {
	l, err := f.Check()
	if err != nil {
		return nil, nil, err
	}
	l.MaxInstances = instances
	h, err := sandbox.NewHost(ctx, l, sandbox.CacheDir())
	if err != nil {
		return nil, nil, err
	}
	return h, func() { h.Close(context.Background()) }, nil
}

// Open loads the module r names into h (see sandbox.Host.Open), reporting a wrong choice
// (an unknown name, a module of another kind) as a usage error.
func Open(ctx context.Context, h *sandbox.Host, r sandbox.Ref) (*sandbox.Module, error) {
	m, err := h.Open(ctx, r)
	if errors.Is(err, sandbox.ErrUsage) {
		return nil, fmt.Errorf("%w: %w", cli.ErrUsage, err)
	}
	return m, err
}

// Module are the flags of a command that runs one module over rows: --module, the limits
// and --concurrency.
type Module struct {
	Limits
	Name        string // --module: a built-in module's name or a FILE.wasm
	Concurrency int    // --concurrency: module instances running at once
	kind        string
}

// Register adds the flags to fs for a module of kind (shared.KindAttack, KindJudge).
func (f *Module) Register(fs *cli.FlagSet, kind string) {
	f.kind = kind
	fs.StringVar(&f.Name, "module", "", "the "+kind+" module: a built-in one by name (built-ins: "+strings.Join(wasm.Builtins(), ", ")+") or a FILE.wasm")
	f.Limits.Register(fs)
	f.Concurrency = runtime.GOMAXPROCS(0)
	fs.Var((*atLeastOne)(&f.Concurrency), "concurrency", "module instances running at once (at least 1)")
}

// atLeastOne is an int flag that refuses values below 1 as it is parsed, so that the
// usage error comes before any work.
type atLeastOne int

func (v *atLeastOne) String() string { return strconv.Itoa(int(*v)) }

func (v *atLeastOne) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("not an integer")
	}
	if n < 1 {
		return errors.New("must be at least 1")
	}
	*v = atLeastOne(n)
	return nil
}

// Open loads --module in a new host and checks its kind. The returned func closes the
// host.
func (f *Module) Open(ctx context.Context) (*sandbox.Module, func(), error) {
	if f.Name == "" {
		return nil, nil, fmt.Errorf("%w: --module is required", cli.ErrUsage)
	}
	if f.Concurrency < 1 {
		return nil, nil, fmt.Errorf("%w: --concurrency must be at least 1", cli.ErrUsage)
	}
	h, closeHost, err := f.Host(ctx, f.Concurrency)
	if err != nil {
		return nil, nil, err
	}
	m, err := Open(ctx, h, sandbox.Ref{Name: f.Name, Kind: f.kind, Flag: "--module"})
	if err != nil {
		closeHost()
		return nil, nil, err
	}
	return m, closeHost, nil
}

// Map runs work on input rows 0..n-1 with --module's instances, --concurrency at once,
// and writes each row's output lines to the JSONL file out in input order
// (jsonl.MapOrdered), drawing its progress (n rows of unit) on prog. What is written is
// kept also after an error or the end of ctx: the rows before it are done.
func (f *Module) Map(ctx context.Context, prog io.Writer, out, unit string, n int,
	work func(ctx context.Context, m *sandbox.Module, i int) ([]any, error)) error {
	m, closeHost, err := f.Open(ctx)
	if err != nil {
		return err
	}
	defer closeHost()
	if out == "" {
		return fmt.Errorf("%w: --out is required", cli.ErrUsage)
	}
	w, err := jsonl.Create(out)
	if err != nil {
		return err
	}
	defer w.Abort()
	bar := progress.New(prog, f.kind, n, unit)
	_, err = jsonl.MapOrdered(ctx, n, f.Concurrency, func(ctx context.Context, i int) ([]any, error) { return work(ctx, m, i) },
		w, func() { bar.Add(1) })
	bar.Done()
	if cerr := w.Commit(); err == nil {
		err = cerr
	}
	return err
}
