package tokenizer

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The split patterns of the three tokenizer families. They use lookahead (\s+(?!\S)),
// which RE2 lacks, so they run through hand-written scanners that make the same choices
// as the backtracking engine (Oniguruma) HF uses.
const (
	patGPT2   = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
	patLlama3 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	patQwen2  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// matcher finds the non-overlapping matches of a pattern, left to right.
type matcher interface {
	// next returns the first match at or after i, or start < 0 when there is none.
	next(s string, i int) (start, end int)
}

const (
	clsOther uint8 = iota
	clsLetter
	clsNumber
	clsSpace
)

var asciiClass [128]uint8

func init() {
	for r := rune(0); r < 128; r++ {
		asciiClass[r] = classify(r)
	}
}

func classify(r rune) uint8 {
	switch {
	case unicode.IsLetter(r):
		return clsLetter
	case unicode.IsNumber(r):
		return clsNumber
	case unicode.IsSpace(r): // Unicode White_Space, as Oniguruma's \s
		return clsSpace
	}
	return clsOther
}

// runeAt decodes the rune at i with its class and size.
func runeAt(s string, i int) (rune, uint8, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		return rune(c), asciiClass[c], 1
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	return r, classify(r), n
}

// runEnd returns the end of the run of runes of class cls starting at i.
func runEnd(s string, i int, cls uint8) int {
	for i < len(s) {
		_, c, n := runeAt(s, i)
		if c != cls {
			break
		}
		i += n
	}
	return i
}

// contraction returns the length of 's 't 're 've 'm 'll 'd at the start of s (after the
// quote), or 0; fold makes it ASCII case-insensitive.
func contraction(s string, fold bool) int {
	lower := func(c byte) byte {
		if fold && c >= 'A' && c <= 'Z' {
			return c + 32
		}
		return c
	}
	if len(s) == 0 {
		return 0
	}
	switch lower(s[0]) {
	case 's', 't', 'm', 'd':
		return 1
	case 'r', 'v':
		if len(s) > 1 && lower(s[1]) == 'e' {
			return 2
		}
	case 'l':
		if len(s) > 1 && lower(s[1]) == 'l' {
			return 2
		}
	}
	return 0
}

// spaceTail handles the trailing alternatives \s+(?!\S)|\s+ for a white-space run
// starting at i: the whole run at the end of the text, else all but its last rune when
// that leaves at least one, else the run.
func spaceTail(s string, i int) int {
	e := runEnd(s, i, clsSpace)
	if e == len(s) {
		return e
	}
	_, last := utf8.DecodeLastRuneInString(s[i:e])
	if e-last > i {
		return e - last
	}
	return e
}

// gpt2Scanner matches patGPT2.
type gpt2Scanner struct{}

func (gpt2Scanner) next(s string, i int) (int, int) {
	if i >= len(s) {
		return -1, -1
	}
	r, c, n := runeAt(s, i)
	if r == '\'' {
		if l := contraction(s[i+1:], false); l > 0 {
			return i, i + 1 + l
		}
	}
	if c != clsSpace {
		return i, runEnd(s, i+n, c)
	}
	if r == ' ' && i+1 < len(s) {
		if _, c2, n2 := runeAt(s, i+1); c2 != clsSpace {
			return i, runEnd(s, i+1+n2, c2)
		}
	}
	return i, spaceTail(s, i)
}

// llamaScanner matches patLlama3 (digits 3) and patQwen2 (digits 1).
type llamaScanner struct{ digits int }

func (l llamaScanner) next(s string, i int) (int, int) {
	if i >= len(s) {
		return -1, -1
	}
	r, c, n := runeAt(s, i)
	if r == '\'' {
		if k := contraction(s[i+1:], true); k > 0 {
			return i, i + 1 + k
		}
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if c == clsLetter {
		return i, runEnd(s, i+n, clsLetter)
	}
	if r != '\r' && r != '\n' && c != clsNumber && i+n < len(s) {
		if _, c2, n2 := runeAt(s, i+n); c2 == clsLetter {
			return i, runEnd(s, i+n+n2, clsLetter)
		}
	}
	// \p{N}{1,digits}
	if c == clsNumber {
		j := i + n
		for k := 1; k < l.digits && j < len(s); k++ {
			_, c2, n2 := runeAt(s, j)
			if c2 != clsNumber {
				break
			}
			j += n2
		}
		return i, j
	}
	//  ?[^\s\p{L}\p{N}]+[\r\n]*
	j := i
	if r == ' ' {
		j = i + 1
	}
	if j < len(s) {
		if _, c2, n2 := runeAt(s, j); c2 == clsOther {
			j = runEnd(s, j+n2, clsOther)
			for j < len(s) && (s[j] == '\r' || s[j] == '\n') {
				j++
			}
			return i, j
		}
	}
	// \s*[\r\n]+ : the run up to its last line break
	e := runEnd(s, i, clsSpace)
	if k := strings.LastIndexAny(s[i:e], "\r\n"); k >= 0 {
		return i, i + k + 1
	}
	return i, spaceTail(s, i)
}

// literalMatcher matches a fixed string.
type literalMatcher string

func (m literalMatcher) next(s string, i int) (int, int) {
	if m == "" {
		return -1, -1
	}
	k := strings.Index(s[i:], string(m))
	if k < 0 {
		return -1, -1
	}
	return i + k, i + k + len(m)
}

// regexpMatcher runs a pattern without lookaround through RE2.
type regexpMatcher struct{ re *regexp.Regexp }

func (m regexpMatcher) next(s string, i int) (int, int) {
	for i <= len(s) {
		loc := m.re.FindStringIndex(s[i:])
		if loc == nil {
			return -1, -1
		}
		if loc[1] > loc[0] {
			return i + loc[0], i + loc[1]
		}
		// Empty matches do not split; step past them.
		_, n := utf8.DecodeRuneInString(s[i+loc[0]:])
		i += loc[0] + max(n, 1)
	}
	return -1, -1
}

// newPatternMatcher recognises the known patterns and compiles the others for RE2.
func newPatternMatcher(pat string) (matcher, error) {
	switch pat {
	case patGPT2:
		return gpt2Scanner{}, nil
	case patLlama3:
		return llamaScanner{digits: 3}, nil
	case patQwen2:
		return llamaScanner{digits: 1}, nil
	}
	for _, la := range []string{"(?=", "(?!", "(?<=", "(?<!", "(?>"} {
		if strings.Contains(pat, la) {
			return nil, fmt.Errorf("unsupported Split regex %q (lookaround; only the GPT-2, Llama-3 and Qwen2 patterns are recognised)", pat)
		}
	}
	re, err := regexp.Compile(toRE2(pat))
	if err != nil {
		return nil, fmt.Errorf("unsupported Split regex %q: %v", pat, err)
	}
	return regexpMatcher{re}, nil
}

// toRE2 widens \s and \S to Unicode white space as Oniguruma reads them (RE2's are ASCII).
func toRE2(pat string) string {
	const ws = `\s\x{85}\x{a0}\p{Z}\v`
	var b strings.Builder
	inClass := false
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		if c == '\\' && i+1 < len(pat) {
			switch {
			case pat[i+1] == 's' && inClass:
				b.WriteString(ws)
			case pat[i+1] == 's':
				b.WriteString("[" + ws + "]")
			case pat[i+1] == 'S' && !inClass:
				b.WriteString("[^" + ws + "]")
			default:
				b.WriteString(pat[i : i+2])
			}
			i++
			continue
		}
		if c == '[' && !inClass {
			inClass = true
			b.WriteByte(c)
			if i+1 < len(pat) && pat[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(pat) && pat[i+1] == ']' { // a leading ] is literal
				b.WriteByte(']')
				i++
			}
			continue
		}
		if c == ']' && inClass {
			inClass = false
		}
		b.WriteByte(c)
	}
	return b.String()
}

// splitBehavior is HF's SplitDelimiterBehavior.
type splitBehavior int

const (
	splitRemoved splitBehavior = iota
	splitIsolated
	splitMergedWithPrevious
	splitMergedWithNext
	splitContiguous
)

func parseBehavior(s string) (splitBehavior, bool) {
	switch strings.ToLower(s) {
	case "removed":
		return splitRemoved, true
	case "isolated":
		return splitIsolated, true
	case "merged_with_previous", "mergedwithprevious":
		return splitMergedWithPrevious, true
	case "merged_with_next", "mergedwithnext":
		return splitMergedWithNext, true
	case "contiguous":
		return splitContiguous, true
	}
	return 0, false
}

type span struct {
	start, end int
	match      bool
}

// splitSpans applies a behavior to the (match, gap) spans covering a string and calls
// emit for each non-empty piece, as HF's NormalizedString::split does.
func splitSpans(spans []span, b splitBehavior, emit func(start, end int)) {
	var out []span
	switch b {
	case splitIsolated:
		out = spans
	case splitRemoved:
		for _, sp := range spans {
			if !sp.match {
				out = append(out, sp)
			}
		}
	case splitMergedWithPrevious:
		prev := false
		for _, sp := range spans {
			if sp.match && !prev && len(out) > 0 {
				out[len(out)-1].end = sp.end
			} else {
				out = append(out, sp)
			}
			prev = sp.match
		}
	case splitMergedWithNext:
		prev := false
		for k := len(spans) - 1; k >= 0; k-- {
			sp := spans[k]
			if sp.match && !prev && len(out) > 0 {
				out[len(out)-1].start = sp.start
			} else {
				out = append(out, sp)
			}
			prev = sp.match
		}
		for l, r := 0, len(out)-1; l < r; l, r = l+1, r-1 {
			out[l], out[r] = out[r], out[l]
		}
	case splitContiguous:
		prev := false
		for k, sp := range spans {
			if k > 0 && sp.match == prev {
				out[len(out)-1].end = sp.end
			} else {
				out = append(out, sp)
			}
			prev = sp.match
		}
	}
	for _, sp := range out {
		if sp.end > sp.start {
			emit(sp.start, sp.end)
		}
	}
}
