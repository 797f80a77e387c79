// AdamW, gradient clipping and the learning-rate schedule against PyTorch / nanoGPT fixtures.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Module } from '../../src/nn/module.ts';
import type { Parameter } from '../../src/nn/parameter.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { clipGradNorm } from '../../src/optim/clip.ts';
import { learningRate } from '../../src/optim/schedule.ts';
import { Rng } from '../../src/tensor/index.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { relError } from '../helpers/compare.ts';
import { FIXTURES, get, loadFixture } from '../helpers/fixtures.ts';

class Params extends Module {
  readonly list: Parameter[];
  constructor(shapes: Record<string, number[]>) {
    super();
    this.list = Object.entries(shapes).map(([n, s]) => this.param(n, s, { kind: 'zeros' }));
  }
}

describe.each(BACKENDS)('optimizers on $name', ({ make }) => {
  const backend = make();

  it('AdamW matches torch.optim.AdamW over 5 steps, decaying only ≥2-D tensors', () => {
    const fx = loadFixture('optim', 'adamw.safetensors');
    const args = JSON.parse(fx.metadata.args) as { lr: number; betas: [number, number]; eps: number; steps: number };
    const m = new Params({ p: [5, 7], q: [7] }).materialize(backend, new Rng(0));
    const store = m.store!;
    store.loadStateDict(new Map(['p', 'q'].map((n) => [n, { shape: get(fx, `${n}0`).shape, data: get(fx, `${n}0`).data as Float32Array }])));
    const opt = new AdamW(store, { lr: args.lr, beta1: args.betas[0], beta2: args.betas[1], eps: args.eps, weightDecay: 0.1 });
    for (let t = 1; t <= args.steps; t++) {
      for (const n of ['p', 'q']) backend.write(store.tensorOf(n).grad!.storage, get(fx, `grad.${n}.${t}`).data as Float32Array);
      opt.update();
      for (const n of ['p', 'q']) {
        expect(relError(store.tensorOf(n).toArraySync(), get(fx, `${n}.${t}`).data as Float32Array), `${n} after step ${t}`).toBeLessThanOrEqual(1e-6);
      }
    }
  });

  it.each([
    ['g', 'c', 'total_norm'],
    ['h', 'hc', 'h_total_norm'],
  ])('clip_grad_norm_ (%s)', async (inName, outName, normName) => {
    const fx = loadFixture('optim', 'clip.safetensors');
    const shapes = Object.fromEntries([0, 1, 2].map((i) => [String(i), get(fx, `${inName}.${i}`).shape]));
    const m = new Params(shapes).materialize(backend, new Rng(0));
    for (const i of [0, 1, 2]) backend.write(m.store!.tensorOf(String(i)).grad!.storage, get(fx, `${inName}.${i}`).data as Float32Array);
    const norm = await clipGradNorm(m.store!, 1.0);
    expect(relError([norm], get(fx, normName).data as Float32Array)).toBeLessThanOrEqual(1e-6);
    for (const i of [0, 1, 2]) {
      expect(relError(m.store!.tensorOf(String(i)).grad!.toArraySync(), get(fx, `${outName}.${i}`).data as Float32Array)).toBeLessThanOrEqual(1e-6);
    }
  });
});

describe('learning-rate schedule', () => {
  it("matches nanoGPT's warmup + cosine formula", () => {
    const fx = JSON.parse(readFileSync(join(FIXTURES, 'optim', 'schedule.json'), 'utf8')) as {
      args: { max_lr: number; min_lr: number; warmup_iters: number; lr_decay_iters: number };
      points: [number, number][];
    };
    const s = { maxLr: fx.args.max_lr, minLr: fx.args.min_lr, warmupIters: fx.args.warmup_iters, decayIters: fx.args.lr_decay_iters };
    for (const [it, lr] of fx.points) expect(learningRate(it, s)).toBeCloseTo(lr, 15);
  });
});
