package align

import (
	"fmt"
	"math"
)

// DPOOptions configure DPO and IPO.
type DPOOptions struct {
	// Beta is β: the temperature of the implicit reward β·(log π − log π_ref).
	Beta float64
	// IPO selects TRL's loss_type="ipo": (h − 1/(2β))² with h computed from
	// length-averaged log-probs (policy and reference alike), instead of DPO's
	// −log σ(β·h) on summed log-probs.
	IPO bool
	// Norm divides the summed pair losses: the number of pairs in the whole step.
	Norm float64
	// RPOAlpha adds TRL's rpo_alpha term: RPOAlpha times the mean negative log-likelihood
	// of every chosen token of the step (NLLNorm of them), which keeps the chosen answers
	// themselves likely rather than only their margin over the rejected ones.
	RPOAlpha, NLLNorm float64
}

// DPOStats are TRL's logged metrics, summed over the pairs of one call (divide by the
// step's pair count for TRL's means). Rewards are β·(log π − log π_ref); accuracies count
// pairs whose chosen reward is strictly above the rejected one; log-probs are the policy's
// (averaged per token under IPO, as TRL logs them).
type DPOStats struct {
	RewardsChosen, RewardsRejected, RewardsMargins, RewardsAccuracies float64
	LogpsChosen, LogpsRejected                                        float64
	NLL                                                               float64 // −Σ log p over chosen tokens
}

// Add accumulates another call's sums.
func (s *DPOStats) Add(o DPOStats) {
	s.RewardsChosen += o.RewardsChosen
	s.RewardsRejected += o.RewardsRejected
	s.RewardsMargins += o.RewardsMargins
	s.RewardsAccuracies += o.RewardsAccuracies
	s.LogpsChosen += o.LogpsChosen
	s.LogpsRejected += o.LogpsRejected
	s.NLL += o.NLL
}

// DPO computes the DPO (or IPO) loss of a concatenated batch: rows of sequence k < pairs
// are pair k's chosen response, rows of sequence pairs+k its rejected one, as TRL's
// concatenated forward lays them out. ref holds the reference model's summed
// log-probabilities in the same order (2·pairs values). It returns the summed pair
// losses divided by opt.Norm, the metric sums, and in dlogits (if non-nil, overwritten)
// the gradient of the returned loss.
func DPO(logits []float32, V int, targets, seq []int32, pairs int, ref []float64, opt DPOOptions, dlogits []float32) (loss float64, st DPOStats, err error) {
	if len(ref) != 2*pairs {
		return 0, st, fmt.Errorf("align: %d reference log-probs for %d pairs", len(ref), pairs)
	}
	if dlogits != nil && len(dlogits) != len(logits) {
		return 0, st, fmt.Errorf("align: dlogits have %d values, logits %d", len(dlogits), len(logits))
	}
	if opt.RPOAlpha != 0 && !(opt.NLLNorm > 0) {
		return 0, st, fmt.Errorf("align: rpo_alpha needs the step's chosen-token count")
	}
	lp, n, err := SeqLogProbs(logits, V, targets, seq, 2*pairs)
	if err != nil {
		return 0, st, err
	}
	beta := opt.Beta
	// coef[s] is dL/d(summed log p of sequence s).
	coef := make([]float64, 2*pairs)
	for k := 0; k < pairs; k++ {
		c, r := k, pairs+k
		if n[c] == 0 || n[r] == 0 {
			return 0, st, fmt.Errorf("align: pair %d has an empty response", k)
		}
		pc, pr, rc, rr := lp[c], lp[r], ref[c], ref[r]
		sc, sr := 1.0, 1.0 // d(used log p)/d(summed log p)
		if opt.IPO {
			sc, sr = 1/float64(n[c]), 1/float64(n[r])
			pc, pr, rc, rr = pc*sc, pr*sr, rc*sc, rr*sr
		}
		h := (pc - rc) - (pr - rr)
		var l, dh float64
		if opt.IPO {
			d := h - 1/(2*beta)
			l, dh = d*d, 2*d
		} else {
			x := beta * h
			l = softplus(-x)         // −log σ(x)
			dh = -beta * sigmoid(-x) // d/dh −log σ(βh)
		}
		loss += l
		coef[c] = dh * sc / opt.Norm
		coef[r] = -dh * sr / opt.Norm
		rwc, rwr := beta*(pc-rc), beta*(pr-rr)
		st.RewardsChosen += rwc
		st.RewardsRejected += rwr
		st.RewardsMargins += rwc - rwr
		if rwc > rwr {
			st.RewardsAccuracies++
		}
		st.LogpsChosen += pc
		st.LogpsRejected += pr
		st.NLL -= lp[c]
	}
	loss /= opt.Norm
	if opt.RPOAlpha != 0 {
		loss += opt.RPOAlpha * st.NLL / opt.NLLNorm
		for k := 0; k < pairs; k++ {
			coef[k] -= opt.RPOAlpha / opt.NLLNorm
		}
	}
	if dlogits != nil {
		// coef · d(log p_y)/dz is the cross-entropy gradient scaled by −coef.
		ceRows(logits, V, targets, dlogits, func(i int) float32 { return float32(-coef[seq[i]]) }, false)
	}
	return loss, st, nil
}

// softplus is log(1 + e^x), stable for large |x|.
func softplus(x float64) float64 {
	return math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x)))
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}
