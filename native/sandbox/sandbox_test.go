package sandbox

import (
	"context"
	"errors"
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
