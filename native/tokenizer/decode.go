package tokenizer

import (
	"strconv"
	"strings"
)

// decoder turns token texts back into text pieces, HF's decode_chain.
type decoder interface{ chain(toks []string) []string }

type byteLevelDec struct{}

func (byteLevelDec) chain(toks []string) []string { return []string{lossyUTF8(byteLevelBytes(toks))} }

// byteLevelBytes maps byte-level token texts back to their raw bytes; a text that is not
// byte-level passes through.
func byteLevelBytes(toks []string) []byte {
	var b []byte
	for _, t := range toks {
		if raw, ok := unByteLevel(t); ok {
			b = append(b, raw...)
		} else {
			b = append(b, t...)
		}
	}
	return b
}

type replaceDec struct{ pat, content string }

func (d replaceDec) chain(toks []string) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t
		if d.pat != "" {
			out[i] = strings.ReplaceAll(t, d.pat, d.content)
		}
	}
	return out
}

// byteFallbackDec joins runs of <0xNN> tokens into text; an invalid run becomes one
// U+FFFD per byte, as HF does.
type byteFallbackDec struct{}

func (byteFallbackDec) chain(toks []string) []string {
	var out []string
	var pend []byte
	flush := func() {
		if len(pend) == 0 {
			return
		}
		if s := string(pend); strings.ToValidUTF8(s, "\x00\x00") == s {
			out = append(out, s)
		} else {
			for range pend {
				out = append(out, "\uFFFD")
			}
		}
		pend = pend[:0]
	}
	for _, t := range toks {
		if len(t) == 6 && strings.HasPrefix(t, "<0x") && t[5] == '>' {
			if v, err := strconv.ParseUint(t[3:5], 16, 8); err == nil {
				pend = append(pend, byte(v))
				continue
			}
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out
}

type fuseDec struct{}

func (fuseDec) chain(toks []string) []string { return []string{strings.Join(toks, "")} }

// stripDec removes up to start leading and stop trailing copies of content from each token.
type stripDec struct {
	content     rune
	start, stop int
}

func (d stripDec) chain(toks []string) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		rs := []rune(t)
		a := 0
		for a < d.start && a < len(rs) && rs[a] == d.content {
			a++
		}
		b := len(rs)
		for k := 0; k < d.stop && b > a && rs[b-1] == d.content; k++ {
			b--
		}
		out[i] = string(rs[a:b])
	}
	return out
}

// metaspaceDec turns the replacement back into spaces; in the first token HF drops every
// replacement instead (unless prepend_scheme is "never").
type metaspaceDec struct {
	repl     rune
	stripOne bool
}

func (d metaspaceDec) chain(toks []string) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		if i == 0 && d.stripOne {
			out[i] = strings.ReplaceAll(t, string(d.repl), "")
		} else {
			out[i] = strings.ReplaceAll(t, string(d.repl), " ")
		}
	}
	return out
}

type sequenceDec []decoder

func (q sequenceDec) chain(toks []string) []string {
	for _, d := range q {
		toks = d.chain(toks)
	}
	return toks
}

// TokenBytes returns the bytes token id adds to a decoded text, for per-token output such
// as log-probabilities: the decoder chain applied to the token alone, with byte-level and
// byte-fallback tokens kept as their raw bytes (a token holding part of a UTF-8 character
// gives that part, not U+FFFD). first says the token begins the text, where metaspace
// and strip decoders drop a leading space; elsewhere the token keeps it. Special added
// tokens give their text. An unknown id gives nil.
//
// Concatenated in order (the first with first set), the bytes of a sequence's tokens are
// Decode of the sequence (without skipping special tokens) when that is valid UTF-8.
func (t *Tokenizer) TokenBytes(id int32, first bool) []byte {
	var tok string
	if a, ok := t.byID[id]; ok {
		tok = a.Content
	} else if id >= 0 && int(id) < len(t.model.tokens) && t.model.tokens[id] != "" {
		tok = t.model.tokens[id]
	} else {
		return nil
	}
	if t.dec == nil {
		return []byte(tok)
	}
	return []byte(strings.Join(rawChain(t.dec, []string{tok}, first), ""))
}

// rawChain is d.chain for TokenBytes: bytes stay raw, and the start-of-text rules apply
// only when first is set.
func rawChain(d decoder, toks []string, first bool) []string {
	switch d := d.(type) {
	case sequenceDec:
		for _, x := range d {
			toks = rawChain(x, toks, first)
		}
		return toks
	case byteLevelDec:
		return []string{string(byteLevelBytes(toks))}
	case byteFallbackDec:
		out := make([]string, len(toks))
		for i, t := range toks {
			out[i] = t
			if len(t) == 6 && strings.HasPrefix(t, "<0x") && t[5] == '>' {
				if v, err := strconv.ParseUint(t[3:5], 16, 8); err == nil {
					out[i] = string([]byte{byte(v)})
				}
			}
		}
		return out
	case metaspaceDec:
		if !first {
			d.stripOne = false
		}
		return d.chain(toks)
	case stripDec:
		if !first {
			return toks
		}
		d.stop = 0
		return d.chain(toks)
	}
	return d.chain(toks)
}
