package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// piece is a part of the text on its way to the model. orig is where it starts in the
// input (used by Metaspace's prepend_scheme "first"); raw marks text that the byte-level
// pre-tokenizer has claimed: the model reads its bytes through the byte-level alphabet.
type piece struct {
	s    string
	orig int
	raw  bool
}

// preTokenizer splits one piece, appending the results to dst.
type preTokenizer interface {
	split(dst []piece, p piece) []piece
}

// materialize turns a raw piece into the byte-level text a later stage expects.
func materialize(p piece) piece {
	if p.raw {
		p.s, p.raw = byteLevelString(p.s), false
	}
	return p
}

func emitSpans(dst []piece, p piece, spans []span, b splitBehavior) []piece {
	splitSpans(spans, b, func(start, end int) {
		dst = append(dst, piece{s: p.s[start:end], orig: p.orig + start, raw: p.raw})
	})
	return dst
}

// matchSpans lists the matches of m in s and the gaps between them, HF's find_matches.
func matchSpans(s string, m matcher, invert bool) []span {
	var spans []span
	prev := 0
	for i := 0; i <= len(s); {
		a, b := m.next(s, i)
		if a < 0 {
			break
		}
		if a > prev {
			spans = append(spans, span{prev, a, invert})
		}
		spans = append(spans, span{a, b, !invert})
		prev, i = b, b
	}
	if prev < len(s) {
		spans = append(spans, span{prev, len(s), invert})
	}
	return spans
}

// charSpans makes every rune satisfying pred a match of its own.
func charSpans(s string, pred func(rune) bool) []span {
	var spans []span
	prev := 0
	for i, r := range s {
		if pred(r) {
			if i > prev {
				spans = append(spans, span{prev, i, false})
			}
			n := utf8.RuneLen(r)
			if r == utf8.RuneError {
				_, n = utf8.DecodeRuneInString(s[i:])
			}
			spans = append(spans, span{i, i + n, true})
			prev = i + n
		}
	}
	if prev < len(s) {
		spans = append(spans, span{prev, len(s), false})
	}
	return spans
}

// splitPre is HF's Split pre-tokenizer.
type splitPre struct {
	m        matcher
	behavior splitBehavior
	invert   bool
}

func (q splitPre) split(dst []piece, p piece) []piece {
	p = materialize(p)
	if q.behavior == splitIsolated && !q.invert {
		// The common case, without building the span list.
		prev := 0
		for i := 0; i <= len(p.s); {
			a, b := q.m.next(p.s, i)
			if a < 0 {
				break
			}
			if a > prev {
				dst = append(dst, piece{p.s[prev:a], p.orig + prev, false})
			}
			dst = append(dst, piece{p.s[a:b], p.orig + a, false})
			prev, i = b, b
		}
		if prev < len(p.s) {
			dst = append(dst, piece{p.s[prev:], p.orig + prev, false})
		}
		return dst
	}
	return emitSpans(dst, p, matchSpans(p.s, q.m, q.invert), q.behavior)
}

// byteLevelPre is HF's ByteLevel pre-tokenizer: an optional prefix space, the GPT-2
// split when use_regex, then every byte becomes a rune of the byte-level alphabet (done
// lazily: the pieces are marked raw).
type byteLevelPre struct{ addPrefixSpace, useRegex bool }

func (q byteLevelPre) split(dst []piece, p piece) []piece {
	if p.raw {
		return append(dst, p)
	}
	if q.addPrefixSpace && !strings.HasPrefix(p.s, " ") {
		p.s = " " + p.s
	}
	p.raw = true
	if !q.useRegex {
		return append(dst, p)
	}
	var sc gpt2Scanner
	for i := 0; i < len(p.s); {
		a, b := sc.next(p.s, i)
		dst = append(dst, piece{p.s[a:b], p.orig + a, true})
		i = b
	}
	return dst
}

// metaspacePre is HF's Metaspace pre-tokenizer.
type metaspacePre struct {
	repl    rune
	prepend string // "always", "first" or "never"
	splitOn bool
}

func (q metaspacePre) split(dst []piece, p piece) []piece {
	p = materialize(p)
	rs := string(q.repl)
	s := strings.ReplaceAll(p.s, " ", rs)
	if !strings.HasPrefix(s, rs) && (q.prepend == "always" || (q.prepend == "first" && p.orig == 0)) {
		s = rs + s
	}
	np := piece{s: s, orig: p.orig}
	if !q.splitOn {
		return append(dst, np)
	}
	return emitSpans(dst, np, charSpans(s, func(r rune) bool { return r == q.repl }), splitMergedWithNext)
}

// digitsPre is HF's Digits pre-tokenizer (Rust's char::is_numeric: any Unicode number).
type digitsPre struct{ individual bool }

func (q digitsPre) split(dst []piece, p piece) []piece {
	p = materialize(p)
	b := splitContiguous
	if q.individual {
		b = splitIsolated
	}
	return emitSpans(dst, p, charSpans(p.s, unicode.IsNumber), b)
}

// whitespaceSplitPre is HF's WhitespaceSplit: split on white space, dropping it.
type whitespaceSplitPre struct{}

func (whitespaceSplitPre) split(dst []piece, p piece) []piece {
	p = materialize(p)
	return emitSpans(dst, p, charSpans(p.s, unicode.IsSpace), splitRemoved)
}

// sequencePre runs pre-tokenizers in turn over all pieces.
type sequencePre []preTokenizer

func (q sequencePre) split(dst []piece, p piece) []piece {
	cur := []piece{p}
	var next []piece
	for _, st := range q {
		next = next[:0]
		for _, c := range cur {
			next = st.split(next, c)
		}
		cur, next = next, cur
	}
	return append(dst, cur...)
}

// fastSplit is a pre-tokenizer that only cuts text with one isolating matcher, optionally
// followed by the byte-level mapping: GPT-2's ByteLevel, or Llama-3's and Qwen2's
// Sequence[Split, ByteLevel]. It feeds words to the model without building pieces.
type fastSplit struct {
	m   matcher
	raw bool
}

func fastPath(p preTokenizer) *fastSplit {
	switch q := p.(type) {
	case byteLevelPre:
		if !q.addPrefixSpace && q.useRegex {
			return &fastSplit{gpt2Scanner{}, true}
		}
	case splitPre:
		if q.behavior == splitIsolated && !q.invert {
			return &fastSplit{q.m, false}
		}
	case sequencePre:
		if len(q) != 2 {
			return nil
		}
		sp, ok1 := q[0].(splitPre)
		bl, ok2 := q[1].(byteLevelPre)
		if ok1 && ok2 && sp.behavior == splitIsolated && !sp.invert && !bl.addPrefixSpace && !bl.useRegex {
			return &fastSplit{sp.m, true}
		}
	}
	return nil
}

func (f *fastSplit) encode(dst []int32, m *bpe, s string) []int32 {
	prev := 0
	for i := 0; i < len(s); {
		a, b := f.m.next(s, i)
		if a < 0 {
			break
		}
		if a > prev {
			dst = m.appendWord(dst, s[prev:a], f.raw)
		}
		dst = m.appendWord(dst, s[a:b], f.raw)
		prev, i = b, b
	}
	if prev < len(s) {
		dst = m.appendWord(dst, s[prev:], f.raw)
	}
	return dst
}
