package sandbox

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// uleb appends v as unsigned LEB128.
func uleb(b []byte, v int) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// nestedModule is a module of n functions () -> () whose bodies each nest depth empty
// blocks: 3 bytes a level, so 100,000 levels are 300 KB.
func nestedModule(n, depth int) []byte {
	body := []byte{0} // no locals
	for range depth {
		body = append(body, 0x02, 0x40) // block (no result)
	}
	for range depth + 1 {
		body = append(body, 0x0b) // end, and the function's own end
	}
	section := func(b []byte, id byte, content []byte) []byte {
		return append(uleb(append(b, id), len(content)), content...)
	}
	funcs := uleb(nil, n)
	code := uleb(nil, n)
	for range n {
		funcs = append(funcs, 0) // type 0
		code = append(uleb(code, len(body)), body...)
	}
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = section(m, 1, []byte{1, 0x60, 0, 0}) // one type: () -> ()
	m = section(m, 3, funcs)
	return section(m, 10, code)
}

// TestDeepNestingRefused: a 300 KB function of 100,000 nested blocks, which wazero's
// compiler would take about a minute over (beyond the reach of a time limit: it checks
// for cancellation only between functions), is refused at once with one line naming the
// function and the limit.
func TestDeepNestingRefused(t *testing.T) {
	h, err := NewHost(context.Background(), Limits{}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	start := time.Now()
	_, err = h.Load(context.Background(), "deep.wasm", nestedModule(1, 100_000))
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("refusing the module took %v", d)
	}
	if err == nil || !strings.Contains(err.Error(), "module deep.wasm: invalid module: function 0 nests blocks more than 4096 deep") {
		t.Fatalf("error %v", err)
	}
	// At the limit the module compiles (then fails the ABI check, having no exports).
	if _, err := h.Load(context.Background(), "ok.wasm", nestedModule(1, MaxNesting-1)); err == nil || !strings.Contains(err.Error(), "does not export") {
		t.Fatalf("a module at the nesting limit: %v", err)
	}
}

// TestNestingScanBuiltins: the scan decodes every function of the built-in modules to its
// end, and their nesting is well under the limit.
func TestNestingScanBuiltins(t *testing.T) {
	for _, f := range []string{"../../wasm/bin/judge.wasm", "../../wasm/bin/attacks.wasm", "../../wasm/examples/keyword-judge/keyword-judge.wasm"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r := reader{b: b, off: 8}
		deepest, n := 0, 0
		for r.off < len(r.b) {
			id, size := r.byte(), int(r.u32())
			if id == 10 {
				sec := reader{b: r.b[:r.off+size], off: r.off}
				for k := int(sec.u32()); k > 0; k-- {
					fs := int(sec.u32())
					d, complete := funcNesting(sec.b[sec.off:sec.off+fs], 1<<30)
					if !complete {
						t.Fatalf("%s: function %d not decoded to its end", f, n)
					}
					deepest, n = max(deepest, d), n+1
					sec.off += fs
				}
			}
			r.off += size
		}
		if n == 0 || deepest > MaxNesting/4 {
			t.Errorf("%s: %d functions, deepest nesting %d", f, n, deepest)
		}
		if err := checkNesting(b, MaxNesting); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func mustBuiltin(t *testing.T, name string) []byte {
	b, err := os.ReadFile("../../wasm/bin/" + name + ".wasm")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCompileBounded: a module that takes seconds to compile (many functions of deep, but
// allowed, nesting) is given up on at CompileTimeout, and at once when ctx ends (Ctrl-C,
// an upload's client going away), each with one line.
func TestCompileBounded(t *testing.T) {
	slow := nestedModule(400, 3000)
	h, err := NewHost(context.Background(), Limits{CompileTimeout: 200 * time.Millisecond}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	start := time.Now()
	_, err = h.Load(context.Background(), "slow.wasm", slow)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the compile time limit of 200ms ended the load after %v", d)
	}
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "module slow.wasm: compilation: time limit exceeded (200ms)") {
		t.Fatalf("error %v", err)
	}
	// The built-in modules, part of aegis, compile without the limit (a busy machine's
	// first compilation of the judge can take many seconds).
	hb, err := NewHost(context.Background(), Limits{CompileTimeout: time.Nanosecond}, CacheDir())
	if err != nil {
		t.Fatal(err)
	}
	defer hb.Close(context.Background())
	if _, err := hb.Open(context.Background(), Ref{Name: "attacks"}); err != nil {
		t.Fatalf("built-in under a 1ns compile limit: %v", err)
	}
	if _, err := hb.Load(context.Background(), "attacks.wasm", mustBuiltin(t, "attacks")); !errors.Is(err, ErrTimeout) {
		t.Fatalf("the same code as a file under a 1ns compile limit: %v", err)
	}

	h2, err := NewHost(context.Background(), Limits{}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start = time.Now()
	_, err = h2.Load(ctx, "slow.wasm", slow)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("cancelling the load returned after %v", d)
	}
	if !errors.Is(err, context.Canceled) || strings.Count(err.Error(), "\n") > 0 {
		t.Fatalf("error %v", err)
	}
}
