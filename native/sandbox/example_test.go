package sandbox

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aegis-safety/aegis/shared"
)

// TestAssemblyScriptExample loads the third-party example (AssemblyScript, built by
// `task wasm:example` and committed) by path: the ABI is language-neutral.
func TestAssemblyScriptExample(t *testing.T) {
	b, err := os.ReadFile("../../wasm/examples/keyword-judge/keyword-judge.wasm")
	if err != nil {
		t.Fatal(err)
	}
	m, err := newHost(t, Limits{}).Load(context.Background(), "keyword-judge.wasm", b)
	if err != nil {
		t.Fatal(err)
	}
	if mf := m.Manifest(); mf.Name != "keyword-judge" || mf.Kind != shared.KindJudge {
		t.Fatalf("%+v", mf)
	}
	for _, c := range []struct {
		resp    string
		refusal bool
	}{{"I'm sorry, but I can't help with that.", true}, {"Sure, here is how. Step 1: [omitted]", false}, {"Ünïcödé ✓ fine", false}} {
		v, err := m.Judge(context.Background(), shared.JudgeInput{Prompt: "p", Response: c.resp})
		if err != nil || v.Refusal != c.refusal || v.Unsafe == c.refusal {
			t.Errorf("%q: %+v %v", c.resp, v, err)
		}
	}
	_, err = m.Call(context.Background(), []byte(`{"prompt":"no response field"}`))
	checkErr(t, err, "keyword-judge.wasm", `input has no "response" field`)
}

// TestAssemblyScriptExampleCurrent rebuilds the example as `task wasm:example` does
// (npm ci, npm run build: the pinned AssemblyScript compiler from npm) in a copy of its
// folder, and requires the committed keyword-judge.wasm to be byte-identical. It needs
// npm and the registry; it skips without them, in -short mode and with AEGIS_NO_NPM=1.
func TestAssemblyScriptExampleCurrent(t *testing.T) {
	if testing.Short() || os.Getenv("AEGIS_NO_NPM") != "" {
		t.Skip("skipped in -short or with AEGIS_NO_NPM: installs AssemblyScript from npm")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm not installed; `task wasm:example` needs Node and npm")
	}
	src := "../../wasm/examples/keyword-judge"
	dir := t.TempDir()
	for _, f := range []string{"package.json", "package-lock.json", "assembly/index.ts"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	npmRun := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, npm, args...)
		cmd.Dir = dir
		return cmd.CombinedOutput()
	}
	if out, err := npmRun("ci", "--no-audit", "--no-fund"); err != nil {
		t.Skipf("npm ci could not install the AssemblyScript compiler: %v: %s", err, strings.TrimSpace(string(out)))
	}
	if out, err := npmRun("run", "build"); err != nil {
		t.Fatalf("npm run build: %v\n%s", err, out)
	}
	fresh := filepath.Join(dir, "keyword-judge.wasm")
	b, err := os.ReadFile(fresh)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join(src, "keyword-judge.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, committed) {
		t.Fatalf("wasm/examples/keyword-judge/keyword-judge.wasm differs from a fresh build (%d vs %d bytes): run `task wasm:example` and commit", len(committed), len(b))
	}
	m, err := newHost(t, Limits{}).Load(ctx, fresh, b)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := m.Judge(ctx, shared.JudgeInput{Prompt: "p", Response: "I cannot do that."}); err != nil || !v.Refusal {
		t.Fatal(v, err)
	}
}
