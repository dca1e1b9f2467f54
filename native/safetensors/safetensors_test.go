package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aegis-safety/aegis/kernels"
)

// fileBytes assembles a safetensors file from a header, unpadded, and a data buffer.
func fileBytes(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func openT(t *testing.T, path string) *File {
	t.Helper()
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestWriteBytes checks the exact bytes of a tiny file against what the Python library
// writes for save_file({"a": torch.tensor([1.0, 2.0])}).
func TestWriteBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.safetensors")
	err := Write(path, []Tensor{{Name: "a", DType: F32, Shape: []int{2}, F32: []float32{1, 2}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{56, 0, 0, 0, 0, 0, 0, 0} // 54 bytes of JSON, padded to 56
	want = append(want, `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}  `...)
	want = append(want, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40) // 1.0, 2.0
	if !bytes.Equal(got, want) {
		t.Errorf("file bytes:\n got %q\nwant %q", got, want)
	}

	// With metadata, which comes first; tensors are sorted by name.
	err = Write(path, []Tensor{
		{Name: "b", DType: BF16, Shape: []int{1}, BF16: []uint16{0x3f80}},
		{Name: "a", DType: F32, Shape: []int{}, F32: []float32{2}},
	}, map[string]string{"format": "pt", "a\"\n": "<&>"})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = os.ReadFile(path)
	header := `{"__metadata__":{"a\"\n":"<&>","format":"pt"},` +
		`"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},` +
		`"b":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]}}`
	for len(header)%8 != 0 {
		header += " "
	}
	want = fileBytes(header, []byte{0, 0, 0, 0x40, 0x80, 0x3f})
	if !bytes.Equal(got, want) {
		t.Errorf("file bytes:\n got %q\nwant %q", got, want)
	}
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	f32 := []float32{0, 1, -2.5, float32(math.Inf(1)), 3.1415927, 1e-40, 65504, -0.0}
	bf := []uint16{0x3f80, 0xc000, 0x7f80, 0x0001, 0x8000, 0x4049}
	rounded := []float32{1.00390625, 1.0048828125, 3.1415927}
	tensors := []Tensor{
		{Name: "w.f32", DType: F32, Shape: []int{2, 4}, F32: f32},
		{Name: "w.bf16", DType: BF16, Shape: []int{3, 2}, BF16: bf},
		{Name: "w.rounded", DType: BF16, Shape: []int{3}, F32: rounded},
		{Name: "empty", DType: F32, Shape: []int{0, 5}},
		{Name: "scalar", DType: F32, Shape: nil, F32: []float32{7}},
	}
	meta := map[string]string{"format": "pt"}
	if err := Write(path, tensors, meta); err != nil {
		t.Fatal(err)
	}
	f := openT(t, path)
	if got, want := f.Names(), []string{"empty", "scalar", "w.bf16", "w.f32", "w.rounded"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	if got := f.Metadata(); len(got) != 1 || got["format"] != "pt" {
		t.Errorf("Metadata() = %v", got)
	}
	if f.Path() != path {
		t.Errorf("Path() = %q", f.Path())
	}

	got, err := f.Float32("w.f32")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(got, f32, func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }) {
		t.Errorf("Float32(w.f32) = %v, want %v", got, f32)
	}
	info, ok := f.Info("w.f32")
	if !ok || info.DType != F32 || !slices.Equal(info.Shape, []int{2, 4}) || info.NumElements() != 8 || info.End-info.Begin != 32 {
		t.Errorf("Info(w.f32) = %+v, %v", info, ok)
	}

	gotBF, err := f.BF16("w.bf16")
	if err != nil || !slices.Equal(gotBF, bf) {
		t.Errorf("BF16(w.bf16) = %v, %v; want %v", gotBF, err, bf)
	}
	got, err = f.Float32("w.bf16")
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range bf {
		if math.Float32bits(got[i]) != math.Float32bits(kernels.BF16ToF32(h)) {
			t.Errorf("Float32(w.bf16)[%d] = %v, want %v", i, got[i], kernels.BF16ToF32(h))
		}
	}
	gotBF, _ = f.BF16("w.rounded")
	for i, x := range rounded {
		if gotBF[i] != kernels.F32ToBF16(x) {
			t.Errorf("BF16(w.rounded)[%d] = %#x, want %#x", i, gotBF[i], kernels.F32ToBF16(x))
		}
	}
	gotBF, _ = f.BF16("w.f32") // F32 rounded on read
	for i, x := range f32 {
		if gotBF[i] != kernels.F32ToBF16(x) {
			t.Errorf("BF16(w.f32)[%d] = %#x, want %#x", i, gotBF[i], kernels.F32ToBF16(x))
		}
	}
	if got, err := f.Float32("empty"); err != nil || len(got) != 0 {
		t.Errorf("Float32(empty) = %v, %v", got, err)
	}
	if got, err := f.Float32("scalar"); err != nil || !slices.Equal(got, []float32{7}) {
		t.Errorf("Float32(scalar) = %v, %v", got, err)
	}
	raw, err := f.Raw("scalar")
	if err != nil || !bytes.Equal(raw, []byte{0, 0, 0xe0, 0x40}) {
		t.Errorf("Raw(scalar) = %x, %v", raw, err)
	}

	if _, err := f.Float32("nope"); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("Float32(nope) error = %v", err)
	}
	if _, ok := f.Info("nope"); ok {
		t.Error("Info(nope) found")
	}

	// Overwriting replaces the file atomically and leaves no temporary files behind.
	if err := Write(path, tensors[:1], nil); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want 1", len(entries))
	}
}

// TestF16 reads a hand-made F16 file, which Write cannot produce.
func TestF16(t *testing.T) {
	halves := []uint16{0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00, 0x8000, 0x3555}
	want := []float32{1, -2, 0.5, 65504, 0x1p-24, float32(math.Inf(1)), float32(math.Copysign(0, -1)), 0.33325195}
	var data []byte
	for _, h := range halves {
		data = binary.LittleEndian.AppendUint16(data, h)
	}
	path := writeTemp(t, "h.safetensors", fileBytes(`{"h":{"dtype":"F16","shape":[2,4],"data_offsets":[0,16]}}`, data))
	f := openT(t, path)
	got, err := f.Float32("h")
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Errorf("Float32(h)[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	gotBF, err := f.BF16("h")
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if gotBF[i] != kernels.F32ToBF16(want[i]) {
			t.Errorf("BF16(h)[%d] = %#x, want %#x", i, gotBF[i], kernels.F32ToBF16(want[i]))
		}
	}
}

func TestOtherDTypes(t *testing.T) {
	header := `{"i":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},"b":{"dtype":"BOOL","shape":[3],"data_offsets":[16,19]}}`
	data := make([]byte, 19)
	data[0], data[8], data[16] = 5, 6, 1
	path := writeTemp(t, "i.safetensors", fileBytes(header, data))
	f := openT(t, path)
	raw, err := f.Raw("i")
	if err != nil || len(raw) != 16 || raw[8] != 6 {
		t.Errorf("Raw(i) = %v, %v", raw, err)
	}
	for _, name := range []string{"i", "b"} {
		_, err := f.Float32(name)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `tensor "`+name+`"`) {
			t.Errorf("Float32(%s) error = %v", name, err)
		}
		_, err = f.BF16(name)
		if err == nil || !strings.Contains(err.Error(), "cannot convert") {
			t.Errorf("BF16(%s) error = %v", name, err)
		}
	}
}

func TestClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.safetensors")
	if err := Write(path, []Tensor{{Name: "x", DType: F32, Shape: []int{1}, F32: []float32{1}}}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Raw("x"); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Raw after Close: %v", err)
	}
	if err := f.Close(); err == nil {
		t.Error("second Close succeeded")
	}
}

func TestOpenMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.safetensors")
	_, err := Open(path)
	if err == nil || !strings.Contains(err.Error(), path) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(missing) error = %v", err)
	}
	_, err = OpenModel(filepath.Dir(path))
	if err == nil || !strings.Contains(err.Error(), "model.safetensors") {
		t.Errorf("OpenModel(empty dir) error = %v", err)
	}
}

func TestMalformed(t *testing.T) {
	good := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
	for _, tc := range []struct {
		name   string
		file   []byte
		tensor string // the tensor the error must name, if any
		want   string
	}{
		{"empty file", nil, "", "too short"},
		{"short file", []byte{1, 2, 3}, "", "too short"},
		{"header length beyond file", append(binary.LittleEndian.AppendUint64(nil, 100), good...), "", "header length 100 exceeds"},
		{"huge header length", append(binary.LittleEndian.AppendUint64(nil, math.MaxUint64), good...), "", "exceeds"},
		{"empty header", fileBytes("", nil), "", "invalid header JSON"},
		{"not JSON", fileBytes("{nope}", nil), "", "invalid header JSON"},
		{"array", fileBytes("[]", nil), "", "not a JSON object"},
		{"string", fileBytes(`"a"`, nil), "", "not a JSON object"},
		{"null", fileBytes(`null`, nil), "", "not a JSON object"},
		{"truncated JSON", fileBytes(`{"a":{"dtype":"F32"`, nil), "a", "invalid header JSON"},
		{"trailing data", fileBytes(good+`{}`, make([]byte, 8)), "", "after the top-level object"},
		{"invalid UTF-8", fileBytes("{\"\xff\":1}", nil), "", "UTF-8"},
		{"entry not object", fileBytes(`{"a":[1]}`, nil), "a", "not a JSON object"},
		{"missing dtype", fileBytes(`{"a":{"shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8)), "a", "missing dtype"},
		{"missing shape", fileBytes(`{"a":{"dtype":"F32","data_offsets":[0,8]}}`, make([]byte, 8)), "a", "missing shape"},
		{"missing offsets", fileBytes(`{"a":{"dtype":"F32","shape":[2]}}`, make([]byte, 8)), "a", "missing data_offsets"},
		{"dtype not string", fileBytes(`{"a":{"dtype":4,"shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8)), "a", "dtype is not a string"},
		{"unknown dtype", fileBytes(`{"a":{"dtype":"F4","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8)), "a", `unsupported dtype "F4"`},
		{"negative dim", fileBytes(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, make([]byte, 8)), "a", "negative value -2"},
		{"fractional dim", fileBytes(`{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}`, make([]byte, 8)), "a", "not an integer"},
		{"string dim", fileBytes(`{"a":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}}`, make([]byte, 8)), "a", "not a number"},
		{"shape not array", fileBytes(`{"a":{"dtype":"F32","shape":2,"data_offsets":[0,8]}}`, make([]byte, 8)), "a", "not a JSON array"},
		{"dim out of range", fileBytes(`{"a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,8]}}`, make([]byte, 8)), "a", "out of range"},
		{"overflowing dims", fileBytes(`{"a":{"dtype":"F32","shape":[2147483647,2147483647,2147483647],"data_offsets":[0,8]}}`, make([]byte, 8)), "a", "overflows"},
		{"overflowing bytes", fileBytes(`{"a":{"dtype":"F32","shape":[2147483647,2147483647],"data_offsets":[0,8]}}`, make([]byte, 8)), "a", "overflows"},
		{"size mismatch", fileBytes(`{"a":{"dtype":"BF16","shape":[4,3],"data_offsets":[0,8]}}`, make([]byte, 8)), "a", "data_offsets [0, 8] span 8 bytes, but BF16 [4 3] needs 24"},
		{"three offsets", fileBytes(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}}`, make([]byte, 8)), "a", "want 2"},
		{"offsets reversed", fileBytes(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, make([]byte, 8)), "a", "end before they begin"},
		{"offsets out of bounds", fileBytes(good, make([]byte, 4)), "a", "exceed the data buffer of 4 bytes"},
		{"offset too large", fileBytes(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[9223372036854775807,9223372036854775815]}}`, nil), "a", "out of range"},
		{"overlap", fileBytes(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, make([]byte, 12)), "b", `overlap tensor "a"`},
		{"empty inside another", fileBytes(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}`, make([]byte, 8)), "b", `overlap tensor "a"`},
		{"duplicate name", fileBytes(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}`, make([]byte, 16)), "a", "duplicate tensor name"},
		{"duplicate field", fileBytes(`{"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8)), "a", "duplicate dtype"},
		{"metadata not object", fileBytes(`{"__metadata__":[]}`, nil), "", "__metadata__: not a JSON object"},
		{"metadata value not string", fileBytes(`{"__metadata__":{"k":1}}`, nil), "", `value of "k" is not a string`},
		{"metadata duplicate key", fileBytes(`{"__metadata__":{"k":"1","k":"2"}}`, nil), "", `duplicate key "k"`},
		{"duplicate metadata", fileBytes(`{"__metadata__":{},"__metadata__":{}}`, nil), "", "duplicate __metadata__"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, "bad.safetensors", tc.file)
			f, err := Open(path)
			if err == nil {
				f.Close()
				t.Fatal("Open succeeded")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "safetensors: "+path+": ") || strings.Contains(msg, "\n") {
				t.Errorf("error %q does not start with the path or is not one line", msg)
			}
			if tc.tensor != "" && !strings.Contains(msg, `tensor "`+tc.tensor+`"`) {
				t.Errorf("error %q does not name tensor %q", msg, tc.tensor)
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not contain %q", msg, tc.want)
			}
		})
	}
}

func TestParseHeader(t *testing.T) {
	header := `{"z":{"dtype":"U8","shape":[3],"data_offsets":[10,13]},"__metadata__":null,` +
		`"e1":{"dtype":"F32","shape":[0],"data_offsets":[10,10]},"e2":{"dtype":"F32","shape":[2,0],"data_offsets":[10,10]},` +
		`"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2],"extra":{"x":[1,{}]}}}      `
	h, err := ParseHeader([]byte(header), 20)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ti := range h.Tensors {
		names = append(names, ti.Name)
	}
	if want := []string{"a", "e1", "e2", "z"}; !slices.Equal(names, want) {
		t.Errorf("tensors %q, want %q", names, want)
	}
	if h.Metadata != nil {
		t.Errorf("Metadata = %v, want nil", h.Metadata)
	}
	_, err = ParseHeader([]byte(header), 12)
	if err == nil || !strings.HasPrefix(err.Error(), `safetensors: tensor "z": `) {
		t.Errorf("short data: error %v", err)
	}
}

// TestTruncated opens every truncation of a valid file.
func TestTruncated(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "full.safetensors")
	err := Write(path, []Tensor{
		{Name: "a", DType: F32, Shape: []int{3}, F32: []float32{1, 2, 3}},
		{Name: "b", DType: BF16, Shape: []int{2}, BF16: []uint16{1, 2}},
	}, map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	full, _ := os.ReadFile(path)
	cut := filepath.Join(dir, "cut.safetensors")
	for n := range len(full) {
		if err := os.WriteFile(cut, full[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := Open(cut)
		if err == nil {
			f.Close()
			t.Fatalf("Open of %d of %d bytes succeeded", n, len(full))
		}
		if !strings.Contains(err.Error(), cut) {
			t.Errorf("error %q does not name the file", err)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.safetensors")
	for _, tc := range []struct {
		name    string
		tensors []Tensor
		want    string
	}{
		{"duplicate", []Tensor{{Name: "a", DType: F32, Shape: []int{1}, F32: []float32{1}}, {Name: "a", DType: F32, Shape: []int{1}, F32: []float32{1}}}, `tensor "a": duplicate`},
		{"short data", []Tensor{{Name: "a", DType: F32, Shape: []int{2, 2}, F32: []float32{1}}}, "needs 4 values, have 1"},
		{"F16", []Tensor{{Name: "a", DType: F16, Shape: []int{1}, F32: []float32{1}}}, `cannot write dtype "F16"`},
		{"both", []Tensor{{Name: "a", DType: BF16, Shape: []int{1}, F32: []float32{1}, BF16: []uint16{1}}}, "both"},
		{"BF16 data for F32", []Tensor{{Name: "a", DType: F32, Shape: []int{1}, BF16: []uint16{1}}}, "BF16 values for a F32 tensor"},
		{"negative dim", []Tensor{{Name: "a", DType: F32, Shape: []int{-1}}}, "negative"},
		{"overflow", []Tensor{{Name: "a", DType: F32, Shape: []int{math.MaxInt, math.MaxInt, math.MaxInt}}}, "overflows"},
		{"reserved name", []Tensor{{Name: "__metadata__", DType: F32, Shape: []int{0}}}, "reserved"},
	} {
		err := Write(path, tc.tensors, nil)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("failed writes left a file: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 0 {
		t.Errorf("failed writes left %d files", len(entries))
	}
}

func writeShard(t *testing.T, path string, names ...string) {
	t.Helper()
	var ts []Tensor
	for i, name := range names {
		ts = append(ts, Tensor{Name: name, DType: F32, Shape: []int{1}, F32: []float32{float32(i + 1)}})
	}
	if err := Write(path, ts, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
}

func TestOpenModel(t *testing.T) {
	dir := t.TempDir()
	s1, s2 := "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"
	writeShard(t, filepath.Join(dir, s1), "embed", "layer.0")
	writeShard(t, filepath.Join(dir, s2), "layer.1", "norm")
	weightMap := map[string]string{"embed": s1, "layer.0": s1, "layer.1": s2, "norm": s2}
	if err := WriteIndex(dir, weightMap, map[string]any{"total_size": 16}); err != nil {
		t.Fatal(err)
	}
	s, err := OpenModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, want := s.Names(), []string{"embed", "layer.0", "layer.1", "norm"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	if !s.Has("norm") || s.Has("nope") {
		t.Error("Has is wrong")
	}
	if got, err := s.Float32("norm"); err != nil || !slices.Equal(got, []float32{2}) {
		t.Errorf("Float32(norm) = %v, %v", got, err)
	}
	if got, err := s.BF16("layer.0"); err != nil || !slices.Equal(got, []uint16{0x4000}) {
		t.Errorf("BF16(layer.0) = %v, %v", got, err)
	}
	if raw, err := s.Raw("embed"); err != nil || len(raw) != 4 {
		t.Errorf("Raw(embed) = %v, %v", raw, err)
	}
	if info, ok := s.Info("layer.1"); !ok || info.Name != "layer.1" {
		t.Errorf("Info(layer.1) = %v, %v", info, ok)
	}
	if _, err := s.Float32("nope"); err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("Float32(nope) error = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}

	// Without an index, model.safetensors.
	single := t.TempDir()
	writeShard(t, filepath.Join(single, "model.safetensors"), "x")
	s, err = OpenModel(single)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Names(), []string{"x"}) {
		t.Errorf("Names() = %q", s.Names())
	}
	s.Close()
}

func TestOpenModelErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		index string
		want  string
	}{
		{"escape", `{"weight_map":{"a":"../a.safetensors"}}`, `tensor "a": shard "../a.safetensors" is not a plain file name`},
		{"absolute", `{"weight_map":{"a":"/etc/passwd"}}`, "not a plain file name"},
		{"backslash", `{"weight_map":{"a":"x\\a.safetensors"}}`, "not a plain file name"},
		{"dot dot", `{"weight_map":{"a":".."}}`, "not a plain file name"},
		{"duplicate", `{"weight_map":{"a":"1.safetensors","a":"2.safetensors"}}`, `tensor "a": listed twice`},
		{"missing tensor", `{"weight_map":{"a":"1.safetensors","b":"1.safetensors","zz":"1.safetensors"}}`, `tensor "zz": listed in`},
		{"wrong shard", `{"weight_map":{"a":"1.safetensors","b":"1.safetensors","c":"1.safetensors"}}`, `tensor "c": listed in`},
		{"unlisted tensor", `{"weight_map":{"a":"1.safetensors"}}`, `tensor "b": not listed in`},
		{"tensor in two shards", `{"weight_map":{"a":"1.safetensors","b":"1.safetensors","c":"3.safetensors"}}`, `also in`},
		{"missing shard", `{"weight_map":{"a":"9.safetensors"}}`, "9.safetensors"},
		{"empty", `{"metadata":{}}`, "no weight_map"},
		{"not object", `[]`, "not a JSON object"},
		{"bad JSON", `{"weight_map":`, "invalid JSON"},
		{"value not string", `{"weight_map":{"a":1}}`, `tensor "a": weight_map value is not a string`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeShard(t, filepath.Join(dir, "1.safetensors"), "a", "b")
			writeShard(t, filepath.Join(dir, "2.safetensors"), "c")
			writeShard(t, filepath.Join(dir, "3.safetensors"), "a", "c")
			if err := os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), []byte(tc.index), 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := OpenModel(dir)
			if err == nil {
				s.Close()
				t.Fatal("OpenModel succeeded")
			}
			if !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one naming the directory and containing %q", err, tc.want)
			}
		})
	}
}

func TestOpenSet(t *testing.T) {
	dir := t.TempDir()
	p1, p2 := filepath.Join(dir, "1.safetensors"), filepath.Join(dir, "2.safetensors")
	writeShard(t, p1, "a")
	writeShard(t, p2, "b", "a")
	if _, err := OpenSet(p1, p2); err == nil || !strings.Contains(err.Error(), `tensor "a": also in `+p1) {
		t.Errorf("OpenSet with a duplicate tensor: %v", err)
	}
	if _, err := OpenSet(); err == nil {
		t.Error("OpenSet() succeeded")
	}
	s, err := OpenSet(p2)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.Float32("b"); err != nil || got[0] != 1 {
		t.Errorf("Float32(b) = %v, %v", got, err)
	}
}

func TestWriteIndex(t *testing.T) {
	dir := t.TempDir()
	if err := WriteIndex(dir, map[string]string{"b": "2.safetensors", "a": "1.safetensors"}, map[string]any{"total_size": 8}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "model.safetensors.index.json"))
	want := "{\n  \"metadata\": {\n    \"total_size\": 8\n  },\n  \"weight_map\": {\n    \"a\": \"1.safetensors\",\n    \"b\": \"2.safetensors\"\n  }\n}\n"
	if string(got) != want {
		t.Errorf("index:\n%s\nwant:\n%s", got, want)
	}
	if err := WriteIndex(dir, map[string]string{"a": "../x"}, nil); err == nil || !strings.Contains(err.Error(), `tensor "a"`) {
		t.Errorf("WriteIndex with a bad shard name: %v", err)
	}
}
