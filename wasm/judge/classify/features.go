package classify

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Dim is the number of hashed feature buckets (a power of two).
const Dim = 1 << 18

// The feature groups. Each group is pooled (averaged) on its own, so a long answer's body
// cannot drown its opening, and the network sees where a word stands.
const (
	GroupPrompt   = iota // the request's words and subwords
	GroupLead            // the response's first leadWords words: "I can't", "Sure, here is"
	GroupHead            // its first headWords words: refusals and compliance openings
	GroupBody            // the words between the head and the end
	GroupEnd             // the last endWords words: closers ("let me know...", help lines)
	GroupShape           // layout: lists, code, headers, length
	GroupCategory        // the caller's category hint, alone so that nothing dilutes it
	NumGroups
)

const (
	leadWords = 10
	headWords = 40
	endWords  = 20
	// maxWords bounds the work per sample: longer responses keep their first
	// maxWords-endWords words and their last endWords.
	maxWords = 600
)

// Feature is one hashed feature occurrence: its bucket and the group it belongs to.
type Feature struct {
	Bucket uint32
	Group  uint8
}

// Features returns the hashed features of a (prompt, response) pair; category is the
// caller's category hint ("" when unknown). The same code runs in the trainer and in the
// module, so both see identical buckets.
func Features(prompt, response, category string) []Feature {
	pw := Words(prompt)
	if len(pw) > maxWords {
		pw = pw[:maxWords]
	}
	rw := Words(response)
	f := make([]Feature, 0, 12*(len(pw)+len(rw)+headWords)+16)
	if len(rw) > maxWords {
		rw = append(rw[:maxWords-endWords:maxWords-endWords], rw[len(rw)-endWords:]...)
	}
	f = addWords(f, GroupPrompt, "p", pw)
	h := min(headWords, len(rw))
	e := max(h, len(rw)-endWords)
	f = addWords(f, GroupLead, "l", rw[:min(leadWords, h)])
	f = addWords(f, GroupHead, "h", rw[:h])
	f = addWords(f, GroupBody, "b", rw[h:e])
	f = addWords(f, GroupEnd, "e", rw[e:])
	for _, s := range shape(response, len(rw)) {
		f = append(f, Feature{bucket("s", s, ""), GroupShape})
	}
	if category == "" {
		category = "none"
	}
	f = append(f, Feature{bucket("cat", category, ""), GroupCategory})
	return f
}

// addWords adds each word, each pair of neighbouring words, and the character 3- and
// 4-grams of each word with boundary marks (fastText's subwords: unseen inflections and
// typos still share buckets with known words).
func addWords(f []Feature, g uint8, ns string, ws []string) []Feature {
	h0 := fnvString(fnvOffset, ns)
	hs := fnvString(fnvOffset, ns+"#")
	var runes []int // byte offsets of the runes of a word, and its length
	for i, w := range ws {
		f = append(f, Feature{pair(h0, w, ""), g})
		if i > 0 {
			f = append(f, Feature{pair(h0, ws[i-1], w), g})
		}
		runes = runes[:0]
		for j := range w {
			runes = append(runes, j)
		}
		if len(runes)+2 <= 4 { // short words are their own feature already
			continue
		}
		runes = append(runes, len(w))
		f = addSubwords(f, g, hs, w, runes)
	}
	return f
}

// addSubwords adds the n-grams (n = 3, 4) of "<" + w + ">" without building them:
// runes holds the byte offset of each rune of w and then len(w); position 0 of the
// marked word is "<" and position len(runes) is ">".
func addSubwords(f []Feature, g uint8, hs uint32, w string, runes []int) []Feature {
	m := len(runes) + 1 // runes of the marked word
	for n := 3; n <= 4; n++ {
		for i := 0; i+n <= m; i++ {
			h := fnvByte(hs, 1)
			lo, hi := i-1, i+n-1 // rune range of w covered, in w's rune indices
			if lo < 0 {
				h, lo = fnvByte(h, '<'), 0
			}
			end := hi >= len(runes)
			if end {
				hi = len(runes) - 1
			}
			h = fnvString(h, w[runes[lo]:runes[hi]])
			if end {
				h = fnvByte(h, '>')
			}
			f = append(f, Feature{fnvByte(h, 0) & (Dim - 1), g})
		}
	}
	return f
}

// shape describes the response's layout: length, lines, lists, code, headers, emphasis.
func shape(response string, nwords int) []string {
	s := []string{"len" + logClass(nwords)}
	if strings.TrimSpace(response) == "" {
		return append(s, "empty")
	}
	lines, numbered, bullets, headers := 0, 0, 0, 0
	for _, l := range strings.Split(response, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		lines++
		switch {
		case strings.HasPrefix(l, "#"):
			headers++
		case strings.HasPrefix(l, "- "), strings.HasPrefix(l, "* "), strings.HasPrefix(l, "• "):
			bullets++
		case len(l) > 1 && l[0] >= '0' && l[0] <= '9' && strings.ContainsAny(l[1:min(4, len(l))], ".)"):
			numbered++
		}
	}
	s = append(s, "lines"+logClass(lines), "numbered"+logClass(numbered), "bullets"+logClass(bullets), "headers"+logClass(headers))
	if strings.Contains(response, "```") {
		s = append(s, "code")
	}
	if strings.Contains(response, "**") {
		s = append(s, "bold")
	}
	return s
}

// logClass buckets a count: 0, 1, 2-3, 4-7, ... .
func logClass(n int) string {
	c := 0
	for n > 0 {
		c++
		n >>= 1
	}
	return string(rune('a' + min(c, 12)))
}

// Words lowercases text and splits it into words: runs of letters, digits and
// apostrophes; each Han, Hiragana or Katakana character is a word of its own (those
// scripts do not separate words with spaces, and their pairs become the bigrams).
func Words(s string) []string {
	s = strings.ToLower(s)
	var ws []string
	start := -1
	flush := func(i int) {
		if start >= 0 {
			ws = append(ws, s[start:i])
			start = -1
		}
	}
	for i, r := range s {
		switch {
		case r < utf8.RuneSelf: // ASCII, most of the text: no table look-ups
			if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '\'' || 'A' <= r && r <= 'Z' {
				if start < 0 {
					start = i
				}
			} else {
				flush(i)
			}
		case isCJK(r):
			flush(i)
			ws = append(ws, s[i:i+utf8.RuneLen(r)])
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '’' || unicode.Is(unicode.Mn, r):
			if start < 0 {
				start = i
			}
		default:
			flush(i)
		}
	}
	flush(len(s))
	for i, w := range ws {
		if strings.ContainsRune(w, '’') {
			ws[i] = strings.ReplaceAll(w, "’", "'")
		}
	}
	return ws
}

func isCJK(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r)
}

// bucket hashes a namespaced feature (ns, a, b) with FNV-1a, identical in native and
// wasm builds.
func bucket(ns, a, b string) uint32 { return pair(fnvString(fnvOffset, ns), a, b) }

// pair finishes the hash of a feature whose namespace is already hashed into h.
func pair(h uint32, a, b string) uint32 {
	h = fnvString(fnvByte(h, 1), a)
	return fnvString(fnvByte(h, 0), b) & (Dim - 1)
}

const fnvOffset = 2166136261

func fnvByte(h uint32, c byte) uint32 { return (h ^ uint32(c)) * 16777619 }

func fnvString(h uint32, s string) uint32 {
	i := 0
	for ; i+4 <= len(s); i += 4 { // unrolled for the sandbox (see Model.Forward)
		h = (h ^ uint32(s[i])) * 16777619
		h = (h ^ uint32(s[i+1])) * 16777619
		h = (h ^ uint32(s[i+2])) * 16777619
		h = (h ^ uint32(s[i+3])) * 16777619
	}
	for ; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}
