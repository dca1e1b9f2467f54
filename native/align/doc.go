// Package align holds the alignment objectives as functions from a batch's logits to a
// loss and its gradient dL/dlogits: supervised fine-tuning (token MLE), DPO and IPO as
// Hugging Face TRL defines them, and PT-ALIGN's MLE plus token-level unlikelihood.
//
// Every objective works on the flattened logits [N, V] of one forward pass and a target
// per row: the token that row predicts, or Ignore for rows that are not scored (prompt
// tokens, padding, the last position). A sequence's log-probability is the sum of
// log p(target) over its scored rows. Objectives take their normalisers (token or pair
// counts) from the caller, so that a gradient-accumulation step split into micro-batches
// gets exactly the gradient of the whole step's mean.
//
// The token cross-entropy is here too (CrossEntropy, on the SIMD row kernel of
// kernels.CrossEntropyRow), and it is the one gradient path: every objective's dL/dlogits
// on a row is that row's cross-entropy gradient scaled by the objective's coefficient
// (PT-ALIGN's unlikelihood rows add their own term). The loss values and log-probs the
// objectives report are summed per row in float64 (max-subtracted softmax), because the
// goldens of scripts/torch_align_golden.py hold them to 1e-9.
package align
