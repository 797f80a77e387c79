// The WebGPU backend's fused BatchNorm run in chromium on SwiftShader (webgpu-batchnorm.test.ts): the
// kernels beside the reference backend's on awkward (outer, C, inner) layouts, every operand a view
// into a NaN-padded buffer and every output starting as NaN, each run twice (the same bits); and the
// modules that use them against PyTorch, as test/nn/conv.test.ts runs them (BatchNorm2d over three
// training batches then eval, the residual block's identity and projection fixtures in both modes and
// their AdamW trajectory), values read asynchronously, counting the fused calls so a silent fall back
// to the composition would show. Errors are measured here and judged by the test in Node.
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { createWebGpuBackend } from '../../src/backend/webgpu/index.ts';
import type { Backend, Storage } from '../../src/backend/backend.ts';
import { BatchNorm2d } from '../../src/nn/batch-norm-2d.ts';
import { ResidualBlock } from '../../src/nn/residual-block.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { backward, mul, Rng, sum, tensor } from '../../src/tensor/index.ts';
import { optimizationStepOn } from '../../src/train/step.ts';
import { relError } from '../helpers/compare.ts';
import { decodeFixture, get, tensorsOf, type Fixture } from '../helpers/fixture-data.ts';
import { countCalls } from './fused-calls.ts';

/** One measured error and the bound the test holds it to. */
export interface BnCheck {
  case: string;
  check: string;
  err: number;
  bound: number;
}

export interface BatchNormReport {
  adapter: string;
  kernels: BnCheck[];
  modules: BnCheck[];
  /** batchNormForward / batchNormBackward calls made by the module fixtures. */
  calls: Record<string, number>;
}

interface BnCase {
  outer: number;
  C: number;
  inner: number;
  /** Added to every x: statistics taken carelessly in float32 lose digits to it. */
  offset: number;
  w: boolean;
  b: boolean;
  dw: boolean;
  db: boolean;
}

const all = { w: true, b: true, dw: true, db: true };
const CASES: BnCase[] = [
  { outer: 4, C: 3, inner: 25, offset: 0, ...all }, // NCHW maps, a channel smaller than the workgroup
  { outer: 37, C: 5, inner: 1, offset: 0, ...all }, // a feature axis: channels are strided columns
  { outer: 3, C: 1, inner: 70, offset: 0, ...all }, // one channel
  { outer: 2, C: 7, inner: 13, offset: 0, w: false, b: false, dw: false, db: false }, // C prime, no γ, β
  { outer: 5, C: 6, inner: 61, offset: 0, w: true, b: false, dw: true, db: false }, // 305 values, not a multiple of 256
  { outer: 300, C: 11, inner: 1, offset: 0, w: false, b: true, dw: false, db: true }, // columns past one stride of the workgroup
  { outer: 2, C: 16, inner: 300, offset: 0, ...all }, // runs longer than the workgroup
  { outer: 1, C: 3, inner: 2, offset: 0, ...all }, // two values per channel, the least BatchNorm2d trains on
  { outer: 4, C: 3, inner: 50, offset: 1e3, ...all },
  { outer: 129, C: 4, inner: 1, offset: 1e3, ...all },
  { outer: 8, C: 3, inner: 1024, offset: 1e3, w: true, b: false, dw: true, db: false }, // 8192 values per channel
  { outer: 3, C: 5, inner: 49, offset: -1e3, w: false, b: false, dw: false, db: true },
];

const nameOf = (c: BnCase) => `(${c.outer}, ${c.C}, ${c.inner})${c.offset ? ` ${c.offset > 0 ? '+' : ''}${c.offset}` : ''}${c.w ? ' γ' : ''}${c.b ? ' β' : ''}`
  + `${c.dw || c.db ? ` → ${[c.dw ? 'dγ' : '', c.db ? 'dβ' : ''].filter(Boolean).join(' ')}` : ''}`;

/** A deterministic generator of values in [-1, 1) (Park–Miller), so both backends see the same operands. */
function values(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1);
}

const PAD = 3;

/** A view of `data.length` elements, PAD elements into a buffer whose other elements are NaN. */
function put(be: Backend, data: ArrayLike<number>): Storage {
  const s = be.alloc('float32', data.length + 2 * PAD);
  const padded = new Float32Array(data.length + 2 * PAD).fill(NaN);
  padded.set(data, PAD);
  be.write(s, padded);
  return be.view(s, PAD, data.length);
}

/** Forward, then backward from the forward's statistics, on one backend: every output by name. */
async function runCase(be: Backend, c: BnCase): Promise<Record<string, ArrayLike<number>>> {
  const { outer, C, inner } = c;
  const n = outer * C * inner;
  const nan = (len: number) => put(be, new Float32Array(len).fill(NaN));
  const x = put(be, values(n, 11).map((v) => 2 * v + c.offset));
  const w = c.w ? put(be, values(C, 12).map((v) => v + 0.5)) : null;
  const b = c.b ? put(be, values(C, 13)) : null;
  const [out, mean, variance, rstd] = [nan(n), nan(C), nan(C), nan(C)];
  be.batchNormForward!(x, w, b, out, mean, variance, rstd, outer, C, inner, 1e-5);
  const dy = put(be, values(n, 14));
  const [dx, dw, db] = [nan(n), c.dw ? nan(C) : null, c.db ? nan(C) : null];
  be.batchNormBackward!(dy, x, w, mean, rstd, dx, dw, db, outer, C, inner);
  const r: Record<string, ArrayLike<number>> = { out: await be.read(out), mean: await be.read(mean), variance: await be.read(variance), rstd: await be.read(rstd), dx: await be.read(dx) };
  if (dw) r.dw = await be.read(dw);
  if (db) r.db = await be.read(db);
  return r;
}

async function kernelChecks(be: Backend): Promise<BnCheck[]> {
  const ref = createRefBackend();
  const out: BnCheck[] = [];
  for (const c of CASES) {
    const name = nameOf(c);
    try {
      const [got, again, want] = [await runCase(be, c), await runCase(be, c), await runCase(ref, c)];
      for (const [check, w] of Object.entries(want)) out.push({ case: name, check, err: relError(got[check], w), bound: ['dx', 'dw', 'db'].includes(check) ? 1e-4 : 1e-5 });
      if (c.outer * c.inner === 2) {
        // Two values per channel: x̂ = ±sqrt(σ²/(σ² + ε)), so dx = s·γ·(dy₀ − dy₁)/2·ε/(σ² + ε) is what is
        // left of terms ~s·γ·dy that cancel to 1e-5 of their size; float32 keeps their rounding (5e-3 of
        // dx here). Judged against those terms instead (the reference sums them in float64).
        const [gamma, dy] = [values(c.C, 12), values(want.dx.length, 14)];
        const terms = Array.from(dy, (d, e) => {
          const ch = Math.floor(e / c.inner) % c.C;
          return Math.abs(want.rstd[ch] * (c.w ? gamma[ch] + 0.5 : 1) * d);
        });
        const err = Math.max(...Array.from(want.dx, (v, i) => Math.abs(v - got.dx[i]))) / Math.max(...terms);
        out.splice(out.findIndex((k) => k.case === name && k.check === 'dx'), 1, { case: name, check: 'dx against the terms that cancel (n = 2)', err, bound: 1e-5 });
      }
      const same = Object.keys(got).every((k) => Array.from(got[k]).every((v, i) => Object.is(v, again[k][i])));
      out.push({ case: name, check: 'bit for bit on a second run', err: same ? 0 : Infinity, bound: 0 });
    } catch (e) {
      out.push({ case: name, check: String(e), err: Infinity, bound: 0 });
    }
  }
  return out;
}

const data = (fx: Fixture, name: string) => get(fx, name).data as ArrayLike<number>;

/** test/nn/conv.test.ts's BatchNorm2d case: three training batches (B = 3, 1, 2), then eval. */
async function batchNorm2dChecks(be: Backend, fx: Fixture): Promise<BnCheck[]> {
  const out: BnCheck[] = [];
  const add = (check: string, err: number, bound: number) => out.push({ case: 'BatchNorm2d', check, err, bound });
  const bn = new BatchNorm2d(4).materialize(be, new Rng(1));
  be.write(bn.weight.value.storage, data(fx, 'weight'));
  be.write(bn.bias!.value.storage, data(fx, 'bias'));
  for (const t of ['0', '1', '2', 'eval']) {
    if (t === 'eval') bn.eval();
    bn.store!.zeroGrad();
    const x = tensor(data(fx, `x.${t}`), get(fx, `x.${t}`).shape, { backend: be, requiresGrad: true });
    const y = bn.forward(x);
    add(`out.${t}`, relError(await y.toArray(), data(fx, `out.${t}`)), 1e-5);
    backward(y, tensor(data(fx, `dout.${t}`), y.shape, { backend: be }));
    add(`grad.x.${t}`, relError(await x.grad!.toArray(), data(fx, `grad.x.${t}`)), 1e-4);
    add(`grad.weight.${t}`, relError(await bn.weight.value.grad!.toArray(), data(fx, `grad.weight.${t}`)), 1e-4);
    add(`grad.bias.${t}`, relError(await bn.bias!.value.grad!.toArray(), data(fx, `grad.bias.${t}`)), 1e-4);
    const step = t === 'eval' ? '2' : t; // eval leaves the estimates as the last training batch left them
    add(`running_mean after ${t}`, relError(await bn.runningMean.value.toArray(), data(fx, `running_mean.${step}`)), 1e-5);
    add(`running_var after ${t}`, relError(await bn.runningVar.value.toArray(), data(fx, `running_var.${step}`)), 1e-5);
  }
  return out;
}

/** test/nn/conv.test.ts's residual block cases: both modes (outputs, gradients, buffers), then three AdamW steps and eval. */
async function residualBlockChecks(be: Backend, fx: Fixture): Promise<BnCheck[]> {
  const out: BnCheck[] = [];
  const add = (check: string, err: number, bound: number) => out.push({ case: fx.name, check, err, bound });
  const cfg = JSON.parse(fx.metadata.config) as { in_channels: number; out_channels: number; stride: number };
  const block = () => {
    const m = new ResidualBlock(cfg.in_channels, cfg.out_channels, cfg.stride).materialize(be, new Rng(1));
    m.store!.loadStateDict(new Map([...tensorsOf(fx, 'param.'), ...tensorsOf(fx, 'buffer.')]), fx.name);
    return m;
  };
  const x = get(fx, 'x');
  for (const mode of ['train', 'eval']) {
    const m = block().train(mode === 'train');
    m.store!.zeroGrad();
    const xt = tensor(x.data as ArrayLike<number>, x.shape, { backend: be, requiresGrad: true });
    const y = m.forward(xt);
    add(`${mode} out`, relError(await y.toArray(), data(fx, `${mode}.out`)), 1e-5);
    backward(y, tensor(data(fx, 'dout'), y.shape, { backend: be }));
    add(`${mode} grad.x`, relError(await xt.grad!.toArray(), data(fx, `${mode}.grad.x`)), 1e-4);
    for (const [name, p] of m.namedParameters()) add(`${mode} grad.${name}`, relError(await p.value.grad!.toArray(), data(fx, `${mode}.grad.${name}`)), 1e-4);
    const state = await m.store!.stateDict();
    for (const [name] of m.namedBuffers()) add(`${mode} ${name}`, relError(state.get(name)!.data, data(fx, mode === 'train' ? `train.buffer.${name}` : `buffer.${name}`)), 1e-5);
  }
  const m = block();
  const opt = new AdamW(m.store!, { lr: 1e-2, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 });
  const losses: number[] = [];
  for (let t = 0; t < 3; t++) {
    const batch = [{ data: Float32Array.from(data(fx, `traj.x.${t}`)), shape: x.shape }, { data: Float32Array.from(data(fx, `traj.dout.${t}`)), shape: get(fx, 'dout').shape }];
    losses.push((await optimizationStepOn(m, opt, ([xi, di]) => sum(mul(m.forward(xi), di)), batch, { gradClip: 0 })).loss);
  }
  add('trajectory losses', relError(losses, data(fx, 'traj.loss')), 1e-5);
  const state = await m.store!.stateDict();
  for (const [name, t] of state) {
    const want = m.namedBuffers().some(([n]) => n === name) ? `traj.buffer.${name}` : `traj.param.${name}`;
    add(`after the trajectory: ${name}`, relError(t.data, data(fx, want)), 1e-4);
  }
  m.eval();
  add('eval output after the trajectory', relError(await m.forward(tensor(x.data as ArrayLike<number>, x.shape, { backend: be })).toArray(), data(fx, 'traj.eval_out')), 1e-4);
  return out;
}

async function run(files: string[]): Promise<BatchNormReport> {
  const be = await createWebGpuBackend();
  const kernels = await kernelChecks(be);
  const calls = countCalls(be, ['batchNormForward', 'batchNormBackward']);
  const modules: BnCheck[] = [];
  for (const f of files) {
    const fx = decodeFixture(new Uint8Array(await (await fetch(`fixtures/${f}`)).arrayBuffer()), f);
    try {
      modules.push(...(fx.metadata.module === 'batch_norm2d' ? await batchNorm2dChecks(be, fx) : await residualBlockChecks(be, fx)));
    } catch (e) {
      modules.push({ case: fx.name, check: String(e), err: Infinity, bound: 0 });
    }
  }
  return { adapter: be.adapterName, kernels, modules, calls };
}

(globalThis as unknown as { runBatchNorm: typeof run }).runBatchNorm = run;
