package tokenizer

import (
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// normalizer rewrites a piece of text before pre-tokenization.
type normalizer interface{ normalize(s string) string }

type unicodeNorm struct{ f norm.Form }

func (n unicodeNorm) normalize(s string) string { return n.f.String(s) }

type lowercaseNorm struct{}

func (lowercaseNorm) normalize(s string) string { return strings.ToLower(s) }

type stripNorm struct{ left, right bool }

func (n stripNorm) normalize(s string) string {
	if n.left {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
	}
	if n.right {
		s = strings.TrimRightFunc(s, unicode.IsSpace)
	}
	return s
}

type prependNorm string

func (n prependNorm) normalize(s string) string {
	if s == "" {
		return s
	}
	return string(n) + s
}

type replaceNorm struct {
	lit, content string
	re           *regexp.Regexp
}

func (n replaceNorm) normalize(s string) string {
	if n.re != nil {
		return n.re.ReplaceAllLiteralString(s, n.content)
	}
	if n.lit == "" {
		return s
	}
	return strings.ReplaceAll(s, n.lit, n.content)
}

type sequenceNorm []normalizer

func (q sequenceNorm) normalize(s string) string {
	for _, n := range q {
		s = n.normalize(s)
	}
	return s
}
