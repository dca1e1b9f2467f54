package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"
)

// program is a test program whose commands return what their name says.
func program(ran *[]string) Program {
	cmd := func(name string, err error) Command {
		return Command{Name: name, Summary: "the " + name + " command", Run: func(ctx context.Context, args []string) error {
			*ran = append(*ran, name+" "+strings.Join(args, " "))
			return err
		}}
	}
	return Program{Name: "prog", About: "a test program", Commands: []Command{
		cmd("ok", nil), cmd("fail", errors.New("it broke:\n  badly\tindeed")), cmd("help", flag.ErrHelp),
		cmd("misuse", fmt.Errorf("%w: --x is required", ErrUsage)), cmd("alpha", nil)}}
}

// TestProgramRun: the exit status of each outcome, and what goes to stdout and stderr.
func TestProgramRun(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args                []string
		code                int
		stdout, stderr, ran string // stdout and stderr: their first lines
	}{
		{nil, 2, "prog: a test program", "", ""},
		{[]string{"--help"}, 0, "prog: a test program", "", ""},
		{[]string{"-h"}, 0, "prog: a test program", "", ""},
		{[]string{"help"}, 0, "prog: a test program", "", ""},
		{[]string{"nope"}, 2, "", `prog: unknown command "nope"`, ""},
		{[]string{"ok", "a", "b"}, 0, "", "", "ok a b"},
		{[]string{"fail"}, 1, "", "prog fail: it broke: badly indeed", "fail "},
		{[]string{"misuse", "x"}, 2, "", "prog misuse: --x is required", "misuse x"},
	}
	for _, c := range cases {
		var ran []string
		var stdout, stderr bytes.Buffer
		code := program(&ran).Run(context.Background(), c.args, &stdout, &stderr)
		first := func(s string) string { return strings.SplitN(s, "\n", 2)[0] }
		if code != c.code || first(stdout.String()) != c.stdout || first(stderr.String()) != c.stderr || strings.Join(ran, ";") != c.ran {
			t.Errorf("%q: exit %d, stdout %q, stderr %q, ran %q; want %d, %q, %q, %q", c.args, code, stdout.String(), stderr.String(), ran,
				c.code, c.stdout, c.stderr, c.ran)
		}
		if c.code != 0 && c.stderr != "" && c.args[0] != "nope" && strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("%q: error is not one line: %q", c.args, stderr.String())
		}
	}
}

// TestUsage: the commands are listed by name with their summaries, on stderr too after an
// unknown command.
func TestUsage(t *testing.T) {
	t.Parallel()
	var ran []string
	var stdout, stderr bytes.Buffer
	p := program(&ran)
	p.Run(context.Background(), []string{"nope"}, &stdout, &stderr)
	want := "prog: a test program\n\nUsage:\n  prog COMMAND [flags]\n\nCommands:\n" +
		"  alpha      the alpha command\n  fail       the fail command\n  help       the help command\n" +
		"  misuse     the misuse command\n  ok         the ok command\n\nRun 'prog COMMAND --help' for a command's flags.\n"
	if got := strings.SplitN(stderr.String(), "\n", 2)[1]; got != want {
		t.Errorf("usage after an unknown command:\n%s\nwant\n%s", got, want)
	}
	stdout.Reset()
	p.Usage(&stdout)
	if stdout.String() != want {
		t.Errorf("Usage:\n%s", stdout.String())
	}
}

// TestGroup: a group runs the subcommand named with the arguments after it; without one
// it lists them in order (a multi-line summary indented) with its note and returns a
// usage error; --help lists them and returns nil; an unknown one is a usage error naming it.
func TestGroup(t *testing.T) {
	t.Parallel()
	var ran []string
	sub := func(name, summary string) Command {
		return Command{Name: name, Summary: summary, Run: func(ctx context.Context, args []string) error {
			ran = append(ran, name+" "+strings.Join(args, " "))
			return nil
		}}
	}
	g := Group{Name: "prog grp", Subs: []Command{sub("zeta", "the last\nin name"), sub("alpha", "the first"), sub("mid", "between")}, Note: "A note."}
	var out bytes.Buffer
	if err := g.Run(context.Background(), &out, []string{"alpha", "--x", "1"}); err != nil || out.Len() != 0 || fmt.Sprint(ran) != "[alpha --x 1]" {
		t.Fatalf("alpha: %v, stdout %q, ran %q", err, out.String(), ran)
	}
	want := "Usage: prog grp zeta|alpha|mid [flags]\n\n  zeta      the last\n            in name\n  alpha     the first\n  mid       between\n\nA note.\n"
	err := g.Run(context.Background(), &out, nil)
	if !errors.Is(err, ErrUsage) || err.Error() != "usage: give a subcommand: zeta, alpha or mid" || out.String() != want {
		t.Errorf("no subcommand: %v, stdout\n%s", err, out.String())
	}
	for _, h := range []string{"-h", "--help"} {
		out.Reset()
		if err := g.Run(context.Background(), &out, []string{h}); err != nil || out.String() != want {
			t.Errorf("%s: %v, stdout\n%s", h, err, out.String())
		}
	}
	out.Reset()
	err = g.Run(context.Background(), &out, []string{"nope"})
	if !errors.Is(err, ErrUsage) || err.Error() != `usage: unknown subcommand "nope" (zeta, alpha, mid)` || out.String() != want {
		t.Errorf("nope: %v, stdout\n%s", err, out.String())
	}
	if len(ran) != 1 {
		t.Errorf("ran %q", ran)
	}
}

func TestOneLineOrList(t *testing.T) {
	t.Parallel()
	if got := OneLine("a\n  b\tc \n"); got != "a b c" {
		t.Errorf("OneLine: %q", got)
	}
	for _, c := range []struct {
		names []string
		want  string
	}{{nil, ""}, {[]string{"a"}, "a"}, {[]string{"a", "b"}, "a or b"}, {[]string{"a", "b", "c"}, "a, b or c"}} {
		if got := OrList(c.names); got != c.want {
			t.Errorf("OrList(%q) = %q, want %q", c.names, got, c.want)
		}
	}
}
