// Package train holds the training loop and its pieces: optimizers (AdamW, SGD), global
// gradient-norm clipping, the token cross-entropy loss, learning-rate schedules, data
// loading (TRL preference and SFT JSONL, text or pre-tokenized), and the Trainer that
// runs an objective from native/align (sft, dpo, ipo, ptalign, secvec) over a model with
// LoRA or full fine-tuning, gradient accumulation, a run folder (config.json,
// events.jsonl, atomic checkpoints, final/) and bit-exact resume.
//
// The numerics follow PyTorch (torch.optim.AdamW, torch.optim.SGD,
// torch.nn.utils.clip_grad_norm_, F.cross_entropy with ignore_index) and TRL's trainers
// so that runs can be checked against them; the tests compare with goldens written by
// scripts/torch_optim_golden.py and scripts/torch_align_golden.py. Parameters and
// optimizer state are float32, like float32 torch parameters; reductions (norms, losses)
// accumulate in float64.
package train
