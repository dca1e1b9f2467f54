package sandbox

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aegis-safety/aegis/shared"
)

// TestOpen: a built-in module by name and a .wasm file by path load and are checked for
// kind; an unknown name or the wrong kind is a usage error naming the flag or the module;
// an oversized file is refused before it is read.
func TestOpen(t *testing.T) {
	ctx := context.Background()
	h := newHost(t, Limits{})
	if m, err := h.Open(ctx, Ref{Name: "judge", Kind: shared.KindJudge, Flag: "--judge"}); err != nil || m.Name() != "judge" {
		t.Fatal(m, err)
	}
	echo := filepath.Join("testdata", "echo.wasm")
	if m, err := h.Open(ctx, Ref{Name: echo}); err != nil || m.Name() != "echo.wasm" {
		t.Fatal(m, err)
	}
	for _, c := range []struct {
		ref   Ref
		want  string
		usage bool
	}{
		{Ref{Name: "nope", Flag: "--judge"}, `--judge "nope" is neither a built-in module (attacks, judge) nor a .wasm file`, true},
		{Ref{Name: "nope"}, `module "nope" is neither a built-in module`, true},
		{Ref{Name: "attacks", Kind: shared.KindJudge}, "module attacks is an attack module, not a judge module", true},
		{Ref{Name: echo, Kind: shared.KindAttack}, "module echo.wasm is a judge module, not an attack module", true},
		{Ref{Name: filepath.Join("testdata", "missing.wasm")}, "no such file", false},
		{Ref{Name: filepath.Join("testdata", "trap.wasm")}, "", false},
	} {
		_, err := h.Open(ctx, c.ref)
		if c.want == "" {
			if err != nil {
				t.Errorf("%+v: %v", c.ref, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || errors.Is(err, ErrUsage) != c.usage {
			t.Errorf("%+v: %v; want %q (usage error: %v)", c.ref, err, c.want, c.usage)
		}
	}
	small := newHost(t, Limits{MaxModule: 10})
	_, err := small.Open(ctx, Ref{Name: echo})
	if err == nil || err.Error() != "module echo.wasm: file is above the module size limit of 10 bytes (--max-module-bytes)" {
		t.Fatal(err)
	}
}
