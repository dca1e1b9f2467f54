package tokenizer

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/ardanlabs/jinja"
)

// The engine (github.com/ardanlabs/jinja) differs from Python's Jinja2 as transformers
// sets it up in how it turns values into text: it prints None as "" (Python: "None") and
// floats with %g (2.0 becomes "2", 1234567.0 "1.234567e+06"), and its tojson is not
// transformers' json.dumps(x, ensure_ascii=False, indent=None, separators=None,
// sort_keys=False) (floats as above; the indented form sorts keys and escapes <, > and
// &). Its builtin filters cannot be replaced, so templates are rewritten before they are
// compiled: every `X | tojson(...)`, `X | trim(...)` and `X | string` becomes a call of a
// function with Python's behaviour, and every {{ X }} prints str(X) as Python does.

const (
	tojsonFunc = "aegis_tojson"
	trimFunc   = "aegis_trim"
	stringFunc = "aegis_string"
	strFunc    = "aegis_str"
)

// pyFilters maps the filters that are rewritten to the functions that replace them.
var pyFilters = map[string]string{"tojson": tojsonFunc, "trim": trimFunc, "string": stringFunc}

// pyFuncs are the template functions the rewritten templates call.
var pyFuncs = map[string]func([]jinja.Value, map[string]jinja.Value) (jinja.Value, error){
	tojsonFunc: tojsonCallable,
	trimFunc:   trimCallable,
	stringFunc: strCallable,
	strFunc:    strCallable,
}

// jtok is one token of a Jinja expression: its kind and byte span.
type jtok struct {
	kind       byte // 'n' name, '0' number, 's' string, 'o' operator or bracket
	start, end int
}

// lexJinja splits Jinja expression code into tokens as the engine's tokenizer does
// (ASCII names, numbers, quoted strings, one token per other character; bytes it does
// not know are skipped); ok is false for an unterminated string, in which case the
// code is left as it is.
func lexJinja(code string) (toks []jtok, ok bool) {
	digit := func(i int) bool { return i < len(code) && code[i] >= '0' && code[i] <= '9' }
	for i := 0; i < len(code); {
		c := code[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(code) && code[j] != c {
				if code[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(code) {
				return nil, false
			}
			toks = append(toks, jtok{'s', i, j + 1})
			i = j + 1
		case isNameByte(c) && !digit(i):
			j := i + 1
			for j < len(code) && isNameByte(code[j]) {
				j++
			}
			toks = append(toks, jtok{'n', i, j})
			i = j
		case digit(i):
			j := i + 1
			for digit(j) {
				j++
			}
			if j < len(code) && code[j] == '.' && digit(j+1) {
				for j++; digit(j); j++ {
				}
				if j < len(code) && (code[j] == 'e' || code[j] == 'E') {
					j++
					if j < len(code) && (code[j] == '+' || code[j] == '-') {
						j++
					}
					for digit(j) {
						j++
					}
				}
			}
			toks = append(toks, jtok{'0', i, j})
			i = j
		case strings.IndexByte(",.:()[]{}|~+-*/%<>=!", c) >= 0:
			toks = append(toks, jtok{'o', i, i + 1})
			i++
		default:
			i++
		}
	}
	return toks, true
}

// isNameByte reports whether c can be part of a name (the engine's names are ASCII).
func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// jinjaKeywords are the names that cannot end an operand (`not x`, `a in b`, ...).
var jinjaKeywords = map[string]bool{"and": true, "or": true, "not": true, "in": true, "is": true, "if": true, "else": true,
	"elif": true, "for": true, "set": true, "recursive": true, "with": true, "import": true, "as": true, "from": true}

// rewriteFilters rewrites the filters of pyFilters in one block of expression code; in
// a {% %} block (stmt) the first token is the statement's name, never an operand.
func rewriteFilters(code string, stmt bool) string {
	for range 64 { // one filter per pass; templates hold a handful
		toks, ok := lexJinja(code)
		if !ok {
			return code
		}
		text := func(t jtok) string { return code[t.start:t.end] }
		isOp := func(k int, s string) bool {
			return k >= 0 && k < len(toks) && toks[k].kind == 'o' && text(toks[k]) == s
		}
		// match returns the index of the bracket matching the one at k (dir -1: backwards).
		match := func(k, dir int) int {
			depth := 0
			for ; k >= 0 && k < len(toks); k += dir {
				if toks[k].kind != 'o' {
					continue
				}
				switch text(toks[k]) {
				case "(", "[", "{":
					depth += dir
				case ")", "]", "}":
					depth -= dir
				}
				if depth == 0 {
					return k
				}
			}
			return -1
		}
		found := false
		for k := 1; k < len(toks); k++ {
			fn := pyFilters[text(toks[k])]
			if toks[k].kind != 'n' || fn == "" || !isOp(k-1, "|") || isOp(k+1, ".") {
				continue
			}
			start := operandStart(toks, k-2, code, match)
			if start < 0 || stmt && start == 0 {
				continue
			}
			end, args := k, ""
			if isOp(k+1, "(") {
				e := match(k+1, 1)
				if e < 0 {
					return code
				}
				end, args = e, strings.TrimSpace(code[toks[k+1].end:toks[e].start])
			}
			call := fn + "(" + code[toks[start].start:toks[k-2].end]
			if args != "" {
				call += ", " + args
			}
			pre := code[:toks[start].start]
			if pre != "" && isNameByte(pre[len(pre)-1]) { // {%if[]|trim%}: keep "if" a word
				pre += " "
			}
			code = pre + call + ")" + code[toks[end].end:]
			found = true
			break
		}
		if !found {
			return code
		}
	}
	return code
}

// operandStart walks back from token j (the last token before `| filter`) over what the
// filter applies to: a primary with its attribute, subscript and call postfixes, earlier
// filters of the same chain, and a unary sign. It returns -1 when it finds no operand.
func operandStart(toks []jtok, j int, code string, match func(k, dir int) int) int {
	text := func(k int) string { return code[toks[k].start:toks[k].end] }
	isOp := func(k int, s string) bool { return k >= 0 && toks[k].kind == 'o' && text(k) == s }
	closes := func(k int) bool { return isOp(k, ")") || isOp(k, "]") || isOp(k, "}") }
	operandEnd := func(k int) bool { // can token k end an operand?
		return k >= 0 && (toks[k].kind == 's' || toks[k].kind == '0' || closes(k) || toks[k].kind == 'n' && !jinjaKeywords[text(k)])
	}
	i := j
	for {
		if i < 0 {
			return -1
		}
		switch t := toks[i]; {
		case closes(i):
			o := match(i, -1)
			if o < 0 {
				return -1
			}
			i = o
			if !isOp(i, "{") && operandEnd(i-1) { // a call or subscript of what precedes
				i--
				continue
			}
		case t.kind == 'n' && jinjaKeywords[text(i)]:
			return -1
		case t.kind == 'n' || t.kind == '0' || t.kind == 's':
		default:
			return -1
		}
		if isOp(i-1, ".") { // attribute access
			i -= 2
			continue
		}
		if isOp(i-1, "|") { // an earlier filter of the chain
			i -= 2
			continue
		}
		if (isOp(i-1, "-") || isOp(i-1, "+")) && !operandEnd(i-2) { // unary sign binds tighter
			i--
		}
		return i
	}
}

var rawBlock = regexp.MustCompile(`^\{%[-+]?\s*raw\s*[-+]?%\}`)
var endRaw = regexp.MustCompile(`\{%[-+]?\s*endraw\s*[-+]?%\}`)

// pyTemplate rewrites a template's {{ }} and {% %} blocks for Python's semantics (see
// pyFilters and strFunc), leaving text, comments and raw blocks as they are.
func pyTemplate(src string) string {
	var b strings.Builder
	for i := 0; i < len(src); {
		k := strings.IndexByte(src[i:], '{')
		if k < 0 || i+k+1 >= len(src) {
			b.WriteString(src[i:])
			break
		}
		k += i
		open := src[k+1]
		if open != '{' && open != '%' && open != '#' {
			b.WriteString(src[i : k+1])
			i = k + 1
			continue
		}
		b.WriteString(src[i:k])
		if open == '#' {
			e := strings.Index(src[k+2:], "#}")
			if e < 0 {
				b.WriteString(src[k:])
				break
			}
			b.WriteString(src[k : k+2+e+2])
			i = k + 2 + e + 2
			continue
		}
		if open == '%' && rawBlock.MatchString(src[k:]) {
			loc := endRaw.FindStringIndex(src[k:])
			if loc == nil {
				b.WriteString(src[k:])
				break
			}
			b.WriteString(src[k : k+loc[1]])
			i = k + loc[1]
			continue
		}
		closer := "}}"
		if open == '%' {
			closer = "%}"
		}
		e := blockEnd(src, k+2, closer)
		if e < 0 {
			b.WriteString(src[k:])
			break
		}
		// Keep the whitespace-control marks ({{- ... -}}) out of the expression.
		code, pre, post := src[k+2:e], "", ""
		if code != "" && (code[0] == '-' || code[0] == '+') {
			code, pre = code[1:], code[:1]
		}
		if code != "" && (code[len(code)-1] == '-' || code[len(code)-1] == '+') {
			code, post = code[:len(code)-1], code[len(code)-1:]
		}
		code = rewriteFilters(code, open == '%')
		if open == '{' && strings.TrimSpace(code) != "" {
			code = " " + strFunc + "((" + strings.TrimSpace(code) + ")) "
		}
		b.WriteString(src[k:k+2] + pre)
		b.WriteString(code)
		b.WriteString(post + closer)
		i = e + 2
	}
	return b.String()
}

// blockEnd finds the closer of a block whose code starts at i, outside strings and (for
// }}) outside brackets, as Jinja's lexer does.
func blockEnd(src string, i int, closer string) int {
	depth := 0
	for ; i < len(src); i++ {
		switch c := src[i]; c {
		case '\'', '"':
			for i++; i < len(src) && src[i] != c; i++ {
				if src[i] == '\\' {
					i++
				}
			}
		case '(', '[', '{':
			depth++
		case ')', ']':
			depth--
		case '}':
			if depth == 0 && closer == "}}" && strings.HasPrefix(src[i:], "}}") {
				return i
			}
			depth--
		case '%':
			if closer == "%}" && depth <= 0 && strings.HasPrefix(src[i:], "%}") {
				return i
			}
		}
	}
	return -1
}

// tojsonCallable is tojsonFunc: transformers' tojson(x, ensure_ascii=False, indent=None,
// separators=None, sort_keys=False).
func tojsonCallable(args []jinja.Value, kwargs map[string]jinja.Value) (jinja.Value, error) {
	if len(args) == 0 {
		return jinja.Undefined(), errors.New("tojson: no value")
	}
	opt := pyDumps{item: ", ", key: ": "}
	names := []string{"ensure_ascii", "indent", "separators", "sort_keys"}
	if len(args) > 1+len(names) {
		return jinja.Undefined(), errors.New("tojson: too many arguments")
	}
	params := map[string]jinja.Value{}
	for i, a := range args[1:] {
		params[names[i]] = a
	}
	for k, v := range kwargs {
		if !slices.Contains(names, k) {
			return jinja.Undefined(), fmt.Errorf("tojson: unexpected argument %q", k)
		}
		params[k] = v
	}
	if v, ok := params["ensure_ascii"]; ok {
		opt.ascii = v.IsTruthy()
	}
	if v, ok := params["sort_keys"]; ok {
		opt.sort = v.IsTruthy()
	}
	if v, ok := params["indent"]; ok && !v.IsNone() && !v.IsUndefined() {
		switch {
		case v.IsInt():
			opt.indent = strings.Repeat(" ", max(int(v.AsInt()), 0))
		case v.IsString():
			opt.indent = v.AsString()
		default:
			return jinja.Undefined(), errors.New("tojson: indent must be an integer or a string")
		}
		opt.indented, opt.item = true, ","
	}
	if v, ok := params["separators"]; ok && !v.IsNone() && !v.IsUndefined() {
		if !v.IsList() || len(v.AsList().Items) != 2 || !v.AsList().Items[0].IsString() || !v.AsList().Items[1].IsString() {
			return jinja.Undefined(), errors.New("tojson: separators must be two strings")
		}
		opt.item, opt.key = v.AsList().Items[0].AsString(), v.AsList().Items[1].AsString()
	}
	var b strings.Builder
	opt.value(&b, args[0], 0)
	return jinja.NewString(b.String()), nil
}

// pyDumps holds json.dumps options.
type pyDumps struct {
	item, key string // separators
	indent    string
	indented  bool
	sort      bool
	ascii     bool
}

// pyJSON writes v as Python's json.dumps(v, indent=indent, ensure_ascii=False) does.
func pyJSON(b *strings.Builder, v jinja.Value, indent, depth int) {
	(&pyDumps{item: ",", key: ": ", indent: strings.Repeat(" ", indent), indented: true}).value(b, v, depth)
}

func (o *pyDumps) value(b *strings.Builder, v jinja.Value, depth int) {
	nl := func(d int) {
		if o.indented {
			b.WriteByte('\n')
			b.WriteString(strings.Repeat(o.indent, d))
		}
	}
	switch {
	case v.IsNone(), v.IsUndefined(), v.IsCallable():
		b.WriteString("null")
	case v.IsBool():
		b.WriteString(strconv.FormatBool(v.AsBool()))
	case v.IsInt():
		b.WriteString(strconv.FormatInt(v.AsInt(), 10))
	case v.IsFloat():
		b.WriteString(pyFloat(v.AsFloat()))
	case v.IsString():
		pyString(b, v.AsString(), o.ascii)
	case v.IsList():
		items := v.AsList().Items
		if len(items) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteByte('[')
		for i, it := range items {
			if i > 0 {
				b.WriteString(o.item)
			}
			nl(depth + 1)
			o.value(b, it, depth+1)
		}
		nl(depth)
		b.WriteByte(']')
	case v.IsDict():
		d := v.AsDict()
		keys := d.OrderedKeys()
		if len(keys) == 0 {
			b.WriteString("{}")
			return
		}
		if o.sort {
			keys = append([]string(nil), keys...)
			sort.Strings(keys)
		}
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(o.item)
			}
			nl(depth + 1)
			pyString(b, k, o.ascii)
			b.WriteString(o.key)
			x, _ := d.Get(k)
			o.value(b, x, depth+1)
		}
		nl(depth)
		b.WriteByte('}')
	default:
		pyString(b, v.String(), o.ascii)
	}
}

// pyFloat formats a float as Python's repr: "2.0", not "2".
func pyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	if a := math.Abs(f); a == 0 || (a >= 1e-4 && a < 1e16) {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	return strconv.FormatFloat(f, 'e', -1, 64) // 1e-05, 1.5e+20: as Python writes them
}

// pyString writes a JSON string with the escapes Python's json.dumps makes: only
// quotes, backslashes and control characters, or, with ascii (ensure_ascii=True), also
// every non-ASCII character as \uXXXX (UTF-16 surrogate pairs beyond the BMP).
func pyString(b *strings.Builder, s string, ascii bool) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r < 0x20 || ascii && r >= 0x7f && r < 0x10000:
				fmt.Fprintf(b, `\u%04x`, r)
			case ascii && r >= 0x10000:
				r -= 0x10000
				fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

// trimCallable is Jinja2's trim(value, chars=None): str(value).strip(chars).
func trimCallable(args []jinja.Value, kwargs map[string]jinja.Value) (jinja.Value, error) {
	if len(args) == 0 {
		return jinja.Undefined(), errors.New("trim: no value")
	}
	chars := jinja.None()
	if len(args) > 1 {
		chars = args[1]
	}
	if v, ok := kwargs["chars"]; ok {
		chars = v
	}
	s := pyStr(args[0])
	if chars.IsNone() || chars.IsUndefined() {
		return jinja.NewString(strings.TrimFunc(s, pyIsSpace)), nil
	}
	return jinja.NewString(strings.Trim(s, pyStr(chars))), nil
}

// strCallable is Python's str(value), which Jinja2 prints and its string filter returns.
func strCallable(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
	if len(args) != 1 {
		return jinja.Undefined(), errors.New("string: takes one value")
	}
	return jinja.NewString(pyStr(args[0])), nil
}

// pyIsSpace is Python's str.isspace for one character: Unicode White_Space and the
// information separators U+001C..U+001F.
func pyIsSpace(r rune) bool { return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f }

// pyStr is Python's str() of a template value (Undefined prints as "", as Jinja2's
// default Undefined does).
func pyStr(v jinja.Value) string {
	switch {
	case v.IsUndefined(), v.IsCallable():
		return ""
	case v.IsString():
		return v.AsString()
	}
	var b strings.Builder
	pyRepr(&b, v)
	return b.String()
}

// pyRepr writes Python's repr() of a template value.
func pyRepr(b *strings.Builder, v jinja.Value) {
	switch {
	case v.IsUndefined(), v.IsNone():
		b.WriteString("None")
	case v.IsBool():
		if v.AsBool() {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case v.IsInt():
		b.WriteString(strconv.FormatInt(v.AsInt(), 10))
	case v.IsFloat():
		f := v.AsFloat()
		switch {
		case math.IsNaN(f):
			b.WriteString("nan")
		case math.IsInf(f, 1):
			b.WriteString("inf")
		case math.IsInf(f, -1):
			b.WriteString("-inf")
		default:
			b.WriteString(pyFloat(f))
		}
	case v.IsString():
		pyQuote(b, v.AsString())
	case v.IsList():
		b.WriteByte('[')
		for i, it := range v.AsList().Items {
			if i > 0 {
				b.WriteString(", ")
			}
			pyRepr(b, it)
		}
		b.WriteByte(']')
	case v.IsDict():
		d := v.AsDict()
		b.WriteByte('{')
		for i, k := range d.OrderedKeys() {
			if i > 0 {
				b.WriteString(", ")
			}
			pyQuote(b, k)
			b.WriteString(": ")
			x, _ := d.Get(k)
			pyRepr(b, x)
		}
		b.WriteByte('}')
	default:
		b.WriteString(v.String())
	}
}

// pyQuote writes Python's repr() of a string: single quotes unless the text holds a
// single quote and no double quote; non-printable characters escaped.
func pyQuote(b *strings.Builder, s string) {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case unicode.IsPrint(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(b, `\x%02x`, r)
		case r < 0x10000:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			fmt.Fprintf(b, `\U%08x`, r)
		}
	}
	b.WriteByte(q)
}
