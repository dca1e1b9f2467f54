package safetensors

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"slices"

	"github.com/aegis-safety/aegis/kernels"
	"github.com/aegis-safety/aegis/native/regfile"
)

// File is an open safetensors file.
type File struct {
	path   string
	data   []byte // the whole file: a read-only mapping, or a heap copy
	buf    []byte // the data buffer, after the header
	header *Header
	index  map[string]int // tensor name -> index in header.Tensors
	unmap  func([]byte) error
}

// Open opens and validates the safetensors file at path.
func Open(path string) (*File, error) {
	if err := regfile.Check(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("safetensors: %w", err) // before opening: a named pipe would block
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer f.Close() // a mapping outlives its descriptor
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	size := fi.Size()
	if !fi.Mode().IsRegular() {
		return nil, errorf(path, "", "not a regular file")
	}
	if size < 8 {
		return nil, errorf(path, "", "file is %d bytes, too short for the 8-byte header length", size)
	}
	if size > math.MaxInt {
		return nil, errorf(path, "", "file is %d bytes, too large to address", size)
	}
	// Check the header length before mapping so a bogus one fails fast and clearly.
	var lenBuf [8]byte
	if _, err := f.ReadAt(lenBuf[:], 0); err != nil {
		return nil, errorf(path, "", "reading header length: %v", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > uint64(size-8) {
		return nil, errorf(path, "", "header length %d exceeds the %d bytes after it", n, size-8)
	}
	if n > maxHeaderLen {
		return nil, errorf(path, "", "header length %d is more than the limit of %d", n, maxHeaderLen)
	}
	data, unmap, err := mapFile(f, int(size))
	if err != nil {
		return nil, errorf(path, "", "%v", err)
	}
	h, err := parseHeader(path, data[8:8+n], size-8-int64(n))
	if err != nil {
		unmap(data)
		return nil, err
	}
	index := make(map[string]int, len(h.Tensors))
	for i, t := range h.Tensors {
		index[t.Name] = i
	}
	return &File{path: path, data: data, buf: data[8+n:], header: h, index: index, unmap: unmap}, nil
}

// Close releases the mapping. Slices returned by Raw must not be used afterwards.
func (f *File) Close() error {
	if f.data == nil {
		return errorf(f.path, "", "already closed")
	}
	data := f.data
	f.data, f.buf = nil, nil
	if err := f.unmap(data); err != nil {
		return errorf(f.path, "", "unmap: %v", err)
	}
	return nil
}

// Path returns the path the file was opened with.
func (f *File) Path() string { return f.path }

// Names returns the tensor names, sorted.
func (f *File) Names() []string {
	names := make([]string, len(f.header.Tensors))
	for i, t := range f.header.Tensors {
		names[i] = t.Name
	}
	return names
}

// Info describes the named tensor.
func (f *File) Info(name string) (TensorInfo, bool) {
	i, ok := f.index[name]
	if !ok {
		return TensorInfo{}, false
	}
	t := f.header.Tensors[i]
	t.Shape = slices.Clone(t.Shape)
	return t, true
}

// Metadata returns a copy of the header's "__metadata__", or nil if it has none.
func (f *File) Metadata() map[string]string { return maps.Clone(f.header.Metadata) }

// Raw returns the bytes of the named tensor: a view of the file, not a copy, valid until
// Close and not to be written to.
func (f *File) Raw(name string) ([]byte, error) {
	_, b, err := f.lookup(name)
	return b, err
}

// Float32 returns the values of the named F32, BF16 or F16 tensor as a new slice.
func (f *File) Float32(name string) ([]float32, error) {
	t, b, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	out := make([]float32, len(b)/max(t.DType.Size(), 1))
	switch t.DType {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case BF16:
		for i := range out {
			out[i] = kernels.BF16ToF32(binary.LittleEndian.Uint16(b[2*i:]))
		}
	case F16:
		for i := range out {
			out[i] = kernels.F16ToF32(binary.LittleEndian.Uint16(b[2*i:]))
		}
	default:
		return nil, errorf(f.path, name, "cannot convert %s to float32 (only F32, BF16 and F16)", t.DType)
	}
	return out, nil
}

// BF16 returns the values of the named tensor as bfloat16 bits in a new slice: a BF16
// tensor as stored, an F32 or F16 tensor rounded to nearest even.
func (f *File) BF16(name string) ([]uint16, error) {
	t, b, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	out := make([]uint16, len(b)/max(t.DType.Size(), 1))
	switch t.DType {
	case BF16:
		for i := range out {
			out[i] = binary.LittleEndian.Uint16(b[2*i:])
		}
	case F32:
		for i := range out {
			out[i] = kernels.F32ToBF16(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])))
		}
	case F16:
		// F16 widens to F32 exactly, so this rounds once.
		for i := range out {
			out[i] = kernels.F32ToBF16(kernels.F16ToF32(binary.LittleEndian.Uint16(b[2*i:])))
		}
	default:
		return nil, errorf(f.path, name, "cannot convert %s to bfloat16 (only F32, BF16 and F16)", t.DType)
	}
	return out, nil
}

// lookup returns the named tensor and its bytes.
func (f *File) lookup(name string) (TensorInfo, []byte, error) {
	if f.data == nil {
		return TensorInfo{}, nil, errorf(f.path, name, "file is closed")
	}
	i, ok := f.index[name]
	if !ok {
		return TensorInfo{}, nil, errorf(f.path, name, "not found")
	}
	t := f.header.Tensors[i]
	return t, f.buf[t.Begin:t.End:t.End], nil
}
