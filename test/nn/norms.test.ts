// The norm kinds beyond LayerNorm and RMSNorm: DyT, BatchNorm and none. Forward passes against a
// float64 host computation on every backend, finite-difference gradients in float64, BatchNorm's running
// statistics (momentum, unbiased variance, eval mode, state dicts), and captured GPT training steps that
// replay the running-statistics update bit for bit.

import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.ts';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { loadWasmKernels } from '../../src/backend/wasm/index.ts';
import { DEFAULT_GPT_CONFIG, GPT, type GPTConfig } from '../../src/models/gpt.ts';
import { BatchNorm } from '../../src/nn/batch-norm.ts';
import { DyT } from '../../src/nn/dyt.ts';
import { IdentityNorm, makeNorm, NORM_KINDS } from '../../src/nn/norm.ts';
import type { Module } from '../../src/nn/module.ts';
import type { Parameter } from '../../src/nn/parameter.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { backward, noGrad, Rng, stepScope, tensor, type Tensor } from '../../src/tensor/index.ts';
import { optimizationStep, TrainStep } from '../../src/train/step.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { relError } from '../helpers/compare.ts';

const EPS = 1e-5;
const randn = (rng: Rng, n: number, mu = 0, sd = 1) => Float64Array.from({ length: n }, () => mu + sd * rng.normal());

// ---- float64 host references ------------------------------------------------------------------

function dytHost(x: ArrayLike<number>, C: number, alpha: number, w: ArrayLike<number>, b: ArrayLike<number> | null): Float64Array {
  return Float64Array.from(x, (v, i) => w[i % C] * Math.tanh(alpha * v) + (b ? b[i % C] : 0));
}

/** Per-channel mean and biased variance over the rows of a (rows, C) matrix, in two passes. */
function channelStats(x: ArrayLike<number>, C: number): { mean: Float64Array; variance: Float64Array } {
  const rows = x.length / C;
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  for (let i = 0; i < x.length; i++) mean[i % C] += x[i] / rows;
  for (let i = 0; i < x.length; i++) variance[i % C] += (x[i] - mean[i % C]) ** 2 / rows;
  return { mean, variance };
}

function normalizeHost(x: ArrayLike<number>, C: number, mu: ArrayLike<number>, v: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | null) {
  return Float64Array.from(x, (xi, i) => ((xi - mu[i % C]) / Math.sqrt(v[i % C] + EPS)) * w[i % C] + (b ? b[i % C] : 0));
}

// ---- helpers ----------------------------------------------------------------------------------

const host = (p: Parameter | { value: Tensor }) => Float64Array.from(p.value.toArraySync());
const set = (backend: Backend, p: { value: Tensor }, data: ArrayLike<number>) => backend.write(p.value.storage, data);

function forwardHost(backend: Backend, m: Module & { forward(x: Tensor): Tensor }, x: Float64Array, shape: number[]): Float64Array {
  return stepScope(() => Float64Array.from(m.forward(tensor(Float32Array.from(x), shape, { backend })).toArraySync()));
}

describe('makeNorm', () => {
  it('builds every kind with its parameters and buffers', () => {
    const names = (m: Module) => [m.namedParameters().map(([n, p]) => `${n}${JSON.stringify(p.shape)}`), m.namedBuffers().map(([n]) => n)];
    expect(NORM_KINDS).toEqual(['layernorm', 'rmsnorm', 'dyt', 'batchnorm', 'none']);
    expect(names(makeNorm('dyt', 5, true))).toEqual([['alpha[1]', 'weight[5]', 'bias[5]'], []]);
    expect(names(makeNorm('dyt', 5, false))).toEqual([['alpha[1]', 'weight[5]'], []]);
    expect(names(makeNorm('batchnorm', 5, true))).toEqual([['weight[5]', 'bias[5]'], ['running_mean', 'running_var']]);
    expect(names(makeNorm('batchnorm', 5, false))).toEqual([['weight[5]'], ['running_mean', 'running_var']]);
    expect(names(makeNorm('none', 5, true))).toEqual([[], []]);
    expect(makeNorm('dyt', 5, true)).toBeInstanceOf(DyT);
    expect(makeNorm('batchnorm', 5, true)).toBeInstanceOf(BatchNorm);
  });

  it("initialises DyT's alpha to 0.5, gains to 1, biases and running means to 0, running variances to 1", async () => {
    const backend = createRefBackend();
    const d = new DyT(3).materialize(backend, new Rng(1));
    expect([host(d.alpha), host(d.weight), host(d.bias!)].map((a) => Array.from(a))).toEqual([[0.5], [1, 1, 1], [0, 0, 0]]);
    const b = new BatchNorm(3).materialize(backend, new Rng(1));
    expect([host(b.weight), host(b.bias!), host(b.runningMean), host(b.runningVar)].map((a) => Array.from(a))).toEqual([
      [1, 1, 1], [0, 0, 0], [0, 0, 0], [1, 1, 1],
    ]);
  });

  it("'none' returns its input itself, with no parameters", () => {
    const backend = createRefBackend();
    const n = makeNorm('none', 4, true).materialize(backend, new Rng(1));
    expect(n).toBeInstanceOf(IdentityNorm);
    const x = tensor([1, 2, 3, 4], [1, 4], { backend });
    expect(n.forward(x)).toBe(x);
    expect(n.numParameters()).toBe(0);
  });
});

describe.each(BACKENDS)('DyT and BatchNorm forward on $name', ({ make }) => {
  const backend = make();
  const C = 7;
  const shapes = [[3, 5, C], [6, C], [2, 1, 3, C]];

  it.each(shapes)('DyT on (%s, …) equals the float64 formula', (...shape) => {
    const rng = new Rng(shape.length);
    const n = shape.reduce((a, b) => a * b, 1);
    for (const bias of [true, false]) {
      const d = new DyT(C, { bias }).materialize(backend, rng);
      const [alpha, w, b] = [Float32Array.of(0.8), Float32Array.from(randn(rng, C, 1, 0.5)), Float32Array.from(randn(rng, C))];
      set(backend, d.alpha, alpha);
      set(backend, d.weight, w);
      if (bias) set(backend, d.bias!, b);
      const x = Float64Array.from(Float32Array.from(randn(rng, n, 0.3, 2)));
      const y = forwardHost(backend, d, x, shape);
      expect(relError(y, dytHost(x, C, alpha[0], w, bias ? b : null)), `bias ${bias}`).toBeLessThanOrEqual(2e-6);
    }
  });

  it.each(shapes)('BatchNorm on (%s, …) normalizes with the batch statistics in training, the running ones in eval', (...shape) => {
    const rng = new Rng(10 + shape.length);
    const n = shape.reduce((a, b) => a * b, 1);
    for (const bias of [true, false]) {
      const bn = new BatchNorm(C, { bias }).materialize(backend, rng);
      const [w, b] = [Float32Array.from(randn(rng, C, 1, 0.5)), Float32Array.from(randn(rng, C))];
      set(backend, bn.weight, w);
      if (bias) set(backend, bn.bias!, b);
      // Channels offset and scaled differently, so a per-row or a global statistic would not pass.
      const x = Float64Array.from(Float32Array.from(randn(rng, n)), (v, i) => Math.fround(v * (1 + (i % C)) + 10 * (i % C) - 20));
      const { mean, variance } = channelStats(x, C);
      const train = forwardHost(backend, bn, x, shape);
      expect(relError(train, normalizeHost(x, C, mean, variance, w, bias ? b : null)), `train, bias ${bias}`).toBeLessThanOrEqual(1e-5);

      const [rm, rv] = [Float32Array.from(randn(rng, C, 0, 3)), Float32Array.from(randn(rng, C), (v) => 0.5 + v * v)];
      set(backend, bn.runningMean, rm);
      set(backend, bn.runningVar, rv);
      bn.eval();
      const evaluated = forwardHost(backend, bn, x, shape);
      expect(relError(evaluated, normalizeHost(x, C, rm, rv, w, bias ? b : null)), `eval, bias ${bias}`).toBeLessThanOrEqual(1e-5);
      expect(Array.from(host(bn.runningMean))).toEqual(Array.from(rm));
      expect(Array.from(host(bn.runningVar))).toEqual(Array.from(rv));
    }
  });

  it('BatchNorm refuses a wrong width, a rank-1 input, and training on a single row', () => {
    const bn = new BatchNorm(C).materialize(backend, new Rng(1));
    const fwd = (shape: number[]) => stepScope(() => bn.forward(tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape, { backend })));
    expect(() => fwd([4, 6])).toThrow('BatchNorm: expected an input (..., 7) with at least one leading axis, got [4, 6]');
    expect(() => fwd([C])).toThrow(/at least one leading axis, got \[7\]/);
    expect(() => fwd([1, 1, C])).toThrow(/more than one row per channel .* got input \[1, 1, 7\]; call eval\(\) first/);
    bn.eval();
    expect(() => fwd([1, 1, C])).not.toThrow(); // a single position is fine with the running estimates (sampling)
  });
});

describe('BatchNorm running statistics', () => {
  const C = 5;
  const shape = [2, 3, C]; // n = 6 rows: the unbiased factor n/(n − 1) = 1.2 is far from 1

  describe.each(BACKENDS)('on $name', ({ make }) => {
    const backend = make();

    it('follow running = 0.9·running + 0.1·batch, the variance unbiased, over several training forwards; eval leaves them', () => {
      const rng = new Rng(3);
      const bn = new BatchNorm(C).materialize(backend, rng);
      const rm = new Float64Array(C);
      const rv = new Float64Array(C).fill(1);
      for (let step = 0; step < 4; step++) {
        const x = Float64Array.from(Float32Array.from(randn(rng, 6 * C, step, 1 + step)));
        forwardHost(backend, bn, x, shape);
        const { mean, variance } = channelStats(x, C);
        for (let c = 0; c < C; c++) {
          rm[c] = 0.9 * rm[c] + 0.1 * mean[c];
          rv[c] = 0.9 * rv[c] + 0.1 * variance[c] * (6 / 5);
        }
        expect(relError(host(bn.runningMean), rm), `running_mean after ${step + 1}`).toBeLessThanOrEqual(1e-6);
        expect(relError(host(bn.runningVar), rv), `running_var after ${step + 1}`).toBeLessThanOrEqual(1e-6);
      }
      // As in torch, the mode decides, not grad mode: a no-grad forward in training mode updates too.
      const x = Float64Array.from(Float32Array.from(randn(rng, 6 * C)));
      noGrad(() => forwardHost(backend, bn, x, shape));
      const { mean } = channelStats(x, C);
      for (let c = 0; c < C; c++) rm[c] = 0.9 * rm[c] + 0.1 * mean[c];
      expect(relError(host(bn.runningMean), rm)).toBeLessThanOrEqual(1e-6);

      const before = [host(bn.runningMean), host(bn.runningVar)];
      bn.eval();
      for (let i = 0; i < 3; i++) forwardHost(backend, bn, randn(rng, 6 * C, 5, 3), shape);
      expect([host(bn.runningMean), host(bn.runningVar)]).toEqual(before);
    });

    it('round-trip through stateDict and loadStateDict, and give the same eval outputs', async () => {
      const rng = new Rng(4);
      const a = new BatchNorm(C).materialize(backend, rng);
      for (let i = 0; i < 2; i++) forwardHost(backend, a, randn(rng, 6 * C, 2, 3), shape);
      const state = await a.store!.stateDict();
      expect([...state.keys()]).toEqual(['weight', 'bias', 'running_mean', 'running_var']);
      expect(Array.from(state.get('running_var')!.data)).toEqual(Array.from(host(a.runningVar)));
      expect(Array.from(state.get('running_mean')!.data).some((v) => v !== 0)).toBe(true);

      const b = new BatchNorm(C).materialize(backend, new Rng(5));
      b.store!.loadStateDict(state, 'bn.safetensors');
      expect([host(b.runningMean), host(b.runningVar)]).toEqual([host(a.runningMean), host(a.runningVar)]);
      a.eval();
      b.eval();
      const x = randn(rng, 6 * C, 1, 2);
      const ya = forwardHost(backend, a, x, shape);
      expect(forwardHost(backend, b, x, shape)).toEqual(ya);
      // A fresh module's estimates (0 and 1) give other outputs: the loaded state is what made them equal.
      const fresh = new BatchNorm(C).materialize(backend, new Rng(5)).eval();
      expect(forwardHost(backend, fresh, x, shape)).not.toEqual(ya);
    });
  });
});

// ---- finite-difference gradients, float64 on the reference backend ------------------------------

const H = 1e-6;

/**
 * Checks d(Σ y·dout)/d(input and every listed parameter) against central differences. Parameters are
 * perturbed by writing their storage; the input by rebuilding it from the host copy.
 */
function gradcheck(m: Module & { forward(x: Tensor): Tensor }, params: Record<string, Parameter>, x: Float64Array, shape: number[], rng: Rng): void {
  const backend = m.store!.backend;
  const dout = randn(rng, x.length);
  const loss = (xs: Float64Array) =>
    stepScope(() => {
      const y = Float64Array.from(m.forward(tensor(xs, shape, { backend })).toArraySync());
      return y.reduce((s, v, i) => s + v * dout[i], 0);
    });
  stepScope(() => {
    m.store!.zeroGrad();
    const xt = tensor(x, shape, { backend, requiresGrad: true });
    backward(m.forward(xt), tensor(dout, shape, { backend }));
    const numeric = (data: Float64Array, apply: () => void) =>
      Float64Array.from(data, (x0, i) => {
        data[i] = x0 + H;
        apply();
        const lp = loss(x);
        data[i] = x0 - H;
        apply();
        const lm = loss(x);
        data[i] = x0;
        apply();
        return (lp - lm) / (2 * H);
      });
    const dx = numeric(x, () => {});
    expect(relError(xt.grad!.toArraySync(), dx), 'd/dx').toBeLessThanOrEqual(1e-6);
    for (const [name, p] of Object.entries(params)) {
      const data = host(p);
      const dp = noGrad(() => numeric(data, () => backend.write(p.value.storage, data)));
      expect(relError(p.value.grad!.toArraySync(), dp), `d/d${name}`).toBeLessThanOrEqual(1e-6);
    }
  });
}

describe('finite-difference gradients (float64, ref backend)', () => {
  const backend = createRefBackend();

  it('DyT: input, alpha, weight and bias', () => {
    const rng = new Rng(7);
    const d = new DyT(6).materialize(backend, rng, 'float64');
    backend.write(d.alpha.value.storage, [0.7]);
    backend.write(d.weight.value.storage, randn(rng, 6, 1, 0.5));
    backend.write(d.bias!.value.storage, randn(rng, 6));
    gradcheck(d, { alpha: d.alpha, weight: d.weight, bias: d.bias! }, randn(rng, 2 * 3 * 6, 0, 1.5), [2, 3, 6], rng);
  });

  it('BatchNorm in training mode: input (through the batch statistics), weight and bias', () => {
    const rng = new Rng(8);
    const bn = new BatchNorm(5).materialize(backend, rng, 'float64');
    backend.write(bn.weight.value.storage, randn(rng, 5, 1, 0.5));
    backend.write(bn.bias!.value.storage, randn(rng, 5));
    gradcheck(bn, { weight: bn.weight, bias: bn.bias! }, randn(rng, 3 * 4 * 5, 1, 2), [3, 4, 5], rng);
  });

  it('BatchNorm in eval mode: input, weight and bias; the running estimates get no gradient', () => {
    const rng = new Rng(9);
    const bn = new BatchNorm(5).materialize(backend, rng, 'float64');
    backend.write(bn.weight.value.storage, randn(rng, 5, 1, 0.5));
    backend.write(bn.runningMean.value.storage, randn(rng, 5));
    backend.write(bn.runningVar.value.storage, Float64Array.from(randn(rng, 5), (v) => 0.5 + v * v));
    bn.eval();
    gradcheck(bn, { weight: bn.weight, bias: bn.bias! }, randn(rng, 4 * 5, 1, 2), [4, 5], rng);
    expect(bn.runningMean.value.grad).toBeNull();
    expect(bn.runningVar.value.grad).toBeNull();
  });
});

// ---- captured GPT training steps ------------------------------------------------------------

const kernels = await loadWasmKernels();

describe('captured GPT training steps with the new norms (wasm)', () => {
  const [B, T] = [3, 8];

  async function train(c: GPTConfig, how: 'eager' | 'captured') {
    const backend = kernels.createBackend();
    const model = GPT.create(c, { backend, seed: 5 });
    const opt = new AdamW(model.store!);
    const stepper = how === 'captured' ? new TrainStep(model, opt) : null;
    const rng = new Rng(9);
    const losses: number[] = [];
    for (let s = 0; s < 3; s++) {
      const x = Int32Array.from({ length: B * T }, () => rng.int(c.vocabSize));
      const y = Int32Array.from({ length: B * T }, () => rng.int(c.vocabSize));
      const o = { gradClip: 1, lr: 1e-2 };
      losses.push((await (stepper ? stepper.run(x, y, B, T, o) : optimizationStep(model, opt, x, y, B, T, o))).loss);
    }
    const state = await model.store!.stateDict();
    const replayed = stepper ? { eagerReason: stepper.eagerReason, launches: stepper.launches } : null;
    stepper?.release();
    return { losses, state, model, replayed };
  }

  it.each(['batchnorm', 'dyt'] as const)('%s: 3 steps replayed give bit-identical losses, weights and running statistics', async (norm) => {
    const c: GPTConfig = { ...DEFAULT_GPT_CONFIG, vocabSize: 11, blockSize: T, nLayer: 2, nHead: 2, nEmbd: 16, norm };
    const eager = await train(c, 'eager');
    const captured = await train(c, 'captured');
    expect(captured.replayed!.eagerReason).toBeNull();
    expect(captured.replayed!.launches).toBeGreaterThan(50);
    expect(captured.losses).toEqual(eager.losses);
    expect([...captured.state.keys()]).toEqual([...eager.state.keys()]);
    for (const [name, t] of eager.state) expect(captured.state.get(name)!.data, name).toEqual(t.data);
    const bufferNames = eager.model.namedBuffers().map(([n]) => n);
    if (norm === 'dyt') {
      expect(bufferNames).toEqual([]);
      expect(Array.from(eager.state.get('h.0.ln_1.alpha')!.data)[0]).not.toBe(0.5); // alpha trains
      return;
    }
    expect(bufferNames).toEqual(['h.0.ln_1.running_mean', 'h.0.ln_1.running_var', 'h.0.ln_2.running_mean', 'h.0.ln_2.running_var',
      'h.1.ln_1.running_mean', 'h.1.ln_1.running_var', 'h.1.ln_2.running_mean', 'h.1.ln_2.running_var', 'ln_f.running_mean', 'ln_f.running_var']);
    // Three updates from (0, 1): a replay that skipped the update, or ran it twice, would not match the eager run.
    const rm = eager.state.get('h.0.ln_1.running_mean')!.data;
    expect(Array.from(rm).some((v) => v !== 0)).toBe(true);
    expect(Array.from(eager.state.get('ln_f.running_var')!.data).some((v) => v !== 1)).toBe(true);
  });
});
