// The captured step's profile (labelledBackend + KernelProgram.profile, what `npm run bench`'s profile
// section prints): its lines account for exactly the calls an eager step makes, by key, with the
// same FLOPs; profiling changes nothing about training; backends that cannot label are left alone.
import { describe, expect, it } from 'vitest';
import type { Backend, ProgramProfileLine } from '../../src/backend/backend.ts';
import { kernelBytes, kernelFlops, kernelKey, labelledBackend, type EagerCalls } from '../../src/backend/kernel-cost.ts';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { loadWasmKernels } from '../../src/backend/wasm/index.ts';
import { DEFAULT_GPT_CONFIG, GPT, type GPTConfig } from '../../src/models/gpt.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { Rng } from '../../src/tensor/index.ts';
import { TrainStep } from '../../src/train/step.ts';

const kernels = await loadWasmKernels();
const cfg: GPTConfig = { ...DEFAULT_GPT_CONFIG, vocabSize: 23, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 32, dropout: 0 };
const [B, T] = [3, 16];

async function train(backend: Backend, steps: number, capture: boolean, profileEach = false, afterFirst?: () => void) {
  const model = GPT.create(cfg, { backend, seed: 3 });
  const opt = new AdamW(model.store!);
  const stepper = new TrainStep(model, opt, { capture });
  const rng = new Rng(4);
  const losses: number[] = [];
  const profiles: ProgramProfileLine[][] = [];
  for (let s = 0; s < steps; s++) {
    const x = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocabSize));
    losses.push((await stepper.run(x, x, B, T, { gradClip: 1, lr: 1e-3 })).loss);
    if (s === 0) afterFirst?.();
    if (profileEach) {
      const p = stepper.profile();
      if (p) profiles.push(p);
    }
  }
  const params = (await backend.read(model.store!.data)) as Float32Array;
  return { losses, params, profiles, stepper };
}

describe('the captured step profile', () => {
  it('files every call of the step under its key with the eager step\'s FLOPs, and leaves training unchanged', async () => {
    // The eager step's calls, each timed as it runs: the whole step's accounting.
    const eagerAll: EagerCalls = new Map();
    const eagerRun = await train(labelledBackend(kernels.createBackend(), eagerAll), 4, false, false, () => eagerAll.clear());
    // The captured run: the program's profile plus what still runs eagerly after it.
    const after: EagerCalls = new Map();
    const be = labelledBackend(kernels.createBackend(), after);
    const model = GPT.create(cfg, { backend: be, seed: 3 });
    const stepper = new TrainStep(model, new AdamW(model.store!));
    const x = Int32Array.from({ length: B * T }, (_, i) => (i * 5) % cfg.vocabSize);
    await stepper.run(x, x, B, T, { gradClip: 1 });
    after.clear();
    await stepper.run(x, x, B, T, { gradClip: 1 });
    const lines = stepper.profile()!;
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.every((l) => l.ms >= 0 && l.launches >= l.calls)).toBe(true);
    // Per key: program calls + eager calls of one step = one eager step's calls (eagerAll covers steps 2–4).
    const sums = new Map<string, { calls: number; flops: number }>();
    for (const l of lines) sums.set(l.key, { calls: l.calls, flops: l.flops });
    for (const [key, e] of after) {
      const s = sums.get(key) ?? { calls: 0, flops: 0 };
      sums.set(key, { calls: s.calls + e.calls, flops: s.flops + e.flops });
    }
    // Allocations: a program counts only those that launch a zero-fill, and holds its buffers across
    // replays, so they are compared apart (below); every kernel call must match.
    const isAlloc = (k: string) => k.startsWith('alloc');
    const want = new Map([...eagerAll].filter(([k]) => !isAlloc(k)).map(([k, e]) => [k, { calls: e.calls / 3, flops: e.flops / 3 }]));
    for (const k of [...sums.keys()].filter(isAlloc)) sums.delete(k);
    expect(lines.find((l) => l.key === '(unlabelled)')).toBeUndefined();
    expect(lines.find((l) => l.key === 'alloc zero-fill')!.bytes).toBeGreaterThan(0);
    expect([...sums.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [k, s] of sums) {
      expect(s.calls, k).toBe(want.get(k)!.calls);
      expect(s.flops, k).toBeCloseTo(want.get(k)!.flops, 0);
    }
    // Products are filed by shape: the model's four linear layers show up as their own lines.
    expect(lines.some((l) => /^matmul \d+×\d+×\d+ /.test(l.key))).toBe(true);
    stepper.release();

    // Profiling between steps changes no loss and no weight.
    const plain = await train(kernels.createBackend(), 4, true);
    const profiled = await train(labelledBackend(kernels.createBackend()), 4, true, true);
    expect(profiled.profiles.length).toBe(4); // the capturing step leaves a program too
    expect(profiled.losses).toEqual(plain.losses);
    expect(profiled.params).toEqual(plain.params);
    expect(eagerRun.losses[0]).toBe(plain.losses[0]);
  });

  it('has nothing to profile where a backend cannot label or a step is eager', async () => {
    const ref = createRefBackend();
    expect(labelledBackend(ref)).toBe(ref);
    const eager = await train(kernels.createBackend(), 2, false, true);
    expect(eager.profiles).toEqual([]);
    expect(eager.stepper.profile()).toBeNull();
  });
});

describe('kernel costs', () => {
  const st = (length: number, dtype: 'float32' | 'int32' = 'float32') => ({ length, dtype });
  it('count a convolution and cross-attention from their shapes', () => {
    const conv = { B: 2, H: 8, W: 8, kH: 3, kW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, Ho: 8, Wo: 8, Cin: 4, Cout: 6 };
    const fwd = 2 * 2 * 6 * 8 * 8 * 4 * 3 * 3;
    expect(kernelFlops('conv2dForward', [st(512), st(216), null, st(768), conv])).toBe(fwd);
    // dx and dw each cost a forward; db sums dy.
    expect(kernelFlops('conv2dBackward', [st(768), st(512), st(216), st(512), st(216), st(6), conv])).toBe(2 * fwd + 2 * 6 * 64);
    expect(kernelFlops('conv2dBackward', [st(768), st(512), st(216), null, st(216), null, conv])).toBe(fwd);
    expect(kernelKey('conv2dForward', [st(512), st(216), null, st(768), conv])).toBe('conv2dForward 4→6 3×3/1 on 2×8×8');
    // Attention: 5 queries against 7 keys is 35 pairs per head, causal or not (not a square).
    const layout = { bStride: 0, hStride: 0, tStride: 0 };
    const keys = { Tk: 7, kvLayout: layout, keyMask: st(14) };
    const args = [st(1), st(1), st(1), layout, st(1), layout, st(1), 2, 3, 5, 4, 0.5, true, keys];
    expect(kernelFlops('attentionForward', args)).toBe(2 * 3 * 35 * (4 * 4 + 5));
    const square = [...args.slice(0, 12), true];
    expect(kernelFlops('attentionForward', square)).toBe(2 * 3 * (25 / 2) * (4 * 4 + 5));
    expect(kernelKey('attentionForward', args)).toBe('attentionForward B2 H3 T5 Tk7 D4 causal');
    // Bytes: every buffer once, the key mask included; numbers and layouts are not buffers.
    expect(kernelBytes(args)).toBe(4 * (5 + 14));
    expect(kernelBytes([st(10, 'int32'), 3, { B: 1 }])).toBe(40);
  });
});
