package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

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

// register adds --memory-pages, --timeout, --max-output and --max-module-bytes.
func (f *limitFlags) register(fs *flagSet) {
	d := sandbox.DefaultLimits
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
	if f.pages == 0 || f.pages > 65536 || f.timeout <= 0 || f.maxOutput <= 0 || f.maxModule <= 0 {
		return nil, nil, fmt.Errorf("%w: --memory-pages (1-65536), --timeout, --max-output and --max-module-bytes must be positive", errUsage)
	}
	h, err := sandbox.NewHost(ctx, sandbox.Limits{MemoryPages: uint32(f.pages), CallTimeout: f.timeout, MaxOutput: f.maxOutput,
		MaxModule: f.maxModule, MaxInstances: instances}, sandbox.CacheDir())
	if err != nil {
		return nil, nil, err
	}
	return h, func() { h.Close(context.Background()) }, nil
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

// inputLine is one parsed JSONL row and where it came from.
type inputLine[T any] struct {
	pos string // FILE:LINE
	row T
}

// readJSONL parses every non-blank line of --in with check, reporting the first bad line
// as FILE:LINE before any module runs.
func readJSONL[T any](path string, check func(*T) error) ([]inputLine[T], error) {
	if path == "" {
		return nil, fmt.Errorf("%w: --in is required", errUsage)
	}
	var rows []inputLine[T]
	err := jsonl.Each(path, func(pos string, line []byte) error {
		var v T
		if err := jsonl.Decode(line, &v); err != nil {
			return fmt.Errorf("%s: not a JSON object of the expected shape: %v", pos, err)
		}
		if err := check(&v); err != nil {
			return fmt.Errorf("%s: %v", pos, err)
		}
		rows = append(rows, inputLine[T]{pos, v})
		return nil
	})
	return rows, err
}

// runOrdered calls work on rows 0..n-1 from `workers` goroutines and writes each row's
// output lines in input order as soon as every earlier row is done. On an error or Ctrl-C
// it stops handing out rows, lets the running ones finish, and writes what is contiguous:
// finished work is never lost. It returns how many rows were written.
func runOrdered(ctx context.Context, n, workers int, work func(ctx context.Context, i int) ([]any, error), w io.Writer, prog *progress) (int, error) {
	results := make([][]any, n)
	ready := make([]bool, n)
	var (
		mu       sync.Mutex
		next     int // first row not yet handed out
		written  int // rows written so far
		firstErr error
		wg       sync.WaitGroup
	)
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	flush := func() { // with mu held
		for written < n && ready[written] {
			for _, v := range results[written] {
				if err := enc.Encode(v); err != nil && firstErr == nil {
					firstErr = err
				}
			}
			results[written] = nil
			written++
		}
	}
	for g := 0; g < max(1, workers); g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if next >= n || firstErr != nil || ctx.Err() != nil {
					mu.Unlock()
					return
				}
				i := next
				next++
				mu.Unlock()
				out, err := work(ctx, i)
				mu.Lock()
				if err != nil {
					if firstErr == nil && ctx.Err() == nil {
						firstErr = err
					}
				} else {
					results[i], ready[i] = out, true
					flush()
					prog.Add(1)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	prog.Done()
	if err := bw.Flush(); err != nil && firstErr == nil {
		firstErr = err
	}
	if firstErr == nil && ctx.Err() != nil {
		firstErr = fmt.Errorf("interrupted: the first %d of %d rows are written", written, n)
	}
	return written, firstErr
}

// createOut starts writing --out (atomically: see jsonl.Create).
func createOut(path string) (*jsonl.Writer, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: --out is required", errUsage)
	}
	return jsonl.Create(path)
}

// progressOut is where progress bars go (tests replace it).
var progressOut io.Writer = os.Stderr

func runModules(args []string, stdout io.Writer) error {
	fs := newFlags("modules", "[--json]",
		"Lists the built-in WebAssembly modules with their manifests (each is loaded in the sandbox\nto read it). Write your own: see wasm/README.md.", stdout)
	asJSON := fs.Bool("json", false, "print the manifests as a JSON array")
	var lf limitFlags
	lf.register(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	ctx := context.Background()
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
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(ms)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tVERSION\tABI\tDESCRIPTION")
	for _, m := range ms {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", m.Name, m.Kind, m.Version, m.ABI, m.Description)
	}
	tw.Flush()
	for _, m := range ms {
		if len(m.Styles) > 0 {
			fmt.Fprintf(stdout, "\n%s styles (%d): %s\n", m.Name, len(m.Styles), strings.Join(m.Styles, ", "))
		}
	}
	return nil
}
