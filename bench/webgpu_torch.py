#!/usr/bin/python3
"""PyTorch CUDA beside bench/webgpu.ts: fp32 sgemm GFLOP/s at square sizes (TF32 off, as WebGPU has
none) and eager training steps of the same GPT configs (bench/reference.py's model), timed with CUDA
synchronisation. Prints {"available": false, "reason"} where torch has no CUDA device.

  /usr/bin/python3 bench/webgpu_torch.py '{"sizes": [1024, 2048, 4096], "cases": [{"name", "config", "batch", "steps"}]}'"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference import gpt_train_step  # noqa: E402


def cuda_ms(fn, reps, warmup=2):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) * 1000 / reps


def main():
    req = json.loads(sys.argv[1])
    if not torch.cuda.is_available():
        print(json.dumps({"available": False, "reason": f"torch {torch.__version__} sees no CUDA device"}))
        return
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = "cuda"
    sgemm = []
    for n in req["sizes"]:
        a, b = torch.rand(n, n, device=dev), torch.rand(n, n, device=dev)
        ms = cuda_ms(lambda: a @ b, max(3, min(50, int(2e11 / (2 * n ** 3)))))
        sgemm.append({"n": n, "ms": ms, "gflops": 2 * n ** 3 / (ms * 1e6)})
    train = []
    for c in req["cases"]:
        cfg = c["config"]
        step = gpt_train_step(cfg, c["batch"], dev)
        ms = cuda_ms(step, c["steps"])
        train.append({"name": c["name"], "msPerStep": ms, "tokensPerSec": c["batch"] * cfg["blockSize"] * 1000 / ms})
    print(json.dumps({"available": True, "device": torch.cuda.get_device_name(0), "torch": torch.__version__, "sgemm": sgemm, "train": train}))


if __name__ == "__main__":
    main()
