// The reference backend's memory accounting and its simple kernels (elementwise, layout, reductions,
// matmul, embedding, dropout, AdamW), each checked against a naive formula written independently.
import { describe, expect, it } from 'vitest';
import type { BinaryOp, DType, UnaryOp } from '../../src/backend/backend.ts';
import { hashUniform } from '../../src/backend/counter-hash.ts';
import { erf, erfc } from '../../src/backend/ref/erf.ts';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { buf, expectClose, get, randn, rng } from './helpers.ts';

const FLOATS: DType[] = ['float32', 'float64'];

describe('memory', () => {
  it('counts live buffers, live bytes and the peak; views cost nothing', () => {
    const be = createRefBackend();
    const a = be.alloc('float32', 10);
    const b = be.alloc('float64', 3);
    expect(be.memoryStats()).toEqual({ liveBuffers: 2, liveBytes: 64, peakBytes: 64 });
    const v = be.view(a, 2, 5);
    expect(be.memoryStats().liveBuffers).toBe(2);
    be.free(v);
    be.free(a);
    expect(be.memoryStats()).toEqual({ liveBuffers: 1, liveBytes: 24, peakBytes: 64 });
    be.free(b);
    expect(be.memoryStats()).toEqual({ liveBuffers: 0, liveBytes: 0, peakBytes: 64 });
  });

  it('throws on a double free, a foreign buffer and any use after free', () => {
    const be = createRefBackend();
    const a = be.alloc('float32', 4);
    const v = be.view(a, 1, 2);
    be.free(a);
    expect(() => be.free(a)).toThrow(/twice/);
    expect(() => be.free({ dtype: 'float32', length: 4 })).toThrow(/did not allocate/);
    expect(() => createRefBackend().free(be.alloc('int32', 1))).toThrow(/did not allocate/);
    expect(() => be.fill(a, 1)).toThrow(/freed/);
    expect(() => be.readSync(v)).toThrow(/freed/);
  });

  it('zero-fills, shares memory through views, and reads copies', async () => {
    const be = createRefBackend();
    const a = be.alloc('int32', 6);
    expect(get(be, a)).toEqual([0, 0, 0, 0, 0, 0]);
    const v = be.view(be.view(a, 1, 4), 2, 2); // elements 3 and 4 of a
    be.write(v, [7, 8]);
    expect(get(be, a)).toEqual([0, 0, 0, 7, 8, 0]);
    const copy = await be.read(a);
    copy[0] = 99;
    expect(be.readSync(a)[0]).toBe(0);
    expect(() => be.view(a, 5, 2)).toThrow(/does not fit/);
    expect(() => be.write(a, [1])).toThrow(/lengths must match/);
    expect(v.dtype).toBe('int32');
    expect(v.length).toBe(2);
  });

  it('rejects buffers that are too short for the kernel', () => {
    const be = createRefBackend();
    expect(() => be.softmaxForward(be.alloc('float32', 5), be.alloc('float32', 6), 2, 3)).toThrow(/needs 6/);
  });
});

describe('hashUniform and dropout', () => {
  it('matches the documented recipe (values computed by an independent Python port)', () => {
    const golden: [number, number, number][] = [
      [0, 0, 0.6078312397003174],
      [0, 1, 0.5039783716201782],
      [1, 0, 0.6488093733787537],
      [42, 7, 0.3539920449256897],
      [123456789, 1000003, 0.17890334129333496],
      [4294967295, 2147483648, 0.8809620141983032],
    ];
    for (const [seed, i, u] of golden) expect(hashUniform(seed, i)).toBe(u);
  });

  it('is uniform enough: mean ≈ ½ and within [0, 1)', () => {
    let sum = 0;
    for (let i = 0; i < 20000; i++) {
      const u = hashUniform(7, i);
      expect(u >= 0 && u < 1).toBe(true);
      sum += u;
    }
    expect(Math.abs(sum / 20000 - 0.5)).toBeLessThan(0.01);
  });

  it.each(FLOATS)('keeps element i iff hashUniform(seed, i) >= p, scaling by 1/(1 − p) (%s)', (dtype) => {
    const be = createRefBackend();
    const n = 997;
    const xs = randn(rng(1), n);
    const x = buf(be, dtype, xs);
    const out = be.alloc(dtype, n);
    const mask = be.alloc(dtype, n);
    const p = 0.3;
    be.dropoutForward(x, out, mask, p, 1234);
    const m = get(be, mask);
    const xr = get(be, x);
    const keep = Math.fround(1 / 0.7);
    for (let i = 0; i < n; i++) {
      const want = hashUniform(1234, i) >= p ? 1 / (1 - p) : 0;
      expect(m[i]).toBeCloseTo(want, 6);
      expect(m[i] === 0 || Math.abs(m[i] - keep) < 1e-6).toBe(true);
    }
    expectClose(get(be, out), xr.map((v, i) => v * m[i]), 1e-6, 1e-6);
    be.dropoutForward(x, out, mask, 0, 1234);
    expect(get(be, mask).every((v) => v === 1)).toBe(true);
    expect(get(be, out)).toEqual(xr);
  });
});

describe('elementwise', () => {
  it('erf and erfc agree with libm (Python math.erf) to ~1e-15', () => {
    const table: [number, number, number][] = [
      [-3.5, -0.9999992569016276, 1.9999992569016276],
      [-1.2, -0.9103139782296353, 1.9103139782296354],
      [-0.3, -0.3286267594591274, 1.3286267594591274],
      [0.1, 0.1124629160182849, 0.8875370839817152],
      [0.46875, 0.49261347321793797, 0.507386526782062],
      [0.9, 0.7969082124228322, 0.20309178757716786],
      [2.5, 0.999593047982555, 0.0004069520174449589],
      [4.5, 0.9999999998033839, 1.9661604415428873e-10],
      [6.0, 1.0, 2.1519736712498916e-17],
    ];
    for (const [x, e, c] of table) {
      expectClose([erf(x)], [e], 0, 2e-15);
      expectClose([erfc(x)], [c], 0, 2e-15);
    }
  });

  const naive: Record<UnaryOp, (x: number) => number> = {
    neg: (x) => -x,
    exp: Math.exp,
    log: Math.log,
    sqrt: Math.sqrt,
    tanh: Math.tanh,
    relu: (x) => Math.max(x, 0),
    sigmoid: (x) => 1 / (1 + Math.exp(-x)),
    gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
    gelu_tanh: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  };
  const ops = Object.keys(naive) as UnaryOp[];
  // Positive inputs for log and sqrt; avoid relu's kink at 0.
  const inputs = (op: UnaryOp): number[] =>
    op === 'log' || op === 'sqrt' ? [0.3, 1, 2.7, 11] : [-4.1, -1.3, -0.2, 0.37, 1.9, 5.3];

  it.each(ops)('unary %s matches its formula and its backward matches finite differences', (op) => {
    const be = createRefBackend();
    const xs = inputs(op);
    const x = buf(be, 'float64', xs);
    const out = be.alloc('float64', xs.length);
    be.unary(op, x, out);
    expectClose(get(be, out), xs.map(naive[op]), 1e-14, 1e-13);
    const dys = randn(rng(2), xs.length);
    const dx = be.alloc('float64', xs.length);
    be.unaryBackward(op, x, buf(be, 'float64', dys), dx);
    const fd = xs.map((v, i) => (dys[i] * (naive[op](v + 1e-6) - naive[op](v - 1e-6))) / 2e-6);
    expectClose(get(be, dx), fd, 1e-8, 1e-7);
  });

  it('sigmoid does not overflow for large |x|', () => {
    const be = createRefBackend();
    const out = be.alloc('float64', 2);
    be.unary('sigmoid', buf(be, 'float64', [-800, 800]), out);
    expect(get(be, out)).toEqual([0, 1]);
  });

  it('affine and axpy', () => {
    const be = createRefBackend();
    const x = buf(be, 'float64', [1, -2, 3]);
    const out = be.alloc('float64', 3);
    be.affine(x, out, 2, 0.5);
    expect(get(be, out)).toEqual([2.5, -3.5, 6.5]);
    be.axpy(x, out, -1);
    expect(get(be, out)).toEqual([1.5, -1.5, 3.5]);
  });

  /** out[idx] = a[idx with size-1 dims pinned to 0] op b[likewise], via explicit multi-indices. */
  function naiveBroadcast(a: number[], as: number[], b: number[], bs: number[], f: (x: number, y: number) => number) {
    const os = as.map((n, d) => Math.max(n, bs[d]));
    const total = os.reduce((p, n) => p * n, 1);
    const flat = (idx: number[], shape: number[]) =>
      idx.reduce((acc, i, d) => acc * shape[d] + (shape[d] === 1 ? 0 : i), 0);
    const res: number[] = [];
    for (let i = 0; i < total; i++) {
      const idx: number[] = [];
      let r = i;
      for (let d = os.length - 1; d >= 0; d--) {
        idx[d] = r % os[d];
        r = Math.floor(r / os[d]);
      }
      res.push(f(a[flat(idx, as)], b[flat(idx, bs)]));
    }
    return { res, os };
  }

  const fns: Record<BinaryOp, (x: number, y: number) => number> = {
    add: (x, y) => x + y,
    sub: (x, y) => x - y,
    mul: (x, y) => x * y,
    div: (x, y) => x / y,
  };
  const shapePairs: [number[], number[]][] = [
    [[2, 1, 3], [1, 4, 3]],
    [[3, 1], [1, 5]],
    [[7], [7]],
    [[2, 3, 5], [1, 1, 1]],
    [[1, 1], [1, 1]],
    [[], []],
  ];

  it.each(shapePairs)('binary ops broadcast %j with %j', (as, bs) => {
    const be = createRefBackend();
    const r = rng(3);
    const a = randn(r, as.reduce((p, n) => p * n, 1));
    const b = randn(r, bs.reduce((p, n) => p * n, 1), 0.5, 2);
    for (const op of Object.keys(fns) as BinaryOp[]) {
      const { res, os } = naiveBroadcast(a, as, b, bs, fns[op]);
      const out = be.alloc('float64', res.length);
      be.binary(op, buf(be, 'float64', a), as, buf(be, 'float64', b), bs, out, os);
      expectClose(get(be, out), res, 0, 0);
      // Swapped roles exercise broadcasting on the other operand.
      const swapped = naiveBroadcast(b, bs, a, as, fns[op]).res;
      be.binary(op, buf(be, 'float64', b), bs, buf(be, 'float64', a), as, out, os);
      expectClose(get(be, out), swapped, 0, 0);
    }
  });

  it('equal broadcasts b against a (the max backward mask)', () => {
    const be = createRefBackend();
    const out = be.alloc('float32', 6);
    be.equal(buf(be, 'float32', [1, 5, 5, 2, 2, 0]), [2, 3], buf(be, 'float32', [5, 2]), [2, 1], out);
    expect(get(be, out)).toEqual([0, 1, 1, 1, 1, 0]);
  });
});

describe('reduce', () => {
  const shape = [3, 1, 4, 5];
  const cases: number[][] = [[], [0], [2], [3], [0, 2], [1, 3], [0, 1, 2, 3], [0, 3]];
  it.each(cases)('sum, sumsq and max over axes %j of (3, 1, 4, 5)', (...axes) => {
    const be = createRefBackend();
    const n = 60;
    const xs = randn(rng(4), n);
    const kept = shape.map((s, d) => (axes.includes(d) ? 1 : s));
    const outLen = kept.reduce((p, s) => p * s, 1);
    const want = { sum: new Array(outLen).fill(0), sumsq: new Array(outLen).fill(0), max: new Array(outLen).fill(-Infinity) };
    for (let i = 0; i < n; i++) {
      // Decompose i into (a, b, c, d), then index the keepdim output.
      const idx = [Math.floor(i / 20), 0, Math.floor(i / 5) % 4, i % 5];
      const j = idx.reduce((acc, v, d) => acc * kept[d] + (axes.includes(d) ? 0 : v), 0);
      want.sum[j] += xs[i];
      want.sumsq[j] += xs[i] ** 2;
      want.max[j] = Math.max(want.max[j], xs[i]);
    }
    for (const op of ['sum', 'sumsq', 'max'] as const) {
      const out = be.alloc('float64', outLen);
      be.reduce(op, buf(be, 'float64', xs), shape, axes, out);
      expectClose(get(be, out), want[op], 1e-14, 1e-13);
    }
  });
});

describe('layout', () => {
  it('stridedCopy permutes (2, 3, 4) to (4, 2, 3) and copies a slice', () => {
    const be = createRefBackend();
    const xs = Array.from({ length: 24 }, (_, i) => i);
    const src = buf(be, 'float32', xs);
    const dst = be.alloc('float32', 24);
    // dst[k][i][j] = src[i][j][k]: walk dst's shape (4, 2, 3) with src strides (1, 12, 4).
    be.stridedCopy(src, 0, [1, 12, 4], dst, 0, [6, 3, 1], [4, 2, 3]);
    const want: number[] = [];
    for (let k = 0; k < 4; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) want.push(xs[i * 12 + j * 4 + k]);
    expect(get(be, dst)).toEqual(want);
    // src[1, 1:3, 2] into a (2,) buffer at offset 1 of a length-3 buffer.
    const small = be.alloc('float32', 3);
    be.stridedCopy(src, 12 + 4 + 2, [4], small, 1, [1], [2]);
    expect(get(be, small)).toEqual([0, 18, 22]);
    be.stridedCopy(src, 23, [], small, 0, [], []); // rank 0: one element
    expect(get(be, small)).toEqual([23, 18, 22]);
    expect(() => be.stridedCopy(src, 20, [4], small, 0, [1], [2])).toThrow(/touches/);
  });

  it('cast truncates toward zero into int32 and converts back exactly', () => {
    const be = createRefBackend();
    const f = buf(be, 'float64', [2.9, -2.9, 0.5, -0.5, 7, -1e9]);
    const i = be.alloc('int32', 6);
    be.cast(f, i);
    expect(get(be, i)).toEqual([2, -2, 0, 0, 7, -1e9]);
    const g = be.alloc('float32', 6);
    be.cast(i, g);
    expect(get(be, g)).toEqual([2, -2, 0, 0, 7, -1e9]);
    const h = be.alloc('float32', 1);
    be.cast(buf(be, 'float64', [0.1]), h);
    expect(get(be, h)).toEqual([Math.fround(0.1)]);
  });
});

describe('matmul', () => {
  /** C[b] = op(A[b])·op(B[b]) with op read straight from the documented storage layouts. */
  function naive(a: number[], b: number[], batch: number, m: number, n: number, k: number, tA: boolean, tB: boolean,
    sA: number, sB: number): number[] {
    const c: number[] = [];
    for (let t = 0; t < batch; t++)
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) {
            const av = tA ? a[t * sA + p * m + i] : a[t * sA + i * k + p];
            const bv = tB ? b[t * sB + j * k + p] : b[t * sB + p * n + j];
            s += av * bv;
          }
          c.push(s);
        }
    return c;
  }

  const dims: [number, number, number, number][] = [[1, 1, 1, 1], [1, 7, 5, 3], [3, 4, 13, 1], [2, 1, 6, 11], [2, 5, 1, 7]];
  it.each(dims)('batch %i, m %i, n %i, k %i in every transpose, shared B, accumulate', (batch, m, n, k) => {
    const be = createRefBackend();
    const r = rng(5);
    for (const dtype of FLOATS) {
      for (const transA of [false, true])
        for (const transB of [false, true])
          for (const sharedB of [false, true]) {
            const strideA = m * k;
            const strideB = sharedB ? 0 : k * n;
            const a = randn(r, batch * m * k);
            const b = randn(r, sharedB ? k * n : batch * k * n);
            const args = { batch, m, n, k, transA, transB, strideA, strideB, accumulate: false };
            const sa = buf(be, dtype, a);
            const sb = buf(be, dtype, b);
            const out = be.alloc(dtype, batch * m * n);
            be.matmul(sa, sb, out, args);
            const want = naive(get(be, sa), get(be, sb), batch, m, n, k, transA, transB, strideA, strideB);
            const tol = dtype === 'float32' ? 1e-6 : 1e-14;
            expectClose(get(be, out), want, tol, tol);
            be.matmul(sa, sb, out, { ...args, accumulate: true });
            expectClose(get(be, out), want.map((v) => 2 * v), 2 * tol, tol);
          }
    }
  });
});

describe('embedding and AdamW', () => {
  it('gathers rows and scatter-adds gradients of repeated ids', () => {
    const be = createRefBackend();
    const w = buf(be, 'float32', [0, 1, 10, 11, 20, 21]); // (V = 3, C = 2)
    const ids = buf(be, 'int32', [2, 0, 2, 1]);
    const out = be.alloc('float32', 8);
    be.embeddingForward(w, ids, out, 4, 2);
    expect(get(be, out)).toEqual([20, 21, 0, 1, 20, 21, 10, 11]);
    const dw = buf(be, 'float32', [100, 100, 0, 0, 0, 0]);
    be.embeddingBackward(buf(be, 'float32', [1, 2, 3, 4, 5, 6, 7, 8]), ids, dw, 4, 2);
    expect(get(be, dw)).toEqual([103, 104, 7, 8, 6, 8]);
    expect(() => be.embeddingForward(w, buf(be, 'int32', [3]), out, 1, 2)).toThrow(/outside/);
  });

  it.each(FLOATS)('AdamW follows PyTorch over three steps (%s)', (dtype) => {
    const be = createRefBackend();
    const r = rng(6);
    const n = 11;
    const theta = randn(r, n);
    const param = buf(be, dtype, theta);
    const m = be.alloc(dtype, n);
    const v = be.alloc(dtype, n);
    const [lr, b1, b2, eps, wd] = [1e-2, 0.9, 0.99, 1e-8, 0.1];
    const mm = new Array(n).fill(0);
    const vv = new Array(n).fill(0);
    for (let t = 1; t <= 3; t++) {
      const g = randn(r, n);
      const args = { lr, beta1: b1, beta2: b2, eps, weightDecay: wd, biasCorrection1: 1 - b1 ** t, biasCorrection2: 1 - b2 ** t };
      be.adamw(param, buf(be, dtype, g), m, v, args);
      for (let i = 0; i < n; i++) {
        theta[i] *= 1 - lr * wd;
        mm[i] = b1 * mm[i] + (1 - b1) * g[i];
        vv[i] = b2 * vv[i] + (1 - b2) * g[i] * g[i];
        theta[i] -= (lr * mm[i]) / (1 - b1 ** t) / (Math.sqrt(vv[i] / (1 - b2 ** t)) + eps);
      }
    }
    const tol = dtype === 'float32' ? 1e-6 : 1e-14;
    expectClose(get(be, param), theta, tol, tol);
    expectClose(get(be, m), mm, tol, tol);
  });
});
