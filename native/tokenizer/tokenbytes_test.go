package tokenizer

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

// TestTokenBytes: a sequence's token bytes, the first with first set, join to its
// decoding, and a token that holds part of a character gives its raw bytes (a byte-level
// vocabulary here, the byte-fallback metaspace one of Llama 2 when installed).
func TestTokenBytes(t *testing.T) {
	text := "naïve café 日本語 🙂 ok, the end"
	check := func(t *testing.T, tok *Tokenizer, text string) {
		ids := tok.Encode(text, false)
		var joined []byte
		partial := 0
		for i, id := range ids {
			b := tok.TokenBytes(id, i == 0)
			if !utf8.Valid(b) {
				partial++
			}
			joined = append(joined, b...)
		}
		if want := tok.Decode(ids, false); string(joined) != want {
			t.Fatalf("token bytes join to %q, Decode gives %q", joined, want)
		}
		if partial == 0 {
			t.Fatalf("no token of %q holds part of a character; the test needs one", text)
		}
		if b := tok.TokenBytes(int32(tok.VocabSize()+5), false); b != nil {
			t.Errorf("unknown id: %q", b)
		}
	}
	t.Run("bytelevel", func(t *testing.T) {
		tok := demoTok(t)
		check(t, tok, text)
		e := tok.Encode("é", false)
		if got := append(tok.TokenBytes(e[0], true), tok.TokenBytes(e[1], false)...); len(e) != 2 || !bytes.Equal(got, []byte("é")) {
			t.Fatalf("é as %v gives %q", e, got)
		}
	})
	t.Run("llama2", func(t *testing.T) {
		tok := refTokenizer(t, "llama2")
		check(t, tok, text+" ☃𝄞")
		// A word inside the text keeps its leading space; at the start the decoder drops it.
		ids := tok.Encode("hello world", false)
		if first, mid := tok.TokenBytes(ids[0], true), tok.TokenBytes(ids[0], false); len(first) == 0 || string(mid) != " "+string(first) {
			t.Fatalf("first %q, mid %q", first, mid)
		}
	})
}
