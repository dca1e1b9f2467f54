#!/usr/bin/python3
"""Golden test data for the alignment objectives (native/align) and the trainer (native/train).

What it does
    1. objectives: random float32 logits for a small concatenated batch (2 preference
       pairs, vocab 7) and, computed in float64 with autograd, the loss and dL/dlogits of
       SFT (token MLE), DPO (sigmoid), IPO and PT-ALIGN, plus TRL's metrics.
       -> native/align/testdata/objectives.json
    2. model: three pre-tokenized preference rows for the golden model
       native/model/testdata/golden/llama_gqa and, for each method, the loss and the
       gradient of the loss w.r.t. every base parameter at the initial weights (for DPO
       and IPO the reference is the initial model, so h = 0).
       -> native/train/testdata/align/{pairs.jsonl, golden.json, grads.safetensors}
    3. models: longer pre-tokenized rows (past Mistral's sliding window, toxic_token_mask as
       0/1 and booleans) for the other golden architectures (tied embeddings, biases, BF16
       weights, a sharded checkpoint, sliding windows, rope scaling), one method each with
       non-default beta and alpha: the loss and every parameter's gradient, for the CLI's
       exact-SGD contract on each architecture.
       -> native/train/testdata/align/{mixed.jsonl, models.safetensors} and
          golden.json's "models"

Definitions (TRL's DPOTrainer semantics)
    response log-prob = sum over response tokens of log p(token | prefix); prompt never scored.
    sft     = mean over all response (chosen) tokens of -log p.
    dpo     = mean over pairs of -logsigmoid(beta * h), h = (lp_c - ref_c) - (lp_r - ref_r).
    ipo     = mean over pairs of (h - 1/(2 beta))^2 with lp and ref length-averaged
              (TRL: loss_type == "ipo" divides the summed log-probs by the token count).
    ptalign = mean over chosen tokens of -log p + alpha * mean over flagged rejected tokens
              of -log(1 - p); a rejected token is flagged when its id is not in the chosen
              response, unless the row carries toxic_token_mask.
    rewards/chosen = beta * (lp_c - ref_c), etc.; logps are averaged under IPO.

How to run (from the repo root; needs Debian's python3-torch and numpy, no network):
    /usr/bin/python3 scripts/torch_align_golden.py
The model forward is scripts/torch_golden.py's independent float64 implementation.
"""

import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_golden as tg  # noqa: E402

torch.set_num_threads(1)
DT = torch.float64
IGNORE = -100


def seq_logps(logits, targets, seq, nseq):
    lp = torch.log_softmax(logits, -1)
    sel = targets != IGNORE
    tok = lp[sel].gather(-1, targets[sel][:, None])[:, 0]
    out = torch.zeros(nseq, dtype=DT).index_add(0, seq[sel], tok)
    n = torch.zeros(nseq, dtype=DT).index_add(0, seq[sel], torch.ones_like(tok))
    return out, n


def dpo(logits, targets, seq, pairs, ref, beta, ipo, rpo_alpha=None):
    lp, n = seq_logps(logits, targets, seq, 2 * pairs)
    # TRL's rpo_alpha: the mean cross-entropy over every chosen token of the batch.
    nll = -lp[:pairs].sum() / n[:pairs].sum()
    ref = ref.clone()
    if ipo:
        lp, ref = lp / n, ref / n
    pc, pr, rc, rr = lp[:pairs], lp[pairs:], ref[:pairs], ref[pairs:]
    h = (pc - rc) - (pr - rr)
    if ipo:
        losses = (h - 1 / (2 * beta)) ** 2
    else:
        losses = -torch.nn.functional.logsigmoid(beta * h)
    rwc, rwr = beta * (pc - rc).detach(), beta * (pr - rr).detach()
    stats = {"rewards/chosen": rwc.mean().item(), "rewards/rejected": rwr.mean().item(),
             "rewards/margins": (rwc - rwr).mean().item(),
             "rewards/accuracies": (rwc > rwr).to(DT).mean().item(),
             "logps/chosen": pc.detach().mean().item(), "logps/rejected": pr.detach().mean().item()}
    loss = losses.mean()
    if rpo_alpha is not None:
        loss = loss + rpo_alpha * nll
        stats["nll_loss"] = nll.item()
    return loss, stats


def sft(logits, targets):
    lp = torch.log_softmax(logits, -1)
    sel = targets != IGNORE
    return -lp[sel].gather(-1, targets[sel][:, None])[:, 0].mean()


def ptalign(logits, targets, toxic, alpha):
    p = torch.softmax(logits, -1)
    sel = targets != IGNORE
    pos = sel & ~toxic
    tox = sel & toxic
    py_pos = p[pos].gather(-1, targets[pos][:, None])[:, 0]
    py_tox = p[tox].gather(-1, targets[tox][:, None])[:, 0]
    mle = -torch.log(py_pos).mean()
    ul = -torch.log1p(-py_tox).mean() if tox.any() else torch.zeros((), dtype=DT)
    return mle + alpha * ul, mle.item(), ul.item()


def objectives(path):
    g = torch.Generator().manual_seed(7)
    V, pairs = 7, 2
    # rows: chosen0 (4 rows, 3 scored), chosen1 (3, 2), rejected0 (3, 3), rejected1 (4, 2)
    seq = torch.tensor([0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3])
    targets = torch.tensor([IGNORE, 3, 1, 4, IGNORE, 2, 6, 5, 0, 3, IGNORE, IGNORE, 1, 6])
    N = len(seq)
    logits32 = (torch.randn(N, V, generator=g) * 2.5).to(torch.float32)
    # one row with a near-certain target, where -log(1 - p) needs care
    logits32[9, 3] = 9.0
    toxic = torch.tensor([False] * 7 + [True, False, True, False, False, True, True])
    ref = (torch.randn(2 * pairs, generator=g, dtype=DT) - 4)
    out = {"vocab": V, "pairs": pairs, "logits": logits32.flatten().tolist(),
           "targets": targets.tolist(), "seq": seq.tolist(), "toxic": toxic.tolist(),
           "ref": ref.tolist()}
    z = logits32.to(DT)

    def run(name, f, extra=None):
        x = z.clone().requires_grad_(True)
        res = f(x)
        loss = res[0]
        loss.backward()
        out[name] = {"loss": loss.item(), "grad": x.grad.flatten().tolist()}
        if len(res) > 1:
            out[name].update(res[1])

    chosen_only = torch.where(seq < pairs, targets, torch.full_like(targets, IGNORE))
    pt_targets = torch.where((seq < pairs) | toxic, targets, torch.full_like(targets, IGNORE))
    run("sft", lambda x: (sft(x, chosen_only),))
    for beta in (0.1, 1.0):
        run("dpo_beta%g" % beta, lambda x: dpo(x, targets, seq, pairs, ref, beta, False))
        run("ipo_beta%g" % beta, lambda x: dpo(x, targets, seq, pairs, ref, beta, True))
    run("dpo_beta0.1_rpo1", lambda x: dpo(x, targets, seq, pairs, ref, 0.1, False, 1.0))
    run("ipo_beta1_rpo0.5", lambda x: dpo(x, targets, seq, pairs, ref, 1.0, True, 0.5))
    for alpha in (1.0, 0.5):
        def f(x, alpha=alpha):
            loss, mle, ul = ptalign(x, pt_targets, toxic, alpha)
            return loss, {"mle": mle, "ul": ul}
        run("ptalign_alpha%g" % alpha, f)
    with open(path, "w") as fh:
        fh.write(tg.dump_compact(out))


def read_model(model_dir):
    """The model's tensors (float64), from model.safetensors or a sharded index."""
    idx = os.path.join(model_dir, "model.safetensors.index.json")
    files = ["model.safetensors"]
    if os.path.exists(idx):
        files = sorted(set(json.load(open(idx))["weight_map"].values()))
    P = {}
    for f in files:
        P.update({k: v for k, (v, _) in tg.read_safetensors(os.path.join(model_dir, f)).items()})
    return P


def method_grads(cfg, P0, rows, method, beta, alpha):
    """Loss, TRL stats and d loss / d every parameter of one method at weights P0 (the
    DPO/IPO reference being P0 itself), with the rows as one concatenated batch."""
    P = {k: v.clone().requires_grad_(True) for k, v in P0.items()}
    seqs = [(r["prompt_input_ids"], r["chosen_input_ids"]) for r in rows] + \
           [(r["prompt_input_ids"], r["rejected_input_ids"]) for r in rows]
    T = max(len(p) + len(c) for p, c in seqs)
    B = len(seqs)
    ids = torch.zeros(B, T, dtype=torch.long)
    mask = torch.zeros(B, T, dtype=torch.long)
    targets = torch.full((B, T), IGNORE, dtype=torch.long)
    toxic = torch.zeros(B, T, dtype=torch.bool)
    for b, (p, c) in enumerate(seqs):
        full = p + c
        ids[b, :len(full)] = torch.tensor(full)
        mask[b, :len(full)] = 1
        for j in range(len(c)):
            targets[b, len(p) - 1 + j] = c[j]
        if b >= len(rows):
            r = rows[b - len(rows)]
            m = r.get("toxic_token_mask")
            if m is None:
                m = [int(t not in r["chosen_input_ids"]) for t in c]
            for j in range(len(c)):
                toxic[b, len(p) - 1 + j] = bool(m[j])
    seq = torch.arange(B)[:, None].expand(B, T).flatten()
    pairs = len(rows)
    with torch.no_grad():
        ref, _ = seq_logps(tg.forward(cfg, P0, ids, mask).reshape(B * T, -1), targets.flatten(), seq, B)
    logits = tg.forward(cfg, P, ids, mask).reshape(B * T, -1)
    st = {}
    if method == "sft":
        t = targets.clone()
        t[pairs:] = IGNORE
        loss = sft(logits, t.flatten())
    elif method == "ptalign":
        t = targets.clone()
        t[pairs:][~toxic[pairs:]] = IGNORE  # unflagged rejected tokens are not scored
        loss, mle, ul = ptalign(logits, t.flatten(), toxic.flatten(), alpha)
        st = {"mle": mle, "ul": ul}
    else:
        loss, st = dpo(logits, targets.flatten(), seq, pairs, ref, beta, method == "ipo")
    loss.backward()
    return loss.item(), st, {k: p.grad.detach() for k, p in P.items()}


# One method per model, so every objective meets several architectures.
MODEL_METHODS = [("llama_tied_mha", "ptalign"), ("qwen2", "ipo"), ("llama_bf16", "sft"),
                 ("llama_sharded", "dpo"), ("mistral_sw", "ptalign"), ("llama3_rope", "ipo")]


def models_case(golden_root, outdir, golden):
    g = torch.Generator().manual_seed(11)

    def ids(n):
        return torch.randint(0, 80, (n,), generator=g).tolist()

    rows = []
    for i, (np_, nc, nr) in enumerate([(4, 9, 11), (1, 3, 7), (7, 12, 5), (2, 6, 6), (9, 1, 10)]):
        r = {"prompt_input_ids": ids(np_), "chosen_input_ids": ids(nc), "rejected_input_ids": ids(nr)}
        if i == 3:
            r["rejected_input_ids"][:3] = r["chosen_input_ids"][:3]  # shared tokens are not flagged
        if i == 2:
            r["toxic_token_mask"] = [bool(j % 2) for j in range(nr)]
        if i == 4:
            r["toxic_token_mask"] = [int(j < 4) for j in range(nr)]
        rows.append(r)
    with open(os.path.join(outdir, "mixed.jsonl"), "w") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")
    beta, alpha = 0.5, 0.3
    out = {"data": "mixed.jsonl", "beta": beta, "alpha": alpha}
    grads = {}
    for name, method in MODEL_METHODS:
        d = os.path.join(golden_root, name)
        cfg = json.load(open(os.path.join(d, "config.json")))
        loss, st, gr = method_grads(cfg, read_model(d), rows, method, beta, alpha)
        out[name] = dict(method=method, loss=loss, **st)
        for k, v in gr.items():
            grads[name + "." + k] = (v, "F32")
    tg.write_safetensors(os.path.join(outdir, "models.safetensors"), grads)
    golden["models"] = out


def model_case(model_dir, outdir):
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    P = {k: v.clone().requires_grad_(True) for k, (v, _) in tg.read_safetensors(os.path.join(model_dir, "model.safetensors")).items()}
    rows = [
        {"prompt_input_ids": [1, 17, 33], "chosen_input_ids": [40, 41, 2], "rejected_input_ids": [70, 41, 71, 2]},
        {"prompt_input_ids": [1, 9], "chosen_input_ids": [12, 13, 14, 2], "rejected_input_ids": [55, 2]},
        {"prompt_input_ids": [1, 60, 61, 62], "chosen_input_ids": [5, 2], "rejected_input_ids": [77, 5, 78],
         "toxic_token_mask": [1, 1, 0]},
    ]
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "pairs.jsonl"), "w") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")

    seqs = [(r["prompt_input_ids"], r["chosen_input_ids"]) for r in rows] + \
           [(r["prompt_input_ids"], r["rejected_input_ids"]) for r in rows]
    T = max(len(p) + len(c) for p, c in seqs)
    B = len(seqs)
    ids = torch.zeros(B, T, dtype=torch.long)
    mask = torch.zeros(B, T, dtype=torch.long)
    targets = torch.full((B, T), IGNORE, dtype=torch.long)
    toxic = torch.zeros(B, T, dtype=torch.bool)
    for b, (p, c) in enumerate(seqs):
        full = p + c
        ids[b, :len(full)] = torch.tensor(full)
        mask[b, :len(full)] = 1
        for j in range(len(c)):
            targets[b, len(p) - 1 + j] = c[j]
        if b >= len(rows):
            r = rows[b - len(rows)]
            m = r.get("toxic_token_mask")
            if m is None:
                m = [int(t not in r["chosen_input_ids"]) for t in c]
            for j in range(len(c)):
                toxic[b, len(p) - 1 + j] = bool(m[j])
    seq = torch.arange(B)[:, None].expand(B, T).flatten()
    pairs = len(rows)
    golden = {"model": "native/model/testdata/golden/llama_gqa", "beta": 0.1, "alpha": 1.0}
    grads = {}
    with torch.no_grad():
        ref, _ = seq_logps(tg.forward(cfg, P, ids, mask).reshape(B * T, -1), targets.flatten(), seq, B)

    for method in ("sft", "dpo", "ipo", "ptalign"):
        for p in P.values():
            p.grad = None
        logits = tg.forward(cfg, P, ids, mask).reshape(B * T, -1)
        st = {}
        if method == "sft":
            t = targets.clone()
            t[pairs:] = IGNORE
            loss = sft(logits, t.flatten())
        elif method == "ptalign":
            t = targets.clone()
            t[pairs:][~toxic[pairs:]] = IGNORE  # unflagged rejected tokens are not scored
            loss, mle, ul = ptalign(logits, t.flatten(), toxic.flatten(), 1.0)
            st = {"mle": mle, "ul": ul}
        else:
            loss, st = dpo(logits, targets.flatten(), seq, pairs, ref, 0.1, method == "ipo")
        loss.backward()
        golden[method] = dict(loss=loss.item(), **st)
        for k, p in P.items():
            grads[method + "." + k] = (p.grad.detach(), "F32")
    tg.write_safetensors(os.path.join(outdir, "grads.safetensors"), grads)
    models_case(os.path.dirname(model_dir), outdir, golden)
    with open(os.path.join(outdir, "golden.json"), "w") as fh:
        json.dump(golden, fh, indent=1)
        fh.write("\n")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.makedirs(os.path.join(root, "native/align/testdata"), exist_ok=True)
    objectives(os.path.join(root, "native/align/testdata/objectives.json"))
    model_case(os.path.join(root, "native/model/testdata/golden/llama_gqa"),
               os.path.join(root, "native/train/testdata/align"))
    print("ok")


if __name__ == "__main__":
    main()
