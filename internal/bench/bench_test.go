package bench

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aegis-safety/aegis/native/model"
)

// TestGEMMTime: at least three timed runs, a positive median, and the FLOP count 2·M·N·K.
func TestGEMMTime(t *testing.T) {
	t.Parallel()
	g := GEMM{M: 8, N: 4, K: 16, TB: true}
	med, runs := g.Time(0)
	if runs < 3 || med <= 0 {
		t.Fatalf("median %g over %d runs", med, runs)
	}
	if got := g.GFLOPS(1); got*1e9 != 2*8*4*16 {
		t.Fatalf("GFLOPS at 1 ns: %g", got)
	}
}

// TestDocs: the generated mix reaches the size asked for, and is the same every time.
func TestDocs(t *testing.T) {
	t.Parallel()
	a, b := Docs(10000), Docs(10000)
	n := 0
	for i, d := range a {
		n += len(d)
		if d != b[i] {
			t.Fatal("Docs is not deterministic")
		}
	}
	if n < 10000 || len(a) < 2 {
		t.Fatalf("%d bytes in %d docs", n, len(a))
	}
	p := filepath.Join(t.TempDir(), "t.txt")
	os.WriteFile(p, []byte("one\n\ntwo\nlines\n\n"), 0o644)
	if docs, err := ReadDocs(p); err != nil || strings.Join(docs, "|") != "one|two\nlines" {
		t.Fatalf("%q %v", docs, err)
	}
}

// TestTrainer: a tiny random model trains on random rows, full or LoRA, and a sequence
// with no token to score is refused.
func TestTrainer(t *testing.T) {
	t.Parallel()
	cfg, err := model.LoadConfig("../../native/model/testdata/golden/llama_gqa/config.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, rank := range []int{0, 2} {
		m, err := model.New(*cfg, 1, model.Options{})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := Trainer(m, 2, 4, 2, rank)
		if err != nil {
			t.Fatal(err)
		}
		steps := 0
		res, err := TimeSteps(tr, m, 2, func() { steps++ })
		if err != nil || steps != 2 || res.StepSeconds <= 0 || res.Trainable == 0 || res.Loss <= 0 {
			t.Fatalf("rank %d: %+v after %d steps, %v", rank, res, steps, err)
		}
	}
	m, _ := model.New(*cfg, 1, model.Options{})
	if _, err := Trainer(m, 1, 1, 1, 0); !errors.Is(err, ErrShortSeq) {
		t.Fatalf("seq 1: %v", err)
	}
	if ids := RandomIDs(rand.New(rand.NewPCG(1, 1)), 50, 7); len(ids) != 50 || slicesMax(ids) >= 7 {
		t.Fatalf("%v", ids)
	}
}

func slicesMax(ids []int32) int32 {
	m := int32(0)
	for _, id := range ids {
		m = max(m, id)
	}
	return m
}

// TestTimeDecode: a prefill, then one step per new token, each reported.
func TestTimeDecode(t *testing.T) {
	t.Parallel()
	cfg, err := model.LoadConfig("../../native/model/testdata/golden/llama_gqa/config.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.New(*cfg, 1, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	res, err := TimeDecode(m, 2, 3, 4, func() { n++ })
	if err != nil || n != 4 || res.Prefill <= 0 || res.Decode <= 0 {
		t.Fatalf("%+v after %d tokens, %v", res, n, err)
	}
}
