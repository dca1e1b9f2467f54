package safetensors

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxHeaderLen bounds the JSON header, as the Rust implementation does, so that a
// corrupt length cannot make us allocate or parse gigabytes.
const maxHeaderLen = 100_000_000

// metadataKey is the reserved header key holding the string-to-string metadata.
const metadataKey = "__metadata__"

// Header is a parsed and validated safetensors header.
type Header struct {
	// Tensors are sorted by name.
	Tensors []TensorInfo
	// Metadata is the "__metadata__" object, or nil if the header has none.
	Metadata map[string]string
}

// TensorInfo describes one tensor of a file.
type TensorInfo struct {
	Name  string
	DType DType
	Shape []int
	// Begin and End are byte offsets into the data buffer, which starts right after
	// the header.
	Begin, End int64
}

// NumElements returns the number of elements: the product of the shape, 1 for a scalar.
// For a TensorInfo not produced by this package the result may overflow.
func (t TensorInfo) NumElements() int64 {
	n, _ := numElements(t.Shape)
	return n
}

// numElements returns the product of shape and whether it fits in an int64. A zero
// dimension makes the product zero whatever the other dimensions are.
func numElements(shape []int) (int64, bool) {
	if slices.Contains(shape, 0) {
		return 0, true
	}
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		if n > math.MaxInt64/int64(d) {
			return 0, false
		}
		n *= int64(d)
	}
	return n, true
}

// byteSize returns the size in bytes of a tensor of dtype dt and the given shape, and
// whether it is defined and fits in an int64.
func byteSize(dt DType, shape []int) (int64, bool) {
	size := int64(dt.Size())
	n, ok := numElements(shape)
	if !ok || size == 0 || n > math.MaxInt64/size {
		return 0, false
	}
	return n * size, true
}

// ParseHeader parses and validates the JSON header of a safetensors file whose data
// buffer (the bytes after the header) is dataLen bytes long. The header may end with
// padding spaces.
func ParseHeader(header []byte, dataLen int64) (*Header, error) {
	return parseHeader("", header, dataLen)
}

// errorf formats an error naming the file (if known) and the tensor (if not empty).
func errorf(path, tensor, format string, args ...any) error {
	var b strings.Builder
	b.WriteString("safetensors: ")
	if path != "" {
		b.WriteString(path)
		b.WriteString(": ")
	}
	if tensor != "" {
		fmt.Fprintf(&b, "tensor %q: ", tensor)
	}
	fmt.Fprintf(&b, format, args...)
	return errors.New(b.String())
}

func parseHeader(path string, header []byte, dataLen int64) (*Header, error) {
	if len(header) > maxHeaderLen {
		return nil, errorf(path, "", "header is %d bytes, more than the limit of %d", len(header), maxHeaderLen)
	}
	if dataLen < 0 {
		return nil, errorf(path, "", "negative data length %d", dataLen)
	}
	// encoding/json would silently replace invalid UTF-8 with U+FFFD, so two distinct
	// byte strings could decode to one name.
	if !utf8.Valid(header) {
		return nil, errorf(path, "", "header is not valid UTF-8")
	}
	// Walk the tokens rather than unmarshal into a map: a map keeps only the last of
	// two duplicate keys, and a duplicate tensor name is ambiguous.
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.UseNumber()
	jsonErr := func(tensor string, err error) error {
		return errorf(path, tensor, "invalid header JSON: %v", err)
	}
	tok, err := token(dec)
	if err != nil {
		return nil, jsonErr("", err)
	}
	if tok != json.Delim('{') {
		return nil, errorf(path, "", "header is not a JSON object")
	}
	h := &Header{Tensors: []TensorInfo{}}
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := token(dec)
		if err != nil {
			return nil, jsonErr("", err)
		}
		name, _ := tok.(string) // Token only returns strings for object keys
		if seen[name] {
			if name == metadataKey {
				return nil, errorf(path, "", "duplicate %s", metadataKey)
			}
			return nil, errorf(path, name, "duplicate tensor name")
		}
		seen[name] = true
		if name == metadataKey {
			if h.Metadata, err = parseMetadata(path, dec); err != nil {
				return nil, err
			}
			continue
		}
		t, err := parseTensor(path, name, dec)
		if err != nil {
			return nil, err
		}
		if err := checkTensor(path, &t, dataLen); err != nil {
			return nil, err
		}
		h.Tensors = append(h.Tensors, t)
	}
	if _, err := token(dec); err != nil { // the closing brace
		return nil, jsonErr("", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errorf(path, "", "invalid header JSON: data after the top-level object")
	}
	if err := checkOverlap(path, h.Tensors); err != nil {
		return nil, err
	}
	slices.SortFunc(h.Tensors, func(a, b TensorInfo) int { return strings.Compare(a.Name, b.Name) })
	return h, nil
}

// parseMetadata reads the value of "__metadata__": an object of strings, or null.
func parseMetadata(path string, dec *json.Decoder) (map[string]string, error) {
	bad := func(format string, args ...any) error {
		return errorf(path, "", metadataKey+": "+format, args...)
	}
	tok, err := token(dec)
	if err != nil {
		return nil, bad("invalid JSON: %v", err)
	}
	if tok == nil {
		return nil, nil
	}
	if tok != json.Delim('{') {
		return nil, bad("not a JSON object")
	}
	m := make(map[string]string)
	for dec.More() {
		tok, err := token(dec)
		if err != nil {
			return nil, bad("invalid JSON: %v", err)
		}
		key, _ := tok.(string)
		if tok, err = token(dec); err != nil {
			return nil, bad("invalid JSON: %v", err)
		}
		val, ok := tok.(string)
		if !ok {
			return nil, bad("value of %q is not a string", key)
		}
		if _, dup := m[key]; dup {
			return nil, bad("duplicate key %q", key)
		}
		m[key] = val
	}
	if _, err := token(dec); err != nil {
		return nil, bad("invalid JSON: %v", err)
	}
	return m, nil
}

// parseTensor reads one tensor entry; checkTensor validates it.
func parseTensor(path, name string, dec *json.Decoder) (TensorInfo, error) {
	t := TensorInfo{Name: name}
	bad := func(format string, args ...any) (TensorInfo, error) {
		return TensorInfo{}, errorf(path, name, format, args...)
	}
	tok, err := token(dec)
	if err != nil {
		return bad("invalid header JSON: %v", err)
	}
	if tok != json.Delim('{') {
		return bad("entry is not a JSON object")
	}
	var haveDType, haveShape, haveOffsets bool
	for dec.More() {
		tok, err := token(dec)
		if err != nil {
			return bad("invalid header JSON: %v", err)
		}
		key, _ := tok.(string)
		switch key {
		case "dtype":
			if haveDType {
				return bad("duplicate dtype")
			}
			haveDType = true
			tok, err := token(dec)
			if err != nil {
				return bad("invalid header JSON: %v", err)
			}
			s, ok := tok.(string)
			if !ok {
				return bad("dtype is not a string")
			}
			t.DType = DType(s)
		case "shape":
			if haveShape {
				return bad("duplicate shape")
			}
			haveShape = true
			dims, err := parseInts(dec)
			if err != nil {
				return bad("shape: %v", err)
			}
			t.Shape = make([]int, len(dims))
			for i, d := range dims {
				if d > math.MaxInt {
					return bad("shape: value %d is out of range", d)
				}
				t.Shape[i] = int(d)
			}
		case "data_offsets":
			if haveOffsets {
				return bad("duplicate data_offsets")
			}
			haveOffsets = true
			offs, err := parseInts(dec)
			if err != nil {
				return bad("data_offsets: %v", err)
			}
			if len(offs) != 2 {
				return bad("data_offsets has %d numbers, want 2", len(offs))
			}
			t.Begin, t.End = offs[0], offs[1]
		default:
			// Unknown fields are ignored, as serde does for the Rust implementation.
			if err := skipValue(dec); err != nil {
				return bad("invalid header JSON: %v", err)
			}
		}
	}
	if _, err := token(dec); err != nil {
		return bad("invalid header JSON: %v", err)
	}
	switch {
	case !haveDType:
		return bad("missing dtype")
	case !haveShape:
		return bad("missing shape")
	case !haveOffsets:
		return bad("missing data_offsets")
	}
	return t, nil
}

// parseInts reads a JSON array of non-negative integers that fit in an int64.
func parseInts(dec *json.Decoder) ([]int64, error) {
	tok, err := token(dec)
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('[') {
		return nil, errors.New("not a JSON array")
	}
	ns := []int64{}
	for dec.More() {
		tok, err := token(dec)
		if err != nil {
			return nil, err
		}
		num, ok := tok.(json.Number)
		if !ok {
			return nil, fmt.Errorf("element %d is not a number", len(ns))
		}
		s := string(num)
		if strings.HasPrefix(s, "-") {
			return nil, fmt.Errorf("negative value %s", s)
		}
		if strings.ContainsAny(s, ".eE") {
			return nil, fmt.Errorf("value %s is not an integer", s)
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("value %s is out of range", s)
		}
		ns = append(ns, n)
	}
	if _, err := token(dec); err != nil {
		return nil, err
	}
	return ns, nil
}

// token is dec.Token, but an early end of input is an error, not io.EOF.
func token(dec *json.Decoder) (json.Token, error) {
	tok, err := dec.Token()
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return tok, err
}

// skipValue consumes one JSON value of any kind.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := token(dec)
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// checkTensor validates one tensor on its own: dtype, size and bounds.
func checkTensor(path string, t *TensorInfo, dataLen int64) error {
	if t.DType.Size() == 0 {
		return errorf(path, t.Name, "unsupported dtype %q", t.DType)
	}
	if t.Begin > t.End {
		return errorf(path, t.Name, "data_offsets [%d, %d] end before they begin", t.Begin, t.End)
	}
	if t.End > dataLen {
		return errorf(path, t.Name, "data_offsets [%d, %d] exceed the data buffer of %d bytes", t.Begin, t.End, dataLen)
	}
	size, ok := byteSize(t.DType, t.Shape)
	if !ok {
		return errorf(path, t.Name, "byte size of %s %v overflows int64", t.DType, t.Shape)
	}
	if size != t.End-t.Begin {
		return errorf(path, t.Name, "data_offsets [%d, %d] span %d bytes, but %s %v needs %d", t.Begin, t.End, t.End-t.Begin, t.DType, t.Shape, size)
	}
	return nil
}

// checkOverlap reports two tensors that share bytes. Empty tensors share none, but one
// lying strictly inside another's range is still rejected, as in the Rust library.
func checkOverlap(path string, ts []TensorInfo) error {
	byOffset := make([]*TensorInfo, len(ts))
	for i := range ts {
		byOffset[i] = &ts[i]
	}
	slices.SortFunc(byOffset, func(a, b *TensorInfo) int {
		if a.Begin != b.Begin {
			return cmp.Compare(a.Begin, b.Begin)
		}
		if a.End != b.End {
			return cmp.Compare(a.End, b.End)
		}
		return strings.Compare(a.Name, b.Name)
	})
	var last *TensorInfo // the tensor reaching furthest so far
	for _, t := range byOffset {
		if last != nil && t.Begin < last.End {
			return errorf(path, t.Name, "data_offsets [%d, %d] overlap tensor %q [%d, %d]", t.Begin, t.End, last.Name, last.Begin, last.End)
		}
		if last == nil || t.End >= last.End {
			last = t
		}
	}
	return nil
}
