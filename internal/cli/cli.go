// Package cli is the command-line framework of cmd/aegis, as cmd/go/internal/base is
// cmd/go's: a program's table of commands and the groups of subcommands with their usage,
// flag sets whose --help prints a command's description and whose errors are usage
// errors, the exit status of a command's error (2 usage, 1 failure, 128+signal) with its
// one-line message, and the process's one signal context. It knows no aegis command.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// ErrUsage marks an error caused by how the command was called (exit status 2).
var ErrUsage = errors.New("usage")

// Command is a command or a subcommand: its name, its one-line summary and its entry
// point, which parses args (what follows the name).
type Command struct {
	Name, Summary string
	Run           func(ctx context.Context, args []string) error
}

// Group is a command made of subcommands (PROGRAM NAME SUB [flags]).
type Group struct {
	Name string    // the command line up to the subcommand, as "aegis data"
	Subs []Command // in the order the usage lists them
	Note string    // printed after the list
}

// Run runs the subcommand args[0] names. Without one, or with an unknown one, it prints
// the group's usage to stdout, the subcommands with their summaries in order and the
// note, and returns a usage error; with -h or --help it prints the usage and returns nil.
func (g Group) Run(ctx context.Context, stdout io.Writer, args []string) error {
	var names []string
	for _, s := range g.Subs {
		names = append(names, s.Name)
		if len(args) > 0 && args[0] == s.Name {
			return s.Run(ctx, args[1:])
		}
	}
	fmt.Fprintf(stdout, "Usage: %s %s [flags]\n\n", g.Name, strings.Join(names, "|"))
	for _, s := range g.Subs {
		fmt.Fprintf(stdout, "  %-9s %s\n", s.Name, strings.ReplaceAll(s.Summary, "\n", "\n            "))
	}
	fmt.Fprintf(stdout, "\n%s\n", g.Note)
	switch {
	case len(args) == 0:
		return fmt.Errorf("%w: give a subcommand: %s", ErrUsage, OrList(names))
	case args[0] == "-h" || args[0] == "--help":
		return nil
	}
	return fmt.Errorf("%w: unknown subcommand %q (%s)", ErrUsage, args[0], strings.Join(names, ", "))
}

// Program is a command-line program made of commands (PROGRAM COMMAND [flags]).
type Program struct {
	Name, About string    // "aegis" and what it is, the first line of its usage
	Commands    []Command // listed by name in the usage
}

// Usage prints the program's usage: what it is and its commands with their summaries.
func (p Program) Usage(w io.Writer) {
	fmt.Fprintf(w, "%s: %s\n\nUsage:\n  %s COMMAND [flags]\n\nCommands:\n", p.Name, p.About, p.Name)
	cmds := slices.SortedFunc(slices.Values(p.Commands), func(a, b Command) int { return strings.Compare(a.Name, b.Name) })
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-10s %s\n", c.Name, c.Summary)
	}
	fmt.Fprintf(w, "\nRun '%s COMMAND --help' for a command's flags.\n", p.Name)
}

// Run runs the command line args and returns the exit status. Without a command it prints
// the usage to stdout (status 2; 0 for help, -h or --help); an unknown command is named on
// stderr above the usage (2). A command's error is one line on stderr, "PROGRAM COMMAND:
// message": status 2 for a usage error, else 1; flag.ErrHelp (its --help) is status 0.
func (p Program) Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		p.Usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	i := slices.IndexFunc(p.Commands, func(c Command) bool { return c.Name == args[0] })
	if i < 0 {
		fmt.Fprintf(stderr, "%s: unknown command %q\n", p.Name, args[0])
		p.Usage(stderr)
		return 2
	}
	err := p.Commands[i].Run(ctx, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, ErrUsage):
		fmt.Fprintf(stderr, "%s %s: %v\n", p.Name, args[0], strings.TrimPrefix(err.Error(), "usage: "))
		return 2
	}
	fmt.Fprintf(stderr, "%s %s: %v\n", p.Name, args[0], OneLine(err.Error()))
	return 1
}

// OneLine keeps an error message to one line, as every command promises.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// OrList joins names as prose: "a, b or c".
func OrList(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
