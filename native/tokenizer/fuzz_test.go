package tokenizer

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/ardanlabs/jinja"
)

// FuzzEncode: for a byte-level tokenizer, decode(encode(x)) == x for any valid UTF-8, and
// splitting the work across goroutines gives the same ids (the word cache is shared).
//
//	go test -run '^$' -fuzz FuzzEncode ./native/tokenizer/
func FuzzEncode(f *testing.F) {
	tk := loadTrained(f)
	for _, s := range []string{"", " ", "hello world", "  \n\n\t x", "I'M 12345 😀 中文", "<|endoftext|>a<|pad|>", "\u00a0\u3000", "'s'S'll"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			s = strings.ToValidUTF8(s, "\uFFFD")
		}
		ids := tk.Encode(s, false)
		if got := tk.Decode(ids, false); got != s {
			t.Fatalf("%q -> %v -> %q", s, ids, got)
		}
	})
}

// FuzzParse: any input is rejected or loaded, never a panic.
func FuzzParse(f *testing.F) {
	raw, _ := os.ReadFile(filepath.Join("testdata", "train", "tokenizer.json"))
	f.Add(string(raw))
	f.Add(`{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}, "pre_tokenizer": {"type": "Metaspace"}}`)
	f.Add(`{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a", "a"]]}, "added_tokens": [{"id": 5, "content": "x", "lstrip": true}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		tk, err := Parse([]byte(s))
		if err == nil {
			ids := tk.Encode("abc a b <x> 12 😀", true)
			tk.Decode(ids, false)
		}
	})
}

func TestConcurrentEncode(t *testing.T) {
	tk := loadTrained(t)
	text := strings.Repeat("concurrent encoders share one cache; 12345 words 😀\n", 20)
	want := tk.Encode(text, false)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if got := tk.Encode(text, false); len(got) != len(want) {
					t.Errorf("concurrent encode gave %d ids, want %d", len(got), len(want))
					return
				}
			}
		}()
	}
	wg.Wait()
}

// FuzzPyTemplate: the rewrite for Python's semantics never panics, leaves text without
// blocks alone, and keeps a template that compiles compiling.
//
//	go test -run '^$' -fuzz FuzzPyTemplate ./native/tokenizer/
func FuzzPyTemplate(f *testing.F) {
	for _, name := range []string{"llama3.2", "qwen2.5", "qwen3", "python"} {
		b, _ := os.ReadFile(filepath.Join("testdata", "chat", name+".jinja"))
		f.Add(string(b))
	}
	for _, s := range []string{"", "{{", "{{ x | tojson(", "{% raw %}{{ x }}", "{{ 'a\\' | tojson }}", "{{ (a | tojson }}", "a {# b", "{{ x }}}}", "{{- -}}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if !utf8.ValidString(src) {
			return // templates are text (JSON strings, .jinja files)
		}
		out := pyTemplate(src)
		if !strings.Contains(src, "{") && out != src {
			t.Fatalf("%q rewritten to %q", src, out)
		}
		if _, err := jinja.Compile(src); err == nil {
			if _, err := jinja.Compile(out); err != nil {
				t.Fatalf("%q compiles but its rewrite %q does not: %v", src, out, err)
			}
		}
	})
}
