package tokenizer

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// addedToken is an entry of tokenizer.json's added_tokens.
type addedToken struct {
	ID         int32  `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// addedMatcher finds added tokens in text leftmost-longest, as HF's Aho-Corasick
// automaton (MatchKind::LeftmostLongest) does, then applies the tokens' flags.
type addedMatcher struct {
	first [256][]*addedToken // candidates by first byte, longest first
	any   bool
}

func newAddedMatcher(toks []*addedToken) *addedMatcher {
	m := &addedMatcher{}
	for _, t := range toks {
		if t.Content == "" {
			continue
		}
		m.first[t.Content[0]] = append(m.first[t.Content[0]], t)
		m.any = true
	}
	for i := range m.first {
		sort.SliceStable(m.first[i], func(a, b int) bool { return len(m.first[i][a].Content) > len(m.first[i][b].Content) })
	}
	return m
}

// longestAt returns the longest token that s[i:] starts with.
func (m *addedMatcher) longestAt(s string, i int) *addedToken {
	for _, t := range m.first[s[i]] {
		if strings.HasPrefix(s[i:], t.Content) {
			return t
		}
	}
	return nil
}

// split cuts p into pieces and added tokens; it calls text for each stretch of plain text
// and tok for each added token found, in order.
func (m *addedMatcher) split(p piece, text func(piece), tok func(*addedToken)) {
	s := p.s
	if !m.any {
		text(p)
		return
	}
	startOff := 0
	for i := 0; i < len(s); {
		if m.first[s[i]] == nil {
			i++
			continue
		}
		t := m.longestAt(s, i)
		if t == nil {
			i++
			continue
		}
		start, stop := i, i+len(t.Content)
		i = stop // the automaton resumes after a match, even one that the flags reject
		if t.SingleWord {
			r, _ := utf8.DecodeLastRuneInString(s[:start])
			startOK := start == 0 || !isAlnum(r)
			r2, _ := utf8.DecodeRuneInString(s[stop:])
			stopOK := stop == len(s) || !isAlnum(r2)
			if !startOK || !stopOK {
				continue
			}
		}
		if t.LStrip {
			ns := len(strings.TrimRightFunc(s[:start], unicode.IsSpace))
			start = max(ns, startOff)
		}
		if t.RStrip {
			stop += len(s[stop:]) - len(strings.TrimLeftFunc(s[stop:], unicode.IsSpace))
			i = max(i, stop)
		}
		if startOff < start {
			text(piece{s: s[startOff:start], orig: p.orig + startOff})
		}
		tok(t)
		startOff = stop
	}
	if startOff < len(s) {
		text(piece{s: s[startOff:], orig: p.orig + startOff})
	}
}

// isAlnum is Rust's char::is_alphanumeric.
func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }
