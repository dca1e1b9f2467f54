package train

import (
	"fmt"
	"runtime"

	"github.com/aegis-safety/aegis/kernels"
)

// IgnoreIndex is the conventional target id for positions that carry no
// loss (padding, prompt tokens), matching PyTorch's ignore_index default.
const IgnoreIndex = -100

// CrossEntropy computes the token cross-entropy of rows of logits against
// targets and returns the SUM of -log softmax(row)[target] over the counted
// rows, and their count n. logits is len(targets)×vocab, row-major; rows
// whose target equals ignore are not counted.
//
// If dlogits is non-nil (same length as logits) it is overwritten with
// gradScale * (softmax(row) - onehot(target)) for counted rows and zeros for
// ignored rows, i.e. the gradient of gradScale × the summed loss. The caller
// picks the normalisation: 1/n for a mean over this batch, or 1/N with N the
// counted tokens over all micro-batches of a gradient-accumulation step.
// MeanCrossEntropy is the plain mean.
//
// Softmax is computed max-subtracted; sums and the loss accumulate in
// float64. A target outside [0, vocab) other than ignore is an error, and
// then dlogits is left unchanged.
func CrossEntropy(logits []float32, vocab int, targets []int32, ignore int32, dlogits []float32, gradScale float64) (loss float64, n int, err error) {
	n, err = checkCE(logits, vocab, targets, ignore, dlogits)
	if err != nil {
		return 0, 0, err
	}
	// Rows are independent: split them across cores, each chunk summing its own loss.
	workers := runtime.GOMAXPROCS(0)
	sums := make([]float64, workers)
	chunk := (len(targets) + workers - 1) / workers
	kernels.ParallelRange(len(targets), vocab, func(lo, hi int) {
		var sum float64
		for r := lo; r < hi; r++ {
			var d []float32
			if dlogits != nil {
				d = dlogits[r*vocab : (r+1)*vocab]
			}
			if targets[r] == ignore {
				clear(d)
				continue
			}
			sum += float64(kernels.CrossEntropyRow(logits[r*vocab:(r+1)*vocab], int(targets[r]), d, float32(gradScale)))
		}
		sums[lo/max(chunk, 1)] += sum
	})
	for _, s := range sums {
		loss += s
	}
	return loss, n, nil
}

// MeanCrossEntropy is CrossEntropy averaged over the n counted rows: it
// returns the mean loss and, in dlogits if non-nil, the gradient of that
// mean. With no counted rows it returns 0 and a zero gradient rather than
// torch's NaN, so an all-padding batch is harmless.
func MeanCrossEntropy(logits []float32, vocab int, targets []int32, ignore int32, dlogits []float32) (loss float64, n int, err error) {
	n, err = checkCE(logits, vocab, targets, ignore, dlogits)
	if err != nil {
		return 0, 0, err
	}
	scale := 0.0
	if n > 0 {
		scale = 1 / float64(n)
	}
	sum, _, _ := CrossEntropy(logits, vocab, targets, ignore, dlogits, scale)
	return sum * scale, n, nil
}

// checkCE validates the shapes and targets before anything is written and
// returns the number of counted rows.
func checkCE(logits []float32, vocab int, targets []int32, ignore int32, dlogits []float32) (int, error) {
	if vocab <= 0 {
		return 0, fmt.Errorf("train: cross-entropy vocab %d must be positive", vocab)
	}
	if len(logits) != len(targets)*vocab {
		return 0, fmt.Errorf("train: cross-entropy logits have %d values, want %d rows × %d vocab = %d",
			len(logits), len(targets), vocab, len(targets)*vocab)
	}
	if dlogits != nil && len(dlogits) != len(logits) {
		return 0, fmt.Errorf("train: cross-entropy dlogits have %d values, logits %d", len(dlogits), len(logits))
	}
	n := 0
	for r, t := range targets {
		if t == ignore {
			continue
		}
		if t < 0 || int(t) >= vocab {
			return 0, fmt.Errorf("train: cross-entropy target %d at row %d is outside the vocabulary [0, %d)", t, r, vocab)
		}
		n++
	}
	return n, nil
}
