// Attention for the encoder-decoder (src/tensor/ops/attention.ts): key padding masks, Tq ≠ Tk and the
// cross-attention layout, forward and every gradient against PyTorch (test/fixtures/attention/, made
// from primitives by scripts/make_fixtures.py), the fused kernels against their composition on awkward
// shapes, float64 finite differences on ref, and captured steps on wasm replaying a new mask each time.

import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.ts';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { coreOnly } from '../../src/backend/views.ts';
import { loadWasmKernels } from '../../src/backend/wasm/index.ts';
import * as F from '../../src/tensor/index.ts';
import { backward, stepScope, tensor, type Tensor } from '../../src/tensor/index.ts';
import { attentionComposed, crossAttentionComposed, packedAttentionComposed } from '../../src/tensor/ops/composed.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { relError } from '../helpers/compare.ts';
import { get, listFixtures, loadFixture } from '../helpers/fixtures.ts';
import { DATA_INPUTS, runOp, type Inputs } from '../parity/op-cases.ts';
import { rand } from '../wasm-backend/harness.ts';

const fixtures = listFixtures('attention').map((f) => loadFixture('attention', f));

type Op = 'attention' | 'packed' | 'cross';

/** One call's shapes: B, H, Tq, Tk, D (packed: Tq = Tk), causal, and a mask row per batch (null: no mask). */
interface Shape {
  op: Op;
  B: number;
  H: number;
  Tq: number;
  Tk: number;
  D: number;
  causal: boolean;
  mask: number[][] | null;
}

/** A mask of B rows over Tk keys: row 0 right-padded, row 1 fully padded, row 2 with holes, row 3 left-padded, then all real. */
function masks(B: number, Tk: number): number[][] {
  return Array.from({ length: B }, (_, b) =>
    Array.from({ length: Tk }, (_, j) => {
      switch (b) {
        case 0: return j < Math.max(1, Tk - 2) ? 1 : 0;
        case 1: return 0;
        case 2: return j % 3 === 1 ? 0 : 1;
        case 3: return j < Math.floor(Tk / 2) ? 0 : 1;
        default: return 1;
      }
    }));
}

/** The op's inputs as host arrays (q, k, v / qkv / q, kv) and their shapes. */
function inputShapes(s: Shape): Record<string, number[]> {
  const C = s.H * s.D;
  switch (s.op) {
    case 'attention': return { q: [s.B, s.H, s.Tq, s.D], k: [s.B, s.H, s.Tk, s.D], v: [s.B, s.H, s.Tk, s.D] };
    case 'packed': return { qkv: [s.B, s.Tq, 3 * C] };
    case 'cross': return { q: [s.B, s.Tq, C], kv: [s.B, s.Tk, 2 * C] };
  }
}

function outShape(s: Shape): number[] {
  return s.op === 'attention' ? [s.B, s.H, s.Tq, s.D] : [s.B, s.Tq, s.H * s.D];
}

/** The fused op (or, with `composed`, its composition from the core) on inputs x. */
function call(s: Shape, x: Inputs, mask: Tensor | null, composed = false): Tensor {
  switch (s.op) {
    case 'attention': return (composed ? attentionComposed : F.attention)(x.q, x.k, x.v, s.causal, mask);
    case 'packed': return composed ? packedAttentionComposed(x.qkv, s.H, s.causal, mask) : F.packedAttention(x.qkv, s.H, s.causal, mask);
    case 'cross': return (composed ? crossAttentionComposed : F.crossAttention)(x.q, x.kv, s.H, mask);
  }
}

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Runs s on be from seeded data; returns the output and every input gradient, read back. */
function run(be: Backend, s: Shape, seed: number, opts: { composed?: boolean; dtype?: 'float32' | 'float64'; mask?: number[][] | null } = {}) {
  return stepScope(() => {
    const dtype = opts.dtype ?? 'float32';
    const x: Inputs = {};
    let i = 0;
    for (const [name, shape] of Object.entries(inputShapes(s))) {
      x[name] = tensor(rand(sizeOf(shape), seed + 31 * i++, -2, 2), shape, { backend: be, dtype, requiresGrad: true });
    }
    const m = opts.mask === undefined ? s.mask : opts.mask;
    const mask = m ? tensor(m.flat(), [s.B, s.Tk], { backend: be, dtype }) : null;
    const out = call(s, x, mask, opts.composed);
    backward(out, tensor(rand(out.size, seed + 7), out.shape, { backend: be, dtype }));
    const grads = Object.fromEntries(Object.entries(x).map(([n, t]) => [n, Array.from(t.grad!.toArraySync())]));
    return { out: Array.from(out.toArraySync()), grads };
  });
}

// Awkward shapes: Tq = 1, Tq ≠ Tk both ways, T past the wasm kernels' query blocks (32), D not a
// multiple of 4 and multiples of 16 (their paired paths), H = 1 and 3, B = 1 and 4 (every mask kind).
const SHAPES: Shape[] = [];
for (const [op, B, H, Tq, Tk, D] of [
  ['attention', 1, 1, 1, 1, 1], ['attention', 2, 3, 1, 7, 5], ['attention', 4, 1, 9, 4, 16], ['attention', 2, 2, 37, 45, 32],
  ['attention', 3, 3, 6, 6, 3], ['packed', 4, 3, 7, 7, 5], ['packed', 2, 1, 35, 35, 16], ['packed', 1, 2, 1, 1, 4],
  ['cross', 4, 3, 5, 11, 5], ['cross', 2, 1, 1, 6, 7], ['cross', 3, 2, 13, 3, 16], ['cross', 2, 2, 40, 34, 32],
] as const) {
  for (const causal of op === 'cross' ? [false] : [false, true]) {
    SHAPES.push({ op, B, H, Tq, Tk: op === 'packed' ? Tq : Tk, D, causal, mask: masks(B, op === 'packed' ? Tq : Tk) });
  }
}
const label = (s: Shape) => `${s.op} B ${s.B} H ${s.H} Tq ${s.Tq} Tk ${s.Tk} D ${s.D}${s.causal ? ' causal' : ''}`;

describe.each(BACKENDS)('attention with key masks on $name', ({ make }) => {
  const backend = make();

  it.each(fixtures.map((f) => [f.name, f] as const))('%s: forward and every gradient against PyTorch', (_name, fx) => {
    stepScope(() => {
      const args = JSON.parse(fx.metadata.args) as Record<string, unknown>;
      const inputs: Inputs = {};
      for (const [name, t] of fx.tensors) {
        if (name === 'out' || name === 'dout' || name.startsWith('grad.')) continue;
        inputs[name] = tensor(t.data as ArrayLike<number>, t.shape, { backend, requiresGrad: !DATA_INPUTS.has(name) });
      }
      const out = runOp(fx.metadata.op, inputs, args);
      const expected = get(fx, 'out');
      expect(out.shape).toEqual(expected.shape);
      expect(relError(out.toArraySync(), expected.data as ArrayLike<number>)).toBeLessThanOrEqual(1e-5);
      const dout = get(fx, 'dout');
      backward(out, tensor(dout.data as ArrayLike<number>, dout.shape, { backend }));
      for (const [name, t] of Object.entries(inputs)) {
        if (DATA_INPUTS.has(name)) {
          expect(t.grad, 'the key mask is data').toBeNull();
          continue;
        }
        const g = get(fx, `grad.${name}`);
        const err = relError(t.grad!.toArraySync(), g.data as ArrayLike<number>);
        expect(err, `gradient of ${name}`).toBeLessThanOrEqual(1e-4);
      }
    });
  });

  it.each(SHAPES.map((s) => [label(s), s] as const))('%s: fused equals the composition, padded rows give exact zeros', (_l, s) => {
    const fused = run(backend, s, s.Tq + s.Tk);
    const composed = run(backend, s, s.Tq + s.Tk, { composed: true });
    expect(relError(fused.out, composed.out)).toBeLessThanOrEqual(1e-5);
    for (const name of Object.keys(fused.grads)) {
      expect(fused.grads[name].every(Number.isFinite), `${name} finite`).toBe(true);
      expect(relError(fused.grads[name], composed.grads[name]), `gradient of ${name}`).toBeLessThanOrEqual(1e-4);
    }
    // Batch row 1 (when there is one) has no real key: its output and every gradient of it are exactly 0.
    if (s.B > 1) {
      const per = (a: number[]) => a.slice(a.length / s.B, (2 * a.length) / s.B);
      expect(per(fused.out).every((v) => v === 0)).toBe(true);
      for (const name of Object.keys(fused.grads)) expect(per(fused.grads[name]).every((v) => v === 0), name).toBe(true);
    }
  });

  it('an all-real mask gives what no mask gives; a padded key changes nothing of the other keys’ values', () => {
    for (const s of [SHAPES[3], SHAPES[11], SHAPES[16]]) {
      const ones = Array.from({ length: s.B }, () => new Array<number>(s.Tk).fill(1));
      const a = run(backend, s, 3, { mask: ones });
      const b = run(backend, s, 3, { mask: null });
      expect(relError(a.out, b.out)).toBeLessThanOrEqual(1e-6);
      for (const name of Object.keys(a.grads)) expect(relError(a.grads[name], b.grads[name])).toBeLessThanOrEqual(1e-5);
    }
  });

  it('decoding: one query at a time under noGrad against keys and values projected once gives the full rows', () => {
    stepScope(() => {
      const [B, Tq, Tk, H, D] = [4, 5, 6, 2, 16];
      const C = H * D;
      const q = tensor(rand(B * Tq * C, 1, -2, 2), [B, Tq, C], { backend });
      const kv = tensor(rand(B * Tk * 2 * C, 2, -2, 2), [B, Tk, 2 * C], { backend });
      const mask = tensor(masks(B, Tk).flat(), [B, Tk], { backend });
      const full = F.crossAttention(q, kv, H, mask);
      F.noGrad(() => {
        for (let t = 0; t < Tq; t++) {
          const step = F.crossAttention(F.slice(q, 1, t, t + 1), kv, H, mask); // (B, 1, C)
          expect(relError(step.toArraySync(), F.slice(full, 1, t, t + 1).toArraySync())).toBeLessThanOrEqual(1e-6);
        }
      });
    });
  });

  it('refuses a key mask of the wrong shape or dtype, and cross-attention operands that do not fit', () => {
    stepScope(() => {
      const z = (shape: number[], dtype: 'float32' | 'int32' = 'float32') => F.zeros(shape, { backend, dtype });
      expect(() => F.attention(z([2, 1, 3, 4]), z([2, 1, 5, 4]), z([2, 1, 5, 4]), false, z([2, 3])))
        .toThrow(/attention: keyMask must be \(B, Tk\) = \[2, 5\].*got \[2, 3\]/);
      expect(() => F.attention(z([2, 1, 3, 4]), z([2, 1, 5, 4]), z([2, 1, 4, 4]))).toThrow(/k, v share one \(B, H, Tk, D\) shape/);
      expect(() => F.packedAttention(z([2, 3, 6]), 1, false, z([2, 3], 'int32'))).toThrow(/packedAttention: expected a float tensor, got int32/);
      expect(() => F.crossAttention(z([2, 3, 4]), z([2, 5, 6]), 2)).toThrow(/crossAttention: q must be \(B, Tq, C\) and kv \(B, Tk, 2C\)/);
      expect(() => F.crossAttention(z([2, 3, 4]), z([2, 5, 8]), 3)).toThrow(/C = 4, which is not divisible by nHead = 3/);
      expect(() => F.crossAttention(z([2, 3, 4]), z([2, 5, 8]), 2, z([5, 2]))).toThrow(/keyMask must be \(B, Tk\) = \[2, 5\]/);
    });
  });
});

describe.each([
  { name: 'ref', make: createRefBackend },
  { name: 'ref (core only)', make: () => coreOnly(createRefBackend()) },
])('attention gradients against float64 finite differences on $name', ({ make }) => {
  const be = make();
  const cases: Shape[] = [
    { op: 'attention', B: 2, H: 2, Tq: 3, Tk: 4, D: 3, causal: false, mask: [[1, 0, 1, 1], [0, 0, 0, 0]] },
    { op: 'attention', B: 2, H: 1, Tq: 4, Tk: 2, D: 2, causal: true, mask: [[1, 1], [0, 1]] },
    { op: 'packed', B: 2, H: 2, Tq: 3, Tk: 3, D: 2, causal: true, mask: [[0, 1, 1], [1, 1, 0]] },
    { op: 'cross', B: 2, H: 3, Tq: 2, Tk: 3, D: 1, causal: false, mask: [[1, 1, 0], [0, 0, 0]] },
    { op: 'cross', B: 1, H: 1, Tq: 1, Tk: 5, D: 3, causal: false, mask: [[0, 1, 1, 0, 1]] },
  ];
  it.each(cases.map((s) => [label(s), s] as const))('%s', (_l, s) => {
    const shapes = inputShapes(s);
    const data = Object.fromEntries(Object.entries(shapes).map(([n, sh], i) => [n, Array.from(rand(sizeOf(sh), 11 + i, -1.5, 1.5))]));
    const w = Array.from(rand(sizeOf(outShape(s)), 5));
    const mask = s.mask!.flat();
    // L = Σ w·out, and its analytic gradient by backward.
    const loss = (values: Record<string, number[]>, grads: boolean) => stepScope(() => {
      const x: Inputs = {};
      for (const [n, sh] of Object.entries(shapes)) x[n] = tensor(values[n], sh, { backend: be, dtype: 'float64', requiresGrad: grads });
      const out = call(s, x, tensor(mask, [s.B, s.Tk], { backend: be, dtype: 'float64' }));
      const l = F.sum(F.mul(out, tensor(w, out.shape, { backend: be, dtype: 'float64' })));
      if (grads) backward(l);
      return {
        value: l.toArraySync()[0],
        grads: grads ? Object.fromEntries(Object.entries(x).map(([n, t]) => [n, Array.from(t.grad!.toArraySync())])) : {},
      };
    });
    const analytic = loss(data, true).grads;
    const h = 1e-6;
    for (const [n, values] of Object.entries(data)) {
      for (let i = 0; i < values.length; i++) {
        const x0 = values[i];
        values[i] = x0 + h;
        const fp = loss(data, false).value;
        values[i] = x0 - h;
        const fm = loss(data, false).value;
        values[i] = x0;
        const numeric = (fp - fm) / (2 * h);
        expect(Math.abs(analytic[n][i] - numeric), `${n}[${i}]: analytic ${analytic[n][i]}, numeric ${numeric}`)
          .toBeLessThanOrEqual(1e-7 + 1e-6 * Math.abs(numeric));
      }
    }
  });
});

const kernels = await loadWasmKernels();

describe('attention with key masks on wasm: captured steps and threads', () => {
  // Big enough for the 2-thread split (B·H·Tq·Tk·D past the threading threshold).
  const shapes: Shape[] = [
    { op: 'cross', B: 4, H: 2, Tq: 19, Tk: 40, D: 48, causal: false, mask: masks(4, 40) },
    { op: 'packed', B: 4, H: 2, Tq: 36, Tk: 36, D: 32, causal: false, mask: masks(4, 36) },
    { op: 'attention', B: 4, H: 3, Tq: 30, Tk: 41, D: 20, causal: true, mask: masks(4, 41) },
  ];

  it.each(shapes.map((s) => [label(s), s] as const))('%s: 1 and 2 threads bit-identical', (_l, s) => {
    const one = run(kernels.createBackend(), s, 9);
    const two = run(BACKENDS[3].make(), s, 9);
    expect(two.out).toEqual(one.out);
    expect(two.grads).toEqual(one.grads);
  });

  it.each(shapes.map((s) => [label(s), s] as const))('%s: a captured forward and backward replays a new mask each time, as eager', async (_l, s) => {
    const threaded = await kernels.createThreadedBackend({ threads: 2 });
    for (const be of [kernels.createBackend(), threaded]) {
      stepScope(() => {
        const x: Inputs = {};
        let i = 0;
        for (const [name, shape] of Object.entries(inputShapes(s))) {
          x[name] = tensor(rand(sizeOf(shape), 40 + i++, -2, 2), shape, { backend: be, requiresGrad: true });
        }
        const mask = tensor(s.mask!.flat(), [s.B, s.Tk], { backend: be });
        const dout = tensor(rand(sizeOf(outShape(s)), 8), outShape(s), { backend: be });
        be.beginCapture!();
        const out = call(s, x, mask);
        backward(out, dout);
        const { program, reason } = be.endCapture!();
        expect(reason).toBeNull();
        // Each replay: new inputs and a new mask, written into the captured buffers; then the same ops eagerly.
        for (const k of [1, 2, 3]) {
          const m = s.mask!.map((row, b) => row.map((_, j) => ((b + j * k) % (k + 2) === 0 ? 0 : 1)));
          if (k === 3) m[0].fill(0); // a fully padded row in a replay that had none at capture
          be.write(mask.storage, m.flat());
          let n = 0;
          for (const t of Object.values(x)) be.write(t.storage, rand(t.size, 100 * k + n++, -2, 2));
          program!.run();
          const eager = stepScope(() => {
            const y: Inputs = {};
            for (const [name, t] of Object.entries(x)) y[name] = tensor(t.toArraySync(), t.shape, { backend: be, requiresGrad: true });
            const o = call(s, y, tensor(m.flat(), [s.B, s.Tk], { backend: be }));
            backward(o, dout);
            return { out: Array.from(o.toArraySync()), grads: Object.values(y).map((t) => Array.from(t.grad!.toArraySync())) };
          });
          expect(Array.from(out.toArraySync())).toEqual(eager.out);
          expect(Object.values(x).map((t) => Array.from(t.grad!.toArraySync()))).toEqual(eager.grads);
        }
        program!.dispose();
      });
    }
    await threaded.dispose();
  });
});
