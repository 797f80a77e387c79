"""resnorm's GPT in plain PyTorch: every norm, placement and residual rule of docs/designs.md.

This file is the reference the TypeScript engine is checked against (scripts/make_fixtures.py builds its
fixtures from it) and the model that `resnorm export-pytorch` writes beside train.py, so a run trained
in resnorm continues in PyTorch, under torchrun on many GPUs, and comes back (`resnorm import-pytorch`).
Parameter names are resnorm's (GPT-2's: wte, wpe, h.{i}.ln_1, h.{i}.attn.c_attn, ...), so a state dict
moves between the two by name. It needs torch (>= 1.13) and numpy, nothing else.
"""
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# ----------------------------------------------------------------------------- safetensors (no package needed)
DTYPES = {np.dtype("float32"): "F32", np.dtype("int32"): "I32", np.dtype("float64"): "F64"}
SIZES = {"F32": 4, "I32": 4, "F64": 8}
NP_OF = {"F32": "<f4", "I32": "<i4", "F64": "<f8"}


def to_np(t):
    a = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    if a.dtype == np.int64:
        a = a.astype(np.int32)
    if a.dtype not in DTYPES:
        raise TypeError(f"unsupported dtype {a.dtype}")
    return np.array(a, order="C", copy=True)  # not ascontiguousarray: it turns shape () into (1,)


def write_safetensors(path, tensors, metadata):
    """tensors: ordered dict name -> array; metadata: dict str -> str."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        a = to_np(t)
        raw = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes(order="C")
        header[name] = {"dtype": DTYPES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * (-len(hb) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """Validates N, JSON, offsets, dtype sizes and shapes before touching the data."""
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 8:
        raise ValueError(f"{path}: too short")
    (n,) = struct.unpack("<Q", buf[:8])
    if n % 8 != 0 or 8 + n > len(buf):
        raise ValueError(f"{path}: bad header length {n} for file size {len(buf)}")
    header = json.loads(buf[8 : 8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    data = buf[8 + n :]
    out, spans = {}, []
    for name, h in header.items():
        b, e = h["data_offsets"]
        size = SIZES[h["dtype"]] * int(np.prod(h["shape"], dtype=np.int64))
        if not (0 <= b <= e <= len(data)) or e - b != size:
            raise ValueError(f"{path}: tensor {name} offsets {b},{e} do not fit dtype/shape/buffer")
        spans.append((b, e))
        out[name] = np.frombuffer(data[b:e], dtype=NP_OF[h["dtype"]]).reshape(h["shape"])
    spans.sort()
    pos = 0
    for b, e in spans:
        if b != pos:
            raise ValueError(f"{path}: gap or overlap in data at {b}")
        pos = e
    if pos != len(data):
        raise ValueError(f"{path}: {len(data) - pos} trailing bytes")
    return out, meta



def rms_norm(x, weight, eps=1e-5):
    return weight * x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps)


def attention(q, k, v, causal):
    T, D = q.shape[-2], q.shape[-1]
    att = q @ k.transpose(-2, -1) * (1.0 / math.sqrt(D))  # (B, H, T, T)
    if causal:
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        att = att.masked_fill(mask, float("-inf"))
    return F.softmax(att, dim=-1) @ v  # (B, H, T, D)


# ----------------------------------------------------------------------------- the model
#
# Each sub-layer is the spec's one shape
#
#   h = inNorm(x)?  ->  u = F(h)  ->  u = outNorm(u)?  ->  y = rule(x, u)  ->  y = postNorm(y)?

EPS = 1e-5
# Design fields a config may omit (the original cases' configs predate them), as in docs/designs.md.
DESIGN_DEFAULTS = dict(residual="plain", qk_norm=False, mix_ratio=0.25, hyper_streams=4)


class LayerNorm(nn.Module):
    """LayerNorm with an optional bias (torch 1.13's nn.LayerNorm has no bias flag)."""

    def __init__(self, C, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(C))
        self.bias = nn.Parameter(torch.zeros(C)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, EPS)


class RMSNorm(nn.Module):
    def __init__(self, C):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(C))

    def forward(self, x):
        return rms_norm(x, self.weight)


class DyT(nn.Module):
    """Dynamic Tanh (Zhu et al. 2025): γ·tanh(α·x) + β, α one scalar (init 0.5)."""

    def __init__(self, C, bias):
        super().__init__()
        self.alpha = nn.Parameter(torch.full((1,), 0.5))
        self.weight = nn.Parameter(torch.ones(C))
        self.bias = nn.Parameter(torch.zeros(C)) if bias else None

    def forward(self, x):
        y = self.weight * torch.tanh(self.alpha * x)
        return y + self.bias if self.bias is not None else y


class BatchNorm(nn.Module):
    """torch.nn.BatchNorm1d on the (B·T, C) rows, written out (checked against F.batch_norm in selftest)."""

    def __init__(self, C, bias, momentum=0.1):
        super().__init__()
        self.momentum = momentum
        self.weight = nn.Parameter(torch.ones(C))
        self.bias = nn.Parameter(torch.zeros(C)) if bias else None
        self.register_buffer("running_mean", torch.zeros(C))
        self.register_buffer("running_var", torch.ones(C))

    def forward(self, x):
        rows = x.reshape(-1, x.shape[-1])  # (B·T, C)
        if self.training:
            n = rows.shape[0]
            mean = rows.mean(0)
            var = ((rows - mean) ** 2).mean(0)  # biased: what normalizes the batch
            with torch.no_grad():
                m = self.momentum
                self.running_mean.copy_((1 - m) * self.running_mean + m * mean)
                self.running_var.copy_((1 - m) * self.running_var + m * var * (n / (n - 1)))  # unbiased
        else:
            mean, var = self.running_mean, self.running_var
        y = (rows - mean) / torch.sqrt(var + EPS) * self.weight
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(x.shape)


def make_norm(cfg, dim=None):
    """The model's norm kind over `dim` (default C); None for 'none' (no module, no parameters)."""
    C, kind, bias = dim or cfg["n_embd"], cfg["norm"], cfg["bias"]
    if kind == "layernorm":
        return LayerNorm(C, bias)
    if kind == "rmsnorm":
        return RMSNorm(C)
    if kind == "dyt":
        return DyT(C, bias)
    if kind == "batchnorm":
        return BatchNorm(C, bias)
    if kind == "none":
        return None
    raise ValueError(kind)


class Attn(nn.Module):
    def __init__(self, cfg, layer):
        super().__init__()
        C, self.H = cfg["n_embd"], cfg["n_head"]
        self.c_attn = nn.Linear(C, 3 * C, bias=cfg["bias"])
        self.c_proj = nn.Linear(C, C, bias=cfg["bias"])
        if cfg["qk_norm"]:  # per head, over D = C/H, shared by the heads
            self.q_norm, self.k_norm = make_norm(cfg, C // self.H), make_norm(cfg, C // self.H)
        if cfg["residual"] == "value-residual" and layer > 0:  # layer 1 keeps its values; later ones mix
            self.lambda_v = nn.Parameter(torch.full((2,), 0.5))

    def forward(self, x, v1=None):
        """Returns (output, this layer's own values v (B, T, C) before any mixing)."""
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)  # (B, T, C) each
        v_own = v
        if hasattr(self, "lambda_v"):  # value residual: λ0·v_i + λ1·v_1
            v = self.lambda_v[0] * v + self.lambda_v[1] * v1
        q, k, v = (z.view(B, T, self.H, C // self.H).transpose(1, 2) for z in (q, k, v))  # (B, H, T, D)
        if hasattr(self, "q_norm"):
            q, k = self.q_norm(q), self.k_norm(k)
        y = attention(q, k, v, causal=True).transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y), v_own


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C = cfg["n_embd"]
        self.c_fc = nn.Linear(C, 4 * C, bias=cfg["bias"])
        # resnorm's activation: 'gelu' (erf, nanoGPT) or 'gelu-tanh' (GPT-2's approximation)
        self.gelu = nn.GELU(approximate="tanh" if cfg.get("activation") == "gelu-tanh" else "none")
        self.c_proj = nn.Linear(4 * C, C, bias=cfg["bias"])

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class HyperConnection(nn.Module):
    """Dynamic hyper-connections (Zhu et al. 2024, Algorithm 2) of the sub-layer with stack index m."""

    def __init__(self, cfg, m):
        super().__init__()
        n, C = cfg["hyper_streams"], cfg["n_embd"]
        sa = torch.zeros(n, n + 1)
        sa[m % n, 0] = 1.0  # column 0: e_{m mod n}
        sa[:, 1:] = torch.eye(n)  # columns 1..n: the identity
        self.static_alpha = nn.Parameter(sa)
        self.static_beta = nn.Parameter(torch.ones(n))
        self.dynamic_alpha = nn.Parameter(torch.zeros(n + 1, C))  # nn.Linear layout (out, in)
        self.dynamic_beta = nn.Parameter(torch.zeros(1, C))
        self.dynamic_alpha_scale = nn.Parameter(torch.full((1,), 0.01))
        self.dynamic_beta_scale = nn.Parameter(torch.full((1,), 0.01))
        self.norm = LayerNorm(C, cfg["bias"])

    def forward(self, H):
        """H (B, T, n, C) -> M = Aᵀ·H (B, T, n+1, C) and b (B, T, n)."""
        N = self.norm(H)
        A = self.static_alpha + self.dynamic_alpha_scale * torch.tanh(N @ self.dynamic_alpha.t())  # (B, T, n, n+1)
        b = self.static_beta + self.dynamic_beta_scale * torch.tanh(N @ self.dynamic_beta.t()).squeeze(-1)  # (B, T, n)
        M = A.transpose(-1, -2) @ H  # M[j] = Σ_s A[s, j]·H[s]
        return M, b


# placement -> (input norm, output norm, norm after the add), for one layer
NORMS_OF = {"pre": (True, False, False), "post": (False, False, True), "peri": (True, True, False),
            "sandwich": (True, True, False), "none": (False, False, False)}


def mix_post_layers(cfg):
    return math.floor(cfg["mix_ratio"] * cfg["n_layer"])


def layer_placement(cfg, i):
    if cfg["placement"] == "mix":  # Mix-LN: post in layers i < ⌊ρ·L⌋, pre after
        return "post" if i < mix_post_layers(cfg) else "pre"
    return cfg["placement"]


def needs_final_norm(cfg):
    p = cfg["placement"]
    if p == "mix":
        return mix_post_layers(cfg) < cfg["n_layer"]
    return p in ("pre", "peri", "sandwich")


def deepnorm_alpha(cfg):
    return (2.0 * cfg["n_layer"]) ** 0.25


def layerscale_init(L):
    return 0.1 if L <= 18 else 1e-5 if L <= 24 else 1e-6


class Block(nn.Module):
    def __init__(self, cfg, i):
        super().__init__()
        self.cfg, self.i = cfg, i
        self.has_in, self.has_out, self.has_post = NORMS_OF[layer_placement(cfg, i)]
        self.residual = cfg["residual"]
        self.profile = None  # a list while Admin's profiling pass records each sub-layer's stream and output
        self.drop = nn.Dropout(cfg["dropout"])  # on each sub-layer's output, before its norm and the add
        C = cfg["n_embd"]
        for k in (1, 2):
            if self.has_in or self.has_post:  # ln_k: the norm that runs first (input norm, or post-add norm)
                norm = make_norm(cfg)
                if norm is not None:
                    setattr(self, f"ln_{k}", norm)
            setattr(self, "attn" if k == 1 else "mlp", Attn(cfg, i) if k == 1 else MLP(cfg))
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
            elif self.residual == "hyper":
                setattr(self, f"hc_{k}", HyperConnection(cfg, 2 * i + k - 1))

    def sublayer(self, k, x, f):
        ln, ln_out = getattr(self, f"ln_{k}", None), getattr(self, f"ln_{k}_out", None)
        if self.residual == "hyper":  # x is the n streams H (B, T, n, C)
            M, b = getattr(self, f"hc_{k}")(x)
            h = M[..., 0, :]
        else:
            h = x
        if self.has_in and ln is not None:
            h = ln(h)
        u = f(h)
        if ln_out is not None:
            u = ln_out(u)
        if self.profile is not None:  # the stream this sub-layer reads (x_{i-1}) and its output f_i
            self.profile.extend([x.detach(), u.detach()])
        r = self.residual
        if r == "hyper":
            return b.unsqueeze(-1) * u.unsqueeze(-2) + M[..., 1:, :]  # H ← b ⊗ u + M[1:]
        if r in ("plain", "value-residual"):
            y = x + u
        elif r == "deepnorm":
            y = deepnorm_alpha(self.cfg) * x + u
        elif r == "rezero":
            y = x + getattr(self, f"alpha_{k}") * u
        elif r == "layerscale":
            y = x + getattr(self, f"ls_{k}") * u
        elif r == "admin":
            y = getattr(self, f"omega_{k}") * x + u
        elif r == "none":
            y = u
        else:
            raise ValueError(r)
        if self.has_post and ln is not None:
            y = ln(y)
        return y

    def forward(self, x, v1=None):
        """Returns the new stream and this layer's own attention values (for the value residual)."""
        out = {}

        def attn(h):
            y, out["v"] = self.attn(h, v1)
            return self.drop(y)

        x = self.sublayer(1, x, attn)
        x = self.sublayer(2, x, lambda h: self.drop(self.mlp(h)))
        return x, out["v"]


def sinusoidal(T, C):
    t = np.arange(T, dtype=np.float64)[:, None]
    i2 = np.arange(0, C, 2, dtype=np.float64)[None, :]
    ang = t / np.power(10000.0, i2 / C)
    pe = np.zeros((T, C), dtype=np.float64)
    pe[:, 0::2], pe[:, 1::2] = np.sin(ang), np.cos(ang)
    return torch.from_numpy(pe.astype(np.float32))


class GPT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        cfg = {**DESIGN_DEFAULTS, **cfg}
        self.cfg = cfg
        V, C = cfg["vocab_size"], cfg["n_embd"]
        self.wte = nn.Embedding(V, C)
        self.drop = nn.Dropout(cfg["dropout"])  # on the embedding's output
        if cfg["pos"] == "learned":
            self.wpe = nn.Embedding(cfg["block_size"], C)
        else:
            self.register_buffer("pe", sinusoidal(cfg["block_size"], C))
        if cfg["placement"] == "peri" and cfg["norm"] != "none":  # Peri-LN normalizes the embedding once
            self.ln_e = make_norm(cfg)
        self.h = nn.ModuleList([Block(cfg, i) for i in range(cfg["n_layer"])])
        if needs_final_norm(cfg) and cfg["norm"] != "none":
            self.ln_f = make_norm(cfg)
        if not cfg["tie"]:
            self.lm_head = nn.Linear(C, V, bias=False)

    def forward(self, idx, targets=None):
        B, T = idx.shape
        pos = self.wpe.weight[:T] if hasattr(self, "wpe") else self.pe[:T]  # (T, C)
        x = self.drop(self.wte(idx) + pos)  # (B, T, C)
        if hasattr(self, "ln_e"):
            x = self.ln_e(x)
        hyper = self.cfg["residual"] == "hyper"
        if hyper:  # n copies of the embedding output: H (B, T, n, C)
            x = x.unsqueeze(-2).expand(B, T, self.cfg["hyper_streams"], x.shape[-1])
        v1 = None
        for i, block in enumerate(self.h):
            x, v = block(x, v1)
            if i == 0:
                v1 = v
        if hyper:
            x = x.sum(-2)
        if hasattr(self, "ln_f"):
            x = self.ln_f(x)
        W = self.wte.weight if self.cfg["tie"] else self.lm_head.weight
        logits = F.linear(x, W)  # (B, T, V)
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss




# ----------------------------------------------------------------------------- resnorm's files


def config_from_resnorm(model):
    """The cfg dict of GPT from a resnorm model config (the `model` of a run's config.json, camelCase)."""
    return dict(vocab_size=model["vocabSize"], block_size=model["blockSize"], n_layer=model["nLayer"], n_head=model["nHead"],
                n_embd=model["nEmbd"], dropout=model["dropout"], bias=model["bias"], norm=model["norm"],
                placement=model["placement"], residual=model["residual"], qk_norm=model["qkNorm"],
                mix_ratio=model["mixRatio"], hyper_streams=model["hyperStreams"], pos=model["positional"],
                tie=model["tieWeights"], activation=model["activation"])


def load_model(directory):
    """The model of an export directory (config.json + model.safetensors, as resnorm export-pytorch writes them)."""
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    model = GPT(config_from_resnorm(config["model"]))
    tensors, _ = read_safetensors(os.path.join(directory, "model.safetensors"))
    state = {k: torch.from_numpy(np.array(v)) for k, v in tensors.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if k != "pe"]  # sinusoidal positions are computed, not stored
    if missing or unexpected:
        raise ValueError(f"{directory}/model.safetensors does not fit the config: missing {missing}, unexpected {unexpected}")
    return model, config


def state_tensors(model):
    """The weights and buffers to save, by resnorm's names (float32, contiguous)."""
    return {k: v.detach().float().contiguous() for k, v in model.state_dict().items() if k != "pe"}
