// The reference backend's fused layers (LayerNorm, RMSNorm, softmax, cross-entropy, attention):
// forward passes against naive float64 formulas, backward passes against finite differences in float64.
import { describe, expect, it } from 'vitest';
import type { DType, Storage } from '../../src/backend/backend.ts';
import { denseHeads } from '../../src/backend/kernel-shapes.ts';
import { createRefBackend, type RefBackend } from '../../src/backend/ref/ref-backend.ts';
import { buf, dot, expectClose, get, numericGrad, randn, rng } from './helpers.ts';

const F64: DType = 'float64';

/** Two-pass LayerNorm of one row in float64, written out plainly. */
function naiveLayerNorm(x: number[], w: number[] | null, b: number[] | null, eps: number): number[] {
  const mu = x.reduce((s, v) => s + v, 0) / x.length;
  const vr = x.reduce((s, v) => s + (v - mu) ** 2, 0) / x.length;
  return x.map((v, c) => ((v - mu) / Math.sqrt(vr + eps)) * (w ? w[c] : 1) + (b ? b[c] : 0));
}

function rowsOf(x: number[], C: number): number[][] {
  return Array.from({ length: x.length / C }, (_, r) => x.slice(r * C, (r + 1) * C));
}

describe('LayerNorm', () => {
  const shapes: [number, number][] = [[1, 1], [1, 7], [5, 3], [3, 13]];
  it.each(shapes)('forward matches two-pass float64 and backward matches finite differences (rows %i, C %i)', (rows, C) => {
    const be = createRefBackend();
    const r = rng(10);
    const x = randn(r, rows * C, -2, 2);
    const w = randn(r, C, 0.5, 1.5);
    const b = randn(r, C);
    const dy = randn(r, rows * C);
    const eps = 1e-5;
    const forward = (xv: number[], wv: number[] | null, bv: number[] | null) => {
      const out = be.alloc(F64, rows * C);
      const mean = be.alloc(F64, rows);
      const rstd = be.alloc(F64, rows);
      be.layerNormForward(buf(be, F64, xv), wv && buf(be, F64, wv), bv && buf(be, F64, bv), out, mean, rstd, rows, C, eps);
      return { out: get(be, out), mean, rstd };
    };
    for (const affine of [true, false]) {
      const [wv, bv] = affine ? [w, b] : [null, null];
      const { out, mean, rstd } = forward(x, wv, bv);
      expectClose(out, rowsOf(x, C).flatMap((row) => naiveLayerNorm(row, wv, bv, eps)), 1e-12, 1e-12);
      const dx = be.alloc(F64, rows * C);
      const dw = affine ? be.alloc(F64, C) : null;
      const db = affine ? be.alloc(F64, C) : null;
      be.layerNormBackward(buf(be, F64, dy), buf(be, F64, x), wv && buf(be, F64, wv), mean, rstd, dx, dw, db, rows, C);
      expectClose(get(be, dx), numericGrad((xv) => dot(forward(xv, wv, bv).out, dy), x), 1e-7, 1e-6);
      if (affine) {
        expectClose(get(be, dw!), numericGrad((wv2) => dot(forward(x, wv2, b).out, dy), w), 1e-7, 1e-6);
        expectClose(get(be, db!), numericGrad((bv2) => dot(forward(x, w, bv2).out, dy), b), 1e-7, 1e-6);
      }
    }
  });

  it('stays accurate in float32 for inputs offset by 1e4 (two-pass variance)', () => {
    const be = createRefBackend();
    const rows = 4;
    const C = 64;
    const x = randn(rng(11), rows * C, -0.5, 0.5).map((v) => 1e4 + v);
    const xs = buf(be, 'float32', x);
    const out = be.alloc('float32', rows * C);
    be.layerNormForward(xs, null, null, out, be.alloc('float32', rows), be.alloc('float32', rows), rows, C, 1e-5);
    // The reference sees the same float32-rounded inputs, normalised in float64.
    const want = rowsOf(get(be, xs), C).flatMap((row) => naiveLayerNorm(row, null, null, 1e-5));
    expectClose(get(be, out), want, 1e-5, 1e-5);
    // E[x²] − E[x]² in float32 arithmetic would have lost every digit of the ~0.08 variance here.
    const oneRow = get(be, xs).slice(0, C);
    let s = 0;
    let s2 = 0;
    for (const v of oneRow) {
      s = Math.fround(s + v);
      s2 = Math.fround(s2 + Math.fround(v * v));
    }
    const naiveVar = Math.fround(s2 / C) - Math.fround(Math.fround(s / C) ** 2);
    const twoPassVar = oneRow.reduce((a, v) => a + (v - oneRow.reduce((p, q) => p + q, 0) / C) ** 2, 0) / C;
    expect(Math.abs(naiveVar - twoPassVar)).toBeGreaterThan(10 * twoPassVar);
  });
});

describe('RMSNorm', () => {
  const shapes: [number, number][] = [[1, 1], [2, 5], [3, 11]];
  it.each(shapes)('forward matches the formula and backward matches finite differences (rows %i, C %i)', (rows, C) => {
    const be = createRefBackend();
    const r = rng(12);
    const x = randn(r, rows * C, -2, 2);
    const w = randn(r, C, 0.5, 1.5);
    const dy = randn(r, rows * C);
    const eps = 1e-6;
    const forward = (xv: number[], wv: number[] | null) => {
      const out = be.alloc(F64, rows * C);
      const rrms = be.alloc(F64, rows);
      be.rmsNormForward(buf(be, F64, xv), wv && buf(be, F64, wv), out, rrms, rows, C, eps);
      return { out: get(be, out), rrms };
    };
    for (const wv of [w, null]) {
      const { out, rrms } = forward(x, wv);
      const want = rowsOf(x, C).flatMap((row) => {
        const ms = row.reduce((s, v) => s + v * v, 0) / C;
        return row.map((v, c) => ((wv ? wv[c] : 1) * v) / Math.sqrt(ms + eps));
      });
      expectClose(out, want, 1e-12, 1e-12);
      const dx = be.alloc(F64, rows * C);
      const dw = wv ? be.alloc(F64, C) : null;
      be.rmsNormBackward(buf(be, F64, dy), buf(be, F64, x), wv && buf(be, F64, wv), rrms, dx, dw, rows, C);
      expectClose(get(be, dx), numericGrad((xv) => dot(forward(xv, wv).out, dy), x), 1e-7, 1e-6);
      if (dw) expectClose(get(be, dw), numericGrad((wv2) => dot(forward(x, wv2).out, dy), w), 1e-7, 1e-6);
    }
  });
});

describe('softmax and log-softmax', () => {
  it.each([[1, 1], [3, 7], [2, 1000]] as [number, number][])('rows %i, C %i', (rows, C) => {
    const be = createRefBackend();
    const r = rng(13);
    const x = randn(r, rows * C, -3, 3).map((v, i) => (i % C === 0 ? v + 800 : v)); // big logits must not overflow
    const dy = randn(r, rows * C);
    const run = (xv: number[], log: boolean) => {
      const out = be.alloc(F64, rows * C);
      if (log) be.logSoftmaxForward(buf(be, F64, xv), out, rows, C);
      else be.softmaxForward(buf(be, F64, xv), out, rows, C);
      return get(be, out);
    };
    const want = rowsOf(x, C).flatMap((row) => {
      const m = Math.max(...row);
      const z = row.reduce((s, v) => s + Math.exp(v - m), 0);
      return row.map((v) => Math.exp(v - m) / z);
    });
    expectClose(run(x, false), want, 1e-14, 1e-12);
    expectClose(run(x, true), want.map(Math.log), 1e-12, 1e-12);
    if (C > 100) return; // finite differences over 2000 inputs add nothing but time
    for (const log of [false, true]) {
      const dx = be.alloc(F64, rows * C);
      const y = buf(be, F64, run(x, log));
      if (log) be.logSoftmaxBackward(y, buf(be, F64, dy), dx, rows, C);
      else be.softmaxBackward(y, buf(be, F64, dy), dx, rows, C);
      expectClose(get(be, dx), numericGrad((xv) => dot(run(xv, log), dy), x), 1e-7, 1e-6);
    }
  });
});

describe('cross-entropy', () => {
  function run(be: RefBackend, logits: number[], targets: number[], V: number, dloss = 1) {
    const rows = targets.length;
    const lg = buf(be, F64, logits);
    const tg = buf(be, 'int32', targets);
    const loss = be.alloc(F64, 1);
    const lse = be.alloc(F64, rows);
    be.crossEntropyForward(lg, tg, loss, lse, rows, V, -100);
    const dl = be.alloc(F64, rows * V);
    be.crossEntropyBackward(lg, tg, lse, buf(be, F64, [dloss]), dl, rows, V, -100);
    return { loss: get(be, loss)[0], lse: get(be, lse), dlogits: get(be, dl) };
  }

  it('is the mean of logsumexp − z[target] over non-ignored rows, with gradients to match', () => {
    const be = createRefBackend();
    const V = 7;
    const targets = [3, -100, 0, 6, -100];
    const logits = randn(rng(14), targets.length * V, -4, 4);
    const { loss, lse, dlogits } = run(be, logits, targets, V, 0.7);
    const rows = rowsOf(logits, V);
    const lseWant = rows.map((row) => Math.log(row.reduce((s, v) => s + Math.exp(v), 0)));
    expectClose(lse, lseWant, 1e-13, 1e-13);
    const kept = targets.map((t, i) => [t, i]).filter(([t]) => t !== -100);
    expectClose([loss], [kept.reduce((s, [t, i]) => s + lseWant[i] - rows[i][t], 0) / kept.length], 1e-13, 1e-13);
    const fd = numericGrad((lv) => 0.7 * run(be, lv, targets, V).loss, logits);
    expectClose(dlogits, fd, 1e-8, 1e-6);
    expect(dlogits.slice(V, 2 * V).every((g) => g === 0)).toBe(true);
  });

  it('gives loss 0 and zero gradient when every target is ignored', () => {
    const be = createRefBackend();
    const { loss, dlogits } = run(be, randn(rng(15), 6), [-100, -100], 3);
    expect(loss).toBe(0);
    expect(dlogits.every((g) => g === 0)).toBe(true);
  });

  it('rejects a target outside the vocabulary', () => {
    expect(() => run(createRefBackend(), [0, 0, 0], [3], 3)).toThrow(/outside \[0, 3\)/);
  });
});

describe('attention', () => {
  /** Explicit S = scale·Q·Kᵀ, −∞ above the diagonal when causal, P = softmax(S), O = P·V. */
  function naive(q: number[], k: number[], v: number[], BH: number, T: number, D: number, scale: number, causal: boolean) {
    const out: number[] = [];
    const lse: number[] = [];
    for (let h = 0; h < BH; h++) {
      const at = (a: number[], t: number, d: number) => a[(h * T + t) * D + d];
      for (let t = 0; t < T; t++) {
        const s = Array.from({ length: T }, (_, j) => {
          if (causal && j > t) return -Infinity;
          let acc = 0;
          for (let d = 0; d < D; d++) acc += at(q, t, d) * at(k, j, d);
          return scale * acc;
        });
        const m = Math.max(...s);
        const e = s.map((x) => Math.exp(x - m));
        const z = e.reduce((a, x) => a + x, 0);
        lse.push(m + Math.log(z));
        for (let d = 0; d < D; d++) out.push(e.reduce((a, p, j) => a + (p / z) * at(v, j, d), 0));
      }
    }
    return { out, lse };
  }

  const cases: [number, number, number, boolean][] = [
    [1, 1, 4, true], [2, 5, 3, true], [2, 5, 3, false], [1, 7, 1, true], [3, 4, 2, false],
  ];
  it.each(cases)('BH %i, T %i, D %i, causal %s: forward vs explicit matrices, backward vs finite differences',
    (BH, T, D, causal) => {
      const be = createRefBackend();
      const r = rng(16);
      const n = BH * T * D;
      const [q, k, v, dout] = [randn(r, n), randn(r, n), randn(r, n), randn(r, n)];
      const scale = 1 / Math.sqrt(D) + 0.1;
      const dense = denseHeads(BH, T, D); // (BH, T, D) contiguous, as one batch of BH heads
      const forward = (qv: number[], kv: number[], vv: number[], dtype: DType = F64) => {
        const s = [qv, kv, vv].map((a) => buf(be, dtype, a));
        const out = be.alloc(dtype, n);
        const lse = be.alloc(dtype, BH * T);
        be.attentionForward(s[0], s[1], s[2], dense, out, dense, lse, 1, BH, T, D, scale, causal);
        return { s, out, lse };
      };
      const f = forward(q, k, v);
      const want = naive(q, k, v, BH, T, D, scale, causal);
      expectClose(get(be, f.out), want.out, 1e-13, 1e-12);
      expectClose(get(be, f.lse), want.lse, 1e-13, 1e-12);

      const grads = (dtype: DType, fw: { s: Storage[]; out: Storage; lse: Storage }) => {
        const [dq, dk, dv] = [0, 1, 2].map(() => be.alloc(dtype, n));
        be.attentionBackward(fw.s[0], fw.s[1], fw.s[2], dense, fw.out, buf(be, dtype, dout), dense, fw.lse, dq, dk, dv, dense, 1, BH,
          T, D, scale, causal);
        return [dq, dk, dv].map((g) => get(be, g));
      };
      const [dq, dk, dv] = grads(F64, f);
      const loss = (qv: number[], kv: number[], vv: number[]) => dot(get(be, forward(qv, kv, vv).out), dout);
      expectClose(dq, numericGrad((x) => loss(x, k, v), q), 1e-8, 1e-6);
      expectClose(dk, numericGrad((x) => loss(q, x, v), k), 1e-8, 1e-6);
      expectClose(dv, numericGrad((x) => loss(q, k, x), v), 1e-8, 1e-6);

      // float32 storage agrees with float64 to float32 precision.
      const f32 = forward(q, k, v, 'float32');
      expectClose(get(be, f32.out), want.out, 1e-5, 1e-5);
      grads('float32', f32).forEach((g, i) => expectClose(g, [dq, dk, dv][i], 1e-5, 1e-4));
    });
});

describe('float32 storage', () => {
  it('LayerNorm, RMSNorm and cross-entropy agree with float64 to float32 precision', () => {
    const be = createRefBackend();
    const [rows, C] = [3, 17];
    const r = rng(17);
    const x = randn(r, rows * C, -2, 2);
    const w = randn(r, C, 0.5, 1.5);
    const targets = [4, -100, 16];
    const results = (['float32', 'float64'] as const).map((dt) => {
      const out = be.alloc(dt, rows * C);
      be.layerNormForward(buf(be, dt, x), buf(be, dt, w), null, out, be.alloc(dt, rows), be.alloc(dt, rows), rows, C, 1e-5);
      const rms = be.alloc(dt, rows * C);
      be.rmsNormForward(buf(be, dt, x), buf(be, dt, w), rms, be.alloc(dt, rows), rows, C, 1e-5);
      const loss = be.alloc(dt, 1);
      be.crossEntropyForward(buf(be, dt, x), buf(be, 'int32', targets), loss, be.alloc(dt, rows), rows, C, -100);
      return [...get(be, out), ...get(be, rms), ...get(be, loss)];
    });
    expectClose(results[0], results[1], 1e-5, 1e-5);
  });
});
