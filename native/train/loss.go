package train

import (
	"fmt"

	"github.com/aegis-safety/aegis/native/align"
)

// IgnoreIndex is align.Ignore under PyTorch's name (ignore_index): the target of a row
// that carries no loss (padding, prompt tokens).
const IgnoreIndex = align.Ignore

// CrossEntropy is align.CrossEntropy, the one token cross-entropy: the SUM of
// −log softmax(row)[target] over the rows whose target is not ignore, their count n,
// and in dlogits (if non-nil) gradScale times its gradient. ignore must be IgnoreIndex.
func CrossEntropy(logits []float32, vocab int, targets []int32, ignore int32, dlogits []float32, gradScale float64) (loss float64, n int, err error) {
	if ignore != IgnoreIndex {
		return 0, 0, fmt.Errorf("train: cross-entropy ignores target %d only, not %d", IgnoreIndex, ignore)
	}
	return align.CrossEntropy(logits, vocab, targets, dlogits, gradScale)
}

// MeanCrossEntropy is align.MeanCrossEntropy: CrossEntropy averaged over the counted
// rows (0 and a zero gradient when none is). ignore must be IgnoreIndex.
func MeanCrossEntropy(logits []float32, vocab int, targets []int32, ignore int32, dlogits []float32) (loss float64, n int, err error) {
	if ignore != IgnoreIndex {
		return 0, 0, fmt.Errorf("train: cross-entropy ignores target %d only, not %d", IgnoreIndex, ignore)
	}
	return align.MeanCrossEntropy(logits, vocab, targets, dlogits)
}
