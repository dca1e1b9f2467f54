package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/aegis-safety/aegis/internal/cli/sandboxflags"
	"github.com/aegis-safety/aegis/native/sandbox"
	"github.com/aegis-safety/aegis/shared"
	"github.com/aegis-safety/aegis/wasm"
)

// limitFlags are the sandbox limit flags (sandboxflags.Limits) as the demo and the
// experiments register and use them.
type limitFlags struct{ sandboxflags.Limits }

func (f *limitFlags) register(fs *flagSet) { f.Register(fs.FlagSet) }

func (f *limitFlags) host(ctx context.Context, instances int) (*sandbox.Host, func(), error) {
	return f.Host(ctx, instances)
}

func runModules(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("modules", "[--json]",
		"Lists the built-in WebAssembly modules with their manifests (each is loaded in the sandbox\nto read it). Write your own: see wasm/README.md.", c.stdout)
	asJSON := fs.Bool("json", false, "print the manifests as a JSON array")
	var lf sandboxflags.Limits
	lf.Register(fs.FlagSet)
	if err := fs.parse(args); err != nil {
		return err
	}
	h, closeHost, err := lf.Host(ctx, 0)
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
		return c.printJSON(ms, nil)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tVERSION\tABI\tDESCRIPTION")
	for _, m := range ms {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", m.Name, m.Kind, m.Version, m.ABI, m.Description)
	}
	tw.Flush()
	for _, m := range ms {
		if len(m.Styles) > 0 {
			fmt.Fprintf(c.stdout, "\n%s styles (%d): %s\n", m.Name, len(m.Styles), strings.Join(m.Styles, ", "))
		}
	}
	return nil
}
