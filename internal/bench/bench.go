// Package bench holds the measurements behind `aegis bench`: GEMM throughput, training
// steps and tokenizer encoding, each timed the way its figure is reported, plus the
// process helpers they share (random inputs, CPU profiles, peak memory, random models),
// and the report of the figures. The command keeps the flags.
package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aegis-safety/aegis/kernels"
	"github.com/aegis-safety/aegis/native/model"
)

// GEMM is a matrix multiply to time: C (M×N) = A·B with inner dimension K, A or B
// transposed as TA and TB say.
type GEMM struct {
	M, N, K int
	TA, TB  bool
}

// Time multiplies random matrices for at least seconds (and at least three times, after
// one untimed warm-up for page faults and packing buffers) and returns the median time
// of one multiply and the number of timed runs.
func (g GEMM) Time(seconds float64) (median float64, runs int) {
	r := rand.New(rand.NewPCG(1, 2))
	fill := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = r.Float32()*2 - 1
		}
		return s
	}
	a, b, c := fill(g.M*g.K), fill(g.K*g.N), make([]float32, g.M*g.N)
	lda, ldb := g.K, g.N
	if g.TA {
		lda = g.M
	}
	if g.TB {
		ldb = g.K
	}
	mul := func() { kernels.Sgemm(g.TA, g.TB, g.M, g.N, g.K, 1, a, lda, b, ldb, 0, c, g.N) }
	mul()
	var times []float64
	for start := time.Now(); time.Since(start).Seconds() < seconds || len(times) < 3; {
		t0 := time.Now()
		mul()
		times = append(times, time.Since(t0).Seconds())
	}
	slices.Sort(times)
	return times[len(times)/2], len(times)
}

// GFLOPS is the rate of one multiply taking seconds: 2·M·N·K floating-point operations.
func (g GEMM) GFLOPS(seconds float64) float64 {
	return 2 * float64(g.M) * float64(g.N) * float64(g.K) / seconds / 1e9
}

// RandomIDs returns n token ids drawn uniformly below vocab.
func RandomIDs(r *rand.Rand, n, vocab int) []int32 {
	ids := make([]int32, n)
	for i := range ids {
		ids[i] = int32(r.IntN(vocab))
	}
	return ids
}

// StartProfile starts a CPU profile into path (nothing when path is empty) and returns
// the function that stops it.
func StartProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// PeakRSSMB reads the process's peak resident set (VmHWM) from /proc, or 0 where there
// is none.
func PeakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// Report prints a benchmark's figures: as one JSON object, or as aligned "key value" lines
// in the order of keys, floats with four significant digits.
func Report(w io.Writer, asJSON bool, keys []string, vals map[string]any) error {
	if asJSON {
		return json.NewEncoder(w).Encode(vals)
	}
	for _, k := range keys {
		v := vals[k]
		if f, ok := v.(float64); ok {
			v = strconv.FormatFloat(f, 'g', 4, 64)
		}
		fmt.Fprintf(w, "%-14s %v\n", k, v)
	}
	return nil
}

// SetThreads makes the benchmarks run on n threads (GOMAXPROCS; 0 keeps the number, by
// default every core) and returns how many they run on.
func SetThreads(n int) int {
	if n > 0 {
		runtime.GOMAXPROCS(n)
	}
	return runtime.GOMAXPROCS(0)
}

// RandomModel is a model of the Hugging Face config.json at path initialised at random
// from seed, its base weights held in bfloat16 when bf16.
func RandomModel(path string, bf16 bool, seed uint64) (*model.Model, error) {
	cfg, err := model.LoadConfig(path)
	if err != nil {
		return nil, err
	}
	return model.New(*cfg, seed, model.Options{BF16Base: bf16})
}
