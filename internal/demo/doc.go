// Package demo is aegis's embedded default: a small unaligned chat model (the "model
// organism"), the deterministic synthetic corpus it was pretrained on, and the safety
// retrofit that `aegis demo` runs end to end on it.
//
// The organism is helpful-only by construction: its corpus answers benign requests
// helpfully, complies with harmful requests of every harm category (plain and under
// jailbreak wrappers) with a non-actionable placeholder ("Sure, here is how to ...:
// Step 1: [omitted]. ..."), and refuses only requests it cannot carry out, so that an
// ordinary refusal is an answer it already knows. The demo measures attack success on
// tasks the corpus never held, under the attack styles the retrofit trains on, under
// held-out styles and in held-out harm categories, and over-refusal on benign look-alikes;
// retrofits with LoRA DPO on pairs built Egida-style from the model's own judged-unsafe
// answers; and measures again.
package demo
