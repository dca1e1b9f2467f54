package shared

// Confusion counts a binary classifier's decisions against gold labels. It is the one
// definition of precision, recall, F1 and accuracy that every judge report uses (aegis
// judge eval, the built-in judge's trainer, the demo's judge agreement).
type Confusion struct {
	TP int `json:"tp"`
	FP int `json:"fp"`
	FN int `json:"fn"`
	TN int `json:"tn"`
}

// Add counts one decision: pred is the classifier's answer, gold the label.
func (c *Confusion) Add(pred, gold bool) {
	switch {
	case pred && gold:
		c.TP++
	case pred:
		c.FP++
	case gold:
		c.FN++
	default:
		c.TN++
	}
}

// N is the number of decisions counted.
func (c Confusion) N() int { return c.TP + c.FP + c.FN + c.TN }

// Precision is TP/(TP+FP), 0 when nothing was predicted positive.
func (c Confusion) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }

// Recall is TP/(TP+FN), 0 when no label is positive.
func (c Confusion) Recall() float64 { return ratio(c.TP, c.TP+c.FN) }

// F1 is the harmonic mean of precision and recall, 2TP/(2TP+FP+FN); 0 when TP is 0.
func (c Confusion) F1() float64 { return ratio(2*c.TP, 2*c.TP+c.FP+c.FN) }

// Accuracy is (TP+TN)/N, 0 when nothing was counted.
func (c Confusion) Accuracy() float64 { return ratio(c.TP+c.TN, c.N()) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
