package tokenizer

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// patternJSON is HF's pattern: {"String": s} or {"Regex": r}.
type patternJSON struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

func buildNormalizer(c *typed) (normalizer, error) {
	if c == nil {
		return nil, nil
	}
	bad := func(err error) (normalizer, error) {
		return nil, fmt.Errorf("normalizer %q: %v", c.Type, err)
	}
	switch c.Type {
	case "NFC":
		return unicodeNorm{norm.NFC}, nil
	case "NFD":
		return unicodeNorm{norm.NFD}, nil
	case "NFKC":
		return unicodeNorm{norm.NFKC}, nil
	case "NFKD":
		return unicodeNorm{norm.NFKD}, nil
	case "Lowercase":
		return lowercaseNorm{}, nil
	case "Strip":
		var v struct {
			L bool `json:"strip_left"`
			R bool `json:"strip_right"`
		}
		if err := c.into(&v); err != nil {
			return bad(err)
		}
		return stripNorm{v.L, v.R}, nil
	case "Prepend":
		var v struct{ Prepend string }
		if err := c.into(&v); err != nil {
			return bad(err)
		}
		return prependNorm(v.Prepend), nil
	case "Replace":
		var v struct {
			Pattern patternJSON
			Content string
		}
		if err := c.into(&v); err != nil {
			return bad(err)
		}
		switch {
		case v.Pattern.String != nil:
			return replaceNorm{lit: *v.Pattern.String, content: v.Content}, nil
		case v.Pattern.Regex != nil:
			re, err := regexp.Compile(toRE2(*v.Pattern.Regex))
			if err != nil {
				return nil, fmt.Errorf("unsupported normalizer \"Replace\" regex %q: %v", *v.Pattern.Regex, err)
			}
			return replaceNorm{re: re, content: v.Content}, nil
		}
		return bad(fmt.Errorf("no pattern"))
	case "Sequence":
		var v struct{ Normalizers []*typed }
		if err := c.into(&v); err != nil {
			return bad(err)
		}
		var q sequenceNorm
		for _, s := range v.Normalizers {
			n, err := buildNormalizer(s)
			if err != nil {
				return nil, err
			}
			if n != nil {
				q = append(q, n)
			}
		}
		return q, nil
	}
	return nil, fmt.Errorf("unsupported normalizer %q", c.Type)
}

// buildPre builds a pre-tokenizer; byteLevel is set when one is ByteLevel.
func buildPre(c *typed, byteLevel *bool) (preTokenizer, error) {
	if c == nil {
		return nil, nil
	}
	bad := func(err error) (preTokenizer, error) {
		return nil, fmt.Errorf("pre_tokenizer %q: %v", c.Type, err)
	}
	switch c.Type {
	case "ByteLevel":
		v := struct {
			AddPrefixSpace bool  `json:"add_prefix_space"`
			UseRegex       *bool `json:"use_regex"`
		}{}
		if err := c.into(&v); err != nil {
			return bad(err)
		}
		*byteLevel = true
		return byteLevelPre{v.AddPrefixSpace, v.UseRegex == nil || *v.UseRegex}, nil
	case "Split":
		var v struct {
			Pattern  patternJSON
			Behavior string
			Invert   bool
		}
		if err := c.into(&v); err != nil {
			return bad(err)
		}
		b, ok := parseBehavior(v.Behavior)
		if !ok {
			return bad(fmt.Errorf("unknown behavior %q", v.Behavior))
		}
		var m matcher
		switch {
		case v.Pattern.String != nil:
			m = literalMatcher(*v.Pattern.String)
		case v.Pattern.Regex != nil:
			var err error
			if m, err = newPatternMatcher(*v.Pattern.Regex); err != nil {
				return nil, fmt.Errorf("pre_tokenizer \"Split\": %v", err)
			}
		default:
			return bad(fmt.Errorf("no pattern"))
		}
		return splitPre{m, b, v.Invert}, nil
	case "Metaspace":
		v := struct {
			Replacement    string  `json:"replacement"`
			PrependScheme  string  `json:"prepend_scheme"`
			AddPrefixSpace *bool   `json:"add_prefix_space"`
			Split          *bool   `json:"split"`
			StrRep         *string `json:"str_rep"`
		}{}
		if err := c.into(&v); err != nil {
			return bad(err)
		}
		r, err := metaspaceRune(v.Replacement)
		if err != nil {
			return bad(err)
		}
		ps := metaspaceScheme(v.PrependScheme, v.AddPrefixSpace)
		if ps == "" {
			return bad(fmt.Errorf("unknown prepend_scheme %q", v.PrependScheme))
		}
		return metaspacePre{repl: r, prepend: ps, splitOn: v.Split == nil || *v.Split}, nil
	case "Digits":
		var v struct {
			Individual bool `json:"individual_digits"`
		}
		if err := c.into(&v); err != nil {
			return bad(err)
		}
		return digitsPre{v.Individual}, nil
	case "WhitespaceSplit":
		return whitespaceSplitPre{}, nil
	case "Sequence":
		var v struct{ Pretokenizers []*typed }
		if err := c.into(&v); err != nil {
			return bad(err)
		}
		var q sequencePre
		for _, s := range v.Pretokenizers {
			p, err := buildPre(s, byteLevel)
			if err != nil {
				return nil, err
			}
			if p != nil {
				q = append(q, p)
			}
		}
		if len(q) == 1 {
			return q[0], nil
		}
		return q, nil
	}
	return nil, fmt.Errorf("unsupported pre_tokenizer %q", c.Type)
}

func metaspaceRune(s string) (rune, error) {
	if s == "" {
		return '▁', nil
	}
	r, n := utf8.DecodeRuneInString(s)
	if n != len(s) {
		return 0, fmt.Errorf("replacement %q is not one character", s)
	}
	return r, nil
}

// metaspaceScheme reads prepend_scheme, falling back to the older add_prefix_space.
func metaspaceScheme(s string, addPrefix *bool) string {
	switch strings.ToLower(s) {
	case "always", "first", "never":
		return strings.ToLower(s)
	case "":
		if addPrefix != nil && !*addPrefix {
			return "never"
		}
		return "always"
	}
	return ""
}

func buildDecoder(c *typed) (decoder, error) {
	if c == nil {
		return nil, nil
	}
	bad := func(err error) (decoder, error) {
		return nil, fmt.Errorf("decoder %q: %v", c.Type, err)
	}
	switch c.Type {
	case "ByteLevel":
		return byteLevelDec{}, nil
	case "ByteFallback":
		return byteFallbackDec{}, nil
	case "Fuse":
		return fuseDec{}, nil
	case "Replace":
		var v struct {
			Pattern patternJSON
			Content string
		}
		if err := c.into(&v); err != nil {
			return bad(err)
		}
		if v.Pattern.String == nil {
			return nil, fmt.Errorf("unsupported decoder \"Replace\" with a Regex pattern")
		}
		return replaceDec{*v.Pattern.String, v.Content}, nil
	case "Strip":
		var v struct {
			Content     string
			Start, Stop int
		}
		if err := c.into(&v); err != nil {
			return bad(err)
		}
		r, n := utf8.DecodeRuneInString(v.Content)
		if n != len(v.Content) || n == 0 {
			return bad(fmt.Errorf("content %q is not one character", v.Content))
		}
		return stripDec{r, v.Start, v.Stop}, nil
	case "Metaspace":
		v := struct {
			Replacement    string `json:"replacement"`
			PrependScheme  string `json:"prepend_scheme"`
			AddPrefixSpace *bool  `json:"add_prefix_space"`
		}{}
		if err := c.into(&v); err != nil {
			return bad(err)
		}
		r, err := metaspaceRune(v.Replacement)
		if err != nil {
			return bad(err)
		}
		return metaspaceDec{r, metaspaceScheme(v.PrependScheme, v.AddPrefixSpace) != "never"}, nil
	case "Sequence":
		var v struct{ Decoders []*typed }
		if err := c.into(&v); err != nil {
			return bad(err)
		}
		var q sequenceDec
		for _, s := range v.Decoders {
			d, err := buildDecoder(s)
			if err != nil {
				return nil, err
			}
			if d != nil {
				q = append(q, d)
			}
		}
		return q, nil
	}
	return nil, fmt.Errorf("unsupported decoder %q", c.Type)
}

func (t *Tokenizer) buildPost(c *typed) (postProcessor, error) {
	if c == nil {
		return nil, nil
	}
	bad := func(err error) (postProcessor, error) {
		return nil, fmt.Errorf("post_processor %q: %v", c.Type, err)
	}
	switch c.Type {
	case "ByteLevel":
		return sequencePost(nil), nil // it only adjusts offsets
	case "TemplateProcessing":
		var v struct {
			Single []struct {
				SpecialToken *struct{ ID string } `json:"SpecialToken"`
				Sequence     *struct{ ID string } `json:"Sequence"`
			}
			SpecialTokens map[string]struct{ IDs []int32 } `json:"special_tokens"`
		}
		if err := c.into(&v); err != nil {
			return bad(err)
		}
		var p templatePost
		for _, it := range v.Single {
			switch {
			case it.Sequence != nil:
				p.items = append(p.items, nil)
			case it.SpecialToken != nil:
				st, ok := v.SpecialTokens[it.SpecialToken.ID]
				if !ok {
					return bad(fmt.Errorf("special token %q is not in special_tokens", it.SpecialToken.ID))
				}
				p.items = append(p.items, append([]int32{}, st.IDs...))
			}
		}
		return p, nil
	case "RobertaProcessing", "BertProcessing":
		var v struct {
			Sep [2]any `json:"sep"`
			Cls [2]any `json:"cls"`
		}
		if err := c.into(&v); err != nil {
			return bad(err)
		}
		sep, ok1 := v.Sep[1].(float64)
		cls, ok2 := v.Cls[1].(float64)
		if !ok1 || !ok2 {
			return bad(fmt.Errorf("sep and cls must be [token, id]"))
		}
		return wrapPost{int32(cls), int32(sep)}, nil
	case "Sequence":
		var v struct{ Processors []*typed }
		if err := c.into(&v); err != nil {
			return bad(err)
		}
		var q sequencePost
		for _, s := range v.Processors {
			p, err := t.buildPost(s)
			if err != nil {
				return nil, err
			}
			if p != nil {
				q = append(q, p)
			}
		}
		return q, nil
	}
	return nil, fmt.Errorf("unsupported post_processor %q", c.Type)
}
