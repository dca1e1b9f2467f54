package tokenizer

import (
	"runtime"
	"slices"
	"strings"
	"testing"
)

// runTokenizers are the tokenizers the run tests use: the demo model's (byte-level BPE),
// and Llama 3, Qwen3 and Llama 2 (SentencePiece-style), whose subtests skip when npm has
// not installed them.
var runTokenizers = []string{"demo", "llama3", "qwen3", "llama2"}

// forRunTokenizers runs f in a subtest per tokenizer of runTokenizers.
func forRunTokenizers(t *testing.T, f func(t *testing.T, name string, tk *Tokenizer)) {
	for _, name := range runTokenizers {
		t.Run(name, func(t *testing.T) {
			if name != "demo" {
				f(t, name, refTokenizer(t, name))
				return
			}
			tk, err := Load("../../internal/demo/model")
			if err != nil {
				t.Fatal(err)
			}
			f(t, name, tk)
		})
	}
}

// TestRunsEncodeAsWholes: words that repeat one symbol (runs of spaces, line breaks,
// tabs, letters, dashes) encode in blocks exactly as BPE encodes them whole, at every
// length around the block boundaries.
func TestRunsEncodeAsWholes(t *testing.T) {
	forRunTokenizers(t, func(t *testing.T, name string, tk *Tokenizer) {
		m := tk.model
		B := m.runBlock
		for _, unit := range []string{" ", "\n", "\t", "a", "-", "0", "é"} {
			for _, raw := range []bool{false, true} {
				if raw && (!m.rawOK || len(unit) != 1) {
					continue
				}
				w := unit
				if !raw && m.rawOK {
					w = byteLevelString(unit) // what a byte-level pipeline that is not raw sees
				}
				for _, n := range []int{3 * B, 3*B + 1, 3*B + 7, 4*B - 1, 4 * B, 5*B + B/3, 7*B + 5} {
					word := strings.Repeat(w, n)
					got := m.encodeWord(nil, word, raw)
					want := m.encodeWhole(nil, word, raw)
					if !slices.Equal(got, want) {
						t.Fatalf("%d × %q (raw %v): blocked encoding differs from the whole one", n, unit, raw)
					}
				}
			}
		}
	})
}

// TestLongWhitespaceLinearMemory: 4 MB of spaces (or line breaks) tokenize with at most
// tens of bytes of allocation per input byte (most of it the ids), not the hundreds the
// whole-word merge heap took (50 MB of spaces took 6.8 GB), and decode back.
func TestLongWhitespaceLinearMemory(t *testing.T) {
	const size = 4 << 20
	forRunTokenizers(t, func(t *testing.T, name string, tk *Tokenizer) {
		for _, text := range []string{strings.Repeat(" ", size), strings.Repeat("\n", size), "x" + strings.Repeat(" ", size) + "y"} {
			runtime.GC()
			var a, b runtime.MemStats
			runtime.ReadMemStats(&a)
			ids := tk.Encode(text, false)
			runtime.ReadMemStats(&b)
			if perByte := float64(b.TotalAlloc-a.TotalAlloc) / float64(len(text)); perByte > 64 {
				t.Errorf("%q...: %.0f bytes allocated per input byte", text[:2], perByte)
			}
			if name != "llama2" && tk.Decode(ids, false) != text { // Llama 2 adds a leading space
				t.Errorf("%q...: decode(encode(x)) != x", text[:2])
			}
		}
	})
}
