package model

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"testing"
)

// TestWriteLogitsJSON: one array per row, every value reading back as the same float32
// in its shortest form, NaN and infinities as null.
func TestWriteLogitsJSON(t *testing.T) {
	t.Parallel()
	inf := float32(math.Inf(1))
	logits := []float32{1, -0.1, 3.4028235e38, float32(math.NaN()), inf, -inf, 1e-45, 0.33333334}
	var b bytes.Buffer
	if err := WriteLogitsJSON(&b, logits, 4); err != nil {
		t.Fatal(err)
	}
	want := `{"logits": [[1, -0.1, 3.4028235e+38, null], [null, null, 1e-45, 0.33333334]]}` + "\n"
	if b.String() != want {
		t.Fatalf("wrote %q, want %q", b.String(), want)
	}
	var got struct{ Logits [][]*float64 }
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	for i, x := range logits {
		p := got.Logits[i/4][i%4]
		if finite := !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0); finite != (p != nil) || p != nil && float32(*p) != x {
			t.Errorf("value %d: %v read back as %v", i, x, p)
		}
	}
	b.Reset()
	if WriteLogitsJSON(&b, nil, 4); b.String() != `{"logits": []}`+"\n" {
		t.Errorf("no rows: %q", b.String())
	}
}

// TestLoadAdapted: with an adapter folder the model computes as Load and LoadAdapter do,
// without one as Load does; a missing adapter is an error.
func TestLoadAdapted(t *testing.T) {
	t.Parallel()
	dir := "testdata/golden/llama_lora"
	batch := &Batch{B: 1, T: 4, IDs: []int32{5, 6, 7, 8}}
	logits := func(m *Model, err error) []float32 {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		out, err := m.Forward(batch)
		if err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), out...)
	}
	base := logits(Load(dir, Options{}))
	want, err := Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := want.LoadAdapter(dir, "default"); err != nil {
		t.Fatal(err)
	}
	adapted := logits(want, nil)
	if got := logits(LoadAdapted(dir, "", Options{})); !slices.Equal(got, base) {
		t.Error("without an adapter: not the base model")
	}
	if got := logits(LoadAdapted(dir, dir, Options{})); !slices.Equal(got, adapted) || slices.Equal(got, base) {
		t.Error("with the adapter: not the adapted model")
	}
	if _, err := LoadAdapted(dir, t.TempDir(), Options{}); err == nil {
		t.Error("an empty adapter folder loaded")
	}
}
