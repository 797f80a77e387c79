// The WebGPU backend's fused kernels beside the reference backend's on awkward shapes, run in chromium on
// SwiftShader (webgpu-kernels.test.ts): attention forward, backward and inference over every layout the
// op front-end passes (dense heads, GPT-2's packed projection, cross-attention's packed keys | values, a
// KV cache), T past one 64-row tile and not a multiple of it, head sizes 1–128, Tk ≠ Tq, masked keys and
// queries that see none; each backward run twice (bit for bit the same); dropout's mask beside the
// reference's; convolution and pooling against the PyTorch conv fixtures (through the op front-end) and
// beside the reference on awkward windows, and a small ResNet-style net trained eager (through the fused
// BatchNorm), captured and on the reference; and --backend auto's measured path (wasm on this page's
// thread beside WebGPU). Errors are measured here and judged by the test in Node.
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { createWasmBackend } from '../../src/backend/wasm/index.ts';
import { measureAuto, type AutoDecision } from '../../src/cli/backend-auto.ts';
import { modelConfigOf, parseTrainConfig } from '../../src/train/config.ts';
import { createWebGpuBackend, type WebGpuBackend } from '../../src/backend/webgpu/index.ts';
import type { AttentionKeys, Backend, Conv2dArgs, FullBackend, HeadLayout, Pool2dArgs, Storage } from '../../src/backend/backend.ts';
import { generate } from '../../src/models/generate.ts';
import { DEFAULT_GPT_CONFIG, GPT } from '../../src/models/gpt.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { crossEntropy } from '../../src/tensor/ops/softmax.ts';
import { backward, Rng, tensor, type Tensor } from '../../src/tensor/index.ts';
import { optimizationStepOn, TrainStep, type HostInput, type LossFn } from '../../src/train/step.ts';
import { conv2d } from '../../src/tensor/ops/conv.ts';
import { avgPool2d, globalAvgPool, maxPool2d } from '../../src/tensor/ops/pool.ts';
import { relError } from '../helpers/compare.ts';
import { decodeFixture, get } from '../helpers/fixture-data.ts';
import { countCalls } from './fused-calls.ts';
import { TinyConvNet } from '../helpers/tiny-conv-net.ts';

export interface KernelCheck {
  case: string;
  check: string;
  err: number;
}

/** A deterministic generator of values in [-1, 1) (Park–Miller), so both backends see the same operands. */
function values(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1);
}

type Kind = 'dense' | 'packed' | 'cross' | 'cache';
type MaskKind = 'none' | 'holes' | 'leading';

interface AttnCase {
  kind: Kind;
  B: number;
  H: number;
  Tq: number;
  Tk: number;
  D: number;
  causal: boolean;
  mask: MaskKind;
  /** Inference only (attentionInference): no lse, no backward. */
  inference?: boolean;
}

const nameOf = (c: AttnCase) => `${c.inference ? 'inference ' : ''}${c.kind} B${c.B} H${c.H} Tq${c.Tq} Tk${c.Tk} D${c.D}${c.causal ? ' causal' : ''}${c.mask !== 'none' ? ` mask:${c.mask}` : ''}`;

/** Buffers (name → length) and where q, k, v, out and their gradients lie in them, as the op front-end lays them out. */
function plan(c: AttnCase) {
  const { B, H, Tq, Tk, D } = c;
  const C = H * D;
  const dense = (T: number): HeadLayout => ({ batch: H * T * D, head: T * D, row: D });
  switch (c.kind) {
    case 'dense':
      return {
        buffers: { q: B * H * Tq * D, k: B * H * Tk * D, v: B * H * Tk * D, out: B * H * Tq * D, dq: B * H * Tq * D, dk: B * H * Tk * D, dv: B * H * Tk * D },
        views: { q: ['q', 0], k: ['k', 0], v: ['v', 0], out: ['out', 0], dq: ['dq', 0], dk: ['dk', 0], dv: ['dv', 0] },
        qL: dense(Tq), kvL: dense(Tk), oL: dense(Tq), gL: dense(Tq), dkvL: dense(Tk),
      };
    case 'packed': // Tq = Tk: thirds of (B, T, 3C)
      return {
        buffers: { qkv: B * Tq * 3 * C, out: B * Tq * C, dqkv: B * Tq * 3 * C },
        views: { q: ['qkv', 0], k: ['qkv', C], v: ['qkv', 2 * C], out: ['out', 0], dq: ['dqkv', 0], dk: ['dqkv', C], dv: ['dqkv', 2 * C] },
        qL: { batch: Tq * 3 * C, head: D, row: 3 * C }, kvL: { batch: Tq * 3 * C, head: D, row: 3 * C }, oL: { batch: Tq * C, head: D, row: C },
        gL: { batch: Tq * 3 * C, head: D, row: 3 * C }, dkvL: { batch: Tq * 3 * C, head: D, row: 3 * C },
      };
    case 'cross': // q (B, Tq, C), keys | values (B, Tk, 2C)
      return {
        buffers: { q: B * Tq * C, kv: B * Tk * 2 * C, out: B * Tq * C, dq: B * Tq * C, dkv: B * Tk * 2 * C },
        views: { q: ['q', 0], k: ['kv', 0], v: ['kv', C], out: ['out', 0], dq: ['dq', 0], dk: ['dkv', 0], dv: ['dkv', C] },
        qL: { batch: Tq * C, head: D, row: C }, kvL: { batch: Tk * 2 * C, head: D, row: 2 * C }, oL: { batch: Tq * C, head: D, row: C },
        gL: { batch: Tq * C, head: D, row: C }, dkvL: { batch: Tk * 2 * C, head: D, row: 2 * C },
      };
    case 'cache': { // q from a packed (B, Tq, 3C) projection, k and v caches (B, H, maxT, D) with room past Tk
      const maxT = Tk + 3;
      const cache: HeadLayout = { batch: H * maxT * D, head: maxT * D, row: D };
      return {
        buffers: { qkv: B * Tq * 3 * C, kc: B * H * maxT * D, vc: B * H * maxT * D, out: B * Tq * C, dq: 1, dk: 1, dv: 1 },
        views: { q: ['qkv', 0], k: ['kc', 0], v: ['vc', 0], out: ['out', 0], dq: ['dq', 0], dk: ['dk', 0], dv: ['dv', 0] },
        qL: { batch: Tq * 3 * C, head: D, row: 3 * C }, kvL: cache, oL: { batch: Tq * C, head: D, row: C }, gL: cache, dkvL: cache,
      };
    }
    default: {
      const never: never = c.kind;
      throw new Error(`unknown case kind ${String(never)}`);
    }
  }
}

/** (B, Tk): 'holes' pads every third key of batch 0 and the last two of the others; 'leading' pads the first three keys of every batch. */
function maskOf(c: AttnCase): Float32Array {
  return Float32Array.from({ length: c.B * c.Tk }, (_, i) => {
    const [b, j] = [Math.floor(i / c.Tk), i % c.Tk];
    if (c.mask === 'leading') return j < 3 ? 0 : 1;
    return (b === 0 ? j % 3 === 1 : j >= c.Tk - 2) ? 0 : 1;
  });
}

type AttnBackend = Backend & Pick<FullBackend, 'attentionForward' | 'attentionBackward' | 'attentionInference'>;

async function runAttention(be: AttnBackend, c: AttnCase, backwardTwice: boolean): Promise<Record<string, Float32Array>> {
  const p = plan(c);
  const bufs = new Map<string, Storage>();
  let seed = 11;
  for (const [name, n] of Object.entries(p.buffers)) {
    const s = be.alloc('float32', n);
    // Gradients start as NaN: an element the kernel should write but does not shows up as an error.
    be.write(s, name.startsWith('d') ? new Float32Array(n).fill(NaN) : values(n, seed++ * 7919));
    bufs.set(name, s);
  }
  const view = (v: string) => {
    const [buf, off] = p.views[v as keyof typeof p.views] as [string, number];
    const s = bufs.get(buf)!;
    return be.view(s, off, s.length - off);
  };
  const [q, k, v, out] = [view('q'), view('k'), view('v'), view('out')];
  const scale = 1 / Math.sqrt(c.D);
  const result: Record<string, Float32Array> = {};
  if (c.inference) {
    be.attentionInference(q, p.qL, k, v, p.kvL, out, p.oL, c.B, c.H, c.Tq, c.Tk, c.D, scale, c.causal);
    result.out = (await be.read(out)) as Float32Array;
    return result;
  }
  let mask: Storage | null = null;
  if (c.mask !== 'none') {
    mask = be.alloc('float32', c.B * c.Tk);
    be.write(mask, maskOf(c));
  }
  const self = c.kind === 'dense' || c.kind === 'packed';
  const keys: AttentionKeys | undefined = self && c.Tq === c.Tk && mask === null ? undefined : { Tk: c.Tk, kvLayout: p.kvL, dkvLayout: p.dkvL, keyMask: mask };
  const lse = be.alloc('float32', c.B * c.H * c.Tq);
  be.attentionForward(q, k, v, p.qL, out, p.oL, lse, c.B, c.H, c.Tq, c.D, scale, c.causal, keys);
  result.out = (await be.read(out)) as Float32Array;
  result.lse = (await be.read(lse)) as Float32Array;
  const dout = be.alloc('float32', p.buffers.out);
  be.write(dout, values(p.buffers.out, 424242));
  const grads = ['dq', 'dk', 'dv'].map(view);
  for (let round = 0; round < (backwardTwice ? 2 : 1); round++) {
    be.attentionBackward(q, k, v, p.qL, out, dout, p.oL, lse, grads[0], grads[1], grads[2], p.gL, c.B, c.H, c.Tq, c.D, scale, c.causal, keys);
    // The gradient buffers whole (a packed one holds dq, dk and dv).
    for (const name of Object.keys(p.buffers).filter((n) => n.startsWith('d'))) result[`${name}${round ? ' again' : ''}`] = (await be.read(bufs.get(name)!)) as Float32Array;
  }
  return result;
}

const ATTENTION_CASES: AttnCase[] = [
  { kind: 'dense', B: 1, H: 1, Tq: 1, Tk: 1, D: 1, causal: true, mask: 'none' },
  { kind: 'dense', B: 2, H: 2, Tq: 5, Tk: 5, D: 8, causal: false, mask: 'none' },
  { kind: 'dense', B: 1, H: 3, Tq: 67, Tk: 67, D: 12, causal: true, mask: 'none' },
  { kind: 'dense', B: 2, H: 1, Tq: 9, Tk: 4, D: 8, causal: true, mask: 'none' }, // Tq > Tk: the first 5 queries see no key
  { kind: 'dense', B: 2, H: 2, Tq: 7, Tk: 130, D: 20, causal: true, mask: 'holes' },
  { kind: 'dense', B: 2, H: 1, Tq: 6, Tk: 6, D: 5, causal: true, mask: 'leading' }, // queries 0–2 see no real key
  { kind: 'packed', B: 2, H: 3, Tq: 70, Tk: 70, D: 20, causal: true, mask: 'none' },
  { kind: 'packed', B: 1, H: 2, Tq: 129, Tk: 129, D: 64, causal: true, mask: 'none' },
  { kind: 'packed', B: 2, H: 2, Tq: 33, Tk: 33, D: 8, causal: false, mask: 'holes' },
  { kind: 'cross', B: 2, H: 3, Tq: 7, Tk: 19, D: 12, causal: false, mask: 'holes' },
  { kind: 'cross', B: 2, H: 2, Tq: 65, Tk: 131, D: 20, causal: false, mask: 'none' },
  { kind: 'cross', B: 1, H: 2, Tq: 1, Tk: 70, D: 20, causal: false, mask: 'leading' },
  { kind: 'cache', B: 2, H: 3, Tq: 1, Tk: 37, D: 20, causal: true, mask: 'none', inference: true },
  { kind: 'cache', B: 1, H: 2, Tq: 5, Tk: 70, D: 12, causal: true, mask: 'none', inference: true },
  { kind: 'cache', B: 2, H: 1, Tq: 66, Tk: 66, D: 8, causal: true, mask: 'none', inference: true },
  { kind: 'cache', B: 1, H: 2, Tq: 3, Tk: 9, D: 64, causal: false, mask: 'none', inference: true },
];

async function attentionChecks(be: AttnBackend): Promise<KernelCheck[]> {
  const ref = createRefBackend();
  const out: KernelCheck[] = [];
  for (const c of ATTENTION_CASES) {
    const name = nameOf(c);
    try {
      const want = await runAttention(ref, c, false);
      const got = await runAttention(be, c, true);
      for (const [check, w] of Object.entries(want)) {
        if (check === 'lse') {
          // +∞ (a query that sees no key) must match exactly; the rest as values.
          const inf = [...w].map((x, i) => (x === Infinity) !== (got.lse[i] === Infinity)).some(Boolean);
          out.push({ case: name, check: 'lse: +∞ where no key is seen', err: inf ? Infinity : 0 });
          out.push({ case: name, check: 'lse', err: relError(got.lse.map((x) => (x === Infinity ? 0 : x)), w.map((x) => (x === Infinity ? 0 : x))) });
          continue;
        }
        out.push({ case: name, check, err: relError(got[check], w) });
      }
      for (const check of Object.keys(got).filter((k) => k.endsWith(' again'))) {
        const first = got[check.slice(0, -' again'.length)];
        const same = first.every((x, i) => Object.is(x, got[check][i]));
        out.push({ case: name, check: `${check.slice(0, -' again'.length)} bit for bit on a second run`, err: same ? 0 : Infinity });
      }
    } catch (e) {
      out.push({ case: name, check: String(e), err: Infinity });
    }
  }
  return out;
}

/** Dropout's mask and output on a backend, the operands views `offset` elements into their buffers. */
async function runDropout(be: Backend, n: number, p: number, seed: number, offset: number): Promise<{ mask: Float32Array; out: Float32Array }> {
  const [x, out, mask] = [0, 1, 2].map(() => be.alloc('float32', n + offset));
  be.write(x, values(n + offset, 99));
  const [xv, ov, mv] = [x, out, mask].map((s) => be.view(s, offset, n));
  be.dropoutForward!(xv, ov, mv, p, seed);
  return { mask: (await be.read(mv)) as Float32Array, out: (await be.read(ov)) as Float32Array };
}

/** Dropout beside the reference: the mask bit for bit (err = the elements that differ), out, and the share dropped against p. */
async function dropoutChecks(be: Backend): Promise<KernelCheck[]> {
  const ref = createRefBackend();
  const out: KernelCheck[] = [];
  const cases: [number, number, number, number][] = [[1, 0.5, 0, 0], [1000, 0.1, 12345, 0], [70001, 0.37, 0xffffffff, 0], [4097, 1 / 3, 7, 5], [3000, 0.9, 2 ** 31, 0]];
  for (const [n, p, seed, offset] of cases) {
    const name = `n ${n} p ${p.toFixed(3)} seed ${seed}${offset ? ` at offset ${offset}` : ''}`;
    const [got, want] = [await runDropout(be, n, p, seed, offset), await runDropout(ref, n, p, seed, offset)];
    out.push({ case: name, check: 'mask bit for bit', err: got.mask.filter((m, i) => !Object.is(m, want.mask[i])).length });
    out.push({ case: name, check: 'out', err: relError(got.out, want.out) });
    if (n >= 1000) out.push({ case: name, check: 'share dropped − p', err: Math.abs(got.mask.filter((m) => m === 0).length / n - p) });
  }
  // out and mask as overlapping views of one buffer: refused (the second binding's copy would overwrite the first's results).
  const shared = be.alloc('float32', 12);
  let refusal = '';
  try {
    be.dropoutForward!(be.alloc('float32', 8), be.view(shared, 0, 8), be.view(shared, 4, 8), 0.5, 1);
  } catch (e) {
    refusal = String(e);
  }
  out.push({ case: 'out and mask overlapping in one buffer', check: `refused: ${refusal}`, err: /overlapping views of one buffer/.test(refusal) ? 0 : Infinity });
  // A replay would draw the captured seed's mask again: the capture refuses, as the wasm backend's does.
  const x = be.alloc('float32', 8);
  be.beginCapture!();
  be.dropoutForward!(x, be.alloc('float32', 8), be.alloc('float32', 8), 0.5, 1);
  const r = be.endCapture!();
  out.push({ case: 'under a capture', check: `refused: ${r.reason}`, err: r.program === null && /dropout/.test(r.reason ?? '') ? 0 : Infinity });
  return out;
}

type ConvArgs = { stride?: [number, number]; padding?: [number, number]; kernel?: [number, number] };

/** A conv fixture's op (conv2d, max_pool2d, avg_pool2d, global_avg_pool), as test/nn/conv.test.ts runs it. */
function convOp(op: string, x: Record<string, Tensor>, args: ConvArgs): Tensor {
  const opts = { stride: args.stride, padding: args.padding };
  switch (op) {
    case 'conv2d':
      return conv2d(x.x, x.weight, x.bias ?? null, opts);
    case 'max_pool2d':
      return maxPool2d(x.x, args.kernel!, opts);
    case 'avg_pool2d':
      return avgPool2d(x.x, args.kernel!, opts);
    case 'global_avg_pool':
      return globalAvgPool(x.x);
    default:
      throw new Error(`no op '${op}' in the conv fixtures`);
  }
}

/** Every op fixture of test/fixtures/conv forward and backward through the op front-end (test/nn/conv.test.ts's calls). */
async function convFixtureChecks(be: Backend, files: string[]): Promise<KernelCheck[]> {
  const out: KernelCheck[] = [];
  for (const f of files) {
    const fx = decodeFixture(new Uint8Array(await (await fetch(`fixtures/${f}`)).arrayBuffer()), f);
    if (fx.metadata.op === undefined) continue;
    try {
      const names = [...fx.tensors.keys()].filter((n) => n !== 'out' && n !== 'dout' && !n.startsWith('grad.'));
      const inputs = Object.fromEntries(names.map((n) => [n, tensor(get(fx, n).data as ArrayLike<number>, get(fx, n).shape, { backend: be, requiresGrad: true })]));
      const y = convOp(fx.metadata.op, inputs, JSON.parse(fx.metadata.args) as ConvArgs);
      out.push({ case: fx.name, check: 'out', err: relError(await y.toArray(), get(fx, 'out').data as ArrayLike<number>) });
      backward(y, tensor(get(fx, 'dout').data as ArrayLike<number>, y.shape, { backend: be }));
      for (const [n, t] of Object.entries(inputs)) out.push({ case: fx.name, check: `grad.${n}`, err: relError(await t.grad!.toArray(), get(fx, `grad.${n}`).data as ArrayLike<number>) });
    } catch (e) {
      out.push({ case: fx.name, check: String(e), err: Infinity });
    }
  }
  return out;
}

type Win = [B: number, C: number, Cout: number, H: number, W: number, kH: number, kW: number, sH: number, sW: number, pH: number, pW: number];

function windowOf([B, C, Cout, H, W, kH, kW, sH, sW, pH, pW]: Win): Conv2dArgs & Pool2dArgs {
  return { B, C, Cin: C, Cout, H, W, kH, kW, strideH: sH, strideW: sW, padH: pH, padW: pW, Ho: Math.floor((H + 2 * pH - kH) / sH) + 1, Wo: Math.floor((W + 2 * pW - kW) / sW) + 1 };
}

/** Every conv and pool kernel on one backend, over the same operands; results by name. */
async function runWindows(be: Backend, a: Conv2dArgs & Pool2dArgs, bias: boolean, ties: boolean): Promise<Record<string, HostArrayLike>> {
  const nx = a.B * a.C * a.H * a.W;
  const ny = a.B * a.Cout * a.Ho * a.Wo;
  const np = a.B * a.C * a.Ho * a.Wo;
  const nw = a.Cout * a.C * a.kH * a.kW;
  const put = (data: ArrayLike<number>, dtype: 'float32' | 'int32' = 'float32') => {
    const s = be.alloc(dtype, data.length);
    be.write(s, data);
    return s;
  };
  // Ties: small integers, so windows hold equal maxima (the first must be chosen).
  const xv = ties ? values(nx, 5).map((v) => Math.round(v * 2)) : values(nx, 5);
  const [x, w, b, dy, dp] = [put(xv), put(values(nw, 6)), put(values(a.Cout, 7)), put(values(ny, 8)), put(values(np, 9))];
  const r: Record<string, HostArrayLike> = {};
  const y = be.alloc('float32', ny);
  be.conv2dForward!(x, w, bias ? b : null, y, a);
  r['conv out'] = await be.read(y);
  const [dx, dw, db] = [be.alloc('float32', nx), be.alloc('float32', nw), be.alloc('float32', a.Cout)];
  be.conv2dBackward!(dy, x, w, dx, dw, bias ? db : null, a);
  r['conv dx'] = await be.read(dx);
  r['conv dw'] = await be.read(dw);
  if (bias) r['conv dbias'] = await be.read(db);
  if (2 * a.padH <= a.kH && 2 * a.padW <= a.kW) {
    const [mo, am, mdx] = [be.alloc('float32', np), be.alloc('int32', np), put(new Float32Array(nx).fill(NaN))];
    be.maxPool2dForward!(x, mo, am, a);
    be.maxPool2dBackward!(dp, am, mdx, a);
    r['max out'] = await be.read(mo);
    r['max argmax'] = await be.read(am);
    r['max dx'] = await be.read(mdx);
  }
  const [ao, adx] = [be.alloc('float32', np), put(new Float32Array(nx).fill(NaN))];
  be.avgPool2dForward!(x, ao, a);
  be.avgPool2dBackward!(dp, adx, a);
  r['avg out'] = await be.read(ao);
  r['avg dx'] = await be.read(adx);
  return r;
}

type HostArrayLike = ArrayLike<number>;

const WINDOW_CASES: [Win, boolean, boolean][] = [
  [[1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0], false, false], // no bias: with these operands its one output b + w·x nearly cancels (float32 rounding came to 1.2e-4 of it)
  [[2, 3, 5, 13, 11, 3, 2, 2, 1, 1, 1], true, false],
  [[3, 4, 2, 9, 7, 3, 3, 2, 2, 1, 1], false, false],
  [[2, 16, 16, 16, 16, 3, 3, 1, 1, 1, 1], true, false], // a tree of 512 windows per weight element
  [[1, 2, 3, 8, 8, 1, 1, 2, 2, 0, 0], true, false],
  [[2, 3, 4, 10, 9, 2, 2, 2, 2, 0, 0], false, true], // ties: the first maximum
  [[1, 5, 3, 7, 12, 5, 3, 3, 2, 2, 1], true, true],
];

/** Max pooling over planes holding NaNs (torch: a NaN wins, the last one in window order): out (NaN as NaN) and argmax. */
async function maxPoolNaN(be: Backend): Promise<Record<string, HostArrayLike>> {
  const a = windowOf([2, 2, 2, 6, 5, 3, 2, 1, 1, 1, 1]);
  const x = be.alloc('float32', 2 * 2 * 6 * 5);
  be.write(x, values(120, 3).map((v, i) => (i % 7 === 3 || i % 11 === 5 ? NaN : v)));
  const [o, am] = [be.alloc('float32', 2 * 2 * a.Ho * a.Wo), be.alloc('int32', 2 * 2 * a.Ho * a.Wo)];
  be.maxPool2dForward!(x, o, am, a);
  return { 'max out with NaNs': await be.read(o), 'max argmax with NaNs': await be.read(am) };
}

async function windowChecks(be: Backend): Promise<KernelCheck[]> {
  const ref = createRefBackend();
  const out: KernelCheck[] = [];
  const [gotNaN, wantNaN] = [await maxPoolNaN(be), await maxPoolNaN(ref)];
  for (const [check, w] of Object.entries(wantNaN)) out.push({ case: 'NaNs in the planes', check, err: Array.from(w).filter((v, i) => !Object.is(v, gotNaN[check][i])).length });
  for (const [win, bias, ties] of WINDOW_CASES) {
    const a = windowOf(win);
    const name = `B${a.B} C${a.C}→${a.Cout} ${a.H}×${a.W} k${a.kH}×${a.kW} s${a.strideH}×${a.strideW} p${a.padH}×${a.padW}${bias ? ' bias' : ''}${ties ? ' ties' : ''}`;
    try {
      const [got, want] = [await runWindows(be, a, bias, ties), await runWindows(ref, a, bias, ties)];
      for (const [check, w] of Object.entries(want)) {
        out.push({ case: name, check, err: check === 'max argmax' ? Array.from(w).filter((v, i) => v !== got[check][i]).length : relError(got[check], w) });
      }
    } catch (e) {
      out.push({ case: name, check: String(e), err: Infinity });
    }
  }
  return out;
}

/** Four training steps of TinyConvNet on 18 × 18 images (B = 4), eager or captured (TrainStep): the losses, and why steps ran eagerly. */
async function convNetLosses(be: Backend, captured: boolean): Promise<{ losses: number[]; eagerReason: string | null }> {
  const net = new TinyConvNet().materialize(be, new Rng(7));
  const opt = new AdamW(net.store!, { lr: 3e-3, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 });
  const loss: LossFn = ([x, y]) => crossEntropy(net.forward(x), y);
  const stepper = captured ? new TrainStep(net, opt, { loss }) : undefined;
  const rng = new Rng(11);
  const losses: number[] = [];
  for (let s = 0; s < 4; s++) {
    const batch: HostInput[] = [
      { data: Float32Array.from({ length: 4 * 3 * 18 * 18 }, () => rng.normal()), shape: [4, 3, 18, 18] },
      { data: Int32Array.from({ length: 4 }, () => rng.int(5)), shape: [4] },
    ];
    const o = { gradClip: 1 };
    losses.push((await (stepper ? stepper.runBatch(batch, o) : optimizationStepOn(net, opt, loss, batch, o))).loss);
  }
  const eagerReason = stepper?.eagerReason ?? null;
  stepper?.release();
  return { losses, eagerReason };
}

export interface ConvNetReport {
  webgpu: number[];
  captured: number[];
  ref: number[];
  eagerReason: string | null;
  /** The fused BatchNorm kernels' calls in the eager run (the composition would give the same losses). */
  batchNormCalls: Record<string, number>;
  error?: string;
}

async function convNet(be: WebGpuBackend): Promise<ConvNetReport> {
  try {
    const calls = countCalls(be, ['batchNormForward', 'batchNormBackward']);
    const eager = await convNetLosses(be, false);
    const batchNormCalls = { ...calls };
    const [captured, ref] = [await convNetLosses(be, true), await convNetLosses(createRefBackend(), false)];
    return { webgpu: eager.losses, captured: captured.losses, ref: ref.losses, eagerReason: captured.eagerReason, batchNormCalls };
  } catch (e) {
    return { webgpu: [], captured: [], ref: [], eagerReason: null, batchNormCalls: {}, error: String(e) };
  }
}

/**
 * Generation of 24 tokens past a 16-position block (so the KV cache is reset and refilled: Tq > 1
 * against the cache, then Tq = 1) by a tiny GPT from the same seed: through cachedAttention, so
 * attentionInference on WebGPU.
 */
async function greedyTokens(be: Backend): Promise<number[]> {
  const model = GPT.create({ ...DEFAULT_GPT_CONFIG, vocabSize: 40, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 32, dropout: 0 }, { backend: be, seed: 3 });
  // Sampled at temperature 1 from one seed (an untrained model's argmax is one token over and over).
  const out = await generate(model, [1, 2, 3], { maxNewTokens: 24, temperature: 1, seed: 5 });
  model.store!.release();
  return out;
}

async function generation(be: Backend): Promise<KernelReport['generation']> {
  try {
    return { webgpu: await greedyTokens(be), ref: await greedyTokens(createRefBackend()) };
  } catch (e) {
    return { webgpu: [], ref: [], error: String(e) };
  }
}

export interface KernelReport {
  adapter: string;
  attention: KernelCheck[];
  dropout: KernelCheck[];
  convFixtures: KernelCheck[];
  windows: KernelCheck[];
  convNet: ConvNetReport;
  generation: { webgpu: number[]; ref: number[]; error?: string };
  auto: AutoDecision | { error: string };
}

/** auto's measured path on a tiny GPT (2 layers, width 32, block 16, batch 4): wasm on one thread beside this WebGPU adapter. */
async function autoDecision(be: Backend): Promise<AutoDecision | { error: string }> {
  try {
    const c = parseTrainConfig({ nLayer: 2, nHead: 2, nEmbd: 32, blockSize: 16, batchSize: 4 });
    return await measureAuto(await createWasmBackend({ threads: 1 }), be, { model: modelConfigOf(c, 40), batchSize: c.batchSize });
  } catch (e) {
    return { error: String(e) };
  }
}

async function run(convFiles: string[]): Promise<KernelReport> {
  const be = await createWebGpuBackend();
  return {
    adapter: be.adapterName, attention: await attentionChecks(be), dropout: await dropoutChecks(be), convFixtures: await convFixtureChecks(be, convFiles),
    windows: await windowChecks(be), convNet: await convNet(be), generation: await generation(be), auto: await autoDecision(be),
  };
}

(globalThis as unknown as { runKernels: typeof run }).runKernels = run;
