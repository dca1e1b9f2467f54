package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The benchmarks run each kernel on every supported instruction set in the same
// process, so that generic and assembly timings compare under the same load:
//
//	go test ./kernels -run '^$' -bench 'Exp|SwiGLU|RMSNorm|AdamW|CrossEntropy|Dot'
//
// ns/elem is the time per element of the main slice; B/s counts every slice read or
// written.

// benchISAs runs f as a sub-benchmark per instruction set, reporting ns/elem for elems
// elements moving bytes bytes of memory per call.
func benchISAs(b *testing.B, elems, bytes int, f func()) {
	old := ISA()
	defer SetISA(old)
	for _, name := range Supported() {
		b.Run(name, func(b *testing.B) {
			if err := SetISA(name); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(bytes))
			for b.Loop() {
				f()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(elems), "ns/elem")
		})
	}
}

func benchData(n int, scale float64) []float32 {
	r := rand.New(rand.NewPCG(uint64(n), 42))
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64() * scale)
	}
	return s
}

func BenchmarkDot(b *testing.B) {
	for _, n := range []int{32, 64, 128, 4096} {
		x, y := benchData(n, 1), benchData(n, 1)
		var sink float32
		b.Run(fmt.Sprint("n=", n), func(b *testing.B) {
			benchISAs(b, n, 8*n, func() { sink += Dot(x, y) })
		})
		_ = sink
	}
}

func BenchmarkAxpy(b *testing.B) {
	for _, n := range []int{32, 128, 4096} {
		x, y := benchData(n, 1), benchData(n, 1)
		b.Run(fmt.Sprint("n=", n), func(b *testing.B) {
			benchISAs(b, n, 12*n, func() { Axpy(1e-3, x, y) })
		})
	}
}

func BenchmarkExp(b *testing.B) {
	for _, n := range []int{256, 4096} {
		x, y := benchData(n, 10), make([]float32, n)
		b.Run(fmt.Sprint("n=", n), func(b *testing.B) {
			benchISAs(b, n, 8*n, func() { Exp(y, x) })
		})
	}
}

func BenchmarkSoftmax(b *testing.B) {
	for _, n := range []int{128, 1024} {
		x, y := benchData(n, 3), make([]float32, n)
		b.Run(fmt.Sprint("n=", n), func(b *testing.B) {
			benchISAs(b, n, 8*n, func() {
				copy(y, x)
				SoftmaxInPlace(y)
			})
		})
	}
}

func BenchmarkSwiGLU(b *testing.B) {
	// One token row of the model's MLP: intermediate size 688, times 8 tokens.
	const n = 688 * 8
	gate, up, dout := benchData(n, 2), benchData(n, 1), benchData(n, 1)
	out, dgate, dup := make([]float32, n), make([]float32, n), make([]float32, n)
	b.Run("forward", func(b *testing.B) {
		benchISAs(b, n, 12*n, func() { SwiGLU(out, gate, up) })
	})
	b.Run("backward", func(b *testing.B) {
		benchISAs(b, n, 20*n, func() { SwiGLUBackward(dgate, dup, dout, gate, up) })
	})
}

func BenchmarkRMSNorm(b *testing.B) {
	// 64 token rows of the model's hidden size.
	const d, rows = 256, 64
	x, w, dy := benchData(d*rows, 1), benchData(d, 1), benchData(d*rows, 1)
	y, dx, dw := make([]float32, d*rows), make([]float32, d*rows), make([]float32, d)
	rstd := make([]float32, rows)
	b.Run("forward", func(b *testing.B) {
		benchISAs(b, d*rows, 12*d*rows, func() {
			for i := range rows {
				rstd[i] = RMSNorm(y[i*d:(i+1)*d], x[i*d:(i+1)*d], w, 1e-6)
			}
		})
	})
	b.Run("backward", func(b *testing.B) {
		benchISAs(b, d*rows, 20*d*rows, func() {
			for i := range rows {
				RMSNormBackward(dx[i*d:(i+1)*d], dw, dy[i*d:(i+1)*d], x[i*d:(i+1)*d], w, rstd[i], false)
			}
		})
	})
}

func BenchmarkAdamW(b *testing.B) {
	// A 256×256 matrix (in cache) and the 4096×256 embedding (not).
	for _, n := range []int{1 << 16, 1 << 20} {
		p, g := benchData(n, 1), benchData(n, 1e-2)
		m, v := make([]float32, n), make([]float32, n)
		b.Run(fmt.Sprint("n=", n), func(b *testing.B) {
			benchISAs(b, n, 28*n, func() {
				AdamW(p, g, m, v, 1e-3, 0.9, 0.999, 1e-8, 0.01, 0.1, 0.001)
			})
		})
	}
}

func BenchmarkCrossEntropyRow(b *testing.B) {
	for _, vocab := range []int{4096, 32000} {
		logits, d := benchData(vocab, 3), make([]float32, vocab)
		var sink float32
		b.Run(fmt.Sprint("vocab=", vocab), func(b *testing.B) {
			benchISAs(b, vocab, 8*vocab, func() {
				sink += CrossEntropyRow(logits, 7, d, 1.0/1024)
			})
		})
		_ = sink
	}
}

func BenchmarkRoPE(b *testing.B) {
	for _, hd := range []int{32, 64, 128} {
		const heads = 8
		x, cos, sin := benchData(heads*hd, 1), benchData(hd/2, 1), benchData(hd/2, 1)
		b.Run(fmt.Sprint("headDim=", hd), func(b *testing.B) {
			benchISAs(b, heads*hd, 8*heads*hd, func() { RoPE(x, cos, sin, heads, hd, false) })
		})
	}
}
