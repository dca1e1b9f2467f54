package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// FlagSet is a command's flags and its --help text.
type FlagSet struct {
	*flag.FlagSet
	help func()
}

// NewFlagSet returns the flag set of the command cmd (as "aegis data build"), whose --help
// prints "Usage: CMD SYNOPSIS", about and the flags to stdout and whose parse errors come
// back as usage errors.
func NewFlagSet(cmd, synopsis, about string, stdout io.Writer) *FlagSet {
	fs := &FlagSet{FlagSet: flag.NewFlagSet(cmd, flag.ContinueOnError)}
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // Parse reports errors in one line and prints help itself
	fs.help = func() {
		fmt.Fprintf(stdout, "Usage: %s %s\n\n%s\n\nFlags:\n", cmd, synopsis, about)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// Parse parses args, which must hold flags only, printing help for --help (and returning
// flag.ErrHelp) and turning failures into usage errors.
func (fs *FlagSet) Parse(args []string) error {
	return fs.ParseArgs(args, 0, "")
}

// ParseArgs is Parse for a command that takes n arguments after its flags; without them
// the usage error says want.
func (fs *FlagSet) ParseArgs(args []string, n int, want string) error {
	if err := fs.FlagSet.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.help()
			return err
		}
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	switch {
	case n == 0 && fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	case fs.NArg() != n:
		return fmt.Errorf("%w: %s", ErrUsage, want)
	}
	return nil
}

// Required returns a usage error naming the first of the flags that is empty.
func (fs *FlagSet) Required(names ...string) error {
	for _, n := range names {
		if fs.Lookup(n).Value.String() == "" {
			return fmt.Errorf("%w: --%s is required", ErrUsage, n)
		}
	}
	return nil
}

// IsSet reports whether the command line set the flag name.
func (fs *FlagSet) IsSet(name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
