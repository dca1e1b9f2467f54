package sandbox

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aegis-safety/aegis/shared"
)

func newHost(t testing.TB, l Limits) *Host {
	t.Helper()
	h, err := NewHost(context.Background(), l, CacheDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h
}

func load(t testing.TB, h *Host, name string) (*Module, error) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return h.Load(context.Background(), name, b)
}

func TestEcho(t *testing.T) {
	h := newHost(t, Limits{})
	m, err := load(t, h, "echo")
	if err != nil {
		t.Fatal(err)
	}
	if mf := m.Manifest(); mf.Name != "echo" || mf.Kind != shared.KindJudge {
		t.Fatalf("%+v", mf)
	}
	out, err := m.Call(context.Background(), []byte(`{"refusal":true,"unsafe":false,"score":0.5}`))
	if err != nil || string(out) != `{"refusal":true,"unsafe":false,"score":0.5}` {
		t.Fatal(string(out), err)
	}
	v, err := m.Judge(context.Background(), shared.JudgeInput{Prompt: "p", Response: "r"})
	if err != nil || v.Refusal || v.Categories == nil {
		t.Fatal(v, err) // the echo of a judge input decodes to a zero verdict
	}
	if _, err := m.Call(context.Background(), []byte(`{"error":"bad prompt"}`)); err == nil || err.Error() != "module echo: bad prompt" {
		t.Fatal(err)
	}
	if _, err := m.Attack(context.Background(), shared.AttackInput{}); err == nil || !strings.Contains(err.Error(), "not an attack module") {
		t.Fatal(err)
	}
}

// TestHostile loads and runs modules that misbehave in every way the host must survive:
// each must give one error line naming the module, and the host must stay usable.
func TestHostile(t *testing.T) {
	h := newHost(t, Limits{MemoryPages: 64, CallTimeout: 300 * time.Millisecond, MaxOutput: 1 << 20})
	cases := []struct {
		name, atLoad, atCall string
	}{
		{"loop", "", "time limit exceeded"},
		{"grow", "", "trapped: wasm error: unreachable"},
		{"huge", "", "above the limit"},
		{"big", "", "output of 3145728 bytes is above the limit of 1048576"},
		{"oob", "", "outside its 65536-byte memory"},
		{"trap", "", "unreachable"},
		{"notjson", "", "output is not valid JSON"},
		{"abi2", "ABI version 2, this host speaks 1", ""},
		{"import", "imports env.steal", ""},
		{"pathopen", "imports wasi_snapshot_preview1.path_open", ""},
		{"garbage", "invalid module", ""},
		{"bigmem", "invalid module", ""},
		{"initloop", "instantiation: time limit exceeded", ""},
		{"importglobal", "imports global env.secret, which modules may not use", ""},
		{"badalloc", "", "aegis_alloc(2) returned 0xfffffff0, outside its memory"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := load(t, h, c.name)
			if c.atLoad != "" {
				checkErr(t, err, c.name, c.atLoad)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = m.Call(context.Background(), []byte(`{}`))
			checkErr(t, err, c.name, c.atCall)
			if time.Since(start) > 5*time.Second {
				t.Fatalf("took %v", time.Since(start))
			}
			// The pool discarded the failed instance; the module may still be called.
			_, err = m.Call(context.Background(), []byte(`{}`))
			checkErr(t, err, c.name, c.atCall)
			if c.name == "loop" && !errors.Is(err, ErrTimeout) {
				t.Fatal("timeout not ErrTimeout")
			}
		})
	}
	// After all that, a good module still runs on the same host.
	m, err := load(t, h, "echo")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Call(context.Background(), []byte(`1`)); err != nil {
		t.Fatal(err)
	}
}

func checkErr(t *testing.T, err error, name, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	var e *Error
	msg := err.Error()
	if !errors.As(err, &e) || !strings.HasPrefix(msg, "module "+name+": ") || !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
		t.Fatalf("error %q, want one line naming %s containing %q", msg, name, want)
	}
}

// TestStackOverflow: unbounded recursion ends at wazero's call-stack ceiling (400 MB) with
// a trap rather than at the time limit.
func TestStackOverflow(t *testing.T) {
	h := newHost(t, Limits{CallTimeout: 20 * time.Second})
	m, err := load(t, h, "stack")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = m.Call(context.Background(), []byte(`{}`))
	checkErr(t, err, "stack", "stack overflow")
	t.Logf("stack overflow after %v", time.Since(start))
}

func TestModuleSizeLimit(t *testing.T) {
	h := newHost(t, Limits{MaxModule: 100})
	b, _ := os.ReadFile("testdata/echo.wasm")
	big := append(b, make([]byte, 200)...)
	_, err := h.Load(context.Background(), "fat", big)
	checkErr(t, err, "fat", "above the module size limit of 100")
	_, err = h.Load(context.Background(), "text", []byte("hello world, not wasm"))
	checkErr(t, err, "text", "not a WebAssembly binary")
}

func TestMissingExport(t *testing.T) {
	h := newHost(t, Limits{})
	// The smallest valid module: header and version only, exporting nothing.
	_, err := h.Load(context.Background(), "empty", []byte("\x00asm\x01\x00\x00\x00"))
	checkErr(t, err, "empty", `does not export its memory`)
}

// TestConcurrentPool calls one module from many goroutines; live instances never exceed
// MaxInstances and every call succeeds.
func TestConcurrentPool(t *testing.T) {
	h := newHost(t, Limits{MaxInstances: 3})
	m, err := load(t, h, "echo")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4*runtime.GOMAXPROCS(0)+4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				out, err := m.Call(context.Background(), []byte(`"x"`))
				if err != nil || string(out) != `"x"` {
					t.Error(string(out), err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := len(m.idle); n > 3 {
		t.Fatalf("%d idle instances, limit 3", n)
	}
}

func TestCancel(t *testing.T) {
	h := newHost(t, Limits{CallTimeout: time.Minute})
	m, err := load(t, h, "loop")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = m.Call(ctx, []byte(`{}`))
	checkErr(t, err, "loop", "time limit exceeded")
}

// TestStdioBounded: a module that floods stdout and stderr (4 MiB each per call) keeps
// only MaxStdio bytes of each in the host, and the first line of stderr names the cause
// of a failure.
func TestStdioBounded(t *testing.T) {
	const max = 1000
	h := newHost(t, Limits{MaxStdio: max})
	m, err := load(t, h, "noisy")
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Call(context.Background(), []byte(`{}`))
	if err != nil || !strings.Contains(string(out), `"refusal":false`) {
		t.Fatal(string(out), err)
	}
	in := m.idle[0]
	if o, e := in.stdout.String(), in.stderr.String(); len(o) != max || len(e) != max || !strings.HasPrefix(e, "noisy: first line\nsecond line\n") {
		t.Fatalf("captured %d bytes of stdout and %d of stderr (limit %d), stderr %q", len(o), len(e), max, e[:min(40, len(e))])
	}
	_, err = m.Call(context.Background(), []byte(`t`))
	checkErr(t, err, "noisy", "aegis_run trapped: wasm error: unreachable (stderr: noisy: first line)")
}

// TestInstanceDiscardedAfterError: an instance goes back to the pool after a good call
// and is closed after any failed one (an error document or a trap); the next call gets a
// fresh instance.
func TestInstanceDiscardedAfterError(t *testing.T) {
	h := newHost(t, Limits{})
	ctx := context.Background()
	for _, c := range []struct{ module, bad string }{{"echo", `{"error":"no"}`}, {"noisy", `t`}} {
		m, err := load(t, h, c.module)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Call(ctx, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		if len(m.idle) != 1 {
			t.Fatalf("%s: %d idle instances after a good call, want 1", c.module, len(m.idle))
		}
		first := m.idle[0]
		if _, err := m.Call(ctx, []byte(c.bad)); err == nil {
			t.Fatalf("%s: %s did not fail", c.module, c.bad)
		}
		if len(m.idle) != 0 || !first.mod.IsClosed() {
			t.Fatalf("%s: after an error %d instances are idle and the failed one is closed=%v", c.module, len(m.idle), first.mod.IsClosed())
		}
		if _, err := m.Call(ctx, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		if len(m.idle) != 1 || m.idle[0] == first || m.idle[0].mod.IsClosed() {
			t.Fatalf("%s: the call after an error did not get a fresh instance", c.module)
		}
	}
}

// TestCompilationCacheOnDisk: a host with a cache directory writes compiled code there,
// and a second host (as a second aegis process would) loads from it without adding any.
func TestCompilationCacheOnDisk(t *testing.T) {
	code, err := os.ReadFile("../../wasm/bin/judge.wasm")
	if err != nil {
		t.Skip("wasm/bin/judge.wasm not built: ", err)
	}
	dir := t.TempDir()
	files := func() map[string]int64 {
		got := map[string]int64{}
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if fi, err := d.Info(); err == nil {
					got[p] = fi.Size()
				}
			}
			return nil
		})
		return got
	}
	ctx := context.Background()
	loadOnce := func() time.Duration {
		h, err := NewHost(ctx, Limits{}, dir)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close(ctx)
		start := time.Now()
		m, err := h.Load(ctx, "judge", code)
		if err != nil {
			t.Fatal(err)
		}
		d := time.Since(start)
		if _, err := m.Judge(ctx, shared.JudgeInput{Prompt: "p", Response: "I can't help with that."}); err != nil {
			t.Fatal(err)
		}
		return d
	}
	cold := loadOnce()
	after := files()
	var size int64
	for _, n := range after {
		size += n
	}
	if len(after) == 0 || size < int64(len(code)) {
		t.Fatalf("cache directory holds %d files, %d bytes, after compiling a %d-byte module", len(after), size, len(code))
	}
	warm := loadOnce()
	if again := files(); len(again) != len(after) {
		t.Fatalf("the second host wrote to the cache again: %d files, then %d", len(after), len(again))
	}
	t.Logf("load with an empty cache %v, from the on-disk cache %v (%d files, %d bytes)", cold, warm, len(after), size)
	if d := CacheDir(); d == "" || filepath.Base(d) != "wazero" {
		t.Errorf("CacheDir() = %q", d)
	}
}

// TestImportsOf lists every kind of import, and never panics or loops on mangled bytes
// (Load only calls it on binaries wazero compiled, but it must not trust them).
func TestImportsOf(t *testing.T) {
	b, err := os.ReadFile("testdata/importglobal.wasm")
	if err != nil {
		t.Fatal(err)
	}
	imps, err := importsOf(b)
	if err != nil || len(imps) != 1 || imps[0] != (wasmImport{"env", "secret", "global"}) {
		t.Fatal(imps, err)
	}
	if b, err = os.ReadFile("testdata/pathopen.wasm"); err != nil {
		t.Fatal(err)
	}
	if imps, err = importsOf(b); err != nil || len(imps) != 1 || imps[0].kind != "function" || imps[0].name != "path_open" {
		t.Fatal(imps, err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		m := bytes.Clone(b)
		for k := 0; k < 1+r.IntN(4); k++ {
			m[8+r.IntN(len(m)-8)] = byte(r.Uint32())
		}
		importsOf(m[:8+r.IntN(len(m)-7)])
	}
}
