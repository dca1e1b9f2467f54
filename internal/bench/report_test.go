package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"runtime"
	"slices"
	"testing"

	"github.com/aegis-safety/aegis/native/model"
)

// TestReport: text is one aligned line a key, in the order given, floats to four
// significant digits; --json is one object with every figure.
func TestReport(t *testing.T) {
	t.Parallel()
	keys := []string{"gflops", "m", "layout", "missing"}
	vals := map[string]any{"gflops": 123.456789, "m": 64, "layout": "nt"}
	var text bytes.Buffer
	if err := Report(&text, false, keys, vals); err != nil {
		t.Fatal(err)
	}
	want := "gflops         123.5\nm              64\nlayout         nt\nmissing        <nil>\n"
	if text.String() != want {
		t.Errorf("text:\n%q\nwant\n%q", text.String(), want)
	}
	var js bytes.Buffer
	if err := Report(&js, true, keys, vals); err != nil {
		t.Fatal(err)
	}
	if js.String() != `{"gflops":123.456789,"layout":"nt","m":64}`+"\n" {
		t.Errorf("json: %q", js.String())
	}
}

// TestSetThreads: 0 keeps GOMAXPROCS, n sets it; both return what it is.
func TestSetThreads(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(before)
	if got := SetThreads(0); got != before {
		t.Errorf("SetThreads(0) = %d, GOMAXPROCS %d", got, before)
	}
	if got := SetThreads(3); got != 3 || runtime.GOMAXPROCS(0) != 3 {
		t.Errorf("SetThreads(3) = %d, GOMAXPROCS %d", got, runtime.GOMAXPROCS(0))
	}
}

// TestRandomModel: the config's shapes, the seed decides the weights, bf16 the base's
// precision; a missing config is an error.
func TestRandomModel(t *testing.T) {
	t.Parallel()
	cfg := "../../native/model/testdata/golden/llama_gqa/config.json"
	logits := func(bf16 bool, seed uint64) []float32 {
		m, err := RandomModel(cfg, bf16, seed)
		if err != nil {
			t.Fatal(err)
		}
		if m.Config.VocabSize != 80 {
			t.Fatalf("vocab %d", m.Config.VocabSize)
		}
		out, err := m.Forward(&model.Batch{B: 1, T: 3, IDs: []int32{1, 2, 3}})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	a, b, c, d := logits(false, 1), logits(false, 1), logits(false, 2), logits(true, 1)
	if !slices.Equal(a, b) || slices.Equal(a, c) || slices.Equal(a, d) {
		t.Errorf("same seed same logits %v, other seed other logits %v, bf16 other logits %v", slices.Equal(a, b), !slices.Equal(a, c), !slices.Equal(a, d))
	}
	if _, err := RandomModel("nonexistent/config.json", false, 1); err == nil {
		t.Error("a missing config.json gave a model")
	}
}

// TestEncodingFigures: the figures of an encoding, and the reference's added to them: its
// rates, the ratios, whether the ids were the same; or its error, in one line.
func TestEncodingFigures(t *testing.T) {
	t.Parallel()
	e := Encoding{Bytes: 4e6, Tokens: 1e6, Best: 2, First: 4, Hash: 7}
	keys, vals := e.Figures(10)
	if len(keys) != 7 || vals["mb_per_s"] != 2.0 || vals["tokens_per_s"] != 5e5 || vals["cold_mb_per_s"] != 1.0 || vals["docs"] != 10 {
		t.Fatalf("figures %v %v", keys, vals)
	}
	keys = e.AddHF(keys, vals, HFResult{Seconds: 4, FirstSeconds: 2, Bytes: 4e6, Tokens: 1e6, Hash: 7}, nil)
	if len(keys) != 12 || vals["hf_mb_per_s"] != 1.0 || vals["hf_cold_mb_per_s"] != 2.0 || vals["ratio"] != 2.0 ||
		vals["cold_ratio"] != 0.5 || vals["identical"] != true || vals["hf_error"] != nil {
		t.Errorf("with HF: %v %v", keys, vals)
	}
	_, vals = e.Figures(10)
	if e.AddHF(nil, vals, HFResult{Tokens: 1e6, Hash: 8}, nil); vals["identical"] != false {
		t.Errorf("other ids are identical: %v", vals)
	}
	_, vals = e.Figures(10)
	keys = e.AddHF(nil, vals, HFResult{}, errors.New("node:\n  not found"))
	b, _ := json.Marshal(vals)
	if len(keys) != 6 || keys[5] != "hf_error" || vals["hf_error"] != "node: not found" || vals["ratio"] != nil {
		t.Errorf("HF failed: %v %s", keys, b)
	}
}
