package train

import (
	"fmt"

	"github.com/aegis-safety/aegis/native/align"
	"github.com/aegis-safety/aegis/native/model"
)

// LM trains a model on next-token prediction: one Step is a forward pass, the mean token
// cross-entropy, a backward pass, global-norm clipping and an optimizer update of the
// model's trainable parameters (model.Params).
type LM struct {
	Model       *model.Model
	Opt         Optimizer
	MaxGradNorm float64 // <= 0: no clipping

	dlogits []float32
}

// Step trains on one batch; targets has one id per batch position (align.Ignore where no
// loss is taken). It returns the mean loss and the gradient norm before clipping.
func (t *LM) Step(b *model.Batch, targets []int32, lr float64) (loss, gradNorm float64, err error) {
	params := t.Model.Params()
	if len(params) == 0 {
		return 0, 0, fmt.Errorf("train: the model has no trainable parameters")
	}
	logits, err := t.Model.Forward(b)
	if err != nil {
		return 0, 0, err
	}
	if cap(t.dlogits) < len(logits) {
		t.dlogits = make([]float32, len(logits))
	}
	d := t.dlogits[:len(logits)]
	loss, _, err = align.MeanCrossEntropy(logits, t.Model.Config.VocabSize, targets, d)
	if err != nil {
		return 0, 0, err
	}
	model.ZeroGrad(params)
	if err := t.Model.Backward(d); err != nil {
		return 0, 0, err
	}
	gradNorm = ClipGradNorm(params, t.MaxGradNorm)
	t.Opt.Step(params, lr)
	return loss, gradNorm, nil
}
