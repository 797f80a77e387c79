// Convolution, pooling, BatchNorm2d and the residual block against PyTorch (test/fixtures/conv/, made by
// scripts/make_fixtures.py): every op forward and backward on every backend; BatchNorm2d's outputs,
// gradients and running statistics over three training batches, then eval; the residual block (identity
// and projection shortcuts) forward and backward in train and eval mode and a 3-step AdamW trajectory.
// Float64 finite differences on the reference backend and its core-only view; the modules' init,
// names and errors. Captured wasm training steps of a small conv net: conv-kernels-capture.test.ts.

import { describe, expect, it } from 'vitest';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { coreOnly } from '../../src/backend/views.ts';
import { BatchNorm2d } from '../../src/nn/batch-norm-2d.ts';
import { Conv2d } from '../../src/nn/conv.ts';
import type { HostTensor } from '../../src/nn/parameter-store.ts';
import { AvgPool2d, GlobalAvgPool, MaxPool2d } from '../../src/nn/pool.ts';
import { ResidualBlock } from '../../src/nn/residual-block.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { conv2d } from '../../src/tensor/ops/conv.ts';
import { avgPool2d, globalAvgPool, maxPool2d } from '../../src/tensor/ops/pool.ts';
import { backward, mul, noGrad, Rng, stepScope, sum, tensor, type Tensor } from '../../src/tensor/index.ts';
import { optimizationStepOn } from '../../src/train/step.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { relError } from '../helpers/compare.ts';
import { get, listFixtures, loadFixture, tensorsOf, type Fixture } from '../helpers/fixtures.ts';

const all = listFixtures('conv').map((f) => loadFixture('conv', f));
const opCases = all.filter((f) => f.metadata.op !== undefined);
const blockCases = all.filter((f) => f.metadata.module === 'residual_block');
const bnFixture = all.find((f) => f.metadata.module === 'batch_norm2d')!;

type Args = { stride?: [number, number]; padding?: [number, number]; kernel?: [number, number] };

/** The op a fixture names, on its inputs (x, weight, bias). */
function runOp(op: string, inputs: Record<string, Tensor>, args: Args): Tensor {
  const opts = { stride: args.stride, padding: args.padding };
  switch (op) {
    case 'conv2d':
      return conv2d(inputs.x, inputs.weight, inputs.bias ?? null, opts);
    case 'max_pool2d':
      return maxPool2d(inputs.x, args.kernel!, opts);
    case 'avg_pool2d':
      return avgPool2d(inputs.x, args.kernel!, opts);
    case 'global_avg_pool':
      return globalAvgPool(inputs.x);
    default:
      throw new Error(`no op '${op}' in the conv fixtures`);
  }
}

const inputNames = (fx: Fixture) => [...fx.tensors.keys()].filter((n) => n !== 'out' && n !== 'dout' && !n.startsWith('grad.'));
const host = (t: Tensor) => Float64Array.from(t.toArraySync());
const data = (fx: Fixture, name: string) => get(fx, name).data as ArrayLike<number>;

describe.each(BACKENDS)('conv ops against PyTorch on $name', ({ make }) => {
  const backend = make();
  it.each(opCases.map((c) => [c.name, c] as const))('%s', (_n, fx) => {
    stepScope(() => {
      const inputs = Object.fromEntries(inputNames(fx).map((n) => [n, tensor(data(fx, n), get(fx, n).shape, { backend, requiresGrad: true })]));
      const out = runOp(fx.metadata.op, inputs, JSON.parse(fx.metadata.args) as Args);
      expect(out.shape).toEqual(get(fx, 'out').shape);
      expect(relError(out.toArraySync(), data(fx, 'out')), 'out').toBeLessThanOrEqual(1e-5);
      backward(out, tensor(data(fx, 'dout'), out.shape, { backend }));
      for (const [n, t] of Object.entries(inputs)) expect(relError(t.grad!.toArraySync(), data(fx, `grad.${n}`)), `grad.${n}`).toBeLessThanOrEqual(1e-4);
    });
  });
});

// ---- float64 finite differences (ref and its core-only view) ---------------------------------------

const H = 1e-6;

/** (L(θ + h) − L(θ − h))/2h for every element of `d`, with `apply` making the backend see d's new value. */
function numeric(d: Float64Array, apply: () => void, loss: () => number): Float64Array {
  return noGrad(() => Float64Array.from(d, (x0, i) => {
    d[i] = x0 + H;
    apply();
    const lp = loss();
    d[i] = x0 - H;
    apply();
    const lm = loss();
    d[i] = x0;
    apply();
    return (lp - lm) / (2 * H);
  }));
}

const dot = (y: Tensor, dout: Float64Array) => host(y).reduce((s, v, i) => s + v * dout[i], 0);

describe.each([
  ['ref', createRefBackend],
  ['ref (core only)', () => coreOnly(createRefBackend())],
] as const)('finite-difference gradients (float64, %s)', (_b, makeBe) => {
  const backend = makeBe();

  // Ties are where max pooling is not differentiable: that case checks torch's choice, not a derivative.
  it.each(opCases.filter((c) => !c.name.includes('ties')).map((c) => [c.name, c] as const))('%s', (_n, fx) => {
    const names = inputNames(fx);
    const vals = Object.fromEntries(names.map((n) => [n, Float64Array.from(data(fx, n))]));
    const dout = Float64Array.from(data(fx, 'dout'));
    const args = JSON.parse(fx.metadata.args) as Args;
    const make = (grad: boolean) => Object.fromEntries(names.map((n) => [n, tensor(vals[n], get(fx, n).shape, { backend, requiresGrad: grad })]));
    const loss = () => stepScope(() => dot(runOp(fx.metadata.op, make(false), args), dout));
    stepScope(() => {
      const ins = make(true);
      const y = runOp(fx.metadata.op, ins, args);
      backward(y, tensor(dout, y.shape, { backend }));
      for (const n of names) expect(relError(host(ins[n].grad!), numeric(vals[n], () => {}, loss)), `d/d${n}`).toBeLessThanOrEqual(1e-6);
    });
  });

  /** The input's and every parameter's gradient of Σ m(x)·dout, training mode. */
  function moduleGradcheck(m: BatchNorm2d | ResidualBlock, shape: number[], rng: Rng, tol: number): void {
    const x = Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
    const y0 = stepScope(() => m.forward(tensor(x, shape, { backend })).shape);
    const dout = Float64Array.from({ length: y0.reduce((a, b) => a * b, 1) }, () => rng.normal());
    const loss = () => stepScope(() => dot(m.forward(tensor(x, shape, { backend })), dout));
    stepScope(() => {
      m.store!.zeroGrad();
      const xt = tensor(x, shape, { backend, requiresGrad: true });
      backward(m.forward(xt), tensor(dout, y0, { backend }));
      expect(relError(host(xt.grad!), numeric(x, () => {}, loss)), 'd/dx').toBeLessThanOrEqual(tol);
      for (const [name, p] of m.namedParameters()) {
        const d = host(p.value);
        const fd = numeric(d, () => backend.write(p.value.storage, d), loss);
        expect(relError(host(p.value.grad!), fd), `d/d${name}`).toBeLessThanOrEqual(tol);
      }
    });
  }

  it('BatchNorm2d: input, weight and bias (batch 3 and batch 1)', () => {
    const rng = new Rng(21);
    const bn = new BatchNorm2d(3).materialize(backend, rng, 'float64');
    backend.write(bn.weight.value.storage, [0.7, 1.3, -0.4]);
    backend.write(bn.bias!.value.storage, [0.1, -0.2, 0.3]);
    moduleGradcheck(bn, [3, 3, 4, 5], rng, 1e-6);
    moduleGradcheck(bn, [1, 3, 3, 2], rng, 1e-6);
  });

  it.each(blockCases.map((c) => [c.name, c] as const))('ResidualBlock %s: input and every parameter', (_n, fx) => {
    const cfg = JSON.parse(fx.metadata.config) as { in_channels: number; out_channels: number; stride: number };
    const m = new ResidualBlock(cfg.in_channels, cfg.out_channels, cfg.stride).materialize(backend, new Rng(1), 'float64');
    m.store!.loadStateDict(stateOf(fx), fx.name);
    moduleGradcheck(m, get(fx, 'x').shape, new Rng(22), 1e-5);
  });
});

// ---- BatchNorm2d ------------------------------------------------------------------------------------

describe.each(BACKENDS)('BatchNorm2d against PyTorch on $name', ({ make }) => {
  const backend = make();
  const fx = bnFixture;

  it('three training batches (B = 3, 1, 2): outputs, gradients, running statistics; then eval', () => {
    const bn = new BatchNorm2d(4).materialize(backend, new Rng(1));
    backend.write(bn.weight.value.storage, data(fx, 'weight'));
    backend.write(bn.bias!.value.storage, data(fx, 'bias'));
    for (const t of ['0', '1', '2', 'eval']) {
      if (t === 'eval') bn.eval();
      stepScope(() => {
        bn.store!.zeroGrad();
        const x = tensor(data(fx, `x.${t}`), get(fx, `x.${t}`).shape, { backend, requiresGrad: true });
        const y = bn.forward(x);
        expect(relError(y.toArraySync(), data(fx, `out.${t}`)), `out.${t}`).toBeLessThanOrEqual(1e-5);
        backward(y, tensor(data(fx, `dout.${t}`), y.shape, { backend }));
        expect(relError(x.grad!.toArraySync(), data(fx, `grad.x.${t}`)), `grad.x.${t}`).toBeLessThanOrEqual(1e-4);
        expect(relError(bn.weight.value.grad!.toArraySync(), data(fx, `grad.weight.${t}`)), `grad.weight.${t}`).toBeLessThanOrEqual(1e-4);
        expect(relError(bn.bias!.value.grad!.toArraySync(), data(fx, `grad.bias.${t}`)), `grad.bias.${t}`).toBeLessThanOrEqual(1e-4);
      });
      const step = t === 'eval' ? '2' : t; // eval leaves the estimates as the last training batch left them
      expect(relError(bn.runningMean.value.toArraySync(), data(fx, `running_mean.${step}`)), `running_mean after ${t}`).toBeLessThanOrEqual(1e-5);
      expect(relError(bn.runningVar.value.toArraySync(), data(fx, `running_var.${step}`)), `running_var after ${t}`).toBeLessThanOrEqual(1e-5);
    }
  });
});

// ---- the residual block -------------------------------------------------------------------------

/** The fixture's parameters and buffers (torch's names, num_batches_tracked left out by the script). */
function stateOf(fx: Fixture): Map<string, HostTensor> {
  return new Map([...tensorsOf(fx, 'param.'), ...tensorsOf(fx, 'buffer.')]);
}

describe.each(BACKENDS)('ResidualBlock against PyTorch on $name', ({ make }) => {
  const backend = make();

  describe.each(blockCases.map((c) => [c.name, c] as const))('%s', (_n, fx) => {
    const cfg = JSON.parse(fx.metadata.config) as { in_channels: number; out_channels: number; stride: number };
    const block = () => {
      const m = new ResidualBlock(cfg.in_channels, cfg.out_channels, cfg.stride).materialize(backend, new Rng(1));
      m.store!.loadStateDict(stateOf(fx), fx.name);
      return m;
    };
    const x = get(fx, 'x');

    it.each(['train', 'eval'])('%s mode: output, input and parameter gradients, running statistics', async (mode) => {
      const m = block().train(mode === 'train');
      stepScope(() => {
        m.store!.zeroGrad();
        const xt = tensor(x.data as ArrayLike<number>, x.shape, { backend, requiresGrad: true });
        const y = m.forward(xt);
        expect(relError(y.toArraySync(), data(fx, `${mode}.out`)), 'out').toBeLessThanOrEqual(1e-5);
        backward(y, tensor(data(fx, 'dout'), y.shape, { backend }));
        expect(relError(xt.grad!.toArraySync(), data(fx, `${mode}.grad.x`)), 'grad.x').toBeLessThanOrEqual(1e-4);
        for (const [name, p] of m.namedParameters()) {
          expect(relError(p.value.grad!.toArraySync(), data(fx, `${mode}.grad.${name}`)), `grad.${name}`).toBeLessThanOrEqual(1e-4);
        }
      });
      const state = await m.store!.stateDict();
      for (const [name] of m.namedBuffers()) {
        const want = mode === 'train' ? data(fx, `train.buffer.${name}`) : data(fx, `buffer.${name}`);
        expect(relError(state.get(name)!.data, want), name).toBeLessThanOrEqual(1e-5);
      }
    });

    it('three AdamW steps: losses, weights, running statistics, then eval outputs', async () => {
      const m = block();
      const opt = new AdamW(m.store!, { lr: 1e-2, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 });
      const doutShape = get(fx, 'dout').shape;
      const losses: number[] = [];
      for (let t = 0; t < 3; t++) {
        const batch = [{ data: Float32Array.from(data(fx, `traj.x.${t}`)), shape: x.shape }, { data: Float32Array.from(data(fx, `traj.dout.${t}`)), shape: doutShape }];
        const r = await optimizationStepOn(m, opt, ([xi, di]) => sum(mul(m.forward(xi), di)), batch, { gradClip: 0 });
        losses.push(r.loss);
      }
      expect(relError(losses, data(fx, 'traj.loss')), 'losses').toBeLessThanOrEqual(1e-5);
      const state = await m.store!.stateDict();
      for (const [name, t] of state) {
        const want = m.namedBuffers().some(([n]) => n === name) ? `traj.buffer.${name}` : `traj.param.${name}`;
        expect(relError(t.data, data(fx, want)), want).toBeLessThanOrEqual(1e-4);
      }
      m.eval();
      const y = stepScope(() => m.forward(tensor(x.data as ArrayLike<number>, x.shape, { backend })).toArraySync());
      expect(relError(y, data(fx, 'traj.eval_out')), 'eval output after training').toBeLessThanOrEqual(1e-4);
    });
  });
});

// ---- modules: names, init, errors -----------------------------------------------------------------

describe('conv modules', () => {
  const backend = createRefBackend();

  it("Conv2d: torch's shapes and its default init, U(±1/√fan_in) for weight and bias", () => {
    const c = new Conv2d(6, 10, [3, 2]).materialize(backend, new Rng(3));
    expect(c.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([['weight', [10, 6, 3, 2]], ['bias', [10]]]);
    const bound = 1 / Math.sqrt(6 * 3 * 2);
    const w = host(c.weight.value);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.95 * bound); // uniform over the whole range, 360 draws
    expect(Math.abs(w.reduce((a, b) => a + b, 0) / w.length)).toBeLessThan(0.1 * bound);
    expect(Math.max(...host(c.bias!.value).map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(new Conv2d(2, 3, 1, { bias: false }).namedParameters().map(([n]) => n)).toEqual(['weight']);
  });

  it("ResidualBlock: torchvision's names; the projection only when the stride or the width changes", () => {
    const names = (m: ResidualBlock) => [m.namedParameters().map(([n]) => n), m.namedBuffers().map(([n]) => n)];
    for (const fx of blockCases) {
      const cfg = JSON.parse(fx.metadata.config) as { in_channels: number; out_channels: number; stride: number };
      const [params, buffers] = names(new ResidualBlock(cfg.in_channels, cfg.out_channels, cfg.stride));
      expect(params.sort()).toEqual([...tensorsOf(fx, 'param.').keys()].sort());
      expect(buffers.sort()).toEqual([...tensorsOf(fx, 'buffer.').keys()].sort());
    }
    expect(new ResidualBlock(4, 4, 1).downsample).toBeNull();
    expect(new ResidualBlock(4, 4, 2).downsample).not.toBeNull();
    expect(new ResidualBlock(4, 8, 1).downsample).not.toBeNull();
    expect(names(new ResidualBlock(4, 8, 1))[0]).toContain('downsample.0.weight');
  });

  it('pooling modules: stride defaults to the kernel; the global pool gives (B, C)', () => {
    stepScope(() => {
      const x = tensor(Float32Array.from({ length: 2 * 3 * 6 * 7 }, (_, i) => Math.sin(i)), [2, 3, 6, 7], { backend });
      expect(new MaxPool2d(2).forward(x).shape).toEqual([2, 3, 3, 3]);
      expect(new AvgPool2d(3, { stride: 1, padding: 1 }).forward(x).shape).toEqual([2, 3, 6, 7]);
      expect(new GlobalAvgPool().forward(x).shape).toEqual([2, 3]);
    });
  });

  it('refuse wrong shapes and arguments, saying what was expected', () => {
    stepScope(() => {
      const x = tensor(new Float32Array(2 * 3 * 4 * 4), [2, 3, 4, 4], { backend });
      const w = (cin: number, k: number) => tensor(new Float32Array(5 * cin * k * k), [5, cin, k, k], { backend });
      expect(() => conv2d(x, w(2, 3), null)).toThrow('conv2d: input [2, 3, 4, 4] does not match weight [5, 2, 3, 3]; expected (B, 2, H, W)');
      expect(() => conv2d(x, w(3, 5), null)).toThrow('conv2d: the kernel [5, 5] is larger than the padded input [4, 4] of [2, 3, 4, 4]');
      expect(() => conv2d(x, w(3, 3), null, { stride: 0 })).toThrow('conv2d: stride must be an integer ≥ 1 or a pair of them, got 0');
      expect(() => conv2d(x, w(3, 3), tensor([1, 2], [2], { backend }))).toThrow('conv2d: bias [2] does not match weight [5, 3, 3, 3]; expected [5]');
      expect(() => maxPool2d(x, 2, { padding: 2 })).toThrow('maxPool2d: padding [2, 2] must be at most half the kernel [2, 2]');
      expect(() => avgPool2d(tensor([1, 2, 3], [3], { backend }), 2)).toThrow('avgPool2d: expected an input (B, C, H, W), got [3]');
      const bn = new BatchNorm2d(3).materialize(backend, new Rng(1));
      expect(() => bn.forward(tensor(new Float32Array(8), [2, 4, 1, 1], { backend }))).toThrow('BatchNorm2d: expected an input (B, 3, H, W), got [2, 4, 1, 1]');
      expect(() => bn.forward(tensor(new Float32Array(3), [1, 3, 1, 1], { backend }))).toThrow(/more than one value per channel .* call eval\(\) first/);
      bn.eval();
      expect(bn.forward(tensor(new Float32Array(3), [1, 3, 1, 1], { backend })).shape).toEqual([1, 3, 1, 1]);
    });
  });
});
