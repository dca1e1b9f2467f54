// Package sandbox runs untrusted aegis WebAssembly modules (ABI v1, see wasm/README.md)
// in wazero. A Host compiles each module once (with an on-disk compilation cache), keeps a
// pool of instances so that each goroutine calls its own, and discards an instance after
// any error so that a module's broken state never leaks into the next call.
//
// Every resource a module can consume is bounded (Limits): compilation time (and, through
// a limit on block nesting, a single function's compilation), linear memory, time per
// call, output size, module size, captured stdout/stderr, and the number of live
// instances.
// Modules may import nothing, or the wasi_snapshot_preview1 functions a Go or
// AssemblyScript reactor needs; they get no files, no sockets, no environment and no
// arguments. Every failure is an *Error naming the module, never a panic.
package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/aegis-safety/aegis/shared"
)

// Limits bound what one module may consume. Zero fields take the defaults.
type Limits struct {
	MemoryPages    uint32        // linear memory per instance, in 64 KiB pages (default 2048 = 128 MiB)
	CallTimeout    time.Duration // wall time per call, including instantiation (default 10s)
	CompileTimeout time.Duration // wall time to compile a module (default 10s)
	MaxOutput      int           // bytes of one output document (default 4 MiB)
	MaxModule      int           // bytes of the .wasm file (default 32 MiB)
	MaxStdio       int           // bytes of stdout and of stderr kept per call (default 64 KiB)
	MaxInstances   int           // live instances per module (default GOMAXPROCS)
}

// DefaultLimits are the limits a zero Limits means.
var DefaultLimits = Limits{
	MemoryPages:    2048,
	CallTimeout:    10 * time.Second,
	CompileTimeout: 10 * time.Second,
	MaxOutput:      4 << 20,
	MaxModule:      32 << 20,
	MaxStdio:       64 << 10,
	MaxInstances:   0, // GOMAXPROCS at the time the Host is made
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MemoryPages == 0 {
		l.MemoryPages = d.MemoryPages
	}
	if l.CallTimeout <= 0 {
		l.CallTimeout = d.CallTimeout
	}
	if l.CompileTimeout <= 0 {
		l.CompileTimeout = d.CompileTimeout
	}
	if l.MaxOutput <= 0 {
		l.MaxOutput = d.MaxOutput
	}
	if l.MaxModule <= 0 {
		l.MaxModule = d.MaxModule
	}
	if l.MaxStdio <= 0 {
		l.MaxStdio = d.MaxStdio
	}
	if l.MaxInstances <= 0 {
		l.MaxInstances = runtime.GOMAXPROCS(0)
	}
	return l
}

// allowedWASI is the wasi_snapshot_preview1 subset a reactor may import: what the Go
// runtime (GOOS=wasip1) and the os package's init import, plus fd_read for an empty stdin.
// With no preopened directories the fd_* calls reach only stdin/stdout/stderr; path_* and
// sock_* are refused at load time.
var allowedWASI = map[string]bool{
	"args_get": true, "args_sizes_get": true, "environ_get": true, "environ_sizes_get": true,
	"clock_time_get": true, "clock_res_get": true, "random_get": true, "sched_yield": true,
	"poll_oneoff": true, "proc_exit": true,
	"fd_write": true, "fd_read": true, "fd_close": true, "fd_fdstat_get": true,
	"fd_fdstat_set_flags": true, "fd_prestat_get": true, "fd_prestat_dir_name": true,
}

// Error is a module failure: it names the module and says what went wrong in one line.
type Error struct {
	Module string
	Err    error
}

// Error is the message in one line, without control characters: it may quote text the
// module wrote (its error document, its stderr), which must not move a terminal's cursor,
// change its colours or reorder what is shown.
func (e *Error) Error() string {
	return "module " + printable(e.Module) + ": " + printable(strings.Join(strings.Fields(e.Err.Error()), " "))
}

// printable drops control and format characters (C0, C1, DEL, bidirectional overrides,
// zero-width characters) and replaces invalid UTF-8.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

func (e *Error) Unwrap() error { return e.Err }

// ErrTimeout is wrapped by errors of calls that ran out of time.
var ErrTimeout = errors.New("time limit exceeded")

// Host compiles and runs modules under one set of limits.
type Host struct {
	rt     wazero.Runtime
	limits Limits

	mu        sync.Mutex
	compiling int  // compilations running, some perhaps given up on (see compile)
	closing   bool // Close was called while compilations ran: the last one closes rt
}

// CacheDir is the default directory of the compilation cache.
func CacheDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "aegis", "wazero")
}

// NewHost makes a host. cacheDir holds compiled modules across runs ("" keeps them in
// memory only); a cache that cannot be created is not an error, only slower.
func NewHost(ctx context.Context, limits Limits, cacheDir string) (*Host, error) {
	limits = limits.withDefaults()
	var cache wazero.CompilationCache
	if cacheDir != "" {
		if c, err := wazero.NewCompilationCacheWithDir(cacheDir); err == nil {
			cache = c
		}
	}
	if cache == nil {
		cache = wazero.NewCompilationCache()
	}
	cfg := wazero.NewRuntimeConfig().
		WithMemoryLimitPages(limits.MemoryPages).
		WithCloseOnContextDone(true). // a deadline stops even a loop that never calls out
		WithCompilationCache(cache)
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, err
	}
	return &Host{rt: rt, limits: limits}, nil
}

// Limits returns the host's limits with defaults filled in.
func (h *Host) Limits() Limits { return h.limits }

// Close releases every module of the host. A compilation that was given up on may still
// be running: the runtime is then closed when it ends, since closing it under a running
// compilation would crash wazero.
func (h *Host) Close(ctx context.Context) error {
	h.mu.Lock()
	if h.compiling > 0 {
		h.closing = true
		h.mu.Unlock()
		return nil
	}
	h.mu.Unlock()
	return h.rt.Close(ctx)
}

// Module is a compiled module and its pool of instances. It is safe for concurrent use.
type Module struct {
	name     string
	host     *Host
	compiled wazero.CompiledModule
	manifest shared.Manifest
	slots    chan struct{} // one token per live instance

	mu   sync.Mutex
	idle []*instance
}

// Load validates and compiles a module. name is how errors refer to it (a built-in name
// or a file name). The module is instantiated once to check its ABI version and read its
// manifest.
func (h *Host) Load(ctx context.Context, name string, wasm []byte) (*Module, error) {
	return h.load(ctx, name, wasm, h.limits.CompileTimeout)
}

// load is Load with a compile time limit (0: none, for the built-in modules, which are
// part of aegis and cached on disk after their first compilation, however slowly a busy
// machine makes that).
func (h *Host) load(ctx context.Context, name string, wasm []byte, compileTimeout time.Duration) (*Module, error) {
	fail := func(format string, a ...any) (*Module, error) {
		return nil, &Error{name, fmt.Errorf(format, a...)}
	}
	if len(wasm) > h.limits.MaxModule {
		return fail("%d bytes is above the module size limit of %d", len(wasm), h.limits.MaxModule)
	}
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], []byte("\x00asm")) {
		return fail("not a WebAssembly binary (no \\0asm header)")
	}
	compiled, err := h.compile(ctx, wasm, compileTimeout)
	if err != nil {
		return nil, &Error{name, err}
	}
	m := &Module{name: name, host: h, compiled: compiled, slots: make(chan struct{}, h.limits.MaxInstances)}
	if err := m.check(wasm); err != nil {
		compiled.Close(ctx)
		return nil, &Error{name, err}
	}
	in, err := m.get(ctx)
	if err != nil {
		compiled.Close(ctx)
		return nil, err
	}
	err = m.handshake(ctx, in)
	m.put(ctx, in, err)
	if err != nil {
		compiled.Close(ctx)
		return nil, err
	}
	return m, nil
}

// compile compiles a module under CompileTimeout, returning when ctx ends. wazero checks
// ctx only between functions, and only when it compiles with more than one worker, so it
// is given at least two; a function nested deeper than MaxNesting, which alone would
// compile for minutes, is refused before. A compilation given up on runs on in the
// background only until wazero next checks ctx (one function of bounded nesting), and
// its result is closed.
func (h *Host) compile(ctx context.Context, wasm []byte, timeout time.Duration) (wazero.CompiledModule, error) {
	if err := checkNesting(wasm, MaxNesting); err != nil {
		return nil, fmt.Errorf("invalid module: %v", err)
	}
	var cancel context.CancelFunc
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, timeout)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	defer cancel()
	ctx = experimental.WithCompilationWorkers(ctx, compileWorkers())
	type result struct {
		c   wazero.CompiledModule
		err error
	}
	done := make(chan result, 1)
	abandoned := false // under h.mu, as the send on done
	h.mu.Lock()
	h.compiling++
	h.mu.Unlock()
	go func() {
		var r result
		defer func() {
			if p := recover(); p != nil { // defence in depth: a compiler bug must not end the process
				r = result{nil, fmt.Errorf("compiler failure: %v", p)}
			}
			h.mu.Lock()
			h.compiling--
			gaveUp, last := abandoned, h.closing && h.compiling == 0
			done <- r
			h.mu.Unlock()
			if gaveUp && r.err == nil {
				r.c.Close(context.Background())
			}
			if last {
				h.rt.Close(context.Background())
			}
		}()
		r.c, r.err = h.rt.CompileModule(ctx, wasm)
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		h.mu.Lock()
		abandoned = true
		select {
		case r = <-done: // it ended meanwhile: use its result
		default:
			r.err = ctx.Err()
		}
		h.mu.Unlock()
	}
	switch {
	case r.err == nil:
		return r.c, nil
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return nil, fmt.Errorf("compilation: %w (%s)", ErrTimeout, timeout)
	case ctx.Err() != nil:
		return nil, fmt.Errorf("compilation: %w", context.Canceled)
	}
	return nil, fmt.Errorf("invalid module: %v", r.err)
}

// compileWorkers is the number of goroutines that compile a module's functions: the
// processors Go uses, at least two (see compile) and at most eight.
func compileWorkers() int { return min(max(2, runtime.GOMAXPROCS(0)), 8) }

// check refuses forbidden imports and missing or mistyped exports before any code runs.
func (m *Module) check(wasm []byte) error {
	for _, f := range m.compiled.ImportedFunctions() {
		mod, fn, _ := f.Import()
		if mod != wasi_snapshot_preview1.ModuleName || !allowedWASI[fn] {
			return fmt.Errorf("imports %s.%s, which modules may not use (allowed: none, or wasi_snapshot_preview1 clock, random, stdio, args/environ, proc_exit)", mod, fn)
		}
	}
	if ms := m.compiled.ImportedMemories(); len(ms) > 0 {
		mod, n, _ := ms[0].Import()
		return fmt.Errorf("imports memory %s.%s; a module must define its own", mod, n)
	}
	imps, err := importsOf(wasm)
	if err != nil {
		return fmt.Errorf("invalid module: import section: %v", err)
	}
	for _, imp := range imps {
		if imp.kind != "function" {
			return fmt.Errorf("imports %s %s.%s, which modules may not use (only wasi_snapshot_preview1 functions may be imported)", imp.kind, imp.module, imp.name)
		}
	}
	if _, ok := m.compiled.ExportedMemories()[shared.ExportMemory]; !ok {
		return errors.New(`does not export its memory as "memory"`)
	}
	i32, i64 := api.ValueTypeI32, api.ValueTypeI64
	want := []struct {
		name          string
		params, resul []api.ValueType
	}{
		{shared.ExportVersion, nil, []api.ValueType{i32}},
		{shared.ExportAlloc, []api.ValueType{i32}, []api.ValueType{i32}},
		{shared.ExportFree, []api.ValueType{i32}, nil},
		{shared.ExportManifest, nil, []api.ValueType{i64}},
		{shared.ExportRun, []api.ValueType{i32, i32}, []api.ValueType{i64}},
	}
	exp := m.compiled.ExportedFunctions()
	for _, w := range want {
		f, ok := exp[w.name]
		if !ok {
			return fmt.Errorf("does not export %s (not an aegis ABI v%d module)", w.name, shared.ABIVersion)
		}
		if !sameTypes(f.ParamTypes(), w.params) || !sameTypes(f.ResultTypes(), w.resul) {
			return fmt.Errorf("export %s has type %s -> %s, want %s -> %s", w.name,
				typeNames(f.ParamTypes()), typeNames(f.ResultTypes()), typeNames(w.params), typeNames(w.resul))
		}
	}
	return nil
}

func sameTypes(a, b []api.ValueType) bool { return bytes.Equal(a, b) }

func typeNames(ts []api.ValueType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = api.ValueTypeName(t)
	}
	return "(" + strings.Join(s, ",") + ")"
}

func (m *Module) handshake(ctx context.Context, in *instance) error {
	ctx, cancel := context.WithTimeout(ctx, m.host.limits.CallTimeout)
	defer cancel()
	res, err := in.version.Call(ctx)
	if err != nil {
		return m.callError(ctx, in, shared.ExportVersion, err)
	}
	if v := int32(res[0]); v != shared.ABIVersion {
		return &Error{m.name, fmt.Errorf("ABI version %d, this host speaks %d", v, shared.ABIVersion)}
	}
	res, err = in.manifest.Call(ctx)
	if err != nil {
		return m.callError(ctx, in, shared.ExportManifest, err)
	}
	doc, err := m.result(ctx, in, res[0])
	if err != nil {
		return err
	}
	if err := json.Unmarshal(doc, &m.manifest); err != nil {
		return &Error{m.name, fmt.Errorf("manifest is not valid JSON: %v", err)}
	}
	if err := checkManifest(&m.manifest); err != nil {
		return &Error{m.name, err}
	}
	return nil
}

// Name is the name errors use for the module.
func (m *Module) Name() string { return m.name }

// Manifest is what the module says about itself.
func (m *Module) Manifest() shared.Manifest { return m.manifest }

// Close releases the module's compiled code and instances.
func (m *Module) Close(ctx context.Context) error {
	m.mu.Lock()
	for _, in := range m.idle {
		in.mod.Close(ctx)
	}
	m.idle = nil
	m.mu.Unlock()
	return m.compiled.Close(ctx)
}

// instance is one instantiation of a module, used by one goroutine at a time.
type instance struct {
	mod                                   api.Module
	version, alloc, free, manifest, runFn api.Function
	stdout, stderr                        *capped
}

// get takes an idle instance or makes a new one, waiting while MaxInstances are in use.
func (m *Module) get(ctx context.Context) (*instance, error) {
	select {
	case m.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, &Error{m.name, ctx.Err()}
	}
	m.mu.Lock()
	if n := len(m.idle); n > 0 {
		in := m.idle[n-1]
		m.idle = m.idle[:n-1]
		m.mu.Unlock()
		return in, nil
	}
	m.mu.Unlock()
	in, err := m.instantiate(ctx)
	if err != nil {
		<-m.slots
		return nil, err
	}
	return in, nil
}

// put returns an instance to the pool, or closes it if the call that used it failed:
// after a trap or a timeout its memory may be in any state.
func (m *Module) put(ctx context.Context, in *instance, err error) {
	if err != nil {
		in.mod.Close(context.WithoutCancel(ctx))
	} else {
		m.mu.Lock()
		m.idle = append(m.idle, in)
		m.mu.Unlock()
	}
	<-m.slots
}

func (m *Module) instantiate(ctx context.Context) (*instance, error) {
	lim := m.host.limits
	in := &instance{stdout: &capped{max: lim.MaxStdio}, stderr: &capped{max: lim.MaxStdio}}
	cfg := wazero.NewModuleConfig().
		WithName("").                      // anonymous: many instances of one module may coexist
		WithStartFunctions("_initialize"). // reactors initialise here; skipped when absent
		WithStdout(in.stdout).WithStderr(in.stderr).
		WithSysWalltime().WithSysNanotime()
	ctx, cancel := context.WithTimeout(ctx, lim.CallTimeout)
	defer cancel()
	mod, err := m.host.rt.InstantiateModule(ctx, m.compiled, cfg)
	if err != nil {
		return nil, m.describe(ctx, in, "instantiation", err)
	}
	in.mod = mod
	in.version = mod.ExportedFunction(shared.ExportVersion)
	in.alloc = mod.ExportedFunction(shared.ExportAlloc)
	in.free = mod.ExportedFunction(shared.ExportFree)
	in.manifest = mod.ExportedFunction(shared.ExportManifest)
	in.runFn = mod.ExportedFunction(shared.ExportRun)
	return in, nil
}

// Call runs aegis_run on input in an instance of its own and returns the output JSON
// document. A document {"error": "..."} from the module becomes an *Error.
func (m *Module) Call(ctx context.Context, input []byte) (out []byte, err error) {
	in, err := m.get(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { m.put(ctx, in, err) }()
	in.stdout.reset()
	in.stderr.reset()
	ctx, cancel := context.WithTimeout(ctx, m.host.limits.CallTimeout)
	defer cancel()
	if len(input) > m.host.limits.MaxOutput {
		return nil, &Error{m.name, fmt.Errorf("input of %d bytes is above the limit of %d", len(input), m.host.limits.MaxOutput)}
	}
	res, err := in.alloc.Call(ctx, uint64(len(input)))
	if err != nil {
		return nil, m.callError(ctx, in, shared.ExportAlloc, err)
	}
	ptr := uint32(res[0])
	if !in.mod.Memory().Write(ptr, input) {
		return nil, &Error{m.name, fmt.Errorf("aegis_alloc(%d) returned %#x, outside its memory", len(input), ptr)}
	}
	res, err = in.runFn.Call(ctx, uint64(ptr), uint64(len(input)))
	if err != nil {
		return nil, m.callError(ctx, in, shared.ExportRun, err)
	}
	if _, err := in.free.Call(ctx, uint64(ptr)); err != nil {
		return nil, m.callError(ctx, in, shared.ExportFree, err)
	}
	out, err = m.result(ctx, in, res[0])
	if err != nil {
		return nil, err
	}
	var e shared.ErrorOutput
	if json.Unmarshal(out, &e) == nil && e.Error != "" {
		return nil, &Error{m.name, errors.New(e.Error)}
	}
	return out, nil
}

// result copies out the JSON document a packed i64 names, frees it in the module, and
// checks that it is bounded, in range and valid JSON.
func (m *Module) result(ctx context.Context, in *instance, packed uint64) ([]byte, error) {
	ptr, n := shared.Unpack(packed)
	if int64(n) > int64(m.host.limits.MaxOutput) {
		return nil, &Error{m.name, fmt.Errorf("output of %d bytes is above the limit of %d", n, m.host.limits.MaxOutput)}
	}
	view, ok := in.mod.Memory().Read(ptr, n)
	if !ok {
		return nil, &Error{m.name, fmt.Errorf("output [%#x, +%d) is outside its %d-byte memory", ptr, n, in.mod.Memory().Size())}
	}
	out := bytes.Clone(view) // the view aliases memory the module may reuse
	if _, err := in.free.Call(ctx, uint64(ptr)); err != nil {
		return nil, m.callError(ctx, in, shared.ExportFree, err)
	}
	if !json.Valid(out) {
		return nil, &Error{m.name, fmt.Errorf("output is not valid JSON: %q", snippet(out))}
	}
	return out, nil
}

func (m *Module) callError(ctx context.Context, in *instance, fn string, err error) error {
	return m.describe(ctx, in, fn, err)
}

// describe turns a wazero failure into one line: a timeout, an exit (with the first
// line the module wrote to stderr, which for Go is the panic message), or a trap.
func (m *Module) describe(ctx context.Context, in *instance, what string, err error) error {
	var exit *sys.ExitError
	stderr := strings.TrimSpace(in.stderr.String())
	if i := strings.IndexByte(stderr, '\n'); i >= 0 {
		stderr = stderr[:i]
	}
	tail := ""
	if stderr != "" {
		tail = " (stderr: " + snippet([]byte(stderr)) + ")"
	}
	switch {
	case errors.As(err, &exit) && exit.ExitCode() == sys.ExitCodeDeadlineExceeded,
		errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &Error{m.name, fmt.Errorf("%s: %w (%s)%s", what, ErrTimeout, m.host.limits.CallTimeout, tail)}
	case errors.As(err, &exit) && exit.ExitCode() == sys.ExitCodeContextCanceled:
		return &Error{m.name, fmt.Errorf("%s: %w", what, context.Canceled)}
	case errors.As(err, &exit):
		return &Error{m.name, fmt.Errorf("%s: module exited with status %d%s", what, exit.ExitCode(), tail)}
	}
	msg := err.Error()
	if i := strings.Index(msg, "\nwasm stack trace"); i >= 0 {
		msg = msg[:i] // the trace is for module authors, not one-line errors
	}
	return &Error{m.name, fmt.Errorf("%s trapped: %s%s", what, msg, tail)}
}

func snippet(b []byte) string {
	const max = 120
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}

// capped is a writer that keeps the first max bytes and silently drops the rest, so that
// a module printing in a loop cannot grow host memory.
type capped struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.max - len(c.buf); room > 0 {
		c.buf = append(c.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.buf)
}

func (c *capped) reset() {
	c.mu.Lock()
	c.buf = c.buf[:0]
	c.mu.Unlock()
}
