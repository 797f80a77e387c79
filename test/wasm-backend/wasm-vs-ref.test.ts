// Every wasm kernel against the reference backend on awkward shapes: 1, primes, sizes that are not
// multiples of the SIMD width (4) or of the sgemm tiles (6×8 registers, 120×256×2048 blocks), T = 1,
// batch 1, all four transpose cases, accumulate, stride-0 batches. Run for both builds (plain and
// relaxed SIMD) where the runtime has both. Float32 bound: max|wasm − ref| ≤ 1e-5·max|ref|.
import { describe, expect, it } from 'vitest';
import type { FullBackend as Backend, BinaryOp, MatmulArgs, ReduceOp, Storage, UnaryOp } from '../../src/backend/backend.ts';
import { denseHeads } from '../../src/backend/kernel-shapes.ts';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { hasRelaxedSimd } from '../../src/backend/wasm/load.ts';
import { loadWasmKernels, type WasmKernels } from '../../src/backend/wasm/index.ts';
import { relError } from '../helpers/compare.ts';
import { rand, randInts, runOn, type Input } from './harness.ts';

const flavours: WasmKernels[] = [await loadWasmKernels({ relaxed: false })];
if (await hasRelaxedSimd()) flavours.push(await loadWasmKernels({ relaxed: true }));

const TOL = 1e-5;
const SIZES = [1, 7, 13, 31, 67];

/** [B, H, T, D] for packed attention: T = 1, primes, B = 1, several heads, D a multiple of 16 (the paired paths) and not. */
const PACKED_ATTENTION_CASES = [[1, 1, 1, 1], [1, 3, 1, 5], [2, 3, 7, 5], [1, 2, 13, 16], [3, 2, 31, 32], [2, 5, 67, 13], [1, 1, 37, 48]];

/**
 * Training attention on GPT-2's packed layout: q, k, v are views of one (B, T, 3C) buffer at offsets
 * 0, C, 2C; out and dout are (B, T, C), heads merged; dq, dk, dv are views of one (B, T, 3C) gradient
 * that starts as NaN, so a row left unwritten shows.
 */
function packedAttentionCall(B: number, H: number, T: number, D: number, causal: boolean) {
  const C = H * D;
  const n = B * T * C;
  const inL = { batch: T * 3 * C, head: D, row: 3 * C };
  const outL = { batch: T * C, head: D, row: C };
  const ins: Record<string, Input> = { qkv: { data: rand(3 * n, B + 7 * T, -2, 2) }, dout: { data: rand(n, D + 3) } };
  const outs: Record<string, number | Input> = { out: n, lse: B * H * T, dqkv: { data: new Float32Array(3 * n).fill(NaN) } };
  const call = (be: Backend, s: Record<string, Storage>) => {
    const [q, k, v] = [0, 1, 2].map((i) => be.view(s.qkv, i * C, 3 * n - 2 * C));
    const [dq, dk, dv] = [0, 1, 2].map((i) => be.view(s.dqkv, i * C, 3 * n - 2 * C));
    const scale = 1 / Math.sqrt(D);
    be.attentionForward(q, k, v, inL, s.out, outL, s.lse, B, H, T, D, scale, causal);
    be.attentionBackward(q, k, v, inL, s.out, s.dout, outL, s.lse, dq, dk, dv, inL, B, H, T, D, scale, causal);
  };
  return { ins, outs, call };
}

describe.each(flavours.map((k) => [k.flavour, k] as const))('wasm (%s) against ref', (_flavour, kernels) => {
  const ref = createRefBackend();
  const wasm = kernels.createBackend();

  /** Runs the same call on both backends and checks every output. */
  function agree(
    inputs: Record<string, Input>,
    outputs: Record<string, number | Input>,
    call: (be: Backend, s: Record<string, Storage>) => void,
    tol = TOL,
  ): void {
    const want = runOn(ref, inputs, outputs, (s) => call(ref, s));
    const got = runOn(wasm, inputs, outputs, (s) => call(wasm, s));
    for (const name of Object.keys(outputs)) {
      // Non-finite values (NaN, ±Infinity) must match exactly; the rest compare by relative error.
      const g = Array.from(got[name]);
      const w = Array.from(want[name]);
      for (let i = 0; i < w.length; i++) {
        if (Number.isFinite(w[i]) && Number.isFinite(g[i])) continue;
        expect(Object.is(g[i], w[i]) || (Number.isNaN(g[i]) && Number.isNaN(w[i])), `${name}[${i}]: ${g[i]} vs ${w[i]}`).toBe(true);
        g[i] = w[i] = 0;
      }
      expect(relError(g, w), `${name} ${JSON.stringify(inputs).length > 200 ? '' : JSON.stringify(inputs)}`).toBeLessThanOrEqual(tol);
    }
  }

  describe('matmul', () => {
    const cases: [number, number, number][] = [];
    for (const m of SIZES) for (const n of SIZES) for (const k of [1, 13, 67]) cases.push([m, n, k]);
    // Past the blocking: k > KC = 256, m > MC = 120, n > NC = 2048.
    cases.push([129, 33, 300], [5, 2053, 3], [130, 257, 513]);
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        it(`all shapes, transA=${transA} transB=${transB}`, () => {
          for (const [m, n, k] of cases) {
            const args: MatmulArgs = { batch: 1, m, n, k, transA, transB, strideA: m * k, strideB: k * n, accumulate: false };
            agree({ a: { data: rand(m * k, m) }, b: { data: rand(k * n, n) } }, { c: m * n }, (be, s) => be.matmul(s.a, s.b, s.c, args));
          }
        });
      }
    }
    it('narrow products with a transposed A (read in place, not packed): whole and ragged strips, past a K block, accumulate', () => {
      for (const m of [6, 120, 126, 253, 256]) {
        for (const n of [3, 8, 16, 31, 32, 33]) {
          for (const k of [1, 13, 300]) {
            for (const [transB, accumulate] of [[false, false], [true, true]]) {
              const args: MatmulArgs = { batch: 1, m, n, k, transA: true, transB, strideA: 0, strideB: 0, accumulate };
              agree({ a: { data: rand(m * k, m + k) }, b: { data: rand(k * n, n) } }, { c: { data: rand(m * n, 5) } }, (be, s) =>
                be.matmul(s.a, s.b, s.c, args),
              );
            }
          }
        }
      }
    });
    it('few rows of A (the unpacked path generation takes), every transpose case, accumulate', () => {
      for (const m of [1, 2, 3, 4]) {
        for (const n of [1, 5, 16, 17, 37]) {
          for (const k of [1, 3, 13, 67]) {
            for (const [transA, transB, accumulate] of [[false, true, false], [false, false, true], [true, false, false], [true, true, true]]) {
              const args: MatmulArgs = { batch: 2, m, n, k, transA, transB, strideA: m * k, strideB: 0, accumulate };
              agree({ a: { data: rand(2 * m * k, m + n) }, b: { data: rand(k * n, k) } }, { c: { data: rand(2 * m * n, 9) } }, (be, s) =>
                be.matmul(s.a, s.b, s.c, args),
              );
            }
          }
        }
      }
    });
    it('accumulate adds to C', () => {
      for (const [m, n, k, tA, tB] of [[7, 13, 31, false, true], [67, 31, 13, true, false], [4, 8, 256, false, false]] as const) {
        const args: MatmulArgs = { batch: 1, m, n, k, transA: tA, transB: tB, strideA: 0, strideB: 0, accumulate: true };
        agree({ a: { data: rand(m * k, 1) }, b: { data: rand(k * n, 2) } }, { c: { data: rand(m * n, 3) } }, (be, s) =>
          be.matmul(s.a, s.b, s.c, args),
        );
      }
    });
    it('batches with stride-0 operands', () => {
      const [batch, m, n, k] = [3, 7, 13, 5];
      for (const [strideA, strideB] of [[m * k, 0], [0, k * n], [m * k, k * n]]) {
        for (const transB of [false, true]) {
          const args: MatmulArgs = { batch, m, n, k, transA: false, transB, strideA, strideB, accumulate: false };
          agree({ a: { data: rand(batch * m * k, 4) }, b: { data: rand(batch * k * n, 5) } }, { c: batch * m * n }, (be, s) =>
            be.matmul(s.a, s.b, s.c, args),
          );
        }
      }
    });
    it('k = 0 writes zeros, or leaves C when accumulating', () => {
      for (const accumulate of [false, true]) {
        const args: MatmulArgs = { batch: 2, m: 3, n: 5, k: 0, transA: false, transB: false, strideA: 0, strideB: 0, accumulate };
        agree({ a: { data: [0] }, b: { data: [0] } }, { c: { data: rand(30, 6) } }, (be, s) => be.matmul(s.a, s.b, s.c, args));
      }
    });
  });

  describe('elementwise', () => {
    const ops: UnaryOp[] = ['neg', 'exp', 'log', 'sqrt', 'tanh', 'relu', 'sigmoid', 'gelu', 'gelu_tanh'];
    it.each(ops)('unary %s forward and backward', (op) => {
      for (const n of [...SIZES, 130]) {
        const positive = op === 'log' || op === 'sqrt';
        const x = rand(n, n, positive ? 0.05 : -6, positive ? 9 : 6);
        agree({ x: { data: x } }, { out: n }, (be, s) => be.unary(op, s.x, s.out));
        agree({ x: { data: x }, dy: { data: rand(n, 7) } }, { dx: n }, (be, s) => be.unaryBackward(op, s.x, s.dy, s.dx));
      }
    });
    it('ReLU backward (vectorised) equals ref bit for bit: x at 0 and −0, negative dy (−0 out), NaN and infinities, a ragged tail', () => {
      const x = Float32Array.of(0, -0, 1e-30, -1e-30, 2, -3, NaN, Infinity, -Infinity, 5, -5, 0.5, -0.5);
      const dy = Float32Array.of(-1, 2, -3, 4, NaN, -6, 7, -8, 9, Infinity, -2, -0, 3);
      const outs = { dx: x.length };
      const want = runOn(ref, { x: { data: x }, dy: { data: dy } }, outs, (st) => ref.unaryBackward('relu', st.x, st.dy, st.dx));
      const got = runOn(wasm, { x: { data: x }, dy: { data: dy } }, outs, (st) => wasm.unaryBackward('relu', st.x, st.dy, st.dx));
      expect(Array.from(got.dx).map((v) => Object.is(v, -0) ? '-0' : String(v))).toEqual(Array.from(want.dx).map((v) => Object.is(v, -0) ? '-0' : String(v)));
    });

    it("GELU forward's rational erf stays within float32 rounding of the exact GELU, point by point", () => {
      // scripts/fit_erf.py: |erf error| ≤ 3.3e-7 in float32, so |Δgelu| ≤ ½|x|·3.3e-7 plus the result's own rounding.
      const xs = Float32Array.from({ length: 40001 }, (_, i) => -10 + i * 5e-4);
      const special = Float32Array.of(0, -0, 1e-30, -1e-30, Infinity, NaN);
      const x = new Float32Array([...xs, ...special]);
      const run = (be: Backend) => runOn(be, { x: { data: x } }, { out: x.length }, (s) => be.unary('gelu', s.x, s.out)).out;
      const got = run(wasm);
      const want = run(ref);
      for (let i = 0; i < x.length; i++) {
        if (!Number.isFinite(want[i])) {
          expect(Object.is(got[i], want[i]) || (Number.isNaN(got[i]) && Number.isNaN(want[i])), `gelu(${x[i]})`).toBe(true);
          continue;
        }
        const bound = 1.7e-7 * Math.abs(x[i]) + 1.2e-7 * Math.abs(want[i]) + 1e-38;
        expect(Math.abs(got[i] - want[i]), `gelu(${x[i]}) = ${got[i]}, ref ${want[i]}`).toBeLessThanOrEqual(bound);
      }
    });

    it('affine and axpy', () => {
      for (const n of [...SIZES, 64]) {
        agree({ x: { data: rand(n, 1) } }, { out: n }, (be, s) => be.affine(s.x, s.out, -1.7, 0.3));
        agree({ x: { data: rand(n, 2) } }, { y: { data: rand(n, 3) } }, (be, s) => be.axpy(s.x, s.y, 0.37));
      }
    });
    const shapes: [number[], number[]][] = [
      [[2, 3, 4], [2, 3, 4]],
      [[3, 1, 5], [1, 4, 1]],
      [[7], [1]],
      [[1], [13]],
      [[1, 1], [1, 1]],
      [[2, 1, 3, 1], [1, 5, 1, 7]],
      [[4, 67], [1, 67]],
      [[4, 67], [4, 1]],
    ];
    it.each(['add', 'sub', 'mul', 'div'] as BinaryOp[])('binary %s with broadcasting', (op) => {
      for (const [aS, bS] of shapes) {
        const outS = aS.map((n, d) => (n === 1 ? bS[d] : n));
        const size = (sh: number[]) => sh.reduce((p, q) => p * q, 1);
        const b = rand(size(bS), 2, 0.5, 2);
        agree({ a: { data: rand(size(aS), 1) }, b: { data: b } }, { out: size(outS) }, (be, s) =>
          be.binary(op, s.a, aS, s.b, bS, s.out, outS),
        );
        agree({ a: { data: b }, b: { data: rand(size(aS), 1, 0.5, 2) } }, { out: size(outS) }, (be, s) =>
          be.binary(op, s.a, bS, s.b, aS, s.out, outS),
        );
      }
    });
    it('equal with broadcasting (max backward)', () => {
      const x = Float32Array.from([1, 5, 5, 2, 0, -1, 3, 3, 3, 4, 4, 7]);
      agree({ a: { data: x }, b: { data: [5, 3, 7] } }, { out: 12 }, (be, s) => be.equal(s.a, [3, 4], s.b, [3, 1], s.out));
      agree({ a: { data: x }, b: { data: [1, 5, 5, 2] } }, { out: 12 }, (be, s) => be.equal(s.a, [3, 4], s.b, [1, 4], s.out));
    });
  });

  describe('layout and reductions', () => {
    const cases: [number[], number[]][] = [
      [[3, 4, 5], []],
      [[3, 4, 5], [0]],
      [[3, 4, 5], [1]],
      [[3, 4, 5], [2]],
      [[3, 4, 5], [0, 2]],
      [[3, 4, 5], [0, 1, 2]],
      [[7, 1, 13], [1]],
      [[7, 1, 13], [0, 2]],
      [[1], [0]],
      [[67], [0]],
      [[2, 3, 0], [2]],
      // Column sums (rows reduced, columns kept): 16- and 8-column blocks and a scalar tail.
      [[37, 29], [0]],
      [[5, 3, 40], [0]],
      [[2, 1, 27], [0, 1]],
      [[1, 16], [0]],
    ];
    it.each(['sum', 'max', 'sumsq'] as ReduceOp[])('reduce %s over any axes', (op) => {
      for (const [shape, axes] of cases) {
        const n = shape.reduce((p, q) => p * q, 1);
        const out = shape.filter((_, d) => !axes.includes(d)).reduce((p, q) => p * q, 1);
        agree({ x: { data: rand(n, n + 1) } }, { out }, (be, s) => be.reduce(op, s.x, shape, axes, s.out));
      }
    });
    it('reduce max propagates NaN', () => {
      agree({ x: { data: [1, NaN, 3, 4, 5, 6] } }, { out: 2 }, (be, s) => be.reduce('max', s.x, [2, 3], [1], s.out));
    });
    it('stridedCopy: permute, slice, reversal, broadcast', () => {
      // (2, 3, 4, 5) permuted to (2, 4, 3, 5)
      agree({ x: { data: rand(120, 1) } }, { y: 120 }, (be, s) =>
        be.stridedCopy(s.x, 0, [60, 5, 20, 1], s.y, 0, [60, 15, 5, 1], [2, 4, 3, 5]),
      );
      // (4, 9, 3)[:, 2:7] into the middle of a larger buffer
      agree({ x: { data: rand(108, 2) } }, { y: { data: rand(70, 3) } }, (be, s) =>
        be.stridedCopy(s.x, 6, [27, 3, 1], s.y, 5, [15, 3, 1], [4, 5, 3]),
      );
      // reversal (negative stride) and a stride-0 broadcast source
      agree({ x: { data: rand(13, 4) } }, { y: 13 }, (be, s) => be.stridedCopy(s.x, 12, [-1], s.y, 0, [1], [13]));
      agree({ x: { data: rand(7, 5) } }, { y: 21 }, (be, s) => be.stridedCopy(s.x, 0, [0, 1], s.y, 0, [7, 1], [3, 7]));
      // rank 0 copies one element; int32 data moves too
      agree({ x: { data: [1, 2, 3] } }, { y: 2 }, (be, s) => be.stridedCopy(s.x, 2, [], s.y, 1, [], []));
      agree({ x: { dtype: 'int32', data: [1, -2, 3, 4] } }, { y: { dtype: 'int32', data: [0, 0, 0, 0] } }, (be, s) =>
        be.stridedCopy(s.x, 0, [1, 2], s.y, 0, [2, 1], [2, 2]),
      );
    });
    it('cast, fill and int32 writes', () => {
      const f = [2.9, -2.9, 0.5, -0.5, 7, -1e9, NaN];
      agree({ x: { data: f } }, { y: { dtype: 'int32', data: new Array<number>(7).fill(0) } }, (be, s) => be.cast(s.x, s.y));
      agree({ x: { dtype: 'int32', data: [3, -4, 2147483647] } }, { y: 3 }, (be, s) => be.cast(s.x, s.y));
      agree({}, { y: 13 }, (be, s) => be.fill(s.y, -0.25));
      agree({}, { y: { dtype: 'int32', data: [1.7, -1.7, 3] } }, () => {});
    });
  });

  describe('fused layers', () => {
    const shapes: [number, number][] = [[1, 1], [1, 7], [7, 13], [5, 64], [3, 67], [4, 128]];
    it('layerNorm forward and backward, with and without γ, β', () => {
      for (const [rows, C] of shapes) {
        for (const [hasW, hasB] of [[true, true], [true, false], [false, false]]) {
          const n = rows * C;
          const x = rand(n, n, 1e3 - 2, 1e3 + 2); // offset: the two-pass variance must not cancel
          const w = { data: rand(C, 2, 0.5, 1.5) };
          const b = { data: rand(C, 3) };
          const ins = { x: { data: x }, ...(hasW ? { w } : {}), ...(hasB ? { b } : {}), dy: { data: rand(n, 4) } };
          agree(ins, { out: n, mean: rows, rstd: rows, dx: n, dw: C, db: C }, (be, s) => {
            be.layerNormForward(s.x, s.w ?? null, s.b ?? null, s.out, s.mean, s.rstd, rows, C, 1e-5);
            be.layerNormBackward(s.dy, s.x, s.w ?? null, s.mean, s.rstd, s.dx, hasW ? s.dw : null, hasB ? s.db : null, rows, C);
          });
        }
      }
    });
    it('layerNorm forward on hard rows: 1e4 offset, a large outlier first or inside, constant rows, wide rows', () => {
      // The forward kernel takes its statistics around a pilot (the mean of the first 8 elements) in
      // one pass and reruns the pass when the pilot was poor; every case here must still agree to 1e-5.
      const cases: [string, number, (r: number, c: number, u: number) => number][] = [
        ['offset 1e4', 128, (_r, _c, u) => 1e4 + u],
        ['offset 1e4, C = 7', 7, (_r, _c, u) => 1e4 + u],
        ['outlier first', 128, (r, c, u) => (c === 0 ? 1e4 * (r % 2 ? -1 : 1) : u)],
        ['outlier first, C = 9', 9, (_r, c, u) => (c === 0 ? 3e3 : u)],
        ['outlier inside', 384, (r, c, u) => (c === 100 + r ? -5e3 : u)],
        ['outlier after the pilot, on an offset', 128, (_r, c, u) => (c === 64 ? 1e4 + 300 : 1e4 + u)],
        ['first 8 equal, rest spread', 64, (_r, c, u) => (c < 8 ? 2 : 50 * u)],
        ['constant', 67, () => 3.25],
        ['wide', 4099, (_r, _c, u) => 7 + u],
      ];
      for (const [, C, f] of cases) {
        const rows = 5;
        const u = rand(rows * C, C + 17, -2, 2);
        const x = Float32Array.from({ length: rows * C }, (_, i) => f(Math.floor(i / C), i % C, u[i]));
        const ins = { x: { data: x }, w: { data: rand(C, 2, 0.5, 1.5) }, b: { data: rand(C, 3) } };
        agree(ins, { out: rows * C, mean: rows, rstd: rows }, (be, s) => {
          be.layerNormForward(s.x, s.w, s.b, s.out, s.mean, s.rstd, rows, C, 1e-5);
        });
      }
    });
    it('batchNorm forward and backward over (outer, C, inner): maps with ragged runs, feature columns, offsets, with and without γ, β', () => {
      // inner > 1 takes the run loops (4-float steps and a tail), inner = 1 the column loops (channel
      // pairs and an odd one); C = 1 and 3 leave a thread without channels.
      const layouts: [number, number, number][] = [[2, 3, 5], [3, 16, 49], [1, 5, 7], [4, 1, 9], [64, 7, 1], [5, 32, 1], [9, 1, 1], [2, 6, 4]];
      for (const [outer, C, inner] of layouts) {
        for (const [hasW, hasB] of [[true, true], [false, true], [false, false]]) {
          const n = outer * C * inner;
          const x = rand(n, n + C, 1e3 - 2, 1e3 + 2); // an offset: μ must not cancel the variance
          const ins = {
            x: { data: x }, dy: { data: rand(n, 4) },
            ...(hasW ? { w: { data: rand(C, 2, 0.5, 1.5) } } : {}), ...(hasB ? { b: { data: rand(C, 3) } } : {}),
          };
          agree(ins, { out: n, mean: C, variance: C, rstd: C, dx: n, dw: C, db: C }, (be, s) => {
            be.batchNormForward(s.x, s.w ?? null, s.b ?? null, s.out, s.mean, s.variance, s.rstd, outer, C, inner, 1e-5);
            be.batchNormBackward(s.dy, s.x, s.w ?? null, s.mean, s.rstd, s.dx, s.dw, hasB ? s.db : null, outer, C, inner);
          });
        }
      }
    });
    it('rmsNorm forward and backward, with and without γ', () => {
      for (const [rows, C] of shapes) {
        for (const hasW of [true, false]) {
          const n = rows * C;
          const ins = { x: { data: rand(n, n) }, ...(hasW ? { w: { data: rand(C, 2, 0.5, 1.5) } } : {}), dy: { data: rand(n, 4) } };
          agree(ins, { out: n, rrms: rows, dx: n, dw: C }, (be, s) => {
            be.rmsNormForward(s.x, s.w ?? null, s.out, s.rrms, rows, C, 1e-5);
            be.rmsNormBackward(s.dy, s.x, s.w ?? null, s.rrms, s.dx, hasW ? s.dw : null, rows, C);
          });
        }
      }
    });
    it('softmax and log-softmax forward and backward', () => {
      for (const [rows, C] of [...shapes, [2, 129]] as [number, number][]) {
        const n = rows * C;
        const ins = { x: { data: rand(n, n, -8, 8) }, dy: { data: rand(n, 5) } };
        agree(ins, { y: n, dx: n }, (be, s) => {
          be.softmaxForward(s.x, s.y, rows, C);
          be.softmaxBackward(s.y, s.dy, s.dx, rows, C);
        });
        agree(ins, { y: n, dx: n }, (be, s) => {
          be.logSoftmaxForward(s.x, s.y, rows, C);
          be.logSoftmaxBackward(s.y, s.dy, s.dx, rows, C);
        });
      }
    });
    it('cross-entropy forward and backward, with ignored rows', () => {
      for (const [rows, V] of [[1, 1], [6, 11], [7, 5], [13, 67], [3, 65]]) {
        const t = randInts(rows, V, V);
        if (rows > 2) t[1] = -100;
        const allIgnored = Int32Array.from(t, () => -100);
        for (const targets of [t, allIgnored]) {
          agree({ z: { data: rand(rows * V, rows, -5, 5) }, t: { dtype: 'int32', data: targets }, dl: { data: [0.7] } }, { loss: 1, lse: rows, dz: rows * V }, (be, s) => {
            be.crossEntropyForward(s.z, s.t, s.loss, s.lse, rows, V, -100);
            be.crossEntropyBackward(s.z, s.t, s.lse, s.dl, s.dz, rows, V, -100);
          });
        }
      }
    });
    it('attention forward and backward, causal and not', () => {
      for (const [BH, T, D] of [[1, 1, 1], [1, 7, 5], [3, 13, 8], [2, 1, 32], [2, 31, 32], [1, 67, 13]]) {
        for (const causal of [true, false]) {
          const n = BH * T * D;
          const scale = 1 / Math.sqrt(D);
          const ins = { q: { data: rand(n, 1, -2, 2) }, k: { data: rand(n, 2, -2, 2) }, v: { data: rand(n, 3) }, dout: { data: rand(n, 4) } };
          const dense = denseHeads(BH, T, D); // (BH, T, D) contiguous, as one batch of BH heads
          agree(ins, { out: n, lse: BH * T, dq: n, dk: n, dv: n }, (be, s) => {
            be.attentionForward(s.q, s.k, s.v, dense, s.out, dense, s.lse, 1, BH, T, D, scale, causal);
            be.attentionBackward(s.q, s.k, s.v, dense, s.out, s.dout, dense, s.lse, s.dq, s.dk, s.dv, dense, 1, BH, T, D, scale, causal);
          });
        }
      }
    });
    it('attention forward and backward on strided layouts: packed (B, T, 3C) in, (B, T, C) out, one packed gradient', () => {
      for (const [B, H, T, D] of PACKED_ATTENTION_CASES) {
        for (const causal of [true, false]) {
          const { ins, outs, call } = packedAttentionCall(B, H, T, D, causal);
          agree(ins, outs, call);
          // dqkv starts as NaN: dq, dk, dv together must write every element of the packed gradient.
          const got = runOn(wasm, ins, outs, (s) => call(wasm, s));
          expect(Array.from(got.dqkv).every(Number.isFinite), `dqkv fully written, B=${B} H=${H} T=${T} D=${D}`).toBe(true);
        }
      }
    });
    it('attention with a different layout for each operand group: dense q, k, v; (B, T, C) out; padded-row gradients', () => {
      for (const [B, H, T, D] of [[1, 1, 1, 1], [2, 3, 7, 5], [3, 2, 31, 32], [1, 2, 19, 16]]) {
        const C = H * D;
        const n = B * T * C;
        const inL = denseHeads(H, T, D);
        const outL = { batch: T * C, head: D, row: C };
        const gL = { batch: T * (C + 3), head: D, row: C + 3 }; // rows of C + 3: the padding is left alone
        const gn = B * T * (C + 3);
        const ins = { q: { data: rand(n, 1, -2, 2) }, k: { data: rand(n, 2, -2, 2) }, v: { data: rand(n, 3) }, dout: { data: rand(n, 4) } };
        const pad = rand(gn, 5);
        agree(ins, { out: n, lse: B * H * T, dq: { data: pad }, dk: { data: pad }, dv: { data: pad } }, (be, s) => {
          be.attentionForward(s.q, s.k, s.v, inL, s.out, outL, s.lse, B, H, T, D, 0.3, true);
          be.attentionBackward(s.q, s.k, s.v, inL, s.out, s.dout, outL, s.lse, s.dq, s.dk, s.dv, gL, B, H, T, D, 0.3, true);
        });
      }
    });
    it('training attention rejects operands too short for their layouts', () => {
      const x = wasm.alloc('float32', 8);
      const l = { batch: 0, head: 4, row: 2 };
      for (const be of [wasm, ref]) {
        const y = be === wasm ? x : ref.alloc('float32', 8);
        expect(() => be.attentionForward(y, y, y, l, y, l, y, 1, 2, 3, 2, 1, true)).toThrow(/needs 10 elements|holds 8/);
        expect(() => be.attentionBackward(y, y, y, l, y, y, l, y, y, y, y, { batch: 0, head: 2, row: 9 }, 1, 1, 2, 2, 1, true))
          .toThrow(/needs 11 elements|holds 8/);
      }
      wasm.free(x);
    });
    it('inference attention: the last Tq of Tk positions, q packed as (B, Tq, 3C), k and v in a (B, H, maxT, D) cache', () => {
      // [B, H, Tq, Tk, D, maxT]: Tq < 4 takes the direct-dot path, Tq ≥ 4 the transposed-K one.
      const cases = [[1, 1, 1, 1, 1, 1], [1, 4, 1, 37, 32, 64], [2, 3, 2, 9, 5, 12], [1, 2, 3, 3, 8, 5], [2, 2, 5, 17, 13, 20],
        [1, 3, 7, 67, 8, 70], [1, 1, 16, 16, 32, 16]];
      for (const [B, H, Tq, Tk, D, maxT] of cases) {
        for (const causal of [true, false]) {
          const C = H * D;
          const layouts = { q: { batch: Tq * 3 * C, head: D, row: 3 * C }, kv: { batch: H * maxT * D, head: maxT * D, row: D }, out: { batch: Tq * C, head: D, row: C } };
          const ins = { q: { data: rand(B * Tq * 3 * C, 1, -2, 2) }, k: { data: rand(B * H * maxT * D, 2, -2, 2) }, v: { data: rand(B * H * maxT * D, 3) } };
          agree(ins, { out: B * Tq * C }, (be, s) =>
            be.attentionInference(s.q, layouts.q, s.k, s.v, layouts.kv, s.out, layouts.out, B, H, Tq, Tk, D, 1 / Math.sqrt(D), causal),
          );
        }
      }
    });
    it("ref's inference attention on dense operands with Tq = Tk is its training forward", () => {
      const [BH, T, D] = [3, 11, 7];
      const n = BH * T * D;
      const dense = { batch: 0, head: T * D, row: D };
      const ins = { q: { data: rand(n, 1, -2, 2) }, k: { data: rand(n, 2, -2, 2) }, v: { data: rand(n, 3) } };
      for (const causal of [true, false]) {
        const a = runOn(ref, ins, { out: n, lse: BH * T }, (s) => ref.attentionForward(s.q, s.k, s.v, dense, s.out, dense, s.lse, 1, BH, T, D, 0.4,
          causal));
        const b = runOn(ref, ins, { out: n }, (s) => ref.attentionInference(s.q, dense, s.k, s.v, dense, s.out, dense, 1, BH, T, T, D, 0.4, causal));
        expect(Array.from(b.out)).toEqual(Array.from(a.out));
      }
    });
    it('inference attention rejects Tq > Tk and operands too short for their layout', () => {
      const x = wasm.alloc('float32', 8);
      const l = { batch: 0, head: 4, row: 2 };
      for (const be of [wasm, ref]) {
        const y = be === wasm ? x : ref.alloc('float32', 8);
        expect(() => be.attentionInference(y, l, y, y, l, y, l, 1, 2, 2, 1, 2, 1, true)).toThrow(/1 ≤ Tq ≤ Tk/);
        expect(() => be.attentionInference(y, l, y, y, l, y, l, 1, 2, 2, 3, 2, 1, true)).toThrow(/needs 10 elements|holds 8/);
      }
      wasm.free(x);
    });
    it('embedding gather and scatter-add with repeated ids', () => {
      for (const [N, V, C] of [[1, 1, 1], [9, 5, 7], [13, 67, 32]]) {
        const ids = { dtype: 'int32' as const, data: randInts(N, N, V) };
        agree({ w: { data: rand(V * C, 1) }, ids }, { out: N * C }, (be, s) => be.embeddingForward(s.w, s.ids, s.out, N, C));
        agree({ g: { data: rand(N * C, 2) }, ids }, { dw: { data: rand(V * C, 3) } }, (be, s) => be.embeddingBackward(s.g, s.ids, s.dw, N, C));
      }
    });
    it('dropout draws the same mask as ref, bit for bit', () => {
      for (const [n, p, seed] of [[1, 0.5, 0], [67, 0.1, 42], [1000, 0.5, 0xdeadbeef], [13, 0, 7], [13, 1, 7]]) {
        agree({ x: { data: rand(n, 9) } }, { out: n, mask: n }, (be, s) => be.dropoutForward(s.x, s.out, s.mask, p, seed), 0);
      }
    });
    it('AdamW (float32, in PyTorch\'s order) matches the float64 ref to float32 rounding', () => {
      for (const n of [1, 7, 67]) {
        const args = { lr: 1e-3, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, biasCorrection1: 1 - 0.9 ** 3, biasCorrection2: 1 - 0.99 ** 3 };
        agree({ g: { data: rand(n, 1) } }, { p: { data: rand(n, 2) }, m: { data: rand(n, 3, -0.1, 0.1) }, v: { data: rand(n, 4, 0, 0.01) } }, (be, s) =>
          be.adamw(s.p, s.g, s.m, s.v, args), 1e-6);
      }
    });
  });

  describe('memory and errors', () => {
    it('reuses freed blocks: memory stays flat over repeated steps', () => {
      const step = () => {
        const bufs = [wasm.alloc('float32', 768 * 128), wasm.alloc('float32', 7), wasm.alloc('int32', 768), wasm.alloc('float32', 33)];
        for (const b of bufs) wasm.free(b);
      };
      step();
      const before = wasm.info().reservedBytes;
      for (let i = 0; i < 100; i++) step();
      expect(wasm.info().reservedBytes).toBe(before);
    });
    it('reused blocks come back zero-filled; views share memory', () => {
      const a = wasm.alloc('float32', 10);
      wasm.write(a, rand(10, 1));
      wasm.free(a);
      const b = wasm.alloc('float32', 10);
      expect(Array.from(wasm.readSync(b))).toEqual(new Array<number>(10).fill(0));
      const v = wasm.view(b, 3, 4);
      wasm.fill(v, 2);
      expect(Array.from(wasm.readSync(b))).toEqual([0, 0, 0, 2, 2, 2, 2, 0, 0, 0]);
      wasm.free(v);
      wasm.free(b);
    });
    it("'uninit' reuses a block without zeroing it, or fills it with NaN when poisoned", () => {
      const be = kernels.createBackend();
      const a = be.alloc('float32', 10);
      be.write(a, rand(10, 1));
      be.free(a);
      const b = be.alloc('float32', 10, 'uninit');
      expect(Array.from(be.readSync(b))).toEqual(Array.from(rand(10, 1)));
      be.free(b);
      be.poisonUninit = true;
      const c = be.alloc('float32', 10, 'uninit');
      expect(Array.from(be.readSync(c)).every(Number.isNaN)).toBe(true);
      be.free(c);
    });
    it('accounts live and peak bytes like ref', () => {
      const be = kernels.createBackend();
      const a = be.alloc('float32', 100);
      const b = be.alloc('int32', 50);
      be.free(a);
      expect(be.memoryStats()).toEqual({ liveBuffers: 1, liveBytes: 200, peakBytes: 600 });
      be.free(b);
    });
    it('serves buffers above 2 GiB: host writes and reads, casts, shape metadata and the target check, eager and replayed', () => {
      // JavaScript turned a pointer ≥ 2^31 into an element index with a signed `ptr >> 2`: writes landed
      // elsewhere (a negative subarray start counts from the end), reads came from there.
      const be = kernels.createBackend();
      const low = be.alloc('float32', 2 ** 29); // 2 GiB, never touched (a fresh block is not zeroed): the rest lies above 2^31
      const [R, V] = [8200, 2]; // R outputs of a row reduction: a scratch of more than 64 KiB, allocated up there too
      const ids = be.alloc('int32', R * V);
      const [x, back, sums, logits, loss, lse] = [be.alloc('float32', R * V), be.alloc('int32', R * V), be.alloc('float32', R),
        be.alloc('float32', R * V), be.alloc('float32', 1), be.alloc('float32', R * V)];
      expect((ids as unknown as { ptr: number }).ptr).toBeGreaterThanOrEqual(2 ** 31);
      const targets = be.view(ids, 0, R);
      const ops = () => {
        be.cast(ids, x);
        be.cast(x, back);
        be.reduce('sum', x, [R, V], [1], sums);
        be.crossEntropyForward(logits, targets, loss, be.view(lse, 0, R), R, V, -100);
      };
      const check = (values: Int32Array) => {
        expect(Array.from(be.readSync(x))).toEqual(Array.from(values));
        expect(Array.from(be.readSync(back))).toEqual(Array.from(values));
        expect(Array.from(be.readSync(sums))).toEqual(Array.from({ length: R }, (_, r) => values[2 * r] + values[2 * r + 1]));
        expect(be.readSync(loss)[0]).toBeCloseTo(Math.log(2), 6); // zero logits over 2 classes
      };
      const first = Int32Array.from({ length: R * V }, (_, i) => (i * 7) % 2);
      be.write(ids, first);
      ops();
      check(first);
      be.beginCapture();
      ops();
      const { program } = be.endCapture();
      const next = Int32Array.from({ length: R * V }, (_, i) => (i % 3) % 2);
      be.write(ids, next);
      program!.run();
      check(next);
      be.write(ids, Int32Array.from({ length: R * V }, (_, i) => (i === 5 ? 2 : 0)));
      expect(() => program!.run()).toThrow('Cross-entropy target 2 at row 5 is outside [0, 2)');
      program!.dispose();
      be.free(low);
    });
    it('rejects float64, foreign handles, use-after-free and double free with clear errors', () => {
      expect(() => wasm.alloc('float64', 3)).toThrow(/float32 and int32 only.*ref backend/);
      expect(() => wasm.fill(ref.alloc('float32', 1), 0)).toThrow(/did not allocate/);
      const a = wasm.alloc('float32', 3);
      wasm.free(a);
      expect(() => wasm.fill(a, 0)).toThrow(/use-after-free/);
      expect(() => wasm.free(a)).toThrow(/double-free/);
    });
    it('reports a bad target or id as ref does', () => {
      const z = wasm.alloc('float32', 10);
      const t = wasm.alloc('int32', 2);
      wasm.write(t, [1, 5]);
      expect(() => wasm.crossEntropyForward(z, t, wasm.alloc('float32', 1), wasm.alloc('float32', 2), 2, 5, -100)).toThrow(
        'Cross-entropy target 5 at row 1 is outside [0, 5)',
      );
      expect(() => wasm.embeddingForward(z, t, wasm.alloc('float32', 10), 2, 5)).toThrow('Embedding id 5 at position 1 is outside [0, 2)');
    });
  });

  describe('threads', () => {
    it('a kernel that traps on a worker throws from the caller instead of hanging it, and the pool keeps working', async () => {
      const threaded = await kernels.createThreadedBackend({ threads: 2 });
      try {
        const x = threaded.alloc('float32', 1 << 16);
        const ptr = (x as unknown as { ptr: number }).ptr;
        // unaryPart over n elements from x: share 0 ends at the end of memory, the worker's share lies past it.
        const n = 2 * Math.floor((threaded.memory.buffer.byteLength - ptr) / 16) * 4;
        const parallel = (threaded as unknown as { parallel(job: string, args: number[], work: number, min: number): void }).parallel;
        expect(() => parallel.call(threaded, 'unaryPart', [0, ptr, ptr, n], n, 1)).toThrow(/Worker thread 1 of the wasm pool failed running unaryPart/);
        const out = threaded.alloc('float32', 1 << 16);
        threaded.fill(x, -2);
        threaded.unary('neg', x, out);
        expect(Array.from(threaded.readSync(out)).every((v) => v === 2)).toBe(true);
      } finally {
        await threaded.dispose();
      }
    });
    it('matmul split over 3 threads agrees with ref and is bit-identical to 1 thread', async () => {
      const threaded = await kernels.createThreadedBackend({ threads: 3 });
      try {
        const cases: [number, number, number, number, number, number][] = [
          // batch, m, n, k, strideA (0 = shared), strideB (0 = shared)
          [1, 67, 31, 130, 1, 1],
          [1, 7, 2053, 67, 1, 1],
          [1, 130, 67, 300, 1, 1],
          [2, 64, 64, 64, 1, 0],
          [5, 33, 17, 67, 0, 1],
          // Fewer rows than columns: column bands (multiples of 8) per thread, past one K block and one N panel.
          [1, 40, 301, 130, 1, 1],
          [1, 13, 515, 260, 1, 1],
          [1, 50, 2101, 70, 1, 1],
          // Few rows (no packing): columns split between threads, or whole batches.
          [1, 1, 2053, 131, 1, 1],
          [2, 3, 1031, 97, 1, 0],
          [3, 4, 300, 257, 1, 0],
        ];
        for (const [batch, m, n, k, sa, sb] of cases) {
          for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
            for (const accumulate of [false, true]) {
              const args: MatmulArgs = { batch, m, n, k, transA, transB, strideA: sa * m * k, strideB: sb * k * n, accumulate };
              const ins = { a: { data: rand(batch * m * k, m) }, b: { data: rand(batch * k * n, n) } };
              const outs = { c: { data: rand(batch * m * n, k) } };
              const one = runOn(wasm, ins, outs, (st) => wasm.matmul(st.a, st.b, st.c, args));
              const many = runOn(threaded, ins, outs, (st) => threaded.matmul(st.a, st.b, st.c, args));
              const want = runOn(ref, ins, outs, (st) => ref.matmul(st.a, st.b, st.c, args));
              expect(Array.from(many.c)).toEqual(Array.from(one.c));
              expect(relError(many.c, want.c)).toBeLessThanOrEqual(TOL);
            }
          }
        }
      } finally {
        await threaded.dispose();
      }
    });

    it('attention (training and inference) and GELU split over 3 threads agree with ref and are bit-identical to 1 thread', async () => {
      const threaded = await kernels.createThreadedBackend({ threads: 3 });
      const same = (call: (be: Backend, s: Record<string, Storage>) => void, ins: Record<string, Input>, outs: Record<string, number | Input>) => {
        const one = runOn(wasm, ins, outs, (st) => call(wasm, st));
        const many = runOn(threaded, ins, outs, (st) => call(threaded, st));
        const want = runOn(ref, ins, outs, (st) => call(ref, st));
        for (const name of Object.keys(outs)) {
          expect(Array.from(many[name]), name).toEqual(Array.from(one[name]));
          expect(relError(many[name], want[name]), name).toBeLessThanOrEqual(TOL);
        }
      };
      try {
        for (const [BH, T, D] of [[5, 67, 13], [2, 64, 32], [7, 33, 8]]) {
          const n = BH * T * D;
          const ins = { q: { data: rand(n, 1, -2, 2) }, k: { data: rand(n, 2, -2, 2) }, v: { data: rand(n, 3) }, dout: { data: rand(n, 4) } };
          const dense = denseHeads(BH, T, D);
          same((be, st) => {
            be.attentionForward(st.q, st.k, st.v, dense, st.out, dense, st.lse, 1, BH, T, D, 0.3, true);
            be.attentionBackward(st.q, st.k, st.v, dense, st.out, st.dout, dense, st.lse, st.dq, st.dk, st.dv, dense, 1, BH, T, D, 0.3, true);
          }, ins, { out: n, lse: BH * T, dq: n, dk: n, dv: n });
        }
        // Packed layouts, split by (b, h) pairs: B·H not a multiple of 3, and fewer pairs than threads.
        for (const [B, H, T, D] of [[3, 3, 67, 13], [2, 4, 33, 32], [1, 2, 5, 16]]) {
          const { ins, outs, call } = packedAttentionCall(B, H, T, D, true);
          same(call, ins, outs);
        }
        for (const [B, H, Tq, Tk, D] of [[2, 6, 16, 67, 32], [4, 16, 1, 64, 64]]) {
          const C = H * D;
          const q = { batch: Tq * 3 * C, head: D, row: 3 * C };
          const kv = { batch: H * Tk * D, head: Tk * D, row: D };
          const o = { batch: Tq * C, head: D, row: C };
          same((be, st) => be.attentionInference(st.q, q, st.k, st.v, kv, st.out, o, B, H, Tq, Tk, D, 0.2, true),
            { q: { data: rand(B * Tq * 3 * C, 1, -2, 2) }, k: { data: rand(B * Tk * C, 2, -2, 2) }, v: { data: rand(B * Tk * C, 3) } },
            { out: B * Tq * C });
        }
        // Row-wise kernels (rows split), LayerNorm's dγ, dβ (channels split), chunked elementwise ones.
        for (const [rows, C] of [[769, 129], [4099, 13], [37, 1031]]) {
          const n = rows * C;
          const ins = { x: { data: rand(n, 1, -3, 3) }, w: { data: rand(C, 2) }, b: { data: rand(C, 3) }, dy: { data: rand(n, 4) } };
          same((be, st) => {
            be.layerNormForward(st.x, st.w, st.b, st.out, st.mean, st.rstd, rows, C, 1e-5);
            be.layerNormBackward(st.dy, st.x, st.w, st.mean, st.rstd, st.dx, st.dw, st.db, rows, C);
            be.rmsNormForward(st.x, st.w, st.rout, st.rrms, rows, C, 1e-5);
            be.rmsNormBackward(st.dy, st.x, st.w, st.rrms, st.rdx, st.rdw, rows, C);
            be.softmaxForward(st.x, st.sm, rows, C);
            be.softmaxBackward(st.sm, st.dy, st.dsm, rows, C);
            be.logSoftmaxForward(st.x, st.lsm, rows, C);
            be.logSoftmaxBackward(st.lsm, st.dy, st.dlsm, rows, C);
            be.binary('mul', st.x, [rows, C], st.w, [1, C], st.bin, [rows, C]);
            be.binary('sub', st.x, [n], st.dy, [n], st.bin2, [n]);
            be.binary('div', st.x, [rows, C], st.dy, [rows, C], st.bin3, [rows, C]);
            be.affine(st.x, st.aff, 0.7, -0.2);
            be.axpy(st.x, st.acc, -0.3);
            be.reduce('sum', st.x, [rows, C], [0], st.colSum); // column sums (a bias gradient): columns split
            be.reduce('sumsq', st.dy, [rows, C], [0], st.colSq);
            // Strided copies, split by runs: a transpose, and a bias broadcast over the rows (linear's forward).
            be.stridedCopy(st.x, 0, [1, C], st.tr, 0, [rows, 1], [C, rows]);
            be.stridedCopy(st.b, 0, [0, 1], st.bc, 0, [C, 1], [rows, C]);
          }, ins, { out: n, mean: rows, rstd: rows, dx: n, dw: C, db: C, rout: n, rrms: rows, rdx: n, rdw: C, sm: n, dsm: n, lsm: n, dlsm: n, bin: n,
            bin2: n, bin3: n, aff: n, acc: { data: rand(n, 9) }, colSum: C, colSq: C, tr: n, bc: n });
          // Cross-entropy by rows (every fifth target ignored); the loss sums rows in order on one thread.
          const targets = Int32Array.from(randInts(rows, 13, C), (t, i) => (i % 5 === 0 ? -100 : t));
          same((be, st) => {
            be.crossEntropyForward(st.z, st.t, st.loss, st.lse, rows, C, -100);
            be.crossEntropyBackward(st.z, st.t, st.lse, st.dl, st.dz, rows, C, -100);
          }, { z: { data: rand(n, 14, -5, 5) }, t: { dtype: 'int32', data: targets }, dl: { data: [0.7] } }, { loss: 1, lse: rows, dz: n });
          // Embedding backward by channels: many repeated ids (V = 13), summed in order per channel.
          const ids = { dtype: 'int32' as const, data: randInts(rows, 11, 13) };
          same((be, st) => be.embeddingBackward(st.g, st.ids, st.dw, rows, C), { g: { data: rand(n, 10) }, ids }, { dw: { data: rand(13 * C, 12) } });
          const args = { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, biasCorrection1: 0.1, biasCorrection2: 0.05 };
          same((be, st) => be.adamw(st.p, st.g, st.m, st.v, args), { g: { data: rand(n, 5) } },
            { p: { data: rand(n, 6) }, m: { data: rand(n, 7, -0.1, 0.1) }, v: { data: rand(n, 8, 0, 0.1) } });
        }
        // BatchNorm by channels: maps (runs) and feature columns, C not a multiple of 3, above the size threshold.
        for (const [outer, C, inner] of [[64, 16, 784], [7, 5, 2049], [4099, 13, 1], [1031, 37, 1]]) {
          const n = outer * C * inner;
          same((be, st) => {
            be.batchNormForward(st.x, st.w, st.b, st.out, st.mean, st.variance, st.rstd, outer, C, inner, 1e-5);
            be.batchNormBackward(st.dy, st.x, st.w, st.mean, st.rstd, st.dx, st.dw, st.db, outer, C, inner);
          }, { x: { data: rand(n, 1, -3, 3) }, w: { data: rand(C, 2) }, b: { data: rand(C, 3) }, dy: { data: rand(n, 4) } },
          { out: n, mean: C, variance: C, rstd: C, dx: n, dw: C, db: C });
        }
        for (const op of ['gelu', 'gelu_tanh', 'exp'] as UnaryOp[]) {
          const n = 100_003;
          same((be, st) => {
            be.unary(op, st.x, st.y);
            be.unaryBackward(op, st.x, st.dy, st.dx);
          }, { x: { data: rand(n, 5, -5, 5) }, dy: { data: rand(n, 6) } }, { y: n, dx: n });
        }
      } finally {
        await threaded.dispose();
      }
    });
  });
});
