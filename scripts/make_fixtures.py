#!/usr/bin/python3
"""PyTorch reference fixtures for resnorm: ops, optimizer, a small GPT and a tiny GPT per residual/normalization design, as safetensors.

The TypeScript engine proves its numerics against these files (see test/fixtures/README.md).
Run: /usr/bin/python3 scripts/make_fixtures.py [--check]   (Debian's python has torch 1.13 CPU)
"""
import copy
import json
import math
import os
import struct
import sys
import zlib

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    # `python3` first on PATH may be a pyenv interpreter without torch: hand over to Debian's.
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3", os.path.abspath(__file__)] + sys.argv[1:])
    raise

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures")
ROOT = os.path.normpath(ROOT)


# The model, the safetensors helpers and the attention of the fixtures are python/resnorm_gpt.py's: the
# same file `resnorm export-pytorch` ships, so the model users train in PyTorch is the one tested here.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from resnorm_gpt import *  # noqa: E402,F401,F403
from resnorm_gpt import GPT as ExportedGPT  # noqa: E402


# ----------------------------------------------------------------------------- helpers


def seed_for(name):
    """A stable per-case seed so adding a case never changes the others."""
    torch.manual_seed(zlib.crc32(name.encode("utf-8")))


def randn(*shape):
    return torch.randn(tuple(shape), dtype=torch.float32)


def away_from_zero(x, margin=1e-3):
    return torch.where(x.abs() < margin, x + torch.sign(x + 1e-12) * 0.1, x)


def bounded(*shape):
    x = randn(*shape)
    return torch.sign(x + 1e-12) * (0.5 + randn(*shape).abs())


WRITTEN = []


def op_case(op, case, inputs, fn, args=None, no_grad=(), note=None, f64=False, sub="ops"):
    """inputs: ordered dict of tensors (float ones get grads unless in no_grad). fn(**inputs) -> out."""
    seed_for("dout/" + case)
    leaves = {}
    for k, v in inputs.items():
        v = v.detach().clone()
        if v.is_floating_point():
            if f64:
                v = v.double()
            if k not in no_grad:
                v.requires_grad_(True)
        leaves[k] = v
    out = fn(**leaves)
    dout = randn(*out.shape)
    out.backward(dout.to(out.dtype))
    tensors = {k: inputs[k] for k in inputs}
    tensors["dout"] = dout
    tensors["out"] = out.detach().float()
    for k, v in leaves.items():
        if v.requires_grad:
            tensors["grad." + k] = v.grad.float()
    meta = {"op": op, "args": json.dumps(args or {}), "case": case}
    if note:
        meta["note"] = note
    path = os.path.join(ROOT, sub, case + ".safetensors")
    write_safetensors(path, tensors, meta)
    WRITTEN.append(path)



# ----------------------------------------------------------------------------- op fixtures


def make_ops():
    def c(name):
        seed_for(name)
        return name

    # matmul
    for name, sa, sb in [
        ("matmul_7x13_13x5", (7, 13), (13, 5)),
        ("matmul_batched_3x4x6_3x6x5", (3, 4, 6), (3, 6, 5)),
        ("matmul_bcast_2x3x4x5_5x7", (2, 3, 4, 5), (5, 7)),
        ("matmul_1x1_1x1", (1, 1), (1, 1)),
        ("matmul_bcast_batch_2x1x3x4_5x4x2", (2, 1, 3, 4), (5, 4, 2)),
    ]:
        c(name)
        op_case("matmul", name, {"a": randn(*sa), "b": randn(*sb)}, lambda a, b: torch.matmul(a, b))

    # linear
    c("linear_3x5x7_to_11_bias")
    op_case("linear", "linear_3x5x7_to_11_bias", {"x": randn(3, 5, 7), "weight": randn(11, 7), "bias": randn(11)},
            lambda x, weight, bias: F.linear(x, weight, bias), {"bias": True})
    c("linear_4x9_to_1_nobias")
    op_case("linear", "linear_4x9_to_1_nobias", {"x": randn(4, 9), "weight": randn(1, 9)},
            lambda x, weight: F.linear(x, weight), {"bias": False})

    # broadcasting binary ops
    fns = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}
    for op, f in fns.items():
        for tag, sa, sb in [("3x1x5_4x1", (3, 1, 5), (4, 1)), ("2x3_2x3", (2, 3), (2, 3)), ("5_1", (5,), (1,))]:
            name = c(f"{op}_{tag}")
            b = bounded(*sb) if op == "div" else randn(*sb)
            op_case(op, name, {"a": randn(*sa), "b": b}, lambda a, b, f=f: f(a, b))

    # unary ops, shape (3, 17)
    unary = {
        "neg": (torch.neg, lambda: randn(3, 17)),
        "exp": (torch.exp, lambda: randn(3, 17)),
        "log": (torch.log, lambda: 0.1 + torch.rand(3, 17)),
        "sqrt": (torch.sqrt, lambda: 0.1 + torch.rand(3, 17)),
        "tanh": (torch.tanh, lambda: randn(3, 17)),
        "relu": (F.relu, lambda: away_from_zero(randn(3, 17))),
        "sigmoid": (torch.sigmoid, lambda: randn(3, 17)),
        "gelu": (F.gelu, lambda: randn(3, 17)),
        "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), lambda: randn(3, 17)),
    }
    for op, (f, gen) in unary.items():
        name = c(f"{op}_3x17")
        op_case(op, name, {"x": gen()}, lambda x, f=f: f(x))
    c("scale_3x17")
    op_case("scale", "scale_3x17", {"x": randn(3, 17)}, lambda x: 0.37 * x - 1.5, {"alpha": 0.37, "beta": -1.5})

    # reductions over x (3, 4, 5)
    def reduce(op, x, axes, keepdim):
        dims = axes if axes else list(range(x.dim()))
        if op == "sum":
            return x.sum(dim=dims, keepdim=keepdim)
        if op == "mean":
            return x.mean(dim=dims, keepdim=keepdim)
        return torch.amax(x, dim=dims, keepdim=keepdim)

    red_cases = [("ax1", [1], False), ("ax02_keepdim", [0, 2], True), ("all", [], False)]
    for op in ("sum", "mean", "max"):
        for tag, axes, kd in red_cases + ([("ax2", [2], False)] if op == "max" else []):
            name = c(f"{op}_3x4x5_{tag}")
            x = randn(3, 4, 5)
            assert len(set(x.flatten().tolist())) == x.numel(), "max needs tie-free input"
            op_case(op, name, {"x": x}, lambda x, op=op, axes=axes, kd=kd: reduce(op, x, axes, kd),
                    {"axes": axes, "keepdim": kd})

    # shape ops
    c("reshape_2x3x4_to_4x6")
    op_case("reshape", "reshape_2x3x4_to_4x6", {"x": randn(2, 3, 4)}, lambda x: x.reshape(4, 6), {"shape": [4, 6]})
    c("permute_2x3x4x5_0213")
    op_case("permute", "permute_2x3x4x5_0213", {"x": randn(2, 3, 4, 5)}, lambda x: x.permute(0, 2, 1, 3),
            {"perm": [0, 2, 1, 3]})
    c("transpose_3x7")
    op_case("transpose", "transpose_3x7", {"x": randn(3, 7)}, lambda x: x.transpose(0, 1), {"dim0": 0, "dim1": 1})
    c("slice_4x9x3_ax1_2_7")
    op_case("slice", "slice_4x9x3_ax1_2_7", {"x": randn(4, 9, 3)}, lambda x: x.narrow(1, 2, 5),
            {"axis": 1, "start": 2, "end": 7})
    c("concat_2x3x4_2x5x4_ax1")
    op_case("concat", "concat_2x3x4_2x5x4_ax1", {"a": randn(2, 3, 4), "b": randn(2, 5, 4)},
            lambda a, b: torch.cat([a, b], dim=1), {"axis": 1})

    # layer_norm
    def ln(x, weight, bias=None):
        return F.layer_norm(x, (x.shape[-1],), weight, bias, 1e-5)

    for tag, shape in [("4x7", (4, 7)), ("2x3x33", (2, 3, 33)), ("3x1", (3, 1))]:
        name = c(f"layer_norm_{tag}")
        C = shape[-1]
        # C = 1: x - mean is exactly 0, but torch's float32 kernel leaves ~1e-6 of rounding noise that
        # rstd = 1/sqrt(eps) amplifies; the float64 result is the exact answer (out = bias).
        op_case("layer_norm", name, {"x": randn(*shape), "weight": 1 + 0.1 * randn(C), "bias": 0.1 * randn(C)},
                ln, {"eps": 1e-5, "bias": True}, f64=(C == 1),
                note="computed in float64 from the float32 inputs (float32 torch is inexact when C = 1)" if C == 1 else None)
    c("layer_norm_offset1e4_5x64")
    op_case("layer_norm", "layer_norm_offset1e4_5x64",
            {"x": 1e4 + randn(5, 64), "weight": 1 + 0.1 * randn(64), "bias": 0.1 * randn(64)},
            ln, {"eps": 1e-5, "bias": True}, f64=True,
            note="x = 1e4 + randn stored as float32; out and grads computed in float64 from the float32 "
                 "inputs, then cast to float32 (a stability test: E[x^2]-E[x]^2 fails here)")
    c("layer_norm_nobias_4x7")
    op_case("layer_norm", "layer_norm_nobias_4x7", {"x": randn(4, 7), "weight": 1 + 0.1 * randn(7)},
            ln, {"eps": 1e-5, "bias": False})

    # rms_norm
    for tag, shape in [("4x7", (4, 7)), ("2x3x33", (2, 3, 33))]:
        name = c(f"rms_norm_{tag}")
        op_case("rms_norm", name, {"x": randn(*shape), "weight": 1 + 0.1 * randn(shape[-1])}, rms_norm, {"eps": 1e-5})

    # softmax / log_softmax over the last axis
    for op, f in (("softmax", F.softmax), ("log_softmax", F.log_softmax)):
        for tag, shape in [("1x1", (1, 1)), ("5x129", (5, 129)), ("2x3x7", (2, 3, 7))]:
            name = c(f"{op}_{tag}")
            op_case(op, name, {"x": randn(*shape)}, lambda x, f=f: f(x, dim=-1), {"axis": -1})

    # cross_entropy (mean over non-ignored targets)
    def ce(logits, targets):
        return F.cross_entropy(logits, targets.long(), ignore_index=-100, reduction="mean")

    ce_args = {"ignore_index": -100, "reduction": "mean"}
    c("cross_entropy_6x11")
    op_case("cross_entropy", "cross_entropy_6x11",
            {"logits": randn(6, 11), "targets": torch.randint(0, 11, (6,), dtype=torch.int32)}, ce, ce_args)
    c("cross_entropy_7x5_ignore")
    t = torch.randint(0, 5, (7,), dtype=torch.int32)
    t[1] = -100
    t[4] = -100
    op_case("cross_entropy", "cross_entropy_7x5_ignore", {"logits": randn(7, 5), "targets": t}, ce, ce_args)

    # attention (B, H, T, D)
    for tag, shape, causal in [("2x3x5x4_causal", (2, 3, 5, 4), True), ("1x1x1x8_causal", (1, 1, 1, 8), True),
                               ("2x2x7x3", (2, 2, 7, 3), False), ("1x2x16x16_causal", (1, 2, 16, 16), True)]:
        name = c(f"attention_{tag}")
        op_case("attention", name, {"q": randn(*shape), "k": randn(*shape), "v": randn(*shape)},
                lambda q, k, v, causal=causal: attention(q, k, v, causal),
                {"causal": causal, "scale": 1.0 / math.sqrt(shape[-1])})

    # packed attention: qkv (B, T, 3C) in c_attn's order (q | k | v, heads of D inside each) -> (B, T, C)
    def packed_attention(qkv, n_head, causal):
        B, T, C3 = qkv.shape
        C = C3 // 3
        q, k, v = (x.view(B, T, n_head, C // n_head).transpose(1, 2) for x in qkv.split(C, dim=2))
        return attention(q, k, v, causal).transpose(1, 2).contiguous().view(B, T, C)

    for tag, (B, T, H, D), causal in [("2x5x3x4_causal", (2, 5, 3, 4), True), ("1x1x2x3_causal", (1, 1, 2, 3), True),
                                      ("2x7x2x3", (2, 7, 2, 3), False)]:
        name = c(f"packed_attention_{tag}")
        op_case("packed_attention", name, {"qkv": randn(B, T, 3 * H * D)},
                lambda qkv, H=H, causal=causal: packed_attention(qkv, H, causal), {"n_head": H, "causal": causal})

    # embedding (ids repeat)
    for tag, V, C, N in [("10x6_n13", 10, 6, 13), ("65x32_n64", 65, 32, 64)]:
        name = c(f"embedding_{tag}")
        ids = torch.randint(0, V, (N,), dtype=torch.int32)
        ids[-1] = ids[0]  # at least one repeat, so the backward must accumulate
        op_case("embedding", name, {"weight": randn(V, C), "ids": ids},
                lambda weight, ids: F.embedding(ids.long(), weight))


# ----------------------------------------------------------------------------- attention masks


def masked_attention(q, k, v, causal, key_mask=None):
    """softmax(q·kᵀ/√D + mask)·v with Tq ≠ Tk (causal: the queries are the last Tq of Tk positions) and
    a (B, Tk) key mask (1 real, 0 padding) as an additive −inf mask; a query that sees no real key
    gives zeros. Written from primitives: torch 1.13 has no scaled_dot_product_attention."""
    B, Tq, Tk, D = q.shape[0], q.shape[-2], k.shape[-2], q.shape[-1]
    att = q @ k.transpose(-2, -1) * (1.0 / math.sqrt(D))  # (B, H, Tq, Tk)
    keep = torch.ones(Tq, Tk, dtype=torch.bool)
    if causal:
        keep = torch.tril(keep, diagonal=Tk - Tq)  # query t sees keys j <= Tk - Tq + t
    keep = keep.expand(B, 1, Tq, Tk)
    if key_mask is not None:
        keep = keep & (key_mask != 0)[:, None, None, :]
    seen = keep.any(-1, keepdim=True)  # (B, 1, Tq, 1): the query has a real key
    # A row with no real key would be softmax(all −inf) = NaN (and NaN gradients): give it a finite row, then zeros.
    att = torch.where(seen, att.masked_fill(~keep, float("-inf")), torch.zeros_like(att))
    return (F.softmax(att, dim=-1) * seen) @ v  # (B, H, Tq, D)


def make_attention_masks():
    """test/fixtures/attention/: attention, packed and cross attention with key masks and Tq ≠ Tk, awkward shapes."""

    def case(op, name, inputs, fn, args, mask):
        if mask is not None:
            inputs["key_mask"] = torch.tensor(mask, dtype=torch.float32)
        op_case(op, name, inputs, fn, args, no_grad=("key_mask",), f64=True, sub="attention")

    def heads(x, H):  # (B, T, H·D) -> (B, H, T, D)
        B, T, C = x.shape
        return x.view(B, T, H, C // H).transpose(1, 2)

    def merged(x):  # (B, H, T, D) -> (B, T, H·D)
        B, H, T, D = x.shape
        return x.transpose(1, 2).contiguous().view(B, T, H * D)

    # attention over (B, H, Tq, D) queries and (B, H, Tk, D) keys and values
    for name, (B, H, Tq, Tk, D), causal, mask in [
        ("attention_2x3_q5_k7_d5_padded", (2, 3, 5, 7, 5), False, [[1, 1, 1, 1, 0, 0, 0], [0] * 7]),
        ("attention_2x1_q3_k6_d4_causal_holes", (2, 1, 3, 6, 4), True, [[1, 0, 1, 1, 1, 0], [0, 0, 1, 1, 1, 1]]),
        ("attention_1x3_q6_k4_d3", (1, 3, 6, 4, 3), False, [[1, 1, 0, 1]]),
        ("attention_2x2_q1_k5_d7", (2, 2, 1, 5, 7), False, [[1, 1, 1, 0, 0], [1, 0, 0, 0, 0]]),
        ("attention_1x2_q5_k3_d4_causal_nomask", (1, 2, 5, 3, 4), True, None),
        ("attention_2x2_q4_k9_d16_causal", (2, 2, 4, 9, 16), True, [[1] * 9, [1] * 5 + [0] * 4]),
    ]:
        seed_for(name)
        inputs = {"q": randn(B, H, Tq, D), "k": randn(B, H, Tk, D), "v": randn(B, H, Tk, D)}
        case("attention", name, inputs, lambda q, k, v, key_mask=None, causal=causal: masked_attention(q, k, v, causal, key_mask),
             {"causal": causal}, mask)

    # packed self-attention (B, T, 3C) -> (B, T, C): the encoder's (not causal) and a causal one, padded
    for name, (B, T, H, D), causal, mask in [
        ("packed_attention_2x6_h3_d5_padded", (2, 6, 3, 5), False, [[1, 1, 1, 1, 1, 0], [0] * 6]),
        ("packed_attention_2x5_h1_d4_causal_left", (2, 5, 1, 4), True, [[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]]),
    ]:
        seed_for(name)

        def packed(qkv, key_mask=None, H=H, causal=causal):
            q, k, v = (heads(x, H) for x in qkv.split(qkv.shape[2] // 3, dim=2))
            return merged(masked_attention(q, k, v, causal, key_mask))

        case("packed_attention", name, {"qkv": randn(B, T, 3 * H * D)}, packed, {"n_head": H, "causal": causal}, mask)

    # cross-attention: q (B, Tq, C) against packed keys | values kv (B, Tk, 2C) -> (B, Tq, C), not causal
    for name, (B, Tq, Tk, H, D), mask in [
        ("cross_attention_2_q4_k7_h3_d5_padded", (2, 4, 7, 3, 5), [[1, 1, 1, 1, 1, 0, 0], [0] * 7]),
        ("cross_attention_1_q1_k5_h1_d6", (1, 1, 5, 1, 6), [[1, 1, 0, 1, 1]]),
        ("cross_attention_2_q6_k3_h2_d8", (2, 6, 3, 2, 8), [[1, 1, 1], [1, 0, 0]]),
        ("cross_attention_2_q5_k9_h2_d16_nomask", (2, 5, 9, 2, 16), None),
    ]:
        seed_for(name)

        def cross(q, kv, key_mask=None, H=H):
            k, v = (heads(x, H) for x in kv.split(q.shape[2], dim=2))
            return merged(masked_attention(heads(q, H), k, v, False, key_mask))

        case("cross_attention", name, {"q": randn(B, Tq, H * D), "kv": randn(B, Tk, 2 * H * D)}, cross, {"n_head": H}, mask)

    # the primitives against torch's own softmax attention where no row is fully masked
    q, k, v = randn(2, 3, 4, 5), randn(2, 3, 6, 5), randn(2, 3, 6, 5)
    ref = F.softmax(q @ k.transpose(-2, -1) / math.sqrt(5), dim=-1) @ v
    assert torch.allclose(masked_attention(q, k, v, False), ref, atol=1e-6)
    ref = F.softmax((q @ k.transpose(-2, -1) / math.sqrt(5))[..., :4, :4].masked_fill(
        torch.triu(torch.ones(4, 4, dtype=torch.bool), 1), float("-inf")), dim=-1) @ v[..., :4, :]
    assert torch.allclose(masked_attention(q, k[..., :4, :], v[..., :4, :], True), ref, atol=1e-6)


# ----------------------------------------------------------------------------- optimizer fixtures


def make_optim():
    seed_for("optim/adamw")
    hp = {"lr": 1e-3, "betas": [0.9, 0.99], "eps": 1e-8, "steps": 5,
          "groups": [{"params": ["p"], "weight_decay": 0.1}, {"params": ["q"], "weight_decay": 0.0}]}
    p = randn(5, 7).requires_grad_(True)
    q = randn(7).requires_grad_(True)
    tensors = {"p0": p.detach().clone(), "q0": q.detach().clone()}
    opt = torch.optim.AdamW([{"params": [p], "weight_decay": 0.1}, {"params": [q], "weight_decay": 0.0}],
                            lr=hp["lr"], betas=tuple(hp["betas"]), eps=hp["eps"])
    for t in range(1, hp["steps"] + 1):
        gp, gq = randn(5, 7), randn(7)
        p.grad, q.grad = gp.clone(), gq.clone()
        opt.step()
        tensors[f"grad.p.{t}"], tensors[f"grad.q.{t}"] = gp, gq
        tensors[f"p.{t}"], tensors[f"q.{t}"] = p.detach().clone(), q.detach().clone()
    path = os.path.join(ROOT, "optim", "adamw.safetensors")
    write_safetensors(path, tensors, {"op": "adamw", "case": "adamw", "args": json.dumps(hp)})
    WRITTEN.append(path)

    seed_for("optim/clip")
    tensors = {}
    for prefix, out_prefix, target in (("g", "c", 3.7), ("h", "hc", 0.6)):
        gs = [randn(4, 5), randn(3), randn(2, 2, 2)]
        norm = torch.sqrt(sum((g * g).sum() for g in gs))
        gs = [g * (target / norm) for g in gs]
        ps = [torch.zeros_like(g, requires_grad=True) for g in gs]
        for pp, g in zip(ps, gs):
            pp.grad = g.clone()
        total = torch.nn.utils.clip_grad_norm_(ps, max_norm=1.0)
        for i, (g, pp) in enumerate(zip(gs, ps)):
            tensors[f"{prefix}.{i}"] = g
            tensors[f"{out_prefix}.{i}"] = pp.grad.detach().clone()
        tensors["total_norm" if prefix == "g" else "h_total_norm"] = total.reshape([])
    path = os.path.join(ROOT, "optim", "clip.safetensors")
    write_safetensors(path, tensors, {"op": "clip_grad_norm", "case": "clip",
                                      "args": json.dumps({"max_norm": 1.0, "norm_type": 2.0, "eps": 1e-6})})
    WRITTEN.append(path)

    args = {"max_lr": 1e-3, "min_lr": 1e-4, "warmup_iters": 100, "lr_decay_iters": 2000}

    def lr_at(it):
        if it < args["warmup_iters"]:
            return args["max_lr"] * (it + 1) / (args["warmup_iters"] + 1)
        if it > args["lr_decay_iters"]:
            return args["min_lr"]
        r = (it - args["warmup_iters"]) / (args["lr_decay_iters"] - args["warmup_iters"])
        return args["min_lr"] + 0.5 * (1.0 + math.cos(math.pi * r)) * (args["max_lr"] - args["min_lr"])

    its = [0, 1, 50, 99, 100, 101, 500, 1000, 1999, 2000, 2500]
    path = os.path.join(ROOT, "optim", "schedule.json")
    with open(path, "w") as f:
        pts = ",\n".join(f"    [{it}, {json.dumps(lr_at(it))}]" for it in its)
        f.write(f'{{\n  "args": {json.dumps(args)},\n  "points": [\n{pts}\n  ]\n}}\n')
    WRITTEN.append(path)


# ----------------------------------------------------------------------------- GPT fixtures
#
# One reference GPT for every design of docs/designs.md, written from that spec (independently of the
# TypeScript): norm kinds, placements, residual rules, QK-norm. Each sub-layer is the spec's one shape
#
#   h = inNorm(x)?  ->  u = F(h)  ->  u = outNorm(u)?  ->  y = rule(x, u)  ->  y = postNorm(y)?
#
# The three original cases (pre_ln, post_ln, pre_rms) build the same modules in the same order as
# before, so they regenerate byte-identical.


class GPT(ExportedGPT):
    """python/resnorm_gpt.py's GPT with the fixtures' init, applied after the modules' own, as before."""

    def __init__(self, cfg):
        super().__init__(cfg)
        self._init()

    def _init(self):
        """GPT-2's init, then noise on every norm and rule parameter so the tests exercise them."""
        L = self.cfg["n_layer"]
        for name, p in self.named_parameters():
            with torch.no_grad():
                parts = name.split(".")
                leaf = parts[-2] if len(parts) > 1 else name  # the module's name
                last = parts[-1]
                is_norm = any(s.startswith("ln_") or s in ("q_norm", "k_norm", "norm") for s in parts[:-1])
                noise = lambda mean, std: p.copy_(mean + std * torch.randn_like(p))  # noqa: E731
                if is_norm and last == "alpha":
                    noise(0.5, 0.1)  # DyT's α (init 0.5)
                elif is_norm:  # GPT-2 init (1 / 0) plus noise so tests exercise gamma and beta
                    noise(1.0 if last == "weight" else 0.0, 0.1)
                elif last.startswith("alpha_"):
                    noise(0.5, 0.2)  # ReZero's α (init 0)
                elif last.startswith("ls_"):
                    noise(0.3, 0.1)  # LayerScale's λ (init 0.1)
                elif last.startswith("omega_"):
                    noise(1.0, 0.2)  # Admin's ω (init from profiling)
                elif last == "lambda_v":
                    noise(0.5, 0.2)  # value residual (init [0.5, 0.5])
                elif last == "static_alpha":
                    p.add_(0.1 * torch.randn_like(p))
                elif last == "static_beta":
                    p.add_(0.1 * torch.randn_like(p))
                elif last in ("dynamic_alpha", "dynamic_beta"):
                    noise(0.0, 0.3)  # init 0
                elif last in ("dynamic_alpha_scale", "dynamic_beta_scale"):
                    noise(0.3, 0.1)  # init 0.01
                elif name.endswith("bias"):
                    p.copy_(0.1 * torch.randn_like(p))
                elif leaf == "c_proj":
                    p.normal_(0.0, 0.02 / math.sqrt(2 * L))
                else:
                    p.normal_(0.0, 0.02)
        for name, b in self.named_buffers():  # BatchNorm's running statistics, not at zeros/ones either
            with torch.no_grad():
                if name.endswith("running_mean"):
                    b.copy_(0.1 * torch.randn_like(b))
                elif name.endswith("running_var"):
                    b.copy_(torch.exp(0.2 * torch.randn_like(b)))



def admin_profile(model, idx):
    """Admin's profiling rule (docs/designs.md): one pass with every ω = 1 records, for each sub-layer
    in the order they run, the variance of the stream it reads, Var[x_{i-1}], and of its output,
    Var[f_i] (population variance over all elements); sub-layer i gets
    ω_i = sqrt((Var[x_0] + Σ_{j<i} Var[f_j]) / Var[x_{i-1}]) in all C entries."""
    m = copy.deepcopy(model)
    rec = []
    with torch.no_grad():
        for n, p in m.named_parameters():
            if n.split(".")[-1].startswith("omega_"):
                p.fill_(1.0)
        for b in m.h:
            b.profile = rec
        m(idx)
    var = [float(t.double().var(unbiased=False)) for t in rec]  # [Var x_0, Var f_1, Var x_1, Var f_2, ...]
    stream, branch = var[0::2], var[1::2]
    C = model.cfg["n_embd"]
    omegas = {}
    for i in range(len(branch)):
        layer, k = i // 2, i % 2 + 1
        omegas[f"h.{layer}.omega_{k}"] = torch.full((C,), math.sqrt((stream[0] + sum(branch[:i])) / stream[i]), dtype=torch.float32)
    return omegas, torch.tensor(var, dtype=torch.float32)


TRAJ_HP = {"lr": 1e-3, "betas": [0.9, 0.99], "eps": 1e-8, "weight_decay": 0.1,
           "decay": "params with >= 2 dims (tied wte once); others 0", "clip_grad_norm": 1.0,
           "loss": "loss of batch t before step t's update"}


def trajectory(model, V, B, T, steps):
    """clip_grad_norm_(1.0) then AdamW, `steps` times, on fresh random batches (drawn here)."""
    hp = {"steps": steps, **TRAJ_HP}
    model.zero_grad(set_to_none=True)
    params = list(model.named_parameters())
    decay = [p for _, p in params if p.dim() >= 2]
    no_decay = [p for _, p in params if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.99), eps=1e-8)
    tidx = torch.randint(0, V, (steps, B, T))
    ttgt = torch.randint(0, V, (steps, B, T))
    losses, norms = [], []
    for t in range(steps):
        _, l = model(tidx[t], ttgt[t])
        opt.zero_grad(set_to_none=True)
        l.backward()
        norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0).item())
        opt.step()
        losses.append(l.item())
    tensors = {"traj.idx": tidx, "traj.targets": ttgt,
               "traj.loss": torch.tensor(losses, dtype=torch.float32),
               "traj.grad_norm": torch.tensor(norms, dtype=torch.float32)}
    tensors.update({f"traj.param.{n}": p.detach().clone() for n, p in model.named_parameters()})
    return tensors, hp


def forward_case(model, idx, targets):
    """param.*, buffer.* (before the pass), logits, loss and grad.* of one training-mode pass."""
    tensors = {f"param.{n}": p.detach().clone() for n, p in model.named_parameters()}
    tensors.update({f"buffer.{n}": b.clone() for n, b in model.named_buffers()})
    logits, loss = model(idx, targets)
    loss.backward()
    tensors.update(idx=idx, targets=targets, logits=logits.detach(), loss=loss.detach().reshape([]))
    tensors.update({f"grad.{n}": p.grad.detach().clone() for n, p in model.named_parameters()})
    return tensors


GPT_CASES = {
    "pre_ln": dict(norm="layernorm", placement="pre", pos="learned", tie=True, bias=True, traj=True),
    "post_ln": dict(norm="layernorm", placement="post", pos="sinusoidal", tie=False, bias=True, traj=True),
    "pre_rms": dict(norm="rmsnorm", placement="pre", pos="learned", tie=True, bias=False, traj=False),
}


def make_gpt():
    B, T = 4, 16
    for case, spec in GPT_CASES.items():
        seed_for("gpt/" + case)
        cfg = dict(vocab_size=65, block_size=16, n_layer=2, n_head=2, n_embd=32, dropout=0.0, bias=spec["bias"],
                   norm=spec["norm"], placement=spec["placement"], pos=spec["pos"], tie=spec["tie"])
        model = GPT(cfg)
        V = cfg["vocab_size"]
        idx = torch.randint(0, V, (B, T))
        targets = torch.randint(0, V, (B, T))
        tensors = forward_case(model, idx, targets)
        meta = {"case": case, "config": json.dumps(cfg)}
        if spec["traj"]:
            traj, hp = trajectory(model, V, B, T, steps=10)
            tensors.update(traj)
            meta["traj"] = json.dumps(hp)
        path = os.path.join(ROOT, "gpt", case + ".safetensors")
        write_safetensors(path, tensors, meta)
        WRITTEN.append(path)


# A tiny model, one case per design (docs/designs.md). Fields not named take DESIGN_BASE's values.
DESIGN_BASE = dict(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8, dropout=0.0, bias=True,
                   norm="layernorm", placement="pre", pos="learned", tie=True, **DESIGN_DEFAULTS)
DESIGN_CASES = {
    "ln_nobias": dict(bias=False),
    "dyt": dict(norm="dyt"),
    "dyt_nobias": dict(norm="dyt", bias=False),
    # No biases: with BatchNorm after every path, a Linear bias adds a per-channel constant that the batch
    # mean removes, so its gradient is exactly zero and float32 leaves only rounding noise (~1e-7 of the
    # largest gradient) there, which AdamW's normalized step then turns into ±lr moves.
    "batchnorm": dict(norm="batchnorm", bias=False),
    "norm_none": dict(norm="none"),
    "qk_norm": dict(qk_norm=True),
    "qk_norm_rms": dict(norm="rmsnorm", qk_norm=True, bias=False),
    "peri": dict(placement="peri"),
    "sandwich": dict(placement="sandwich"),
    "mix": dict(placement="mix", mix_ratio=0.5),
    "placement_none": dict(placement="none"),
    "deepnorm": dict(placement="post", residual="deepnorm", pos="sinusoidal", tie=False),
    "rezero": dict(placement="none", residual="rezero"),
    "layerscale": dict(residual="layerscale"),
    "admin": dict(placement="post", residual="admin"),
    "hyper": dict(residual="hyper", hyper_streams=3),
    "hyper_peri": dict(placement="peri", residual="hyper", hyper_streams=2),
    "value_residual": dict(residual="value-residual", n_layer=3),
    "residual_none": dict(residual="none"),
}
DESIGN_B, DESIGN_T, DESIGN_STEPS = 2, 8, 5


def make_designs():
    B, T = DESIGN_B, DESIGN_T
    for case, spec in DESIGN_CASES.items():
        seed_for("designs/" + case)
        cfg = {**DESIGN_BASE, **spec}
        model = GPT(cfg)
        V = cfg["vocab_size"]
        start = copy.deepcopy(model)  # the trajectory starts from the same weights and buffers
        idx = torch.randint(0, V, (B, T))
        targets = torch.randint(0, V, (B, T))
        tensors = forward_case(model, idx, targets)
        meta = {"case": case, "config": json.dumps(cfg)}
        if cfg["residual"] == "admin":
            aidx = torch.randint(0, V, (B, T))
            omegas, var = admin_profile(start, aidx)
            tensors["admin.idx"] = aidx
            tensors["admin.var"] = var
            tensors.update({f"admin.omega.{n}": w for n, w in omegas.items()})
        traj, hp = trajectory(start, V, B, T, steps=DESIGN_STEPS)
        tensors.update(traj)
        buffers = [(n, b) for n, b in start.named_buffers() if n != "pe"]
        if buffers:
            tensors.update({f"traj.buffer.{n}": b.clone() for n, b in buffers})
            start.eval()
            with torch.no_grad():
                tensors["traj.eval_logits"] = start(idx)[0]
            hp["eval_logits"] = "eval-mode logits of idx after the last step (running statistics)"
        meta["traj"] = json.dumps(hp)
        path = os.path.join(ROOT, "designs", case + ".safetensors")
        write_safetensors(path, tensors, meta)
        WRITTEN.append(path)


def selftest():
    """The written-out norms against torch's own where torch has one."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 5, 6, generator=g)
    bn = BatchNorm(6, bias=True)
    with torch.no_grad():
        bn.weight.copy_(1 + 0.1 * torch.randn(6, generator=g))
        bn.bias.copy_(0.1 * torch.randn(6, generator=g))
    rm, rv = bn.running_mean.clone(), bn.running_var.clone()
    ref = F.batch_norm(x.reshape(-1, 6), rm, rv, bn.weight, bn.bias, True, 0.1, EPS).reshape(x.shape)
    assert torch.allclose(bn(x), ref, atol=1e-6), "BatchNorm (train) differs from F.batch_norm"
    assert torch.allclose(bn.running_mean, rm, atol=1e-7) and torch.allclose(bn.running_var, rv, atol=1e-6)
    bn.eval()
    ref = F.batch_norm(x.reshape(-1, 6), rm, rv, bn.weight, bn.bias, False, 0.1, EPS).reshape(x.shape)
    assert torch.allclose(bn(x), ref, atol=1e-6), "BatchNorm (eval) differs from F.batch_norm"
    # hyper-connections at their init are the plain residual: H[s] ← u + H[s], the sub-layer reading H[m mod n]
    hc = HyperConnection(dict(hyper_streams=3, n_embd=6, bias=True), m=4)
    with torch.no_grad():
        hc.dynamic_alpha_scale.zero_()
        hc.dynamic_beta_scale.zero_()
    H = torch.randn(2, 5, 3, 6, generator=g)
    M, b = hc(H)
    assert torch.equal(M[..., 0, :], H[..., 1, :]) and torch.equal(M[..., 1:, :], H) and torch.equal(b, torch.ones(2, 5, 3))


# ----------------------------------------------------------------------------- encoder-decoder fixtures


def s2s_stack_cfg(cfg, role):
    """One stack's view of an encoder-decoder config: the GPT helpers' n_layer is this stack's depth."""
    return {**cfg, "n_layer": cfg["encoder_layers" if role == "encoder" else "decoder_layers"], "role": role}


def s2s_deepnorm(cfg):
    """DeepNorm's encoder-decoder constants (Wang et al. 2022): (α, β) of the stack."""
    N, M = cfg["encoder_layers"], cfg["decoder_layers"]
    if cfg["role"] == "encoder":
        return 0.81 * (N ** 4 * M) ** (1 / 16), 0.87 * (N ** 4 * M) ** (-1 / 16)
    return (3 * M) ** 0.25, (12 * M) ** -0.25


def s2s_attention(q, k, v, causal, key_mask=None):
    """(Its own name: it once shadowed the attention fixtures' masked_attention, so a full run changed them.)
    softmax(q·kᵀ/√D + masks)·v over (B, H, Tq, D) and (B, H, Tk, D); key_mask (B, Tk), 1 real / 0 padding."""
    Tq, Tk, D = q.shape[-2], k.shape[-2], q.shape[-1]
    att = q @ k.transpose(-2, -1) * (1.0 / math.sqrt(D))
    if causal:
        att = att.masked_fill(torch.triu(torch.ones(Tq, Tk, dtype=torch.bool), diagonal=1), float("-inf"))
    if key_mask is not None:
        att = att.masked_fill(key_mask[:, None, None, :] == 0, float("-inf"))
    return F.softmax(att, dim=-1) @ v


class S2SSelfAttn(nn.Module):
    def __init__(self, cfg, causal):
        super().__init__()
        C, self.H, self.causal = cfg["n_embd"], cfg["n_head"], causal
        self.c_attn = nn.Linear(C, 3 * C, bias=cfg["bias"])
        self.c_proj = nn.Linear(C, C, bias=cfg["bias"])

    def forward(self, x, key_mask=None):
        B, T, C = x.shape
        q, k, v = (z.view(B, T, self.H, C // self.H).transpose(1, 2) for z in self.c_attn(x).split(C, dim=2))
        y = s2s_attention(q, k, v, self.causal, key_mask)
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


class S2SCrossAttn(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C, self.H = cfg["n_embd"], cfg["n_head"]
        self.c_q = nn.Linear(C, C, bias=cfg["bias"])
        self.c_kv = nn.Linear(C, 2 * C, bias=cfg["bias"])
        self.c_proj = nn.Linear(C, C, bias=cfg["bias"])

    def forward(self, x, memory, key_mask):
        (B, T, C), S = x.shape, memory.shape[1]
        q = self.c_q(x).view(B, T, self.H, C // self.H).transpose(1, 2)
        k, v = (z.view(B, S, self.H, C // self.H).transpose(1, 2) for z in self.c_kv(memory).split(C, dim=2))
        y = s2s_attention(q, k, v, False, key_mask)
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


class S2SBlock(nn.Module):
    """A layer of either stack: sub-layers ('attn', 'mlp') in the encoder, ('attn', 'cross', 'mlp') in the
    decoder; sub-layer k's norms are ln_k (and ln_k_out), its rule's parameters alpha_k, ls_k, omega_k."""

    def __init__(self, cfg, i):
        super().__init__()
        self.cfg = cfg
        self.has_in, self.has_out, self.has_post = NORMS_OF[layer_placement(cfg, i)]
        self.residual = cfg["residual"]
        if self.residual not in ("plain", "deepnorm", "rezero", "layerscale", "admin", "none"):
            raise ValueError(f"the encoder-decoder reference has no {self.residual}")
        self.profile = None
        decoder = cfg["role"] == "decoder"
        self.order = ("attn", "cross", "mlp") if decoder else ("attn", "mlp")
        C = cfg["n_embd"]
        for k, part in enumerate(self.order, start=1):
            if self.has_in or self.has_post:
                norm = make_norm(cfg)
                if norm is not None:
                    setattr(self, f"ln_{k}", norm)
            setattr(self, part, S2SSelfAttn(cfg, decoder) if part == "attn" else S2SCrossAttn(cfg) if part == "cross" else MLP(cfg))
            if self.has_out:
                norm = make_norm(cfg)
                if norm is not None:
                    setattr(self, f"ln_{k}_out", norm)
            if self.residual == "rezero":
                setattr(self, f"alpha_{k}", nn.Parameter(torch.zeros(1)))
            elif self.residual == "layerscale":
                setattr(self, f"ls_{k}", nn.Parameter(torch.full((C,), layerscale_init(cfg["n_layer"]))))
            elif self.residual == "admin":
                setattr(self, f"omega_{k}", nn.Parameter(torch.ones(C)))

    def sublayer(self, k, x, f):
        ln, ln_out = getattr(self, f"ln_{k}", None), getattr(self, f"ln_{k}_out", None)
        h = ln(x) if self.has_in and ln is not None else x
        u = f(h)
        if ln_out is not None:
            u = ln_out(u)
        if self.profile is not None:
            self.profile.extend([x.detach(), u.detach()])
        r = self.residual
        if r == "plain":
            y = x + u
        elif r == "deepnorm":
            y = s2s_deepnorm(self.cfg)[0] * x + u
        elif r == "rezero":
            y = x + getattr(self, f"alpha_{k}") * u
        elif r == "layerscale":
            y = x + getattr(self, f"ls_{k}") * u
        elif r == "admin":
            y = getattr(self, f"omega_{k}") * x + u
        else:
            y = u
        if self.has_post and ln is not None:
            y = ln(y)
        return y

    def forward(self, x, src_mask, memory=None):
        x = self.sublayer(1, x, lambda h: self.attn(h, None if memory is not None else src_mask))
        if memory is not None:
            x = self.sublayer(2, x, lambda h: self.cross(h, memory, src_mask))
        return self.sublayer(len(self.order), x, self.mlp)


class S2SStack(nn.Module):
    def __init__(self, cfg, role, shared=None):
        super().__init__()
        cfg = s2s_stack_cfg(cfg, role)
        C, self.role = cfg["n_embd"], role
        T = cfg["max_source" if role == "encoder" else "max_target"]
        if shared is None:
            self.wte = nn.Embedding(cfg["source_vocab" if role == "encoder" else "target_vocab"], C)
        else:
            self.__dict__["shared_wte"] = shared  # registered by the encoder only
        if cfg["pos"] == "learned":
            self.wpe = nn.Embedding(T, C)
        else:
            self.register_buffer("pe", sinusoidal(T, C))
        if cfg["placement"] == "peri" and cfg["norm"] != "none":
            self.ln_e = make_norm(cfg)
        self.h = nn.ModuleList([S2SBlock(cfg, i) for i in range(cfg["n_layer"])])
        if needs_final_norm(cfg) and cfg["norm"] != "none":
            self.ln_f = make_norm(cfg)

    def embedding(self):
        return self.wte if hasattr(self, "wte") else self.__dict__["shared_wte"]

    def forward(self, ids, src_mask, memory=None):
        T = ids.shape[1]
        x = self.embedding()(ids) + (self.wpe.weight[:T] if hasattr(self, "wpe") else self.pe[:T])
        if hasattr(self, "ln_e"):
            x = self.ln_e(x)
        for block in self.h:
            x = block(x, src_mask, memory)
        return self.ln_f(x) if hasattr(self, "ln_f") else x


class Seq2Seq(nn.Module):
    """The encoder-decoder of src/models/seq2seq.ts (docs/designs.md), written from the paper with torch ops."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.encoder = S2SStack(cfg, "encoder")
        self.decoder = S2SStack(cfg, "decoder", self.encoder.wte if cfg["share"] else None)
        if not cfg["tie"]:
            self.lm_head = nn.Linear(cfg["n_embd"], cfg["target_vocab"], bias=False)
        for name, p in self.named_parameters():  # GPT-2's init, then noise on norms and rules (as GPT._init)
            with torch.no_grad():
                parts = name.split(".")
                last = parts[-1]
                if any(s.startswith("ln_") for s in parts[:-1]):
                    p.copy_((1.0 if last == "weight" else 0.0) + 0.1 * torch.randn_like(p))
                elif last.startswith("alpha_"):
                    p.copy_(0.5 + 0.2 * torch.randn_like(p))
                elif last.startswith("ls_"):
                    p.copy_(0.3 + 0.1 * torch.randn_like(p))
                elif last.startswith("omega_"):
                    p.copy_(1.0 + 0.2 * torch.randn_like(p))
                elif last == "bias":
                    p.copy_(0.1 * torch.randn_like(p))
                else:
                    p.normal_(0.0, 0.02)

    def forward(self, src, src_mask, tgt_in, tgt_out=None):
        memory = self.encoder(src, src_mask)
        x = self.decoder(tgt_in, src_mask, memory)
        W = self.lm_head.weight if hasattr(self, "lm_head") else self.decoder.embedding().weight
        logits = F.linear(x, W)  # (B, T, V)
        if tgt_out is None:
            return logits, None
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), tgt_out.reshape(-1), ignore_index=-100,
                               label_smoothing=self.cfg["label_smoothing"])
        return logits, loss


def s2s_batch(cfg, B, S, T):
    """A padded batch: row 0 full, the others of random lengths; −100 after each target's end."""
    src = torch.randint(0, cfg["source_vocab"], (B, S))
    src_mask = torch.ones(B, S)
    tgt_in = torch.randint(0, cfg["target_vocab"], (B, T))
    tgt_out = torch.randint(0, cfg["target_vocab"], (B, T))
    for b in range(1, B):
        s_len, t_len = int(torch.randint(1, S + 1, ())), int(torch.randint(1, T + 1, ()))
        src[b, s_len:], src_mask[b, s_len:], tgt_in[b, t_len:], tgt_out[b, t_len:] = 0, 0.0, 0, -100
    return src, src_mask, tgt_in, tgt_out


def s2s_admin_profile(model, src, src_mask, tgt_in):
    """Admin's rule per stack (docs/designs.md): each stack accumulates from its own first stream."""
    m = copy.deepcopy(model)
    with torch.no_grad():
        for n, p in m.named_parameters():
            if n.split(".")[-1].startswith("omega_"):
                p.fill_(1.0)
        recs = {}
        for role in ("encoder", "decoder"):
            recs[role] = []
            for b in getattr(m, role).h:
                b.profile = recs[role]
        m(src, src_mask, tgt_in)
    C, omegas, all_var = model.cfg["n_embd"], {}, []
    for role, per in (("encoder", 2), ("decoder", 3)):
        var = [float(t.double().var(unbiased=False)) for t in recs[role]]
        all_var += var
        stream, branch = var[0::2], var[1::2]
        for i in range(len(branch)):
            omegas[f"{role}.h.{i // per}.omega_{i % per + 1}"] = torch.full(
                (C,), math.sqrt((stream[0] + sum(branch[:i])) / stream[i]), dtype=torch.float32)
    return omegas, torch.tensor(all_var, dtype=torch.float32)


# A tiny encoder-decoder per case (1 encoder layer, 2 decoder layers), padded batches.
S2S_BASE = dict(source_vocab=7, target_vocab=9, max_source=6, max_target=5, encoder_layers=1, decoder_layers=2,
                n_head=2, n_embd=4, dropout=0.0, bias=True, norm="layernorm", placement="pre", residual="plain",
                mix_ratio=0.25, pos="learned", tie=True, share=False, label_smoothing=0.1)
S2S_CASES = {
    "pre_ln": dict(traj=True),
    "post_ln": dict(placement="post", pos="sinusoidal", tie=False, traj=True),
    "deepnorm": dict(placement="post", residual="deepnorm", share=True, target_vocab=7, decoder_layers=1, traj=False),
    "admin": dict(placement="post", residual="admin", traj=False),
}
S2S_B, S2S_S, S2S_T, S2S_STEPS = 2, 6, 5, 5


def make_seq2seq():
    """test/fixtures/seq2seq/: forward, every gradient, a 5-step AdamW trajectory (pre- and post-LN), Admin's ω."""
    B, S, T = S2S_B, S2S_S, S2S_T
    for case, spec in S2S_CASES.items():
        seed_for("seq2seq/" + case)
        cfg = {**S2S_BASE, **{k: v for k, v in spec.items() if k != "traj"}}
        model = Seq2Seq(cfg)
        start = copy.deepcopy(model)
        src, src_mask, tgt_in, tgt_out = s2s_batch(cfg, B, S, T)
        tensors = {f"param.{n}": p.detach().clone() for n, p in model.named_parameters()}
        logits, loss = model(src, src_mask, tgt_in, tgt_out)
        loss.backward()
        tensors.update(src=src, src_mask=src_mask, tgt_in=tgt_in, tgt_out=tgt_out, logits=logits.detach(), loss=loss.detach().reshape([]))
        tensors.update({f"grad.{n}": p.grad.detach().clone() for n, p in model.named_parameters()})
        meta = {"case": case, "config": json.dumps(cfg)}
        if cfg["residual"] == "admin":
            a = s2s_batch(cfg, B, S, T)
            omegas, var = s2s_admin_profile(start, a[0], a[1], a[2])
            tensors.update({"admin.src": a[0], "admin.src_mask": a[1], "admin.tgt_in": a[2], "admin.var": var})
            tensors.update({f"admin.omega.{n}": w for n, w in omegas.items()})
        if spec["traj"]:
            hp = {"steps": S2S_STEPS, **TRAJ_HP}
            params = list(start.named_parameters())
            opt = torch.optim.AdamW([{"params": [p for _, p in params if p.dim() >= 2], "weight_decay": 0.1},
                                     {"params": [p for _, p in params if p.dim() < 2], "weight_decay": 0.0}],
                                    lr=1e-3, betas=(0.9, 0.99), eps=1e-8)
            batches = [s2s_batch(cfg, B, S, T) for _ in range(S2S_STEPS)]
            losses, norms = [], []
            for b in batches:
                _, l = start(*b)
                opt.zero_grad(set_to_none=True)
                l.backward()
                norms.append(torch.nn.utils.clip_grad_norm_(start.parameters(), 1.0).item())
                opt.step()
                losses.append(l.item())
            for j, name in enumerate(("src", "src_mask", "tgt_in", "tgt_out")):
                tensors[f"traj.{name}"] = torch.stack([b[j] for b in batches])
            tensors.update({"traj.loss": torch.tensor(losses), "traj.grad_norm": torch.tensor(norms)})
            tensors.update({f"traj.param.{n}": p.detach().clone() for n, p in start.named_parameters()})
            meta["traj"] = json.dumps(hp)
        path = os.path.join(ROOT, "seq2seq", case + ".safetensors")
        write_safetensors(path, tensors, meta)
        WRITTEN.append(path)


# ----------------------------------------------------------------------------- convolution fixtures (test/fixtures/conv/)


def conv_case(op, case, inputs, fn, args, no_grad=()):
    """One op, as op_case writes it, into conv/: inputs, dout, out and grad.<input> of sum(out·dout)."""
    seed_for("dout/" + case)
    leaves = {k: v.detach().clone().requires_grad_(k not in no_grad) for k, v in inputs.items()}
    out = fn(**leaves)
    dout = randn(*out.shape)
    out.backward(dout)
    tensors = {**inputs, "dout": dout, "out": out.detach()}
    tensors.update({"grad." + k: v.grad for k, v in leaves.items() if v.requires_grad})
    path = os.path.join(ROOT, "conv", case + ".safetensors")
    write_safetensors(path, tensors, {"op": op, "args": json.dumps(args), "case": case})
    WRITTEN.append(path)


class BasicBlock(nn.Module):
    """He et al. 2016's basic block, torchvision's names: conv3x3-BN-ReLU-conv3x3-BN + shortcut, ReLU after the add."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        f = self.bn2(self.conv2(h))
        return F.relu(f + (self.downsample(x) if self.downsample is not None else x))


def bn_buffers(m):
    """Running statistics by name (torch's num_batches_tracked left out: the engine keeps none)."""
    return {n: b.detach().clone() for n, b in m.named_buffers() if not n.endswith("num_batches_tracked")}


def randomize_bn(m):
    """γ, β and the running estimates away from their init, so that each one matters."""
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.weight.copy_(1 + 0.2 * torch.randn_like(mod.weight))
                mod.bias.copy_(0.1 * torch.randn_like(mod.bias))
                mod.running_mean.copy_(0.1 * torch.randn_like(mod.running_mean))
                mod.running_var.copy_(torch.exp(0.2 * torch.randn_like(mod.running_var)))


CONV_ADAMW = {"lr": 1e-2, "betas": [0.9, 0.99], "eps": 1e-8, "weight_decay": 0.1, "steps": 3,
              "decay": "params with >= 2 dims; others 0", "loss": "sum(out * traj.dout.<t>) on traj.x.<t>"}


def block_case(case, B, cin, cout, H, W, stride):
    seed_for("conv/" + case)
    m = BasicBlock(cin, cout, stride)
    randomize_bn(m)
    start = copy.deepcopy(m)
    x, dout = randn(B, cin, H, W), None
    tensors = {f"param.{n}": p.detach().clone() for n, p in m.named_parameters()}
    tensors.update({f"buffer.{n}": b for n, b in bn_buffers(m).items()})
    for mode in ("train", "eval"):
        mm = copy.deepcopy(start)
        mm.train(mode == "train")
        xx = x.clone().requires_grad_(True)
        out = mm(xx)
        if dout is None:
            dout = randn(*out.shape)
        out.backward(dout)
        tensors[f"{mode}.out"] = out.detach()
        tensors[f"{mode}.grad.x"] = xx.grad
        tensors.update({f"{mode}.grad.{n}": p.grad for n, p in mm.named_parameters()})
        if mode == "train":
            tensors.update({f"train.buffer.{n}": b for n, b in bn_buffers(mm).items()})
    tensors.update(x=x, dout=dout)
    # Three AdamW steps in training mode, the running statistics updated on the way; then eval outputs of x.
    params = list(start.named_parameters())
    opt = torch.optim.AdamW([{"params": [p for _, p in params if p.dim() >= 2], "weight_decay": 0.1},
                             {"params": [p for _, p in params if p.dim() < 2], "weight_decay": 0.0}],
                            lr=1e-2, betas=(0.9, 0.99), eps=1e-8)
    losses = []
    for t in range(CONV_ADAMW["steps"]):
        xt, dt = randn(B, cin, H, W), randn(*dout.shape)
        tensors[f"traj.x.{t}"], tensors[f"traj.dout.{t}"] = xt, dt
        loss = (start(xt) * dt).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    tensors["traj.loss"] = torch.tensor(losses, dtype=torch.float32)
    tensors.update({f"traj.param.{n}": p.detach().clone() for n, p in start.named_parameters()})
    tensors.update({f"traj.buffer.{n}": b for n, b in bn_buffers(start).items()})
    start.eval()
    with torch.no_grad():
        tensors["traj.eval_out"] = start(x)
    meta = {"module": "residual_block", "case": case, "traj": json.dumps(CONV_ADAMW),
            "config": json.dumps({"in_channels": cin, "out_channels": cout, "stride": stride})}
    path = os.path.join(ROOT, "conv", case + ".safetensors")
    write_safetensors(path, tensors, meta)
    WRITTEN.append(path)


def batch_norm2d_case():
    """nn.BatchNorm2d(4) over three training batches of different sizes (B = 3, 1, 2), then eval."""
    case = "batch_norm2d"
    seed_for("conv/" + case)
    C = 4
    bn = nn.BatchNorm2d(C)
    with torch.no_grad():
        bn.weight.copy_(1 + 0.3 * torch.randn(C))
        bn.bias.copy_(0.2 * torch.randn(C))
    tensors = {"weight": bn.weight.detach().clone(), "bias": bn.bias.detach().clone()}
    offset = torch.arange(C, dtype=torch.float32).reshape(1, C, 1, 1)
    for t, (B, H, W) in enumerate([(3, 5, 6), (1, 7, 3), (2, 3, 3)]):
        x = (randn(B, C, H, W) * (1 + offset) + 3 * offset - 2).requires_grad_(True)
        out = bn(x)
        dout = randn(*out.shape)
        bn.zero_grad(set_to_none=True)
        out.backward(dout)
        tensors.update({f"x.{t}": x.detach(), f"dout.{t}": dout, f"out.{t}": out.detach(), f"grad.x.{t}": x.grad,
                        f"grad.weight.{t}": bn.weight.grad, f"grad.bias.{t}": bn.bias.grad,
                        f"running_mean.{t}": bn.running_mean.clone(), f"running_var.{t}": bn.running_var.clone()})
    bn.eval()
    x = (randn(2, C, 5, 5) * (1 + offset) + 3 * offset - 2).requires_grad_(True)
    out = bn(x)
    dout = randn(*out.shape)
    bn.zero_grad(set_to_none=True)
    out.backward(dout)
    tensors.update({"x.eval": x.detach(), "dout.eval": dout, "out.eval": out.detach(), "grad.x.eval": x.grad,
                    "grad.weight.eval": bn.weight.grad, "grad.bias.eval": bn.bias.grad})
    path = os.path.join(ROOT, "conv", case + ".safetensors")
    write_safetensors(path, tensors, {"module": "batch_norm2d", "case": case,
                                      "args": json.dumps({"eps": 1e-5, "momentum": 0.1, "train_steps": 3})})
    WRITTEN.append(path)


def make_conv():
    # conv2d: (B, Cin, H, W) → Cout, kernel, stride, padding, bias
    for B, cin, H, W, cout, k, s, p, bias in [
        (3, 3, 7, 9, 5, (3, 3), (1, 1), (1, 1), True),
        (1, 4, 9, 7, 6, (3, 3), (2, 2), (1, 1), False),  # stride 2, padding 1, odd sizes
        (3, 5, 5, 6, 2, (1, 1), (1, 1), (0, 0), True),  # 1×1, Cout ≤ 4
        (2, 3, 8, 8, 7, (1, 1), (2, 2), (0, 0), False),  # the projection shortcut's
        (1, 2, 6, 5, 3, (2, 3), (2, 1), (0, 1), True),  # non-square kernel and stride
        (1, 2, 17, 16, 3, (3, 3), (1, 1), (1, 1), True),  # 272 positions: more than one of the wasm kernel's tiles
    ]:
        case = (f"conv2d_{B}x{cin}x{H}x{W}_to{cout}_k{k[0]}x{k[1]}_s{s[0]}x{s[1]}_p{p[0]}x{p[1]}" + ("_bias" if bias else ""))
        seed_for(case)
        inputs = {"x": randn(B, cin, H, W), "weight": randn(cout, cin, *k) / math.sqrt(cin * k[0] * k[1])}
        if bias:
            inputs["bias"] = randn(cout)
        conv_case("conv2d", case, inputs, lambda x, weight, bias=None, s=s, p=p: F.conv2d(x, weight, bias, s, p),
                  {"stride": list(s), "padding": list(p), "bias": bias})
    # pooling: (B, C, H, W), kernel, stride, padding
    for op, fn in [("max_pool2d", F.max_pool2d), ("avg_pool2d", F.avg_pool2d)]:
        for B, C, H, W, k, s, p in [
            (2, 3, 7, 9, (2, 2), (2, 2), (0, 0)),
            (1, 2, 9, 8, (3, 3), (2, 2), (1, 1)),  # the ResNet stem's
            (3, 2, 7, 6, (3, 2), (1, 2), (1, 1)),  # overlapping windows in H
        ]:
            case = f"{op}_{B}x{C}x{H}x{W}_k{k[0]}x{k[1]}_s{s[0]}x{s[1]}_p{p[0]}x{p[1]}"
            seed_for(case)
            conv_case(op, case, {"x": randn(B, C, H, W)}, lambda x, fn=fn, k=k, s=s, p=p: fn(x, k, s, p),
                      {"kernel": list(k), "stride": list(s), "padding": list(p)})
    # Ties: ReLU'd values on a coarse grid, so that many windows hold several equal maxima (torch: the first).
    case = "max_pool2d_ties_2x2x6x6_k2x2_s2x2_p0x0"
    seed_for(case)
    conv_case("max_pool2d", case, {"x": torch.round(F.relu(randn(2, 2, 6, 6)) * 2) / 2},
              lambda x: F.max_pool2d(x, 2, 2), {"kernel": [2, 2], "stride": [2, 2], "padding": [0, 0]})
    case = "global_avg_pool_3x4x5x7"
    seed_for(case)
    conv_case("global_avg_pool", case, {"x": randn(3, 4, 5, 7)}, lambda x: x.mean((2, 3)), {})
    batch_norm2d_case()
    block_case("residual_block_identity", B=3, cin=4, cout=4, H=5, W=5, stride=1)
    block_case("residual_block_projection", B=1, cin=3, cout=6, H=7, W=7, stride=2)


# ----------------------------------------------------------------------------- check


# ----------------------------------------------------------------------------- residual MLP fixtures


class ResidualMLP(nn.Module):
    """resnorm's residual MLP classifier (src/models/residual-mlp.ts), written from its comment: fc_in → ReLU →
    depth × a sub-layer with F = fc2(ReLU(fc1(·))) in its design (pre, post; plain or no residual) →
    ln_f where the design needs it → head. Norms are over the hidden width; BatchNorm over the batch."""

    def __init__(self, cfg):
        super().__init__()
        H, ncfg = cfg["hidden"], dict(n_embd=cfg["hidden"], norm=cfg["norm"], bias=cfg["bias"])
        self.cfg = cfg
        self.fc_in = nn.Linear(cfg["inputs"], H, bias=cfg["bias"])
        self.h = nn.ModuleList()
        for _ in range(cfg["depth"]):
            blk = nn.Module()
            norm = make_norm(ncfg)
            if norm is not None:
                blk.ln_1 = norm
            blk.fc1, blk.fc2 = nn.Linear(H, H, bias=cfg["bias"]), nn.Linear(H, H, bias=cfg["bias"])
            self.h.append(blk)
        if cfg["placement"] == "pre" and cfg["norm"] != "none":
            self.ln_f = make_norm(ncfg)
        self.head = nn.Linear(H, cfg["classes"], bias=cfg["bias"])

    def forward(self, x, y):
        h = F.relu(self.fc_in(x))
        for blk in self.h:
            ln = getattr(blk, "ln_1", None) or (lambda t: t)
            branch = lambda t: blk.fc2(F.relu(blk.fc1(t)))  # noqa: E731
            if self.cfg["placement"] == "pre":
                u = branch(ln(h))
                h = u if self.cfg["residual"] == "none" else h + u
            else:  # post: the norm after the add
                u = branch(h)
                h = ln(u if self.cfg["residual"] == "none" else h + u)
        if hasattr(self, "ln_f"):
            h = self.ln_f(h)
        logits = self.head(h)
        return logits, F.cross_entropy(logits, y)


MLP_BASE = dict(inputs=6, hidden=8, classes=3, depth=2, norm="layernorm", placement="pre", residual="plain", bias=True)
MLP_CASES = {
    "pre_ln": dict(),
    # BatchNorm after the add sees every Linear bias of the block as a per-channel constant it removes:
    # their gradients are exactly zero, so the case has none (see the design fixtures' batchnorm case).
    "post_bn": dict(norm="batchnorm", placement="post", bias=False),
    "plain_deep": dict(norm="none", residual="none", depth=4),
}
MLP_B, MLP_STEPS = 5, 5


def make_mlp():
    for case, spec in MLP_CASES.items():
        seed_for("mlp/" + case)
        cfg = {**MLP_BASE, **spec}
        model = ResidualMLP(cfg)
        with torch.no_grad():  # noise on every parameter, so no path hides behind an init of 1 or 0
            for p_ in model.parameters():
                p_.add_(0.1 * torch.randn_like(p_))
        start = copy.deepcopy(model)
        x = torch.randn(MLP_B, cfg["inputs"])
        y = torch.randint(0, cfg["classes"], (MLP_B,))
        tensors = {f"param.{n}": p_.detach().clone() for n, p_ in model.named_parameters()}
        tensors.update({f"buffer.{n}": b.clone() for n, b in model.named_buffers()})
        logits, loss = model(x, y)
        loss.backward()
        tensors.update(x=x, y=y, logits=logits.detach(), loss=loss.detach().reshape([]))
        tensors.update({f"grad.{n}": p_.grad.detach().clone() for n, p_ in model.named_parameters()})
        params = list(start.named_parameters())
        opt = torch.optim.AdamW([{"params": [p_ for _, p_ in params if p_.dim() >= 2], "weight_decay": 0.1},
                                 {"params": [p_ for _, p_ in params if p_.dim() < 2], "weight_decay": 0.0}],
                                lr=1e-3, betas=(0.9, 0.99), eps=1e-8)
        tx = torch.randn(MLP_STEPS, MLP_B, cfg["inputs"])
        ty = torch.randint(0, cfg["classes"], (MLP_STEPS, MLP_B))
        losses, norms = [], []
        for t in range(MLP_STEPS):
            _, l_ = start(tx[t], ty[t])
            opt.zero_grad(set_to_none=True)
            l_.backward()
            norms.append(torch.nn.utils.clip_grad_norm_(start.parameters(), 1.0).item())
            opt.step()
            losses.append(l_.item())
        tensors.update({"traj.x": tx, "traj.y": ty, "traj.loss": torch.tensor(losses), "traj.grad_norm": torch.tensor(norms)})
        tensors.update({f"traj.param.{n}": p_.detach().clone() for n, p_ in start.named_parameters()})
        tensors.update({f"traj.buffer.{n}": b.clone() for n, b in start.named_buffers()})
        start.eval()
        tensors["traj.eval_logits"] = start(x, y)[0].detach()
        meta = {"case": case, "config": json.dumps(cfg), "traj": json.dumps({"steps": MLP_STEPS, **TRAJ_HP})}
        path = os.path.join(ROOT, "mlp", case + ".safetensors")
        write_safetensors(path, tensors, meta)
        WRITTEN.append(path)


SUBDIRS = ("ops", "optim", "gpt", "designs", "attention", "seq2seq", "conv", "mlp")
# Each directory's writer, in SUBDIRS order; `--only NAME` regenerates one (the others keep their bytes:
# BLAS-backed outputs move in their last bits with the BLAS Debian's torch finds).
SECTIONS = {"ops": lambda: make_ops(), "optim": lambda: make_optim(), "gpt": lambda: make_gpt(), "designs": lambda: make_designs(),
            "attention": lambda: make_attention_masks(), "seq2seq": lambda: make_seq2seq(), "conv": lambda: make_conv(), "mlp": lambda: make_mlp()}


def check():
    total, n_files = 0, 0
    for sub in SUBDIRS:
        d = os.path.join(ROOT, sub)
        for fn in sorted(os.listdir(d)):
            path = os.path.join(d, fn)
            size = os.path.getsize(path)
            total += size
            n_files += 1
            if fn.endswith(".json"):
                data = json.load(open(path))
                print(f"{sub}/{fn:44s} {size:8d} B  {len(data['points'])} points")
                continue
            ts, meta = read_safetensors(path)
            for k, v in ts.items():
                if v.dtype.kind == "f" and not np.all(np.isfinite(v)):
                    raise ValueError(f"{path}: {k} has non-finite values")
            if sub in ("ops", "attention"):
                assert {"op", "args", "case"} <= set(meta), path
                json.loads(meta["args"])
                assert ts["dout"].shape == ts["out"].shape, path
                for k in ts:
                    if k.startswith("grad."):
                        assert ts[k].shape == ts[k[5:]].shape, (path, k)
                desc = f"op={meta['op']} out{list(ts['out'].shape)}"
            elif sub in ("gpt", "designs", "seq2seq"):
                cfg = json.loads(meta["config"])
                params = [k[6:] for k in ts if k.startswith("param.")]
                for n in params:
                    assert ts["grad." + n].shape == ts["param." + n].shape, (path, n)
                    if "traj.loss" in ts:
                        assert ts["traj.param." + n].shape == ts["param." + n].shape, (path, n)
                for k in ts:
                    if k.startswith("traj.buffer."):
                        assert ts[k].shape == ts["buffer." + k[12:]].shape, (path, k)
                    if k.startswith("admin.omega."):
                        assert ts[k].shape == ts["param." + k[12:]].shape, (path, k)
                desc = f"{len(params)} params, loss={float(ts['loss']):.6f}"
                if "traj.loss" in ts:
                    desc += f", traj {ts['traj.loss'][0]:.4f}->{ts['traj.loss'][-1]:.4f}"
                assert cfg.get("vocab_size", cfg.get("target_vocab")) == ts["logits"].shape[-1]
            elif sub == "conv" and "op" in meta:
                json.loads(meta["args"])
                assert ts["dout"].shape == ts["out"].shape, path
                for k in ts:
                    if k.startswith("grad."):
                        assert ts[k].shape == ts[k[5:]].shape, (path, k)
                desc = f"op={meta['op']} out{list(ts['out'].shape)}"
            elif sub == "conv" and meta.get("module") == "residual_block":
                params = [k[6:] for k in ts if k.startswith("param.")]
                for n in params:
                    for pre in ("train.grad.", "eval.grad.", "traj.param."):
                        assert ts[pre + n].shape == ts["param." + n].shape, (path, pre, n)
                for k in ts:
                    if k.startswith("buffer."):
                        assert ts["train." + k].shape == ts["traj." + k].shape == ts[k].shape, (path, k)
                desc = f"{len(params)} params, traj {ts['traj.loss'][0]:.4f}->{ts['traj.loss'][-1]:.4f}"
            else:
                desc = meta.get("op", meta.get("module", ""))
            print(f"{sub}/{fn:44s} {size:8d} B  {len(ts):3d} tensors  {desc}")
    print(f"{n_files} files, {total} bytes ({total / 2**20:.2f} MiB)")
    if total >= 3 * 2**20:  # 2 MB until the conv/ cases joined attention/ and seq2seq/ (about 2.1 MB together)
        raise SystemExit("fixtures exceed 3 MB")


def main():
    torch.set_num_threads(1)
    if "--check" not in sys.argv[1:] or "--write" in sys.argv[1:]:
        selftest()
        only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv[1:] else None
        if only is not None and only not in SECTIONS:
            raise SystemExit(f"--only {only}: no such section; the sections are {', '.join(SUBDIRS)}")
        for sub in [only] if only else SUBDIRS:  # start clean so removed cases do not linger
            d = os.path.join(ROOT, sub)
            if os.path.isdir(d):
                for fn in os.listdir(d):
                    if fn.endswith(".safetensors") or fn.endswith(".json"):
                        os.remove(os.path.join(d, fn))
            SECTIONS[sub]()
        print(f"wrote {len(WRITTEN)} files under {ROOT}")
    check()


if __name__ == "__main__":
    main()
