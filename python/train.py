"""Continue a resnorm run in PyTorch: one process, or many under torchrun (DistributedDataParallel).

`resnorm export-pytorch RUN OUT` writes this file beside resnorm_gpt.py (the model, every design),
config.json (the run's config), tokenizer.json, model.safetensors (its weights) and train.bin / val.bin
(its text as token ids, int32, split as resnorm splits it). Then:

    python3 train.py --steps 1000                              # one process (CUDA when there is a GPU)
    torchrun --nproc_per_node=8 train.py --steps 1000          # 8 GPUs of one machine
    torchrun --nnodes=2 --node_rank=R --nproc_per_node=8 \\
        --master_addr=HOST --master_port=29500 train.py        # 2 machines (R = 0 on HOST, 1 on the other)

Each step every process draws its own batch of the run's batch size (so the global batch is that
times the world size), gradients are averaged by DDP, and AdamW, clipping and the warmup + cosine
schedule are resnorm's (nanoGPT's). Rank 0 writes trained/ (model.safetensors, config.json,
tokenizer.json, trained.json); `resnorm import-pytorch trained --out RUN` brings it back.
"""
import argparse
import json
import math
import os
import shutil
import sys
import time

import numpy as np
import torch
import torch.distributed as dist

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from resnorm_gpt import load_model, state_tensors, write_safetensors  # noqa: E402


def learning_rate(it, max_lr, min_lr, warmup, decay):
    """resnorm's src/optim/schedule.ts: linear warmup, cosine decay to min_lr, then constant."""
    if it < warmup:
        return max_lr * (it + 1) / (warmup + 1)
    if it > decay:
        return min_lr
    ratio = (it - warmup) / max(1, decay - warmup)
    return min_lr + 0.5 * (1 + math.cos(math.pi * ratio)) * (max_lr - min_lr)


def batch(data, B, T, gen, device):
    """B random windows of T + 1 tokens (resnorm's sampleBatch): inputs and next-token targets."""
    ix = torch.randint(len(data) - T - 1, (B,), generator=gen)
    x = torch.stack([torch.from_numpy(data[i : i + T].astype(np.int64)) for i in ix.tolist()])
    y = torch.stack([torch.from_numpy(data[i + 1 : i + 1 + T].astype(np.int64)) for i in ix.tolist()])
    return x.to(device), y.to(device)


@torch.no_grad()
def mean_loss(model, data, B, T, batches, seed, device):
    """The loss over fixed batches (the same ones before and after training)."""
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    losses = [model(*batch(data, B, T, gen, device))[1].item() for _ in range(batches)]
    model.train()
    return sum(losses) / len(losses)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=None, help="steps to train (default: the run's maxIters)")
    p.add_argument("--lr", type=float, default=None, help="peak learning rate (default: the run's lr)")
    p.add_argument("--warmup-iters", type=int, default=None, help="warmup steps (default: the run's)")
    p.add_argument("--eval-batches", type=int, default=8, help="validation batches for the loss printed before and after")
    p.add_argument("--log-interval", type=int, default=10)
    p.add_argument("--out", default=os.path.join(HERE, "trained"), help="where rank 0 writes the trained weights")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    args = p.parse_args()

    distributed = "RANK" in os.environ
    if distributed:
        backend = "nccl" if torch.cuda.is_available() and args.device != "cpu" else "gloo"
        dist.init_process_group(backend)
        rank, world = dist.get_rank(), dist.get_world_size()
        local = int(os.environ.get("LOCAL_RANK", 0))
        device = f"cuda:{local}" if backend == "nccl" else "cpu"
        if backend == "nccl":
            torch.cuda.set_device(local)
    else:
        rank, world = 0, 1
        device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")

    model, config = load_model(HERE)
    tc = config["train"]
    model.to(device)
    train_ids = np.fromfile(os.path.join(HERE, "train.bin"), dtype="<i4")
    val_ids = np.fromfile(os.path.join(HERE, "val.bin"), dtype="<i4")
    B, T = tc["batchSize"], config["model"]["blockSize"]
    steps = args.steps if args.steps is not None else tc["maxIters"]
    max_lr = args.lr if args.lr is not None else tc["lr"]
    min_lr = min(tc["minLr"], max_lr)
    warmup = args.warmup_iters if args.warmup_iters is not None else tc["warmupIters"]
    # The cosine runs over these steps (the run's own decay length when its schedule is kept).
    decay = steps if args.steps is not None else (tc.get("lrDecayIters") or steps)

    before = mean_loss(model, val_ids, B, T, args.eval_batches, tc["seed"] + 7, device)
    if rank == 0:
        print(f"{world} process{'es' if world > 1 else ''} on {device}; {steps} steps of batch {B}×{T} each; validation loss before: {before:.4f}", flush=True)

    # resnorm's AdamW: weight decay on the matrices (dim >= 2) only; its betas and eps.
    decayed = [p for p in model.parameters() if p.dim() >= 2]
    others = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decayed, "weight_decay": tc["weightDecay"]}, {"params": others, "weight_decay": 0.0}],
                            lr=max_lr, betas=(tc["beta1"], tc["beta2"]), eps=1e-8)
    net = torch.nn.parallel.DistributedDataParallel(model) if distributed else model
    gen = torch.Generator().manual_seed(tc["seed"] * 1000 + rank)  # each process its own batches
    t0 = time.time()
    for it in range(steps):
        lr = learning_rate(it, max_lr, min_lr, warmup, decay)
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = batch(train_ids, B, T, gen, device)
        _, loss = net(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if tc["gradClip"] > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), tc["gradClip"])
        opt.step()
        if rank == 0 and ((it + 1) % args.log_interval == 0 or it + 1 == steps):
            print(f"step {it + 1}/{steps} | loss {loss.item():.4f} | lr {lr:.2e} | {(time.time() - t0) / (it + 1) * 1000:.0f} ms/step", flush=True)

    after = mean_loss(model, val_ids, B, T, args.eval_batches, tc["seed"] + 7, device)
    if rank == 0:
        print(f"validation loss after: {after:.4f} (before: {before:.4f})", flush=True)
        os.makedirs(args.out, exist_ok=True)
        tmp = os.path.join(args.out, "model.safetensors.tmp")
        write_safetensors(tmp, state_tensors(model.cpu()), {"format": "resnorm", "step": str(steps)})
        os.replace(tmp, os.path.join(args.out, "model.safetensors"))
        for f in ("config.json", "tokenizer.json"):
            shutil.copyfile(os.path.join(HERE, f), os.path.join(args.out, f))
        with open(os.path.join(args.out, "trained.json"), "w") as f:
            json.dump({"steps": steps, "processes": world, "valLossBefore": before, "valLossAfter": after}, f, indent=2)
        print(f"wrote {args.out}: bring it back with `resnorm import-pytorch {args.out} --out RUN`", flush=True)
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
