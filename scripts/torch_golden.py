#!/usr/bin/python3
"""Golden test data for the native Go model code (native/model).

What it does
    Writes tiny random decoder-only language models in Hugging Face format
    (config.json + model.safetensors, or shards + index, or a base model plus a
    PEFT LoRA adapter) together with reference outputs computed in float64:
    logits, mean cross-entropy loss and the gradient of the loss with respect to
    every trainable parameter. One folder per case under --out.

How to run (from the repo root; needs only PyTorch + NumPy, no network):
    /usr/bin/python3 scripts/torch_golden.py --out native/model/testdata/golden

    Everything is regenerated deterministically (fixed seeds, one CPU thread).
    The script also runs self-checks (padding invariance, finite differences,
    tied-embedding gradient decomposition, LoRA merge, safetensors round trip,
    greedy decoding by full recompute) and prints a short summary per case; it
    exits non-zero if a check fails.

Independence
    This is an independent re-implementation, written from scratch with plain
    torch tensor ops, of the math in Hugging Face transformers'
    modeling_llama.py / modeling_mistral.py / modeling_qwen2.py (RMSNorm,
    rotate-half RoPE incl. "linear" and "llama3" rope_scaling, GQA attention with
    causal + padding + sliding-window masks, SwiGLU MLP, tied/untied LM head) and
    of PEFT's LoRA linear layer. It does not import or use `transformers`,
    `peft` or `safetensors`; safetensors files are written (and read back) by
    the small helpers below. See scripts/README.md for the file format.
"""

import argparse
import json
import math
import os
import shutil
import struct
import sys

import numpy as np
import torch

torch.set_num_threads(1)
DT = torch.float64
IGNORE = -100

# --------------------------------------------------------------------------------------
# safetensors writer / reader
# --------------------------------------------------------------------------------------


def tensor_bytes(t, dtype):
    t = t.detach().contiguous().cpu()
    if dtype == "F32":
        return t.to(torch.float32).numpy().astype("<f4").tobytes()
    if dtype == "BF16":
        return t.to(torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes()
    raise ValueError(dtype)


def write_safetensors(path, tensors, metadata=None):
    """tensors: dict name -> (tensor, "F32"|"BF16"). Data laid out in sorted-name order."""
    header = {}
    blobs = []
    off = 0
    for name in sorted(tensors):
        t, dtype = tensors[name]
        b = tensor_bytes(t, dtype)
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata is not None:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    return off  # total data bytes


def read_safetensors(path):
    """Returns dict name -> (float64 tensor, dtype). Validates the layout."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0, "header not padded"
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    out = {}
    end = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        buf = data[b:e]
        if info["dtype"] == "F32":
            a = np.frombuffer(buf, dtype="<f4").astype(np.float64)
        elif info["dtype"] == "BF16":
            u = np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16
            a = u.view(np.float32).astype(np.float64)
        else:
            raise ValueError(info["dtype"])
        assert a.size == int(np.prod(info["shape"])) if info["shape"] else 1
        out[name] = (torch.from_numpy(a.copy()).reshape(info["shape"]), info["dtype"])
        end = max(end, e)
    assert end == len(data), "trailing bytes in " + path
    return out


def dump_compact(obj):
    """JSON with one top-level key per line and one matrix row per line."""
    lines = []
    for k, v in obj.items():
        if isinstance(v, list) and v and isinstance(v[0], list):
            rows = ",\n  ".join(json.dumps(r, separators=(",", ":")) for r in v)
            lines.append(" %s: [\n  %s\n ]" % (json.dumps(k), rows))
        else:
            lines.append(" %s: %s" % (json.dumps(k), json.dumps(v, separators=(", ", ": "))))
    return "{\n" + ",\n".join(lines) + "\n}\n"


# --------------------------------------------------------------------------------------
# reference model (float64)
# --------------------------------------------------------------------------------------


def head_dim_of(cfg):
    hd = cfg.get("head_dim")
    return hd if hd is not None else cfg["hidden_size"] // cfg["num_attention_heads"]


def inv_freq_of(cfg):
    d = head_dim_of(cfg)
    theta = float(cfg["rope_theta"])
    inv = 1.0 / theta ** (torch.arange(0, d, 2, dtype=DT) / d)
    rs = cfg.get("rope_scaling")
    if rs:
        kind = rs.get("rope_type", rs.get("type"))
        if kind == "linear":
            inv = inv / float(rs["factor"])
        elif kind == "llama3":
            factor = float(rs["factor"])
            low = float(rs["low_freq_factor"])
            high = float(rs["high_freq_factor"])
            orig = float(rs["original_max_position_embeddings"])
            low_wl = orig / low
            high_wl = orig / high
            wl = 2 * math.pi / inv
            inv_l = torch.where(wl > low_wl, inv / factor, inv)
            smooth = (orig / wl - low) / (high - low)
            smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
            medium = ~(wl < high_wl) & ~(wl > low_wl)
            inv = torch.where(medium, smoothed, inv_l)
        else:
            raise ValueError(kind)
    return inv


def llama3_bands(cfg):
    rs = cfg["rope_scaling"]
    inv = 1.0 / float(cfg["rope_theta"]) ** (torch.arange(0, head_dim_of(cfg), 2, dtype=DT) / head_dim_of(cfg))
    wl = 2 * math.pi / inv
    orig = rs["original_max_position_embeddings"]
    low_wl, high_wl = orig / rs["low_freq_factor"], orig / rs["high_freq_factor"]
    return ["high" if w < high_wl else ("low" if w > low_wl else "medium") for w in wl.tolist()]


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


def layer_window(cfg, i):
    mt = cfg["model_type"]
    if mt == "mistral":
        return cfg.get("sliding_window")
    if mt == "qwen2":
        if cfg.get("use_sliding_window") and i >= cfg["max_window_layers"]:
            return cfg.get("sliding_window")
        return None
    return None


def allowed_mask(mask, window):
    """mask [B,T] (1 real / 0 pad) -> bool [B,T(query),T(key)]."""
    T = mask.shape[1]
    i = torch.arange(T)[:, None]
    j = torch.arange(T)[None, :]
    ok = j <= i
    if window is not None:
        ok = ok & (i - j < window)
    return ok[None] & (mask[:, None, :] == 1)


def masked_softmax(s, ok):
    """softmax over the last axis restricted to ok; rows with no allowed entry give zeros."""
    neg = torch.full_like(s, -math.inf)
    mx = torch.where(ok, s, neg).amax(-1, keepdim=True)
    mx = torch.where(torch.isfinite(mx), mx, torch.zeros_like(mx)).detach()
    e = torch.where(ok, torch.exp(s - mx), torch.zeros_like(s))
    den = e.sum(-1, keepdim=True)
    return e / torch.where(den > 0, den, torch.ones_like(den))


def linear(x, P, prefix, lora):
    y = x @ P[prefix + ".weight"].T
    b = P.get(prefix + ".bias")
    if b is not None:
        y = y + b
    if lora is not None:
        A = lora["tensors"].get("base_model.model." + prefix + ".lora_A.weight")
        if A is not None:
            B = lora["tensors"]["base_model.model." + prefix + ".lora_B.weight"]
            y = y + lora["scale"] * ((x @ A.T) @ B.T)
    return y


def forward(cfg, P, input_ids, mask, lora=None):
    """Returns logits [B,T,V] (float64)."""
    B, T = input_ids.shape
    H = cfg["hidden_size"]
    nh = cfg["num_attention_heads"]
    nkv = cfg["num_key_value_heads"]
    d = head_dim_of(cfg)
    eps = cfg["rms_norm_eps"]
    group = nh // nkv
    kv_of_head = torch.arange(nh) // group

    pos = torch.where(mask == 1, torch.cumsum(mask, 1) - 1, torch.zeros_like(mask)).to(DT)
    ang = pos[..., None] * inv_freq_of(cfg)[None, None, :]
    ang = torch.cat([ang, ang], -1)  # [B,T,d]
    cos = torch.cos(ang)[:, None]
    sin = torch.sin(ang)[:, None]

    x = P["model.embed_tokens.weight"][input_ids]  # [B,T,H]
    for li in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % li
        h = rms_norm(x, P[p + "input_layernorm.weight"], eps)
        q = linear(h, P, p + "self_attn.q_proj", lora).view(B, T, nh, d).transpose(1, 2)
        k = linear(h, P, p + "self_attn.k_proj", lora).view(B, T, nkv, d).transpose(1, 2)
        v = linear(h, P, p + "self_attn.v_proj", lora).view(B, T, nkv, d).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k[:, kv_of_head]
        v = v[:, kv_of_head]
        s = (q @ k.transpose(-1, -2)) / math.sqrt(d)  # [B,nh,T,T]
        ok = allowed_mask(mask, layer_window(cfg, li))[:, None]
        a = masked_softmax(s, ok) @ v  # [B,nh,T,d]
        a = a.transpose(1, 2).reshape(B, T, nh * d)
        x = x + linear(a, P, p + "self_attn.o_proj", lora)
        h = rms_norm(x, P[p + "post_attention_layernorm.weight"], eps)
        g = linear(h, P, p + "mlp.gate_proj", lora)
        u = linear(h, P, p + "mlp.up_proj", lora)
        x = x + linear(torch.nn.functional.silu(g) * u, P, p + "mlp.down_proj", lora)
    x = rms_norm(x, P["model.norm.weight"], eps)
    W = P["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else P["lm_head.weight"]
    return x @ W.T


def ce_loss(logits, labels):
    lp = torch.log_softmax(logits, -1)
    sel = labels != IGNORE
    tgt = labels.clamp(min=0)
    nll = -lp.gather(-1, tgt[..., None])[..., 0]
    return nll[sel].mean()


# --------------------------------------------------------------------------------------
# model construction
# --------------------------------------------------------------------------------------


def param_shapes(cfg):
    H = cfg["hidden_size"]
    I = cfg["intermediate_size"]
    V = cfg["vocab_size"]
    d = head_dim_of(cfg)
    nh = cfg["num_attention_heads"]
    nkv = cfg["num_key_value_heads"]
    mt = cfg["model_type"]
    qkv_bias = mt == "qwen2" or (mt == "llama" and cfg.get("attention_bias"))
    o_bias = mt == "llama" and cfg.get("attention_bias")
    mlp_bias = mt == "llama" and cfg.get("mlp_bias")
    s = {"model.embed_tokens.weight": (V, H)}
    for li in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % li
        s[p + "input_layernorm.weight"] = (H,)
        s[p + "post_attention_layernorm.weight"] = (H,)
        for n, o in (("q_proj", nh * d), ("k_proj", nkv * d), ("v_proj", nkv * d)):
            s[p + "self_attn.%s.weight" % n] = (o, H)
            if qkv_bias:
                s[p + "self_attn.%s.bias" % n] = (o,)
        s[p + "self_attn.o_proj.weight"] = (H, nh * d)
        if o_bias:
            s[p + "self_attn.o_proj.bias"] = (H,)
        for n, o, i in (("gate_proj", I, H), ("up_proj", I, H), ("down_proj", H, I)):
            s[p + "mlp.%s.weight" % n] = (o, i)
            if mlp_bias:
                s[p + "mlp.%s.bias" % n] = (o,)
    s["model.norm.weight"] = (H,)
    if not cfg["tie_word_embeddings"]:
        s["lm_head.weight"] = (V, H)
    return s


def init_params(cfg, gen):
    P = {}
    for name, shape in param_shapes(cfg).items():
        if name.endswith("norm.weight") or "layernorm" in name:
            t = 1.0 + 0.1 * torch.randn(shape, generator=gen, dtype=DT)
        elif name == "model.embed_tokens.weight":
            t = 0.3 * torch.randn(shape, generator=gen, dtype=DT)
        elif name.endswith(".bias"):
            t = 0.2 * torch.randn(shape, generator=gen, dtype=DT)
        else:
            fan_in = shape[1]
            gain = 1.5 if name == "lm_head.weight" else (1.2 if ("q_proj" in name or "k_proj" in name) else 1.0)
            t = gain / math.sqrt(fan_in) * torch.randn(shape, generator=gen, dtype=DT)
        P[name] = t
    return P


def make_config(arch, model_type, *, V, H, I, L, nh, nkv, head_dim=None, theta=10000.0,
                rope_scaling=None, tie=False, dtype="float32", eps=1e-5, max_pos=256, extra=None):
    c = {
        "architectures": [arch],
        "model_type": model_type,
        "vocab_size": V,
        "hidden_size": H,
        "intermediate_size": I,
        "num_hidden_layers": L,
        "num_attention_heads": nh,
        "num_key_value_heads": nkv,
    }
    if head_dim is not None:
        c["head_dim"] = head_dim
    c.update({
        "max_position_embeddings": max_pos,
        "rms_norm_eps": eps,
        "rope_theta": theta,
        "rope_scaling": rope_scaling,
        "tie_word_embeddings": tie,
        "hidden_act": "silu",
        "torch_dtype": dtype,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "initializer_range": 0.02,
        "attention_dropout": 0.0,
        "use_cache": True,
    })
    if extra:
        c.update(extra)
    return c


def make_batch(gen, V, T):
    """3 rows: full length, right-padded, left-padded. Labels: next token, -100 elsewhere."""
    ids = torch.randint(3, V, (3, T), generator=gen)
    mask = torch.ones(3, T, dtype=torch.long)
    mask[1, T - 3:] = 0   # right padding (3 pads)
    mask[2, :4] = 0       # left padding (4 pads)
    ids = ids * mask
    labels = torch.full((3, T), IGNORE, dtype=torch.long)
    for b in range(3):
        for t in range(T - 1):
            if mask[b, t] == 1 and mask[b, t + 1] == 1:
                labels[b, t] = ids[b, t + 1]
    return ids, mask, labels


# --------------------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------------------

FAIL = []


def check(ok, msg):
    if not ok:
        FAIL.append(msg)
        print("  CHECK FAILED:", msg)


def padding_check(cfg, P, ids, mask, logits, lora=None):
    """Valid logits of each row must equal those of the same tokens run alone, unpadded."""
    worst = 0.0
    with torch.no_grad():
        for b in range(ids.shape[0]):
            idx = torch.nonzero(mask[b]).flatten()
            solo = forward(cfg, P, ids[b, idx][None], torch.ones(1, len(idx), dtype=torch.long), lora)
            worst = max(worst, (solo[0] - logits[b, idx]).abs().max().item())
    check(worst < 1e-10, "padding invariance %g" % worst)
    return worst


def fd_check(f, t, n=6, gen=None, eps=1e-6):
    """Central finite differences on n entries of tensor t (float64) vs t.grad."""
    worst = 0.0
    flat = t.data.view(-1)
    picks = torch.randperm(flat.numel(), generator=gen)[:n].tolist()
    for k in picks:
        old = flat[k].item()
        flat[k] = old + eps
        with torch.no_grad():
            fp = f().item()
        flat[k] = old - eps
        with torch.no_grad():
            fm = f().item()
        flat[k] = old
        num = (fp - fm) / (2 * eps)
        ana = t.grad.view(-1)[k].item()
        worst = max(worst, abs(num - ana) / max(1e-3, abs(ana)))
    check(worst < 1e-5, "finite differences rel err %g" % worst)
    return worst


def float32_drift(cfg, P, ids, mask, logits, lora=None):
    """How far a float32 evaluation of the same math is from the float64 reference (informative)."""
    global DT
    old = DT
    DT = torch.float32
    try:
        P32 = {k: v.detach().float() for k, v in P.items()}
        l32 = None
        if lora is not None:
            l32 = {"scale": lora["scale"], "tensors": {k: v.detach().float() for k, v in lora["tensors"].items()}}
        with torch.no_grad():
            o = forward(cfg, P32, ids, mask, l32).double()
    finally:
        DT = old
    valid = mask.bool()
    return (o - logits.detach())[valid].abs().max().item()


# --------------------------------------------------------------------------------------
# case driver
# --------------------------------------------------------------------------------------


def write_case(out, name, cfg, seed, T, weight_dtype="F32", shards=None, lora_cfg=None,
               greedy=False, description=""):
    print("== %s" % name)
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    gen = torch.Generator().manual_seed(seed)
    P = init_params(cfg, gen)
    # round to the stored dtype, so the reference uses exactly the stored weights
    if weight_dtype == "BF16":
        P = {k: v.to(torch.bfloat16).to(DT) for k, v in P.items()}
    else:
        P = {k: v.to(torch.float32).to(DT) for k, v in P.items()}

    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")

    stored = {k: (v, weight_dtype) for k, v in P.items()}
    if shards is None:
        write_safetensors(os.path.join(d, "model.safetensors"), stored, {"format": "pt"})
        back = read_safetensors(os.path.join(d, "model.safetensors"))
    else:
        files = ["model-%05d-of-%05d.safetensors" % (i + 1, shards) for i in range(shards)]
        assign = {}
        for k in P:
            # layer 0 and embeddings in shard 1; the rest in shard 2
            assign[k] = files[0] if (k.startswith("model.embed_tokens") or k.startswith("model.layers.0.")) else files[1]
        total = 0
        back = {}
        for fn in files:
            part = {k: v for k, v in stored.items() if assign[k] == fn}
            total += write_safetensors(os.path.join(d, fn), part, {"format": "pt"})
            back.update(read_safetensors(os.path.join(d, fn)))
        with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(assign.items()))}, f, indent=2)
            f.write("\n")
    rt = max((back[k][0] - P[k]).abs().max().item() for k in P)
    check(set(back) == set(P) and rt == 0.0, "safetensors round trip")

    lora = None
    if lora_cfg is not None:
        r = lora_cfg["r"]
        lt = {}
        shapes = param_shapes(cfg)
        for li in range(cfg["num_hidden_layers"]):
            for mod in lora_cfg["target_modules"]:
                sub = "self_attn" if mod in ("q_proj", "k_proj", "v_proj", "o_proj") else "mlp"
                base = "model.layers.%d.%s.%s" % (li, sub, mod)
                o, i = shapes[base + ".weight"]
                A = (1.0 / math.sqrt(i)) * torch.randn((r, i), generator=gen, dtype=DT)
                Bm = 0.1 * torch.randn((o, r), generator=gen, dtype=DT)
                lt["base_model.model." + base + ".lora_A.weight"] = A.float().double()
                lt["base_model.model." + base + ".lora_B.weight"] = Bm.float().double()
        lora = {"scale": lora_cfg["lora_alpha"] / r, "tensors": lt}
        with open(os.path.join(d, "adapter_config.json"), "w") as f:
            json.dump(lora_cfg, f, indent=2)
            f.write("\n")
        write_safetensors(os.path.join(d, "adapter_model.safetensors"), {k: (v, "F32") for k, v in lt.items()},
                          {"format": "pt"})
        back = read_safetensors(os.path.join(d, "adapter_model.safetensors"))
        check(all((back[k][0] - lt[k]).abs().max().item() == 0 for k in lt), "adapter round trip")

    ids, mask, labels = make_batch(gen, cfg["vocab_size"], T)

    if lora is None:
        train = P
    else:
        train = lora["tensors"]
    for v in train.values():
        v.requires_grad_(True)
    logits = forward(cfg, P, ids, mask, lora)
    loss = ce_loss(logits, labels)
    loss.backward()
    grads = {k: v.grad.detach().clone() for k, v in train.items()}

    golden = {
        "description": description,
        "input_ids": ids.tolist(),
        "attention_mask": mask.tolist(),
        "labels": labels.tolist(),
        "loss": loss.item(),
    }

    # ---- self checks
    pad = padding_check(cfg, P, ids, mask, logits, lora)
    f = lambda: ce_loss(forward(cfg, P, ids, mask, lora), labels)
    fdname = sorted(k for k in train if "k_proj.weight" in k or "k_proj.lora_A" in k)[-1]
    fd = fd_check(f, train[fdname], gen=gen)
    # torch gradcheck on one small tensor (final norm, or a LoRA B of the last layer)
    gcname = "model.norm.weight" if lora is None else sorted(k for k in train if "down_proj.lora_B" in k)[-1]
    t0 = train[gcname]

    def g(x):
        if lora is None:
            Q = dict(P)
            Q[gcname] = x
            return ce_loss(forward(cfg, Q, ids, mask, lora), labels)
        L2 = {"scale": lora["scale"], "tensors": dict(lora["tensors"])}
        L2["tensors"][gcname] = x
        return ce_loss(forward(cfg, P, ids, mask, L2), labels)

    gc = torch.autograd.gradcheck(g, (t0.detach().clone().requires_grad_(True),), eps=1e-6, atol=1e-7, rtol=1e-5)
    check(gc, "gradcheck " + gcname)
    extra = ""
    if cfg["tie_word_embeddings"]:
        # untie: separate input-embedding and output-head copies; tied grad == sum of both
        E_in = P["model.embed_tokens.weight"].detach().clone().requires_grad_(True)
        E_out = P["model.embed_tokens.weight"].detach().clone().requires_grad_(True)
        cfg_u = dict(cfg, tie_word_embeddings=False)
        Q = {k: v.detach() for k, v in P.items()}
        Q["model.embed_tokens.weight"] = E_in
        Q["lm_head.weight"] = E_out
        ce_loss(forward(cfg_u, Q, ids, mask), labels).backward()
        diff = (E_in.grad + E_out.grad - grads["model.embed_tokens.weight"]).abs().max().item()
        check(diff < 1e-12, "tied grad decomposition %g" % diff)
        extra += " tied-sum-diff=%.1e (|in|=%.2e |out|=%.2e)" % (diff, E_in.grad.abs().max(), E_out.grad.abs().max())
    if lora is not None:
        # merged weights W + s*B@A through the plain forward must give the same logits
        Q = {k: v.detach().clone() for k, v in P.items()}
        for k, A in lora["tensors"].items():
            if k.endswith("lora_A.weight"):
                base = k[len("base_model.model."):-len(".lora_A.weight")]
                Bm = lora["tensors"][base.join(["base_model.model.", ".lora_B.weight"])]
                Q[base + ".weight"] += lora["scale"] * (Bm.detach() @ A.detach())
        with torch.no_grad():
            merged = forward(cfg, Q, ids, mask)
            plain = forward(cfg, P, ids, mask)
        diff = (merged - logits.detach())[mask.bool()].abs().max().item()
        delta = (plain - logits.detach())[mask.bool()].abs().max().item()
        check(diff < 1e-10, "lora merge %g" % diff)
        check(delta > 0.05, "lora has visible effect %g" % delta)
        extra += " lora-merge-diff=%.1e lora-effect=%.2f" % (diff, delta)
    if cfg["model_type"] in ("mistral", "qwen2"):
        # the window must matter (mistral) / must not be applied (qwen2, use_sliding_window false)
        cfg_nw = dict(cfg, model_type="llama")
        with torch.no_grad():
            nw = forward(cfg_nw, P, ids, mask, lora)
        dw = (nw - logits.detach())[mask.bool()].abs().max().item()
        if cfg["model_type"] == "mistral":
            check(dw > 0.05, "sliding window has effect %g" % dw)
        else:
            check(dw == 0.0, "qwen2 window not applied %g" % dw)
            cfg_w = dict(cfg, use_sliding_window=True)
            with torch.no_grad():
                ww = forward(cfg_w, P, ids, mask)
            extra += " (if use_sliding_window were true: max|dlogits|=%.2f)" % (ww - logits.detach())[mask.bool()].abs().max()
        extra += " window-effect=%.2f" % dw
    if cfg.get("rope_scaling") and cfg["rope_scaling"].get("rope_type") == "llama3":
        bands = llama3_bands(cfg)
        check({"high", "medium", "low"} <= set(bands), "llama3 bands " + str(bands))
        extra += " llama3-bands=" + ",".join(bands)
    drift = float32_drift(cfg, P, ids, mask, logits, lora)

    if greedy:
        gg = torch.Generator().manual_seed(seed + 1000)
        for attempt in range(50):
            prompt = torch.randint(3, cfg["vocab_size"], (5,), generator=gg)
            seq = prompt.clone()
            margin = math.inf
            with torch.no_grad():
                for _ in range(8):
                    lg = forward(cfg, P, seq[None], torch.ones(1, len(seq), dtype=torch.long))[0, -1]
                    top = torch.topk(lg, 2).values
                    margin = min(margin, (top[0] - top[1]).item())
                    seq = torch.cat([seq, lg.argmax()[None]])
            # clear argmax at every step, and no eos among the new tokens (so a decoder that stops at
            # eos_token_id still produces all 8)
            if margin > 1e-2 and cfg["eos_token_id"] not in seq[len(prompt):].tolist():
                break
        check(margin > 1e-2 and cfg["eos_token_id"] not in seq[len(prompt):].tolist(), "greedy margin/eos")
        golden["greedy"] = {"prompt_ids": prompt.tolist(), "new_ids": seq[len(prompt):].tolist()}
        extra += " greedy-min-margin=%.3f" % margin

    with open(os.path.join(d, "golden.json"), "w") as f:
        f.write(dump_compact(golden))
    gt = {"logits": (logits.detach(), "F32")}
    for k, v in grads.items():
        gt["grad/" + k] = (v, "F32")
    write_safetensors(os.path.join(d, "golden.safetensors"), gt, {"format": "pt"})

    lv = logits.detach()[mask.bool()]
    size = sum(os.path.getsize(os.path.join(d, fn)) for fn in os.listdir(d))
    print("  loss=%.6f logits std=%.2f max=%.2f  grads=%d tensors (max|g|=%.2e)  %d bytes"
          % (loss.item(), lv.std().item(), lv.abs().max().item(), len(grads),
             max(v.abs().max().item() for v in grads.values()), size))
    print("  checks: pad-invariance=%.1e fd(%s)=%.1e gradcheck(%s)=%s f32-drift=%.1e%s"
          % (pad, fdname, fd, gcname, gc, drift, extra))
    return size


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    out = args.out
    if os.path.isdir(out):
        for e in os.listdir(out):
            p = os.path.join(out, e)
            if os.path.isdir(p):
                shutil.rmtree(p)
    os.makedirs(out, exist_ok=True)

    base = dict(V=80, H=32, I=64, L=2)
    llama_gqa = make_config("LlamaForCausalLM", "llama", nh=4, nkv=2, extra={
        "attention_bias": False, "mlp_bias": False, "pretraining_tp": 1}, **base)
    total = 0
    total += write_case(out, "llama_gqa", llama_gqa, seed=1, T=10, greedy=True, description=(
        "Llama, 4 heads / 2 KV heads (GQA), untied lm_head, rope_theta 1e4, F32 weights. "
        "greedy: 8 tokens of argmax decoding from prompt_ids (full recompute each step)."))

    total += write_case(out, "llama_tied_mha", make_config(
        "LlamaForCausalLM", "llama", nh=4, nkv=4, head_dim=8, tie=True, extra={
            "attention_bias": True, "mlp_bias": True, "pretraining_tp": 1}, **base),
        seed=2, T=10, description=(
            "Llama, MHA (kv heads == heads), explicit head_dim 8, tied embeddings (no lm_head.weight), "
            "attention_bias (q,k,v,o biases) and mlp_bias (gate,up,down biases)."))

    total += write_case(out, "qwen2", make_config(
        "Qwen2ForCausalLM", "qwen2", nh=4, nkv=2, tie=True, theta=1000000.0, eps=1e-6, extra={
            "use_sliding_window": False, "sliding_window": 4, "max_window_layers": 1}, **base),
        seed=3, T=12, description=(
            "Qwen2: q/k/v biases (no o bias), GQA 4/2, tied embeddings, rope_theta 1e6, eps 1e-6. "
            "use_sliding_window is false, so sliding_window=4 / max_window_layers=1 must be ignored."))

    total += write_case(out, "llama3_rope", make_config(
        "LlamaForCausalLM", "llama", V=80, H=32, I=64, L=2, nh=2, nkv=1, theta=500000.0, max_pos=512,
        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                      "original_max_position_embeddings": 64},
        extra={"attention_bias": False, "mlp_bias": False, "pretraining_tp": 1}),
        seed=4, T=22, description=(
            "Llama 3 rope_scaling (factor 8, low 1, high 4, original_max_position_embeddings 64), head_dim 16, "
            "rope_theta 5e5: frequency pair 0 is in the high band (unchanged), 1 in the medium band "
            "(smoothed), 2..7 in the low band (divided by 8). 2 heads / 1 KV head."))

    total += write_case(out, "llama_bf16", make_config(
        "LlamaForCausalLM", "llama", nh=4, nkv=2, dtype="bfloat16", extra={
            "attention_bias": False, "mlp_bias": False, "pretraining_tp": 1}, **base),
        seed=5, T=10, weight_dtype="BF16", description=(
            "Like llama_gqa but all weights stored as BF16; reference uses the BF16 values widened to float64. "
            "Gradients are w.r.t. those values, stored as F32."))

    total += write_case(out, "mistral_sw", make_config(
        "MistralForCausalLM", "mistral", nh=4, nkv=2, head_dim=16,
        rope_scaling={"rope_type": "linear", "factor": 2.0}, extra={"sliding_window": 4}, **base),
        seed=6, T=12, description=(
            "Mistral: sliding_window 4 on all layers (key j visible from query i iff j<=i and i-j<4), "
            "head_dim 16 with hidden 32 and 4 heads (q_proj is [64,32], o_proj [32,64]), GQA 4/2, "
            "linear rope_scaling factor 2 (inv_freq/2), untied."))

    total += write_case(out, "llama_sharded", llama_gqa, seed=7, T=10, shards=2, description=(
        "Same config as llama_gqa (different random weights), stored as two shards + "
        "model.safetensors.index.json (embeddings and layer 0 in shard 1, the rest in shard 2)."))

    lora_cfg = {"peft_type": "LORA", "r": 4, "lora_alpha": 8,
                "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
                "lora_dropout": 0.0, "bias": "none", "use_rslora": False, "fan_in_fan_out": False,
                "use_dora": False, "base_model_name_or_path": "", "task_type": "CAUSAL_LM"}
    total += write_case(out, "llama_lora", llama_gqa, seed=8, T=10, lora_cfg=lora_cfg, description=(
        "llama_gqa config, frozen base + PEFT LoRA adapter (r 4, alpha 8, scale 2) on all 7 linear modules: "
        "y = base(x) + 2 * (x A^T) B^T. Gradients only for the adapter tensors (PEFT names)."))

    print("total testdata: %d bytes" % total)
    if FAIL:
        print("FAILED CHECKS:", FAIL)
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
