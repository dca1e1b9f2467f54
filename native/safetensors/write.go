package safetensors

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aegis-safety/aegis/kernels"
)

// Tensor is a tensor to write. DType is F32 or BF16. Exactly one of F32 and BF16 holds
// the values (both may be nil for a tensor with no elements): F32 for an F32 tensor,
// BF16 or F32 for a BF16 tensor, F32 values being rounded to nearest even.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	F32   []float32
	BF16  []uint16
}

// Write writes tensors and metadata to a safetensors file at path, replacing it
// atomically: the file is written beside it under a temporary name, then renamed.
//
// As in the Python library, the header is compact JSON padded with spaces to a multiple
// of 8 bytes, and "__metadata__" comes first when metadata is not empty. Tensors appear
// in the header and in the data buffer sorted by name, and keys of metadata are sorted.
// The Python library orders tensors by dtype alignment first, and metadata keys by hash,
// so the bytes are the same as its own only for one dtype and at most one metadata key.
func Write(path string, tensors []Tensor, metadata map[string]string) error {
	order := make([]int, len(tensors))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(tensors[a].Name, tensors[b].Name) })

	header := []byte{'{'}
	if len(metadata) > 0 {
		header = appendJSONString(header, metadataKey)
		header = append(header, ':', '{')
		for i, k := range slices.Sorted(maps.Keys(metadata)) {
			v := metadata[k]
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return errorf(path, "", "%s: key %q or its value is not valid UTF-8", metadataKey, k)
			}
			if i > 0 {
				header = append(header, ',')
			}
			header = appendJSONString(header, k)
			header = append(header, ':')
			header = appendJSONString(header, v)
		}
		header = append(header, '}')
	}
	var offset int64
	for i, j := range order {
		t := &tensors[j]
		if i > 0 && t.Name == tensors[order[i-1]].Name {
			return errorf(path, t.Name, "duplicate tensor name")
		}
		size, err := checkWrite(t)
		if err != nil {
			return errorf(path, t.Name, "%v", err)
		}
		if offset > math.MaxInt64-size {
			return errorf(path, t.Name, "data buffer size overflows int64")
		}
		if len(header) > 1 {
			header = append(header, ',')
		}
		header = appendJSONString(header, t.Name)
		header = append(header, `:{"dtype":`...)
		header = appendJSONString(header, string(t.DType))
		header = append(header, `,"shape":[`...)
		for k, d := range t.Shape {
			if k > 0 {
				header = append(header, ',')
			}
			header = strconv.AppendInt(header, int64(d), 10)
		}
		header = append(header, `],"data_offsets":[`...)
		header = strconv.AppendInt(header, offset, 10)
		header = append(header, ',')
		offset += size
		header = strconv.AppendInt(header, offset, 10)
		header = append(header, ']', '}')
	}
	header = append(header, '}')
	for len(header)%8 != 0 {
		header = append(header, ' ')
	}
	if len(header) > maxHeaderLen {
		return errorf(path, "", "header is %d bytes, more than the limit of %d", len(header), maxHeaderLen)
	}

	return writeAtomic(path, func(w io.Writer) error {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
		if _, err := w.Write(n[:]); err != nil {
			return err
		}
		if _, err := w.Write(header); err != nil {
			return err
		}
		for _, j := range order {
			if err := writeData(w, &tensors[j]); err != nil {
				return err
			}
		}
		return nil
	})
}

// checkWrite validates a tensor to write and returns its size in bytes.
func checkWrite(t *Tensor) (int64, error) {
	if t.Name == "" || t.Name == metadataKey {
		return 0, fmt.Errorf("reserved or empty name")
	}
	if !utf8.ValidString(t.Name) {
		return 0, fmt.Errorf("name is not valid UTF-8")
	}
	if t.DType != F32 && t.DType != BF16 {
		return 0, fmt.Errorf("cannot write dtype %q (only F32 and BF16)", t.DType)
	}
	for _, d := range t.Shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", t.Shape)
		}
	}
	size, ok := byteSize(t.DType, t.Shape)
	if !ok {
		return 0, fmt.Errorf("byte size of %s %v overflows int64", t.DType, t.Shape)
	}
	n := size / int64(t.DType.Size())
	switch {
	case t.F32 != nil && t.BF16 != nil:
		return 0, fmt.Errorf("both F32 and BF16 values are set")
	case t.BF16 != nil && t.DType != BF16:
		return 0, fmt.Errorf("BF16 values for a %s tensor", t.DType)
	case int64(len(t.F32)+len(t.BF16)) != n:
		return 0, fmt.Errorf("shape %v needs %d values, have %d", t.Shape, n, len(t.F32)+len(t.BF16))
	}
	return size, nil
}

// writeData writes the values of t in little-endian order.
func writeData(w io.Writer, t *Tensor) error {
	var chunk [4096]byte
	b := chunk[:0]
	flush := func() error {
		_, err := w.Write(b)
		b = chunk[:0]
		return err
	}
	switch {
	case t.BF16 != nil:
		for _, h := range t.BF16 {
			if len(b)+2 > len(chunk) {
				if err := flush(); err != nil {
					return err
				}
			}
			b = binary.LittleEndian.AppendUint16(b, h)
		}
	case t.DType == BF16:
		for _, f := range t.F32 {
			if len(b)+2 > len(chunk) {
				if err := flush(); err != nil {
					return err
				}
			}
			b = binary.LittleEndian.AppendUint16(b, kernels.F32ToBF16(f))
		}
	default:
		for _, f := range t.F32 {
			if len(b)+4 > len(chunk) {
				if err := flush(); err != nil {
					return err
				}
			}
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
		}
	}
	return flush()
}

// appendJSONString appends s as a JSON string escaped as serde_json does, so headers
// match those of the Python library byte for byte: only quote, backslash and control
// characters are escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// WriteIndex writes dir/model.safetensors.index.json, mapping each tensor name to the
// shard file holding it, as transformers does: {"metadata": ..., "weight_map": ...}
// with sorted keys and two-space indentation. Shard names must be plain file names.
// A nil metadata is written as an empty object.
func WriteIndex(dir string, weightMap map[string]string, metadata map[string]any) error {
	path := filepath.Join(dir, indexName)
	for name, shard := range weightMap {
		if !isPlainName(shard) {
			return errorf(path, name, "shard %q is not a plain file name", shard)
		}
	}
	if metadata == nil {
		metadata = map[string]any{}
	}
	if weightMap == nil {
		weightMap = map[string]string{}
	}
	index := struct {
		Metadata  map[string]any    `json:"metadata"`
		WeightMap map[string]string `json:"weight_map"`
	}{metadata, weightMap}
	return writeAtomic(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(index)
	})
}

// writeAtomic writes a file beside path and renames it over path, so readers never see
// a partial file.
func writeAtomic(path string, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	// Best effort: CreateTemp makes the file 0600, but checkpoints are usually shared.
	// Some systems (wasip1) do not support changing the mode.
	_ = f.Chmod(0o644)
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := write(bw); err != nil {
		return errorf(path, "", "write: %v", err)
	}
	if err := bw.Flush(); err != nil {
		return errorf(path, "", "write: %v", err)
	}
	if err := f.Sync(); err != nil {
		return errorf(path, "", "sync: %v", err)
	}
	if err := f.Close(); err != nil {
		return errorf(path, "", "close: %v", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return nil
}
