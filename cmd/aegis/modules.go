package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aegis-safety/aegis/internal/progress"
	"github.com/aegis-safety/aegis/native/jsonl"
	"github.com/aegis-safety/aegis/native/sandbox"
	"github.com/aegis-safety/aegis/shared"
	"github.com/aegis-safety/aegis/wasm"
)

// limitFlags are the sandbox limits of every command that loads WebAssembly modules.
type limitFlags struct {
	pages     uint
	timeout   time.Duration
	maxOutput int
	maxModule int
}

// register adds --memory-pages, --timeout, --max-output and --max-module-bytes, with
// sandbox.DefaultLimits as defaults.
func (f *limitFlags) register(fs *flagSet) { f.registerWith(fs, sandbox.DefaultLimits) }

// registerWith is register with other defaults.
func (f *limitFlags) registerWith(fs *flagSet, d sandbox.Limits) {
	fs.UintVar(&f.pages, "memory-pages", uint(d.MemoryPages), "linear memory limit per module instance, in 64 KiB pages")
	fs.DurationVar(&f.timeout, "timeout", d.CallTimeout, "time limit per module call")
	fs.IntVar(&f.maxOutput, "max-output", d.MaxOutput, "largest output document a module may return, in bytes")
	fs.IntVar(&f.maxModule, "max-module-bytes", d.MaxModule, "largest .wasm file accepted, in bytes")
}

// defaultLimits are the limit flags' defaults, for commands that load modules without
// flags.
func defaultLimits() limitFlags {
	d := sandbox.DefaultLimits
	return limitFlags{pages: uint(d.MemoryPages), timeout: d.CallTimeout, maxOutput: d.MaxOutput, maxModule: d.MaxModule}
}

// host checks the limits and makes a sandbox host under them, with instances live
// instances per module (0: GOMAXPROCS). The returned func closes it.
func (f *limitFlags) host(ctx context.Context, instances int) (*sandbox.Host, func(), error) {
	l, err := f.limits()
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

// limits checks the flags and returns them as sandbox limits.
func (f *limitFlags) limits() (sandbox.Limits, error) {
	if f.pages == 0 || f.pages > 65536 || f.timeout <= 0 || f.maxOutput <= 0 || f.maxModule <= 0 {
		return sandbox.Limits{}, fmt.Errorf("%w: --memory-pages (1-65536), --timeout, --max-output and --max-module-bytes must be positive", errUsage)
	}
	return sandbox.Limits{MemoryPages: uint32(f.pages), CallTimeout: f.timeout, MaxOutput: f.maxOutput, MaxModule: f.maxModule}, nil
}

// openModule loads the module r names into h (see sandbox.Host.Open), reporting a wrong
// choice as a usage error.
func openModule(ctx context.Context, h *sandbox.Host, r sandbox.Ref) (*sandbox.Module, error) {
	m, err := h.Open(ctx, r)
	if errors.Is(err, sandbox.ErrUsage) {
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	return m, err
}

// moduleFlags are the flags of the commands that run one module over rows: --module, the
// limits and --concurrency.
type moduleFlags struct {
	limitFlags
	module      string
	concurrency int
}

func (f *moduleFlags) register(fs *flagSet, kind string) {
	fs.StringVar(&f.module, "module", "", "the "+kind+" module: a built-in one by name (built-ins: "+strings.Join(wasm.Builtins(), ", ")+") or a FILE.wasm")
	f.limitFlags.register(fs)
	fs.IntVar(&f.concurrency, "concurrency", runtime.GOMAXPROCS(0), "module instances running at once")
}

// open loads --module in a new host and checks its kind. The returned func closes the
// host.
func (f *moduleFlags) open(ctx context.Context, kind string) (*sandbox.Module, func(), error) {
	if f.module == "" {
		return nil, nil, fmt.Errorf("%w: --module is required", errUsage)
	}
	h, closeHost, err := f.host(ctx, max(1, f.concurrency))
	if err != nil {
		return nil, nil, err
	}
	m, err := openModule(ctx, h, sandbox.Ref{Name: f.module, Kind: kind, Flag: "--module"})
	if err != nil {
		closeHost()
		return nil, nil, err
	}
	return m, closeHost, nil
}

// readIn reads --in's rows with check, reporting the first bad line as FILE:LINE before
// any module runs.
func readIn[T any](path string, check func(*T) error) ([]jsonl.Line[T], error) {
	if path == "" {
		return nil, fmt.Errorf("%w: --in is required", errUsage)
	}
	return jsonl.ReadLines(path, check)
}

// createOut starts writing --out (atomically: see jsonl.Create).
func createOut(path string) (*jsonl.Writer, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: --out is required", errUsage)
	}
	return jsonl.Create(path)
}

func runModules(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("modules", "[--json]",
		"Lists the built-in WebAssembly modules with their manifests (each is loaded in the sandbox\nto read it). Write your own: see wasm/README.md.", c.stdout)
	asJSON := fs.Bool("json", false, "print the manifests as a JSON array")
	var lf limitFlags
	lf.register(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	h, closeHost, err := lf.host(ctx, 0)
	if err != nil {
		return err
	}
	defer closeHost()
	var ms []shared.Manifest
	for _, name := range wasm.Builtins() {
		m, err := h.Open(ctx, sandbox.Ref{Name: name})
		if err != nil {
			return err
		}
		ms = append(ms, m.Manifest())
	}
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(ms)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tVERSION\tABI\tDESCRIPTION")
	for _, m := range ms {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", m.Name, m.Kind, m.Version, m.ABI, m.Description)
	}
	tw.Flush()
	for _, m := range ms {
		if len(m.Styles) > 0 {
			fmt.Fprintf(c.stdout, "\n%s styles (%d): %s\n", m.Name, len(m.Styles), strings.Join(m.Styles, ", "))
		}
	}
	return nil
}

// mapModule runs work on input rows 0..n-1 with --module's instances, --concurrency at
// once, and writes each row's output lines to out in input order (jsonl.MapOrdered). What
// is written is kept also after an error or Ctrl-C: the rows before it are done.
func (c *cli) mapModule(ctx context.Context, mf *moduleFlags, kind, out, unit string, n int,
	work func(ctx context.Context, m *sandbox.Module, i int) ([]any, error)) error {
	c.handleInterrupt()
	m, closeHost, err := mf.open(ctx, kind)
	if err != nil {
		return err
	}
	defer closeHost()
	f, err := createOut(out)
	if err != nil {
		return err
	}
	defer f.Abort()
	prog := progress.New(c.progress, kind, n, unit)
	_, err = jsonl.MapOrdered(ctx, n, mf.concurrency, func(ctx context.Context, i int) ([]any, error) { return work(ctx, m, i) },
		f, func() { prog.Add(1) })
	prog.Done()
	if cerr := f.Commit(); err == nil {
		err = cerr
	}
	return err
}
