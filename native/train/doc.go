// Package train holds the training loop and its pieces: optimizers (AdamW, SGD), global
// gradient-norm clipping, learning-rate schedules, data loading (TRL preference and SFT
// JSONL, text or pre-tokenized, from a file or from rows in memory), the method table
// (Methods: each method's data, reference, objective from native/align, metrics and
// charts), and the Trainer that runs a method over a model with LoRA or full
// fine-tuning, gradient accumulation, a run folder (native/rundir: config.json,
// events.jsonl, atomic checkpoints, final/) and bit-exact resume. Fit is the one entry
// the CLI, the server's runs and the demo share; DefaultConfig documents every setting.
//
// The numerics follow PyTorch (torch.optim.AdamW, torch.optim.SGD,
// torch.nn.utils.clip_grad_norm_, F.cross_entropy with ignore_index) and TRL's trainers
// so that runs can be checked against them; the tests compare with goldens written by
// scripts/torch_optim_golden.py and scripts/torch_align_golden.py. Parameters and
// optimizer state are float32, like float32 torch parameters; reductions (norms, losses)
// accumulate in float64.
package train
