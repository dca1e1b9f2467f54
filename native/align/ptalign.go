package align

import "math"

// ToxicMask flags the tokens of a toxic response whose id does not occur anywhere in the
// paired positive response: PT-ALIGN's fine-grained unlikelihood only pushes down what
// the safe answer does not also say.
func ToxicMask(positive, toxic []int32) []bool {
	seen := make(map[int32]bool, len(positive))
	for _, id := range positive {
		seen[id] = true
	}
	m := make([]bool, len(toxic))
	for i, id := range toxic {
		m[i] = !seen[id]
	}
	return m
}

// PTAlign is PT-ALIGN's objective over scored rows: rows with toxic[i] false are
// positive tokens (MLE, −log p), rows with toxic[i] true are flagged toxic tokens
// (unlikelihood, −log(1 − p)). It returns
//
//	loss = Σ_pos −log p / nPos + alpha · Σ_tox −log(1 − p) / nTox
//
// with its two parts (each already divided by its count), and in dlogits (if non-nil,
// overwritten) the gradient of loss. nPos and nTox are the step's totals; a zero count
// drops its term.
func PTAlign(logits []float32, V int, targets []int32, toxic []bool, alpha, nPos, nTox float64, dlogits []float32) (loss, mle, ul float64, err error) {
	if err := check(logits, V, targets, dlogits); err != nil {
		return 0, 0, 0, err
	}
	if dlogits != nil {
		// Positive rows get the cross-entropy gradient over nPos; toxic rows start from
		// zero (scale 0) and get the unlikelihood gradient below.
		pos := float32(1 / nPos)
		ceRows(logits, V, targets, dlogits, func(i int) float32 {
			if toxic[i] {
				return 0
			}
			return pos
		}, false)
	}
	for i, y := range targets {
		if y == Ignore {
			continue
		}
		z := logits[i*V : (i+1)*V]
		if !toxic[i] {
			mle -= logProbRow(z, y)
			continue
		}
		// 1 − p_y = Σ_{j≠y} e^{z_j−m} / S, summed directly so it keeps its precision
		// when p_y is close to 1.
		m, s := rowStats(z)
		rest := 0.0
		for j, v := range z {
			if j != int(y) {
				rest += math.Exp(float64(v) - float64(m))
			}
		}
		ul -= math.Log(rest / s)
		if dlogits == nil {
			continue
		}
		// d/dz_j −log(1 − p_y) = p_y (δ_jy − p_j) / (1 − p_y):
		// p_y at j = y, −p_y p_j / (1 − p_y) elsewhere.
		py := math.Exp(float64(z[y])-float64(m)) / s
		c := alpha / nTox
		d := dlogits[i*V : (i+1)*V]
		for j, v := range z {
			if j == int(y) {
				d[j] += float32(c * py)
				continue
			}
			pj := math.Exp(float64(v)-float64(m)) / s
			d[j] -= float32(c * py * pj * s / rest)
		}
	}
	if nPos > 0 {
		mle /= nPos
	} else {
		mle = 0
	}
	if nTox > 0 {
		ul /= nTox
	} else {
		ul = 0
	}
	return mle + alpha*ul, mle, ul, nil
}
