package train

import (
	"fmt"
	"math"
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
	for r, t := range targets {
		x := logits[r*vocab : (r+1)*vocab]
		var d []float32
		if dlogits != nil {
			d = dlogits[r*vocab : (r+1)*vocab]
		}
		if t == ignore {
			clear(d)
			continue
		}
		maxv := x[0]
		for _, v := range x[1:] {
			maxv = max(maxv, v)
		}
		m := float64(maxv) // float64 so x - max is exact
		// Sum of exp(x - max); keep the float32 exps in d to turn them into
		// probabilities below without a second pass of exp.
		var sum float64
		if d == nil {
			for _, v := range x {
				sum += math.Exp(float64(v) - m)
			}
		} else {
			for i, v := range x {
				e := math.Exp(float64(v) - m)
				d[i] = float32(e)
				sum += e
			}
		}
		// -log p[t] = log(sum) - (x[t] - max)
		loss += math.Log(sum) - (float64(x[t]) - m)
		if d != nil {
			c := float32(gradScale / sum)
			for i := range d {
				d[i] *= c
			}
			d[t] -= float32(gradScale)
		}
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
