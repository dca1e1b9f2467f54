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
// The numerics are written out per row, llm.c style: max-subtracted softmax with sums in
// float64, and each objective's forward and backward side by side. scripts/
// torch_align_golden.py is the PyTorch reference the tests compare with.
package align
