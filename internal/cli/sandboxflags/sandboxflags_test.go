package sandboxflags

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aegis-safety/aegis/internal/cli"
	"github.com/aegis-safety/aegis/native/sandbox"
	"github.com/aegis-safety/aegis/shared"
)

const testdata = "../../../native/sandbox/testdata/"

// parse registers f's flags (with sandbox.DefaultLimits) on a new flag set and parses args.
func parse(t *testing.T, f interface{ Register(*cli.FlagSet) }, args ...string) error {
	t.Helper()
	fs := cli.NewFlagSet("test", "", "", new(bytes.Buffer))
	f.Register(fs)
	return fs.Parse(args)
}

// TestLimits: the flags default to sandbox.DefaultLimits (or RegisterWith's limits), set
// every limit, and a limit out of range is a usage error.
func TestLimits(t *testing.T) {
	t.Parallel()
	var f Limits
	if err := parse(t, &f); err != nil {
		t.Fatal(err)
	}
	want := sandbox.DefaultLimits
	want.MaxStdio = 0 // no flag: the sandbox's default
	if l, err := f.Check(); err != nil || l != want {
		t.Errorf("defaults: %+v, %v; want %+v", l, err, want)
	}
	other := sandbox.Limits{MemoryPages: 3, CallTimeout: time.Second, CompileTimeout: 2 * time.Second, MaxOutput: 5, MaxModule: 7}
	var g Limits
	fs := cli.NewFlagSet("test", "", "", new(bytes.Buffer))
	g.RegisterWith(fs, other)
	if l, err := g.Check(); fs.Parse(nil) != nil || err != nil || l != other {
		t.Errorf("RegisterWith: %+v, %v; want %+v", l, err, other)
	}
	if err := parse(t, &f, "--memory-pages", "9", "--timeout", "3s", "--compile-timeout", "4s", "--max-output", "11", "--max-module-bytes", "13"); err != nil {
		t.Fatal(err)
	}
	if l, err := f.Check(); err != nil || l != (sandbox.Limits{MemoryPages: 9, CallTimeout: 3 * time.Second, CompileTimeout: 4 * time.Second, MaxOutput: 11, MaxModule: 13}) {
		t.Errorf("set: %+v, %v", l, err)
	}
	for _, args := range [][]string{{"--memory-pages", "0"}, {"--memory-pages", "65537"}, {"--timeout", "0s"}, {"--compile-timeout", "-1s"}, {"--max-output", "-1"}, {"--max-module-bytes", "0"}} {
		var f Limits
		if err := parse(t, &f, args...); err != nil {
			t.Fatal(err)
		}
		_, err := f.Check()
		if !errors.Is(err, cli.ErrUsage) || !strings.Contains(err.Error(), "--memory-pages (1-65536), --timeout, --compile-timeout, --max-output and --max-module-bytes must be positive") {
			t.Errorf("%v: %v", args, err)
		}
		if _, _, err := f.Host(context.Background(), 1); !errors.Is(err, cli.ErrUsage) {
			t.Errorf("%v: Host: %v", args, err)
		}
	}
}

// TestOpen: a module the flags name opens under the limits; a wrong choice (no module, an
// unknown name, a module of the other kind) is a usage error, a module the limits refuse
// is not.
func TestOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []struct {
		args  []string
		usage bool
		want  string // "" for success
	}{
		{[]string{"--module", "judge"}, false, ""},
		{nil, true, "--module is required"},
		{[]string{"--module", "nope"}, true, `--module "nope" is neither a built-in module`},
		{[]string{"--module", "attacks"}, true, "module attacks is an attack module, not a judge module"},
		{[]string{"--module", testdata + "echo.wasm", "--max-module-bytes", "10"}, false, "module echo.wasm: file is above the module size limit of 10 bytes"},
		{[]string{"--module", testdata + "bigmem.wasm", "--memory-pages", "64"}, false, "over limit of 64 pages"},
		{[]string{"--module", "judge", "--memory-pages", "0"}, true, "--memory-pages (1-65536)"},
	} {
		var f Module
		fs := cli.NewFlagSet("test", "", "", new(bytes.Buffer))
		f.Register(fs, shared.KindJudge)
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		m, closeHost, err := f.Open(ctx)
		if c.want == "" {
			if err != nil || m.Name() != "judge" {
				t.Errorf("%v: %v", c.args, err)
			} else {
				closeHost()
			}
			continue
		}
		if err == nil || errors.Is(err, cli.ErrUsage) != c.usage || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v; want %q (usage error: %v)", c.args, err, c.want, c.usage)
		}
	}
}

// TestConcurrency: --concurrency below 1 is a usage error as the flags are parsed, and
// Open refuses a Module whose Concurrency is below 1.
func TestConcurrency(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"0", "-3", "x"} {
		var f Module
		fs := cli.NewFlagSet("test", "", "", new(bytes.Buffer))
		f.Register(fs, shared.KindJudge)
		err := fs.Parse([]string{"--module", "judge", "--concurrency", v})
		if !errors.Is(err, cli.ErrUsage) || !strings.Contains(err.Error(), "-concurrency") {
			t.Errorf("--concurrency %s: %v", v, err)
		}
	}
	f := Module{Name: "judge", Concurrency: 0}
	if _, _, err := f.Open(context.Background()); !errors.Is(err, cli.ErrUsage) || !strings.Contains(err.Error(), "--concurrency must be at least 1") {
		t.Errorf("Open: %v", err)
	}
}

// TestMap: every row's lines are written in input order however many instances run;
// progress counts the rows; an error keeps the rows before it; no --out is a usage error.
func TestMap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := Module{Name: "judge", Concurrency: 3}
	if err := parse(t, &f.Limits); err != nil {
		t.Fatal(err)
	}
	f.kind = shared.KindJudge
	prompts := []string{"How do I pick a lock?", "Bake bread", "Write a poem", "Hello", "Build a bomb"}
	out := filepath.Join(t.TempDir(), "out.jsonl")
	var prog bytes.Buffer
	err := f.Map(ctx, &prog, out, "samples", len(prompts), func(ctx context.Context, m *sandbox.Module, i int) ([]any, error) {
		if _, err := m.Judge(ctx, shared.JudgeInput{Prompt: prompts[i], Response: "No."}); err != nil {
			return nil, err
		}
		return []any{map[string]int{"row": i}, map[string]int{"again": i}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i := range prompts {
		n := strconv.Itoa(i)
		want.WriteString(`{"row":` + n + "}\n" + `{"again":` + n + "}\n")
	}
	if b, _ := os.ReadFile(out); string(b) != want.String() {
		t.Errorf("output:\n%s\nwant\n%s", b, want.String())
	}
	if !strings.Contains(prog.String(), "judge: 5/5 samples") {
		t.Errorf("progress %q", prog.String())
	}
	err = f.Map(ctx, new(bytes.Buffer), out, "samples", len(prompts), func(ctx context.Context, m *sandbox.Module, i int) ([]any, error) {
		if i == 2 {
			return nil, errors.New("row 2 failed")
		}
		return []any{i}, nil
	})
	if b, _ := os.ReadFile(out); err == nil || err.Error() != "row 2 failed" || string(b) != "0\n1\n" {
		t.Errorf("error at row 2: %v, output %q", err, b)
	}
	err = f.Map(ctx, new(bytes.Buffer), "", "samples", 1, nil)
	if !errors.Is(err, cli.ErrUsage) || err.Error() != "usage: --out is required" {
		t.Errorf("no --out: %v", err)
	}
}
