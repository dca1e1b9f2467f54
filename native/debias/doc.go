// Package debias is training-free safety debiasing (TSDI): an aligned model's safety
// tuning shows up as a logit bias against its reference model that is largely independent
// of the prompt and concentrated in the first tokens of an answer (where refusals start).
// Fit estimates it on random prompts and decoding subtracts it, recovering the
// reference's helpfulness on benign prompts while keeping what is prompt-specific.
//
// Method. For N random prompts (tokens drawn i.i.d. from the token pool of a benign
// text corpus, rendered as one user message) the aligned model generates L tokens
// (sampled at temperature 1, seeded); at each generated position l both models see the
// same prefix (prompt plus the aligned model's tokens so far) and
//
//	bias[l] = mean over prompts of (logits_aligned[l] − logits_ref[l]) − its mean over the vocabulary
//
// A prompt whose generation stops early (a stop id) contributes only to the positions it
// reached; a position no prompt reached has bias 0. The per-position centering removes
// the constant offset between the two models' logits: softmax ignores it, so decoding is
// unchanged by it, but without it the stored numbers would not be comparable across
// positions or models. Decoding applies logits[l] −= λ·bias[l] for l < L
// (model.GenerateOptions.Debias, eval.LocalGenerator.Debias).
//
// The bias is saved as safetensors: tensor "bias" [L, V] in float32 and metadata
// (aligned, reference, adapter, positions, prompts, centered, seed).
package debias
