// Package wasm embeds the built-in modules, built from wasm/attacks and wasm/judge into
// wasm/bin by `task wasm` (or scripts/build-wasm.sh) and committed, so that the aegis
// binary carries them and `go build` needs no wasm toolchain step. The subdirectories hold
// the modules' sources; TestBuiltinsCurrent proves the committed files are byte-identical
// to a fresh build of those sources.
package wasm

import (
	"embed"
	"sort"
	"strings"
)

//go:embed bin/*.wasm
var bin embed.FS

// BuildFlags are the exact `go build` arguments that make the built-ins, with
// GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0: -trimpath drops local paths, -buildvcs=false
// keeps the commit out, and an empty build id makes the output depend only on the sources
// and the toolchain.
var BuildFlags = []string{"-buildmode=c-shared", "-trimpath", "-buildvcs=false", "-ldflags=-buildid="}

// GoVersion is the toolchain that built the committed modules (bin/GOVERSION).
//
//go:embed bin/GOVERSION
var goVersion string

// GoVersion returns the toolchain version that built the committed modules.
func GoVersion() string { return strings.TrimSpace(goVersion) }

// Builtin returns the bytes of a built-in module by name ("attacks", "judge").
func Builtin(name string) ([]byte, bool) {
	b, err := bin.ReadFile("bin/" + name + ".wasm")
	return b, err == nil
}

// Builtins lists the built-in module names, sorted.
func Builtins() []string {
	ents, _ := bin.ReadDir("bin")
	var out []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".wasm"); ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
