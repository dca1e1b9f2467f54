package safetensors

import (
	"cmp"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var fuzzHeaders = []string{
	`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`,
	`{"__metadata__":{"format":"pt"},"a":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[],"data_offsets":[8,10]}}  `,
	`{"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},"f":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}`,
	`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`,
	`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}`,
	`{"a":{"dtype":"F32","shape":[2147483647,2147483647,2147483647],"data_offsets":[0,8]}}`,
	`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}}`,
	`{"a":{"dtype":"X","shape":[2],"data_offsets":[0,8]}}`,
	`{"__metadata__":{"k":1}}`,
	`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":[{"y":null}]}}`,
	`[]`, `{`, ``, `null`,
}

// FuzzParseHeader checks that ParseHeader never panics and that what it accepts is
// sound: known dtypes, sizes matching shapes, ranges in bounds and disjoint, names
// unique and sorted.
func FuzzParseHeader(f *testing.F) {
	for _, h := range fuzzHeaders {
		f.Add([]byte(h), int64(16))
	}
	f.Fuzz(func(t *testing.T, header []byte, dataLen int64) {
		h, err := ParseHeader(header, dataLen)
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "safetensors: ") || strings.Contains(msg, "\n") {
				t.Fatalf("bad error message %q", msg)
			}
			return
		}
		checkHeader(t, h, dataLen)
	})
}

func checkHeader(t *testing.T, h *Header, dataLen int64) {
	t.Helper()
	for i, ti := range h.Tensors {
		if i > 0 && h.Tensors[i-1].Name >= ti.Name {
			t.Fatalf("tensors not sorted or not unique: %q then %q", h.Tensors[i-1].Name, ti.Name)
		}
		if ti.Name == metadataKey {
			t.Fatalf("tensor named %s", metadataKey)
		}
		if ti.Begin < 0 || ti.Begin > ti.End || ti.End > dataLen {
			t.Fatalf("tensor %q: range [%d, %d] out of bounds of %d", ti.Name, ti.Begin, ti.End, dataLen)
		}
		size, ok := byteSize(ti.DType, ti.Shape)
		if !ok || size != ti.End-ti.Begin || ti.NumElements()*int64(ti.DType.Size()) != size {
			t.Fatalf("tensor %q: %s %v in [%d, %d]", ti.Name, ti.DType, ti.Shape, ti.Begin, ti.End)
		}
		for _, d := range ti.Shape {
			if d < 0 {
				t.Fatalf("tensor %q: negative dimension", ti.Name)
			}
		}
	}
	byBegin := slices.Clone(h.Tensors)
	slices.SortFunc(byBegin, func(a, b TensorInfo) int { return cmp.Compare(a.Begin, b.Begin) })
	var end int64
	for _, ti := range byBegin {
		if ti.Begin == ti.End {
			continue
		}
		if ti.Begin < end {
			t.Fatalf("tensor %q overlaps another", ti.Name)
		}
		end = ti.End
	}
}

// FuzzOpen checks that Open and the readers never panic on any file.
func FuzzOpen(f *testing.F) {
	for _, h := range fuzzHeaders {
		f.Add(fileBytes(h, make([]byte, 16)))
	}
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.safetensors")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		file, err := Open(path)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		defer file.Close()
		checkHeader(t, file.header, int64(len(file.buf)))
		for _, name := range file.Names() {
			info, ok := file.Info(name)
			if !ok {
				t.Fatalf("Info(%q) not found", name)
			}
			raw, err := file.Raw(name)
			if err != nil || int64(len(raw)) != info.End-info.Begin {
				t.Fatalf("Raw(%q): %d bytes, %v", name, len(raw), err)
			}
			fs, err := file.Float32(name)
			if err == nil && int64(len(fs)) != info.NumElements() {
				t.Fatalf("Float32(%q): %d values for %v", name, len(fs), info.Shape)
			}
			bs, err := file.BF16(name)
			if err == nil && int64(len(bs)) != info.NumElements() {
				t.Fatalf("BF16(%q): %d values for %v", name, len(bs), info.Shape)
			}
		}
	})
}
