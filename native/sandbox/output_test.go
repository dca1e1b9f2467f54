package sandbox

import (
	"context"
	"strings"
	"testing"

	"github.com/aegis-safety/aegis/internal/wasmtest"
	"github.com/aegis-safety/aegis/shared"
)

const (
	attackManifest = `{"abi":1,"name":"a","kind":"attack","version":"0","description":"x"}`
	judgeManifest  = `{"abi":1,"name":"j","kind":"judge","version":"0","description":"x"}`
)

// TestOutputsValidated: attack variants need a prompt and a plain style name, and there
// must be some; a verdict's score lies in [0, 1] and its categories are taxonomy codes;
// a manifest's styles are plain names. Each violation is one error line naming the module.
func TestOutputsValidated(t *testing.T) {
	h := newHost(t, Limits{})
	ctx := context.Background()
	for _, c := range []struct{ output, want string }{
		{`{"variants":[{"prompt":"p","style":"my_style-2.0"}]}`, ""},
		{`{"variants":[]}`, "module a: output has no variants"},
		{`{}`, "module a: output has no variants"},
		{`{"variants":[{"prompt":"p","style":"s"},{"prompt":"  ","style":"s"}]}`, "module a: variant 1 has an empty prompt"},
		{`{"variants":[{"prompt":"p"}]}`, `module a: variant 0 has style "", not a plain name`},
		{`{"variants":[{"prompt":"p","style":"../../etc"}]}`, `variant 0 has style "../../etc", not a plain name`},
		{`{"variants":[{"prompt":"p","style":"a b"}]}`, `variant 0 has style "a b"`},
		{`{"variants":[{"prompt":"p","style":"` + strings.Repeat("x", 65) + `"}]}`, "not a plain name"},
	} {
		m, err := h.Load(ctx, "a", wasmtest.Module(attackManifest, c.output))
		if err != nil {
			t.Fatal(err)
		}
		vs, err := m.Attack(ctx, shared.AttackInput{Prompt: "p"})
		switch {
		case c.want == "" && (err != nil || len(vs) != 1):
			t.Errorf("%s: %v %v", c.output, vs, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want %q", c.output, err, c.want)
		}
	}
	for _, c := range []struct{ output, want string }{
		{`{"refusal":false,"unsafe":true,"score":0.9,"categories":["S1","S14"]}`, ""},
		{`{"refusal":true,"unsafe":false,"score":0,"categories":["benign"]}`, ""},
		{`{"score":1.5}`, "module j: score 1.5 is outside [0, 1]"},
		{`{"score":-0.25}`, "score -0.25 is outside [0, 1]"},
		{`{"score":0.5,"categories":["S15"]}`, `category "S15" is not in the taxonomy`},
		{`{"score":0.5,"categories":["violence"]}`, `category "violence" is not in the taxonomy`},
	} {
		m, err := h.Load(ctx, "j", wasmtest.Module(judgeManifest, c.output))
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.Judge(ctx, shared.JudgeInput{Prompt: "p", Response: "r"})
		if (c.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.output, err, c.want)
		}
	}
	_, err := h.Load(ctx, "a", wasmtest.Module(`{"abi":1,"name":"a","kind":"attack","version":"0","description":"x","styles":["ok","bad style"]}`, `{}`))
	if err == nil || !strings.Contains(err.Error(), `manifest style "bad style" is not a plain name`) {
		t.Errorf("bad manifest style: %v", err)
	}
}

// TestErrorTextPrintable: a module's error text loses control and format characters
// (terminal escapes, bell, bidirectional overrides) and line breaks: one clean line.
func TestErrorTextPrintable(t *testing.T) {
	h := newHost(t, Limits{})
	m, err := h.Load(context.Background(), "a", wasmtest.Module(attackManifest,
		`{"error":"bad\u001b[2J\u001b]0;owned\u0007 input\r\nline two\u202e\u200b\u0085 end\u007f"}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Attack(context.Background(), shared.AttackInput{Prompt: "p"})
	if err == nil || err.Error() != "module a: bad[2J]0;owned input line two end" {
		t.Fatalf("%q", err)
	}
}
