package tokenizer

import (
	"strconv"
	"strings"
)

// decoder turns token texts back into text pieces, HF's decode_chain.
type decoder interface{ chain(toks []string) []string }

type byteLevelDec struct{}

func (byteLevelDec) chain(toks []string) []string {
	var b []byte
	for _, t := range toks {
		if raw, ok := unByteLevel(t); ok {
			b = append(b, raw...)
		} else {
			b = append(b, t...)
		}
	}
	return []string{lossyUTF8(b)}
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
