package cli

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
)

func newTestFlags(stdout *bytes.Buffer) (*FlagSet, *string, *int) {
	fs := NewFlagSet("prog cmd", "--name N [--n 3]", "Does a thing.", stdout)
	return fs, fs.String("name", "", "the name"), fs.Int("n", 3, "how many")
}

// TestFlagSetHelp: --help prints the synopsis, the description and the flags to stdout
// and returns flag.ErrHelp; nothing else prints anything.
func TestFlagSetHelp(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	fs, _, _ := newTestFlags(&out)
	if err := fs.Parse([]string{"--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	want := "Usage: prog cmd --name N [--n 3]\n\nDoes a thing.\n\nFlags:\n  -n int\n    \thow many (default 3)\n  -name string\n    \tthe name\n"
	if out.String() != want {
		t.Errorf("--help printed\n%q\nwant\n%q", out.String(), want)
	}
	out.Reset()
	fs, _, _ = newTestFlags(&out)
	fs.Parse([]string{"--nope"})
	if out.Len() != 0 {
		t.Errorf("a bad flag printed %q", out.String())
	}
}

// TestFlagSetErrors: bad flags, values and argument counts are usage errors of one line
// that name the problem; Required names the first empty flag; IsSet tells a flag given
// from a default.
func TestFlagSetErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		n    int
		want string // "" for success
	}{
		{[]string{"--name", "x"}, 0, ""},
		{[]string{"--nope"}, 0, "usage: flag provided but not defined: -nope"},
		{[]string{"--n", "x"}, 0, `usage: invalid value "x" for flag -n: parse error`},
		{[]string{"--n", "1", "extra"}, 0, `usage: unexpected argument "extra"`},
		{[]string{"a"}, 2, "usage: give A and B"},
		{[]string{"a", "b", "c"}, 2, "usage: give A and B"},
		{[]string{"--n", "2", "a", "b"}, 2, ""},
	} {
		fs, _, _ := newTestFlags(new(bytes.Buffer))
		err := fs.ParseArgs(c.args, c.n, "give A and B")
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.args, err)
		case c.want != "" && (!errors.Is(err, ErrUsage) || err.Error() != c.want || strings.Contains(err.Error(), "\n")):
			t.Errorf("%q: %v, want %q", c.args, err, c.want)
		}
	}
	fs, name, n := newTestFlags(new(bytes.Buffer))
	if err := fs.Parse([]string{"--n", "3"}); err != nil {
		t.Fatal(err)
	}
	if err := fs.Required("n", "name"); !errors.Is(err, ErrUsage) || err.Error() != "usage: --name is required" {
		t.Errorf("Required: %v", err)
	}
	if !fs.IsSet("n") || fs.IsSet("name") || *n != 3 || *name != "" {
		t.Errorf("IsSet n %v, name %v", fs.IsSet("n"), fs.IsSet("name"))
	}
	*name = "x"
	if err := fs.Required("n", "name"); err != nil {
		t.Errorf("Required with both set: %v", err)
	}
}
