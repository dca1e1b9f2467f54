package align

import (
	"runtime"

	"github.com/aegis-safety/aegis/kernels"
)

// CrossEntropy is the token cross-entropy of rows of logits [len(targets), V] against
// targets, on the SIMD row kernel (kernels.CrossEntropyRow) with rows split across cores.
// It returns the SUM of −log softmax(row)[target] over the scored rows (target not
// Ignore) and their count n. If dlogits is non-nil it is overwritten with
// scale · (softmax(row) − onehot(target)) on scored rows and zeros on the others: the
// gradient of scale × the sum. The caller picks the normalisation (1/n for this batch's
// mean, 1/N for N scored tokens over all micro-batches of an accumulation step).
//
// Row sums are float32 (a few ulps of each row's loss); a target outside [0, V) other
// than Ignore is an error, and then dlogits is left unchanged.
func CrossEntropy(logits []float32, V int, targets []int32, dlogits []float32, scale float64) (sum float64, n int, err error) {
	if err := check(logits, V, targets, dlogits); err != nil {
		return 0, 0, err
	}
	s := float32(scale)
	sum, n = ceRows(logits, V, targets, dlogits, func(int) float32 { return s }, false)
	return sum, n, nil
}

// MeanCrossEntropy is CrossEntropy averaged over the n scored rows, with the gradient of
// that mean. With no scored rows it returns 0 and a zero gradient rather than torch's
// NaN, so an all-padding batch is harmless.
func MeanCrossEntropy(logits []float32, V int, targets []int32, dlogits []float32) (loss float64, n int, err error) {
	if err := check(logits, V, targets, dlogits); err != nil {
		return 0, 0, err
	}
	for _, t := range targets {
		if t != Ignore {
			n++
		}
	}
	scale := 0.0
	if n > 0 {
		scale = 1 / float64(n)
	}
	sum, _, _ := CrossEntropy(logits, V, targets, dlogits, scale)
	return sum * scale, n, nil
}

// ceRows runs the row kernel over every scored row with row i's gradient scaled by
// scale(i), and returns the summed row losses and the scored count. Inputs are checked.
// Every objective's gradient of −log p(target) goes through here: a row's
// c · d(log p_y)/dz is the cross-entropy gradient scaled by −c. With exact, each row's
// loss is summed from −logProbRow in float64 instead of the kernel's float32 value (and
// without dlogits the kernel is not run at all).
func ceRows(logits []float32, V int, targets []int32, dlogits []float32, scale func(row int) float32, exact bool) (float64, int) {
	// Rows are independent: split them across cores, each chunk summing its own loss.
	workers := runtime.GOMAXPROCS(0)
	sums := make([]float64, workers)
	counts := make([]int, workers)
	chunk := max((len(targets)+workers-1)/workers, 1)
	kernels.ParallelRange(len(targets), V, func(lo, hi int) {
		var sum float64
		var n int
		for r := lo; r < hi; r++ {
			z := logits[r*V : (r+1)*V]
			var d []float32
			if dlogits != nil {
				d = dlogits[r*V : (r+1)*V]
			}
			y := targets[r]
			if y == Ignore {
				clear(d)
				continue
			}
			n++
			var l float32
			if d != nil || !exact {
				l = kernels.CrossEntropyRow(z, int(y), d, scale(r))
			}
			if exact {
				sum -= logProbRow(z, y)
			} else {
				sum += float64(l)
			}
		}
		sums[lo/chunk] += sum
		counts[lo/chunk] += n
	})
	var sum float64
	var n int
	for i := range sums {
		sum, n = sum+sums[i], n+counts[i]
	}
	return sum, n
}
