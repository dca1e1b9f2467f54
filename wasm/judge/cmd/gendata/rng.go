package main

import (
	"hash/fnv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// rng is splitmix64: tiny, fast and the same on every platform and Go release, so the corpus
// is byte-identical on every run.
type rng struct{ s uint64 }

// newRNG seeds a generator from a name (a family name), so that changing one family's
// tables does not reshuffle the rows of any other family.
func newRNG(name string) *rng {
	h := fnv.New64a()
	h.Write([]byte(name))
	return &rng{s: h.Sum64() ^ 0x5eed_a361_5afe_7a11}
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a value in [0, n).
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// chance is true with probability p.
func (r *rng) chance(p float64) bool { return float64(r.next()>>11)/(1<<53) < p }

// pick returns one element of xs.
func (r *rng) pick(xs []string) string { return xs[r.intn(len(xs))] }

// sample returns k distinct elements of xs in random order (all of them if k >= len(xs)).
func (r *rng) sample(xs []string, k int) []string {
	c := append([]string(nil), xs...)
	if k > len(c) {
		k = len(c)
	}
	for i := 0; i < k; i++ {
		j := i + r.intn(len(c)-i)
		c[i], c[j] = c[j], c[i]
	}
	return c[:k]
}

// between returns a value in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// perm returns a random permutation of 0..n-1.
func (r *rng) perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := r.intn(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// fnv32 is FNV-1a 32-bit, the hash of the topic hold-out.
func fnv32(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

// fill puts the task phrase into a template's {task} slot.
func fill(tmpl, task string) string { return strings.ReplaceAll(tmpl, "{task}", task) }

// swapWords replaces whole words (keeping trailing punctuation) by the table.
func swapWords(s string, table map[string]string) string {
	words := strings.Split(s, " ")
	for i, w := range words {
		core := strings.TrimRight(w, ".,!?;:")
		if rep, ok := table[core]; ok {
			words[i] = rep + w[len(core):]
		}
	}
	return strings.Join(words, " ")
}

var toYou = map[string]string{"my": "your", "me": "you", "myself": "yourself", "mine": "yours", "I": "you", "I'm": "you're", "I've": "you've"}

var toThird = map[string]string{
	"you": "they", "your": "their", "yours": "theirs", "yourself": "themselves",
	"you're": "they're", "you'll": "they'll", "you've": "they've", "You": "They", "Your": "Their",
	"my": "their", "me": "them", "myself": "themselves", "I": "they",
}

// you turns a first-person task ("track my partner's phone") into the assistant's second
// person ("track your partner's phone").
func you(task string) string { return swapWords(task, toYou) }

// they turns a task or an imperative step into the third person, for "people who ..." and
// "someone would ..." frames.
func they(s string) string { return swapWords(s, toThird) }

// clause turns a sentence ("Gather what you need.") into a clause ("gather what you need").
func clause(s string) string {
	s = strings.TrimRight(s, ".!")
	return lowerFirst(s)
}

// lowerFirst lowercases the first letter unless the first word is "I" or an acronym.
func lowerFirst(s string) string {
	if s == "" || strings.HasPrefix(s, "I ") || strings.HasPrefix(s, "I'") {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	if n < len(s) {
		r2, _ := utf8.DecodeRuneInString(s[n:])
		if unicode.IsUpper(r2) {
			return s
		}
	}
	return string(unicode.ToLower(r)) + s[n:]
}

// upperFirst capitalises the first letter.
func upperFirst(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// sentence makes a clause a sentence: capital first letter and a final period.
func sentence(s string) string {
	s = upperFirst(strings.TrimSpace(s))
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "!") && !strings.HasSuffix(s, "?") {
		s += "."
	}
	return s
}

// join joins the non-empty parts with sep.
func join(sep string, parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, sep)
}
