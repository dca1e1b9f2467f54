#!/usr/bin/python3
"""Reference values for native/train from PyTorch.

Run from the repository root with the Debian python (it has torch; a pyenv
python3 on PATH usually does not):

    /usr/bin/python3 scripts/torch_optim_golden.py

It writes native/train/testdata/optim_golden.json, which native/train's tests
load. Everything is float32 like the Go side; float32 values are written as
their shortest float32 decimal (numpy's repr), so Go decoding into float32
recovers the exact bits. The cross-entropy reference is float64.

Contents:
  params       two small tensors ("w" [2,3], "b" [3]) with their initial values
  grads        5 gradient steps, one per param per step
  lrs          the learning rate used at each step (varied, to test the lr argument)
  adamw        config + params after every step + final exp_avg/exp_avg_sq/step
  sgd_*        config + params after every step + final momentum_buffer
  clip         clip_grad_norm_ on the step-0 grads, once clipping and once not
  ce           cross-entropy (ignore_index rows, large logits) loss and gradient
"""

import json
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "native", "train", "testdata", "optim_golden.json")

STEPS = 5
LRS = [1e-2, 2e-2, 5e-3, 1e-2, 3e-2]
SHAPES = {"w": [2, 3], "b": [3]}


def flat(t):
    """Values of a float32 tensor as shortest-repr decimals (exact in float32)."""
    return [float(str(np.float32(x))) for x in t.detach().reshape(-1).tolist()]


def flat64(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def make_data():
    g = torch.Generator().manual_seed(1234)
    init = {n: torch.randn(s, generator=g, dtype=torch.float32) for n, s in SHAPES.items()}
    grads = []
    for _ in range(STEPS):
        grads.append({n: torch.randn(s, generator=g, dtype=torch.float32) for n, s in SHAPES.items()})
    return init, grads


def run(opt_ctor, init, grads, state_keys):
    params = {n: torch.nn.Parameter(init[n].clone()) for n in SHAPES}
    order = list(SHAPES)
    opt = opt_ctor([params[n] for n in order])
    after = []
    for k in range(STEPS):
        for pg in opt.param_groups:
            pg["lr"] = LRS[k]
        for n in order:
            params[n].grad = grads[k][n].clone()
        opt.step()
        after.append({n: flat(params[n]) for n in order})
    state = {}
    for n in order:
        st = opt.state[params[n]]
        for key in state_keys:
            v = st[key]
            state[n + "." + key] = flat(v) if v.numel() > 1 or key != "step" else [float(v.item())]
    return {"after": after, "state": state}


def main():
    torch.set_num_threads(1)
    init, grads = make_data()
    out = {
        "shapes": SHAPES,
        "params": {n: flat(t) for n, t in init.items()},
        "grads": [{n: flat(t) for n, t in gk.items()} for gk in grads],
        "lrs": LRS,
    }

    adamw = dict(betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)
    out["adamw"] = dict(beta1=0.8, beta2=0.95, eps=1e-6, weight_decay=0.1)
    out["adamw"].update(run(lambda ps: torch.optim.AdamW(ps, lr=LRS[0], foreach=False, **adamw),
                            init, grads, ["exp_avg", "exp_avg_sq", "step"]))

    for name, nesterov in (("sgd_momentum", False), ("sgd_nesterov", True)):
        cfg = dict(momentum=0.9, weight_decay=0.05, nesterov=nesterov)
        out[name] = dict(cfg)
        out[name].update(run(lambda ps: torch.optim.SGD(ps, lr=LRS[0], foreach=False, **cfg),
                             init, grads, ["momentum_buffer"]))

    # Plain SGD with dampening exercises the remaining coefficient.
    cfg = dict(momentum=0.5, dampening=0.25, weight_decay=0.0)
    out["sgd_dampening"] = dict(cfg)
    out["sgd_dampening"].update(run(lambda ps: torch.optim.SGD(ps, lr=LRS[0], foreach=False, **cfg),
                                    init, grads, ["momentum_buffer"]))

    clip = []
    for max_norm in (1.0, 100.0):
        gs = {n: grads[0][n].clone() for n in SHAPES}
        ps = []
        for n in SHAPES:
            p = torch.nn.Parameter(torch.zeros(SHAPES[n]))
            p.grad = gs[n]
            ps.append(p)
        total = torch.nn.utils.clip_grad_norm_(ps, max_norm)
        clip.append({"max_norm": max_norm, "total": float(total.item()),
                     "grads": {n: flat(p.grad) for n, p in zip(SHAPES, ps)}})
    out["clip"] = clip

    # Cross-entropy: 6 rows x 7 classes; rows 1 and 4 ignored; row 3 has huge
    # logits so a non-max-subtracted softmax would overflow float32.
    g = torch.Generator().manual_seed(99)
    rows, vocab = 6, 7
    logits32 = torch.randn(rows, vocab, generator=g, dtype=torch.float32) * 3
    logits32[3] = logits32[3] * 40 + 200
    targets = torch.tensor([2, -100, 0, 6, -100, 3], dtype=torch.int64)
    # Reference in float64 from the exact float32 inputs.
    x = logits32.to(torch.float64).requires_grad_(True)
    loss = F.cross_entropy(x, targets, ignore_index=-100, reduction="mean")
    loss.backward()
    loss_sum = F.cross_entropy(x.detach(), targets, ignore_index=-100, reduction="sum")
    out["ce"] = {
        "rows": rows,
        "vocab": vocab,
        "logits": flat(logits32),
        "targets": [int(t) for t in targets.tolist()],
        "mean_loss": float(loss.item()),
        "sum_loss": float(loss_sum.item()),
        "count": int((targets != -100).sum().item()),
        "mean_grad": flat64(x.grad),
    }

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", os.path.normpath(OUT), os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
