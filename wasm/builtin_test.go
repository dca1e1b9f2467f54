package wasm

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

func TestBuiltins(t *testing.T) {
	if got := Builtins(); len(got) != 2 || got[0] != "attacks" || got[1] != "judge" {
		t.Fatal(got)
	}
	if b, ok := Builtin("judge"); !ok || !bytes.HasPrefix(b, []byte("\x00asm")) {
		t.Fatal("judge not embedded")
	}
}

// TestBuiltinsCurrent rebuilds every built-in module from source and requires the
// committed .wasm to be byte-identical. Go's wasip1 builds are reproducible for a given
// toolchain, so the test skips (saying why) under a different Go version.
func TestBuiltinsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short: builds the modules")
	}
	if runtime.Version() != GoVersion() {
		t.Skipf("the committed modules were built with %s, this is %s: rebuild with `task wasm` to compare", GoVersion(), runtime.Version())
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	dir := t.TempDir()
	for _, name := range Builtins() {
		out := filepath.Join(dir, name+".wasm")
		args := append([]string{"build"}, BuildFlags...)
		cmd := exec.Command(goBin, append(args, "-o", out, "./"+name)...)
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", name, err, msg)
		}
		fresh, _ := os.ReadFile(out)
		committed, _ := Builtin(name)
		if !bytes.Equal(fresh, committed) {
			t.Errorf("wasm/bin/%s.wasm differs from a fresh build of wasm/%s: run `task wasm` and commit", name, name)
		}
	}
}

// TestJudgeSize holds the built-in judge to its size budget: it is embedded in the aegis
// binary and downloaded by the browser's offline page.
func TestJudgeSize(t *testing.T) {
	b, _ := Builtin("judge")
	if len(b) > 16<<20 {
		t.Fatalf("judge.wasm is %d bytes, over the 16 MiB budget", len(b))
	}
}
