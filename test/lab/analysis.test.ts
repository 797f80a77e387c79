// The lab's analyses against direct computations: gradient norms against the diagnostics' own
// inspection of a training step; a lesion against the model with that block's output projections
// zeroed; the logit lens against the model with the later blocks left out; per-sequence statistics
// against float64 moments of the raw norm inputs; kernel FLOPs against the analytic count of a GPT.

import { describe, expect, it } from 'vitest';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { sampleBatch, type Batch } from '../../src/data/corpus.ts';
import { layerSpread, sequenceMoments } from '../../src/lab/analysis/batch-stats.ts';
import { gradientNorms } from '../../src/lab/analysis/gradients.ts';
import { KERNEL_ORDER, kernelFlops, profileTraining, shareOf, NORM_KERNELS } from '../../src/lab/analysis/kernel-profile.ts';
import { batchesLoss, lesionStudy } from '../../src/lab/analysis/lesion.ts';
import { logitLens } from '../../src/lab/analysis/logit-lens.ts';
import { GPT, DEFAULT_GPT_CONFIG, type GPTConfig } from '../../src/models/gpt.ts';
import type { Module } from '../../src/nn/module.ts';
import { withTaps, type TapSink } from '../../src/nn/taps.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { stepScope } from '../../src/tensor/arena.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { tensor, type Tensor } from '../../src/tensor/tensor.ts';
import { ParamInspection } from '../../src/train/diagnostics/param-stats.ts';
import { optimizationStep } from '../../src/train/step.ts';

const V = 13;
const B = 3;
const T = 8;
const cfg = (o: Partial<GPTConfig> = {}): GPTConfig => ({ ...DEFAULT_GPT_CONFIG, vocabSize: V, blockSize: T, nLayer: 3, nHead: 2, nEmbd: 16, ...o });
const text = Int32Array.from({ length: 2000 }, (_, i) => (i * 7 + ((i * i) % 5)) % V);
const batches = (n: number, seed = 1): Batch[] => {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => sampleBatch(text, B, T, rng));
};

describe('gradient norms at initialisation', () => {
  it("equal the diagnostics' per-parameter gradient norms of the same step", async () => {
    const be = createRefBackend();
    const model = GPT.create(cfg({ placement: 'post' }), { backend: be, seed: 3 });
    const [{ x, y }] = batches(1);
    const g = await gradientNorms(model, x, y, B, T);
    const inspection = new ParamInspection(model.store!);
    const opt = new AdamW(model.store!, { lr: 1e-3, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0 });
    await optimizationStep(model, opt, x, y, B, T, { gradClip: 0, inspect: inspection });
    const { params, layers } = await inspection.read();
    expect(g.params.map((p) => p.name)).toEqual(params.map((p) => p.name));
    g.params.forEach((p, i) => expect(p.norm).toBeCloseTo(params[i].gradNorm, 5));
    g.layers.forEach((l, i) => expect(l.norm).toBeCloseTo(layers[i].gradNorm, 5));
  });
});

describe('lesion', () => {
  it('leaving a block out equals zeroing what it adds to the stream (pre-LN, plain residual)', async () => {
    const be = createRefBackend();
    const model = GPT.create(cfg(), { backend: be, seed: 4 });
    const bs = batches(2);
    const r = await lesionStudy(model, bs, B, T);
    expect(r.full).toBeCloseTo(await batchesLoss(model, bs, B, T), 6);
    // Block 1 with its two output projections zeroed adds nothing: x + 0 + 0.
    const state = await model.store!.stateDict();
    const zeroed = new Map([...state].map(([k, v]) => [k, /^h\.1\.(attn|mlp)\.c_proj\./.test(k) ? { shape: v.shape, data: new Float32Array(v.data.length) } : v]));
    const twin = GPT.create(cfg(), { backend: be, seed: 4 });
    twin.store!.loadStateDict(zeroed);
    expect(r.lesioned[1]).toBeCloseTo(await batchesLoss(twin, bs, B, T), 5);
    expect(r.lesioned[1]).not.toBeCloseTo(r.full, 3);
  });
});

describe('logit lens', () => {
  for (const placement of ['pre', 'post'] as const) {
    it(`reads each block's stream as the model with the later blocks left out would (${placement}-LN)`, async () => {
      const be = createRefBackend();
      const model = GPT.create(cfg({ placement, nLayer: 4 }), { backend: be, seed: 5 });
      const bs = batches(2);
      const lens = await logitLens(model, bs, B, T);
      expect(lens.model).toBeCloseTo(await batchesLoss(model, bs, B, T), 5);
      expect(lens.perBlock[3]).toBeCloseTo(lens.model, 5);
      for (let i = 0; i < 3; i++) {
        const later = new Set(Array.from({ length: 3 - i }, (_, k) => i + 1 + k));
        expect(lens.perBlock[i]).toBeCloseTo(await batchesLoss(model, bs, B, T, later), 5);
      }
    });
  }
});

/** Keeps every norm input, whole, for the host computation. */
class RawInputs implements TapSink {
  readonly inputs: Tensor[] = [];
  norm(_: Module, input: Tensor): void {
    this.inputs.push(input);
  }
  residual(): void {}
  block(): void {}
  attention(): void {}
}

describe('batch statistics', () => {
  it('per-sequence moments and spreads match a float64 computation from the raw norm inputs', async () => {
    const be = createRefBackend();
    const model = GPT.create(cfg({ nLayer: 2 }), { backend: be, seed: 6 });
    model.eval();
    const bs = batches(4, 9);
    const moments = await sequenceMoments(model, bs, B, T);
    expect(moments.map((m) => m.name)).toEqual(['h.0.ln_1', 'h.0.ln_2', 'h.1.ln_1', 'h.1.ln_2', 'ln_f']);
    const C = 16;
    const raw: Float32Array[][] = moments.map(() => []);
    for (const { x } of bs) {
      const sink = new RawInputs();
      const arrays = stepScope(() =>
        noGrad(() => {
          withTaps(sink, () => model.forward(tensor(x, [B, T], { backend: be, dtype: 'int32' })));
          return sink.inputs.map((t) => Float32Array.from(be.readSync!(t.storage)));
        }),
      );
      arrays.forEach((a, l) => raw[l].push(a));
    }
    const S = bs.length * B;
    moments.forEach((m, l) => {
      const rows = raw[l]; // per batch: (B, T, C)
      const seq = (s: number) => rows[Math.floor(s / B)].subarray((s % B) * T * C, ((s % B) + 1) * T * C);
      for (const s of [0, 5, S - 1]) {
        for (const c of [0, 7, 15]) {
          let m1 = 0;
          let m2 = 0;
          for (let t = 0; t < T; t++) {
            const v = seq(s)[t * C + c];
            m1 += v / T;
            m2 += (v * v) / T;
          }
          expect(m.m[s * C + c]).toBeCloseTo(m1, 5);
          expect(m.q[s * C + c]).toBeCloseTo(m2, 5);
        }
      }
      // The design effect of channel 3, directly: T·Var over sequences of their means / variance over all positions.
      const all = Array.from({ length: S }, (_, s) => Array.from({ length: T }, (_, t) => seq(s)[t * C + 3])).flat();
      const mu = all.reduce((a, b) => a + b, 0) / all.length;
      const v = all.reduce((a, b) => a + (b - mu) ** 2, 0) / all.length;
      const seqMeans = Array.from({ length: S }, (_, s) => Array.from({ length: T }, (_, t) => seq(s)[t * C + 3]).reduce((a, b) => a + b, 0) / T);
      const vm = seqMeans.reduce((a, b) => a + (b - mu) ** 2, 0) / S;
      const one = layerSpread({ ...m, C: 1, m: Float64Array.from(seqMeans), q: Float64Array.from({ length: S }, (_, s) => m.q[s * C + 3]) }, B);
      expect(one.designEffect).toBeCloseTo((T * vm) / v, 3);
      // Batch mean deviation: batches of B consecutive sequences.
      const K = S / B;
      let md = 0;
      for (let k = 0; k < K; k++) md += ((seqMeans.slice(k * B, (k + 1) * B).reduce((a, b) => a + b, 0) / B - mu) / Math.sqrt(v)) ** 2;
      expect(one.batchMeanDev).toBeCloseTo(Math.sqrt(md / K), 3);
    });
  });
});

describe('kernel profile', () => {
  it("counts a GPT step's matmul FLOPs as 6·tokens·(12·L·C² + C·V), and LayerNorm's as 8 and 13 per element", async () => {
    const be = createRefBackend();
    const c = cfg({ nLayer: 2, nEmbd: 16, bias: false });
    const p = await profileTraining({ config: c, backend: be, seed: 1, batches: batches(3), B, T, lr: 1e-3 });
    const N = B * T;
    const matmul = p.kernels.find((k) => k.name === 'matmul')!;
    expect(matmul.flops).toBe(6 * N * (12 * c.nLayer * c.nEmbd ** 2 + c.nEmbd * V));
    const ln = shareOf(p, NORM_KERNELS.layernorm);
    // 2 norms per block and ln_f, forward 8 and backward 13 FLOPs per element of (N, C).
    expect(ln.flops).toBe((2 * c.nLayer + 1) * N * c.nEmbd * (8 + 13));
    expect(ln.flopShare).toBeGreaterThan(0);
    expect(ln.flopShare).toBeLessThan(0.5);
    expect(p.stepMs).toBeGreaterThan(0);
    expect(kernelFlops('fill', [])).toBe(0);
    // Every profile lists the kernels in one order, uncalled ones as 0, so runs and arms line up.
    expect(p.kernels.map((k) => k.name).slice(0, KERNEL_ORDER.length)).toEqual(KERNEL_ORDER);
    expect(p.kernels.find((k) => k.name === 'rmsNormForward')!.calls).toBe(0);
  });
});
