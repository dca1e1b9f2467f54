package align

import (
	"fmt"
	"math"
)

// Ignore marks a row that is not scored, as PyTorch's ignore_index.
const Ignore = -100

// rowStats returns the max-subtracted softmax denominator of a logits row: m the max,
// s = Σ exp(z_j − m) in float64.
func rowStats(z []float32) (m float32, s float64) {
	m = z[0]
	for _, v := range z[1:] {
		if v > m {
			m = v
		}
	}
	for _, v := range z {
		s += math.Exp(float64(v) - float64(m))
	}
	return m, s
}

// logProbRow is log softmax(z)[y].
func logProbRow(z []float32, y int32) float64 {
	m, s := rowStats(z)
	return float64(z[y]) - float64(m) - math.Log(s)
}

// check validates shapes and targets before anything is written.
func check(logits []float32, V int, targets []int32, dlogits []float32) error {
	if V <= 0 || len(logits) != len(targets)*V {
		return fmt.Errorf("align: logits have %d values for %d rows of vocab %d", len(logits), len(targets), V)
	}
	if dlogits != nil && len(dlogits) != len(logits) {
		return fmt.Errorf("align: dlogits have %d values, logits %d", len(dlogits), len(logits))
	}
	for i, t := range targets {
		if t != Ignore && (t < 0 || int(t) >= V) {
			return fmt.Errorf("align: target %d at row %d is outside the vocabulary [0, %d)", t, i, V)
		}
	}
	return nil
}

// SeqLogProbs returns, for nseq sequences, the summed log-probability of their scored
// rows (seq[i] is row i's sequence) and the number of scored rows of each.
func SeqLogProbs(logits []float32, V int, targets, seq []int32, nseq int) (logp []float64, n []int, err error) {
	if err := check(logits, V, targets, nil); err != nil {
		return nil, nil, err
	}
	if len(seq) != len(targets) {
		return nil, nil, fmt.Errorf("align: %d sequence ids for %d rows", len(seq), len(targets))
	}
	logp, n = make([]float64, nseq), make([]int, nseq)
	for i, y := range targets {
		if y == Ignore {
			continue
		}
		s := seq[i]
		if s < 0 || int(s) >= nseq {
			return nil, nil, fmt.Errorf("align: row %d belongs to sequence %d of %d", i, s, nseq)
		}
		logp[s] += logProbRow(logits[i*V:(i+1)*V], y)
		n[s]++
	}
	return logp, n, nil
}

// SFT is token MLE: it returns Σ −log p(target) over the scored rows divided by norm
// (the number of response tokens in the whole step, for a mean) and, if dlogits is
// non-nil, overwrites it with the gradient of that value. The loss is summed in float64
// (the goldens hold it to 1e-9); the gradient is CrossEntropy's, scaled by 1/norm.
func SFT(logits []float32, V int, targets []int32, norm float64, dlogits []float32) (loss float64, err error) {
	if err := check(logits, V, targets, dlogits); err != nil {
		return 0, err
	}
	s := float32(1 / norm)
	loss, _ = ceRows(logits, V, targets, dlogits, func(int) float32 { return s }, true)
	return loss / norm, nil
}
