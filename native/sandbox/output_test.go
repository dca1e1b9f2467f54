package sandbox

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aegis-safety/aegis/shared"
)

// handModule encodes a minimal ABI v1 module by hand: its manifest is manifest, and
// aegis_run answers output whatever the input.
func handModule(manifest, output string) []byte {
	uleb := func(v uint64) []byte {
		var b []byte
		for ; v >= 0x80; v >>= 7 {
			b = append(b, byte(v&0x7f)|0x80)
		}
		return append(b, byte(v))
	}
	sleb := func(v int64) []byte {
		var b []byte
		for {
			c := byte(v & 0x7f)
			v >>= 7
			if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
				return append(b, c)
			}
			b = append(b, c|0x80)
		}
	}
	vec := func(items ...[]byte) []byte {
		out := uleb(uint64(len(items)))
		for _, it := range items {
			out = append(out, it...)
		}
		return out
	}
	section := func(id byte, body []byte) []byte {
		return append(append([]byte{id}, uleb(uint64(len(body)))...), body...)
	}
	name := func(s string) []byte { return append(uleb(uint64(len(s))), s...) }
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	const manAt, outAt = 16, 4096
	packed := func(at, n int) []byte { return sleb(int64(at)<<32 | int64(n)) }
	body := func(code ...byte) []byte { b := append([]byte{0}, code...); return append(uleb(uint64(len(b))), b...) }
	types := vec([]byte{0x60, 0, 1, 0x7f}, []byte{0x60, 1, 0x7f, 1, 0x7f}, []byte{0x60, 1, 0x7f, 0}, []byte{0x60, 0, 1, 0x7e}, []byte{0x60, 2, 0x7f, 0x7f, 1, 0x7e})
	funcs := vec([]byte{0}, []byte{1}, []byte{2}, []byte{3}, []byte{4})
	exports := vec(cat(name("memory"), []byte{2, 0}), cat(name("aegis_abi_version"), []byte{0, 0}), cat(name("aegis_alloc"), []byte{0, 1}),
		cat(name("aegis_free"), []byte{0, 2}), cat(name("aegis_manifest"), []byte{0, 3}), cat(name("aegis_run"), []byte{0, 4}))
	code := vec(body(0x41, 1, 0x0b), body(cat([]byte{0x41}, sleb(16384), []byte{0x0b})...), body(0x0b),
		body(cat([]byte{0x42}, packed(manAt, len(manifest)), []byte{0x0b})...), body(cat([]byte{0x42}, packed(outAt, len(output)), []byte{0x0b})...))
	data := vec(cat([]byte{0, 0x41}, sleb(manAt), []byte{0x0b}, name(manifest)), cat([]byte{0, 0x41}, sleb(outAt), []byte{0x0b}, name(output)))
	return cat([]byte("\x00asm\x01\x00\x00\x00"), section(1, types), section(3, funcs), section(5, vec([]byte{0, 1})), section(7, exports),
		section(10, code), section(11, data))
}

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
		m, err := h.Load(ctx, "a", handModule(attackManifest, c.output))
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
		m, err := h.Load(ctx, "j", handModule(judgeManifest, c.output))
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.Judge(ctx, shared.JudgeInput{Prompt: "p", Response: "r"})
		if (c.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.output, err, c.want)
		}
	}
	_, err := h.Load(ctx, "a", handModule(`{"abi":1,"name":"a","kind":"attack","version":"0","description":"x","styles":["ok","bad style"]}`, `{}`))
	if err == nil || !strings.Contains(err.Error(), `manifest style "bad style" is not a plain name`) {
		t.Errorf("bad manifest style: %v", err)
	}
}

// TestErrorTextPrintable: a module's error text loses control and format characters
// (terminal escapes, bell, bidirectional overrides) and line breaks: one clean line.
func TestErrorTextPrintable(t *testing.T) {
	h := newHost(t, Limits{})
	m, err := h.Load(context.Background(), "a", handModule(attackManifest,
		`{"error":"bad\u001b[2J\u001b]0;owned\u0007 input\r\nline two\u202e\u200b\u0085 end\u007f"}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Attack(context.Background(), shared.AttackInput{Prompt: "p"})
	if err == nil || err.Error() != "module a: bad[2J]0;owned input line two end" {
		t.Fatalf("%q", err)
	}
}
