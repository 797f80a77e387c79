#!/usr/bin/python3
"""PyTorch / NumPy side of `npm run bench`: measures the same work as the TypeScript benchmark, on the
same machine, in the same run. Reads one JSON request from argv[1], prints one JSON answer.

Thread settings: OpenBLAS sizes its own thread pool once, from OPENBLAS_NUM_THREADS, when the library
loads, and torch.set_num_threads does not change it. So the caller (bench/python-reference.ts) runs one
process per setting, with OPENBLAS_NUM_THREADS (and OMP_NUM_THREADS) set in its environment, and the
PyTorch requests carry "torchThreads" for torch.set_num_threads. Each answer reports the thread counts
torch and OpenBLAS actually ran with, so the caller can check the setting took.

  /usr/bin/python3 bench/reference.py '{"kind": "train_step", "config": {...}, "batch": 12, "torchThreads": 1, "reps": 20}'"""
import ctypes
import json
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from reference_models import BUILDERS  # the encoder-decoder, text classifier and ResNet steps


def median_ms(fn, reps, warmup=2):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1000)
    ts.sort()
    mid = len(ts) // 2
    return ts[mid] if len(ts) % 2 else (ts[mid - 1] + ts[mid]) / 2  # 2 reps (the large step): their mean, not the slower


def blas_library():
    """The BLAS NumPy actually loaded (Debian picks it through update-alternatives)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split("/")[-1].strip() for line in f if "blas" in line.lower()}
        return ", ".join(sorted(libs)) or "unknown"
    except OSError:
        return "unknown"


def openblas_info():
    """OpenBLAS's own report, when it is the BLAS loaded: its thread count (OPENBLAS_NUM_THREADS as it
    read it), the kernel set it picked (OPENBLAS_CORETYPE overrides the CPU's) and its build config."""
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "libopenblas" in line.lower()})
        if not paths:
            return None
        lib = ctypes.CDLL(paths[0])
        lib.openblas_get_config.restype = ctypes.c_char_p
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return {
            "threads": lib.openblas_get_num_threads(),
            "core": lib.openblas_get_corename().decode(),
            "config": lib.openblas_get_config().decode(),
        }
    except (OSError, AttributeError):
        return None


def matmul(req):
    """GFLOP/s of C = op(A)·op(B) per shape; BLAS threads come from OPENBLAS_NUM_THREADS set by the caller."""
    out = {}
    for s in req["shapes"]:
        m, n, k = s["m"], s["n"], s["k"]
        a = np.random.rand(k, m).astype(np.float32).T if s["transA"] else np.random.rand(m, k).astype(np.float32)
        b = np.random.rand(n, k).astype(np.float32).T if s["transB"] else np.random.rand(k, n).astype(np.float32)
        flops = 2 * m * n * k
        reps = max(5, min(200, int(3e9 / flops)))
        ms = median_ms(lambda: a @ b, reps)
        out[s["key"]] = flops / (ms * 1e6)
    return {"gflops": out, "blas": blas_library(), "openblas": openblas_info()}


def attention(req):
    """Explicit causal attention (q·kᵀ, mask, softmax, ·v) forward + backward at req["torchThreads"]."""
    B, H, T, D = req["B"], req["H"], req["T"], req["D"]
    torch.manual_seed(0)
    q, k, v = (torch.randn(B, H, T, D, requires_grad=True) for _ in range(3))
    dout = torch.randn(B, H, T, D)
    mask = torch.ones(T, T, dtype=torch.bool).tril()

    def step():
        for t in (q, k, v):
            t.grad = None
        att = (q @ k.transpose(-2, -1)) * (D ** -0.5)
        att = att.masked_fill(~mask, float("-inf")).softmax(-1)
        (att @ v).backward(dout)

    return timed(req, step)


def timed(req, step):
    """Median ms of `step` with torch on req["torchThreads"] threads (default: torch's own choice); OpenBLAS
    runs on the OPENBLAS_NUM_THREADS this process was started with."""
    if req.get("torchThreads"):
        torch.set_num_threads(int(req["torchThreads"]))
    ms = median_ms(step, req.get("reps", 10), req.get("warmup", 2))
    return {
        "ms": ms,
        "torchThreads": torch.get_num_threads(),
        "openblas": openblas_info(),
        "maxRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


class Block(nn.Module):
    def __init__(self, C, H):
        super().__init__()
        self.H = H
        self.ln_1, self.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.c_attn, self.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.c_fc, self.m_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

    def attn(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.H, C // self.H).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / (k.size(-1) ** 0.5)
        mask = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
        att = att.masked_fill(~mask, float("-inf")).softmax(-1)
        return self.c_proj((att @ v).transpose(1, 2).reshape(B, T, C))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.m_proj(F.gelu(self.c_fc(self.ln_2(x))))


class GPT(nn.Module):
    def __init__(self, V, T, L, H, C):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(T, C)
        self.h = nn.ModuleList([Block(C, H) for _ in range(L)])
        self.ln_f = nn.LayerNorm(C)

    def forward(self, idx, tgt):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1], device=idx.device))
        for b in self.h:
            x = b(x)
        logits = self.ln_f(x) @ self.wte.weight.t()
        return F.cross_entropy(logits.view(-1, logits.size(-1)), tgt.view(-1))


def gpt_train_step(config, batch, device="cpu"):
    """The closure of one full step (forward, backward, clipping, AdamW) of the GPT of `config` on a fixed
    random batch, on `device`: this CPU bench's step, and bench/webgpu_torch.py's on CUDA."""
    torch.manual_seed(0)
    m = GPT(config["vocabSize"], config["blockSize"], config["nLayer"], config["nHead"], config["nEmbd"]).to(device)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)
    idx = torch.randint(0, config["vocabSize"], (batch, config["blockSize"])).to(device)

    def step():
        loss = m(idx, idx)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()

    return step


def train_step(req):
    """One full step (forward, backward, clipping, AdamW), timed at req["torchThreads"]."""
    step = gpt_train_step(req["config"], req["batch"])
    return timed(req, step)


def saved_tensors(req):
    """Bytes of the activations PyTorch's autograd saves for backward in one forward of the GPT (every
    tensor a backward function keeps, each storage once, parameters left out): what backward needs,
    in PyTorch's design of the same model (its explicit attention keeps the T×T probabilities)."""
    c = req["config"]
    torch.manual_seed(0)
    m = GPT(c["vocabSize"], c["blockSize"], c["nLayer"], c["nHead"], c["nEmbd"])
    idx = torch.randint(0, c["vocabSize"], (req["batch"], c["blockSize"]))
    params = {p.storage().data_ptr() for p in m.parameters()}
    saved = {}

    def pack(t):
        s = t.storage()
        if s.data_ptr() not in params:
            saved[s.data_ptr()] = s.size() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        m(idx, idx)
    return {"savedBytes": sum(saved.values()), "tensors": len(saved)}


class ResidualMLP(nn.Module):
    """resnorm's residual MLP classifier, pre-LN: fc_in → ReLU → depth × (x + W2·ReLU(W1·LN(x))) → LN → head."""

    def __init__(self, inputs, hidden, classes, depth):
        super().__init__()
        self.fc_in = nn.Linear(inputs, hidden)
        self.norms = nn.ModuleList([nn.LayerNorm(hidden) for _ in range(depth)])
        self.fc1 = nn.ModuleList([nn.Linear(hidden, hidden) for _ in range(depth)])
        self.fc2 = nn.ModuleList([nn.Linear(hidden, hidden) for _ in range(depth)])
        self.ln_f, self.head = nn.LayerNorm(hidden), nn.Linear(hidden, classes)

    def forward(self, x, y):
        h = F.relu(self.fc_in(x))
        for ln, a, b in zip(self.norms, self.fc1, self.fc2):
            h = h + b(F.relu(a(ln(h))))
        return F.cross_entropy(self.head(self.ln_f(h)), y)


def mlp_train_step(req):
    """The residual MLP's step (forward, backward, clipping, AdamW) on a (batch, inputs) float batch."""
    c = req["config"]
    torch.manual_seed(0)
    m = ResidualMLP(c["inputs"], c["hidden"], c["classes"], c["depth"])
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)
    x = torch.rand(req["batch"], c["inputs"])
    y = torch.randint(0, c["classes"], (req["batch"],))

    def step():
        loss = m(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()

    return timed(req, step)


if __name__ == "__main__":
    req = json.loads(sys.argv[1])
    fn = {"matmul": matmul, "attention": attention, "train_step": train_step, "saved_tensors": saved_tensors, "mlp_train_step": mlp_train_step,
          **{kind: (lambda r, build=build: timed(r, build(r))) for kind, build in BUILDERS.items()}}[req["kind"]]
    print(json.dumps(fn(req)))
