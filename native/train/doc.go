// Package train holds the training loop's pieces: optimizers (AdamW, SGD),
// global gradient-norm clipping and the token cross-entropy loss with its
// gradient. The trainer loop that ties them to a model comes later.
//
// The numerics follow PyTorch (torch.optim.AdamW, torch.optim.SGD,
// torch.nn.utils.clip_grad_norm_, F.cross_entropy with ignore_index) so that
// runs can be checked against it; the tests compare with goldens written by
// scripts/torch_optim_golden.py. Parameters and optimizer state are float32,
// like float32 torch parameters; reductions (norms, losses) accumulate in
// float64. Inner loops are plain flat loops over slices, written so they can
// later be swapped for kernels without changing the API.
package train
