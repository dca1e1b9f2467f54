package tokenizer

import (
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
// automaton (MatchKind::LeftmostLongest) does, then applies the tokens' flags. It walks a
// byte trie from each position where some token could start.
type addedMatcher struct {
	first [256]bool
	nodes []trieNode
	any   bool
}

type trieNode struct {
	edges []trieEdge
	tok   *addedToken // a token ends here
}

type trieEdge struct {
	b    byte
	next int32
}

func newAddedMatcher(toks []*addedToken) *addedMatcher {
	m := &addedMatcher{nodes: []trieNode{{}}}
	for _, t := range toks {
		if t.Content == "" {
			continue
		}
		m.first[t.Content[0]] = true
		m.any = true
		n := int32(0)
	bytes:
		for i := 0; i < len(t.Content); i++ {
			c := t.Content[i]
			for _, e := range m.nodes[n].edges {
				if e.b == c {
					n = e.next
					continue bytes
				}
			}
			m.nodes = append(m.nodes, trieNode{})
			next := int32(len(m.nodes) - 1)
			m.nodes[n].edges = append(m.nodes[n].edges, trieEdge{c, next})
			n = next
		}
		if m.nodes[n].tok == nil { // the first of duplicate contents wins
			m.nodes[n].tok = t
		}
	}
	return m
}

// longestAt returns the longest token that s[i:] starts with.
func (m *addedMatcher) longestAt(s string, i int) *addedToken {
	var best *addedToken
	n := int32(0)
walk:
	for ; i < len(s); i++ {
		for _, e := range m.nodes[n].edges {
			if e.b == s[i] {
				n = e.next
				if t := m.nodes[n].tok; t != nil {
					best = t
				}
				continue walk
			}
		}
		break
	}
	return best
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
		if !m.first[s[i]] {
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
