// The convolution and pooling kernels against the reference backend on awkward shapes, beyond the
// PyTorch fixtures: primes, batch 1 and 3, 1×1 kernels (stride 1 and 2), padding past the kernel,
// non-square kernels and strides, Cout ≤ 4 (the gemv products), images of more than one 256-position
// tile, more than 96 im2col rows (several weight-gradient blocks) and more than 256 (sgemm's KC).
// Stride-1 windows of every shape go through the implicit GEMM (forward and dx). Every wasm build and
// 1, 2 and 3 threads; 1 and N threads give identical bits. The op front-end on
// the core-only reference (the composition) agrees with the fused kernels too.
import { describe, expect, it } from 'vitest';
import type { Backend, Conv2dArgs, FullBackend, Pool2dArgs, Storage } from '../../src/backend/backend.ts';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { coreOnly } from '../../src/backend/views.ts';
import { hasRelaxedSimd } from '../../src/backend/wasm/load.ts';
import { loadWasmKernels, type WasmBackend, type WasmKernels } from '../../src/backend/wasm/index.ts';
import { conv2d } from '../../src/tensor/ops/conv.ts';
import { avgPool2d, maxPool2d } from '../../src/tensor/ops/pool.ts';
import { backward, stepScope, tensor, type Tensor } from '../../src/tensor/index.ts';
import { relError } from '../helpers/compare.ts';
import { rand } from '../wasm-backend/harness.ts';

/** Bit-identical arrays (a fast byte comparison: toEqual walks large typed arrays slowly). */
function sameBits(a: readonly ArrayBufferView[], b: readonly ArrayBufferView[]): boolean {
  const bytes = (v: ArrayBufferView) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return a.length === b.length && a.every((v, i) => bytes(v).equals(bytes(b[i])));
}

const flavours: WasmKernels[] = [await loadWasmKernels({ relaxed: false })];
if (await hasRelaxedSimd()) flavours.push(await loadWasmKernels({ relaxed: true }));

/** [B, Cin, H, W, Cout, kH, kW, sH, sW, pH, pW] */
type ConvCase = [number, number, number, number, number, number, number, number, number, number, number];
const CONV_CASES: ConvCase[] = [
  [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0],
  [3, 3, 7, 9, 5, 3, 3, 1, 1, 1, 1],
  [1, 4, 9, 7, 6, 3, 3, 2, 2, 1, 1],
  [3, 5, 5, 6, 2, 1, 1, 1, 1, 0, 0], // 1×1, Cout ≤ 4
  [2, 3, 8, 8, 7, 1, 1, 2, 2, 0, 0], // the projection shortcut's 1×1, stride 2
  [1, 2, 6, 5, 3, 2, 3, 2, 1, 0, 1], // non-square
  [2, 3, 4, 4, 4, 3, 3, 1, 1, 3, 3], // padding past the kernel: some windows all zeros
  [2, 3, 20, 17, 8, 3, 3, 1, 1, 1, 1], // 340 positions: two tiles per image
  [1, 13, 23, 29, 3, 3, 3, 1, 1, 1, 1], // 117 im2col rows (two dW blocks), 667 positions (three tiles), Cout ≤ 4
  [1, 7, 19, 18, 5, 1, 1, 1, 1, 0, 0], // 1×1 with more than one tile
  [3, 32, 6, 5, 9, 3, 3, 1, 1, 1, 1], // 288 im2col rows > KC
  [2, 2, 31, 1, 3, 5, 1, 3, 1, 2, 0], // W = 1
  // Stride 1, non-square windows and unequal padding (conv-implicit.ts: the forward, and dx as the
  // flipped kernel's convolution padded by k − 1 − p, which is 0 on both axes in the second case).
  [2, 3, 7, 6, 10, 2, 3, 1, 1, 0, 1],
  [1, 4, 5, 13, 7, 3, 2, 1, 1, 2, 1],
  // Rows of 18 and 19 outputs: the weight gradient's tails of 2 and 3 (rows past 16 take conv-implicit.ts's dW too).
  [2, 5, 9, 18, 7, 3, 3, 1, 1, 1, 1],
  [1, 4, 6, 19, 9, 3, 3, 1, 1, 1, 1],
  // Past the threading threshold (2^18 multiply-adds): several tiles, channel blocks and row blocks to share.
  [3, 16, 18, 17, 12, 3, 3, 1, 1, 1, 1],
  [1, 20, 40, 37, 6, 3, 3, 1, 1, 1, 1],
  [2, 40, 17, 19, 33, 1, 1, 1, 1, 0, 0], // 1×1, two tiles per image
  [4, 64, 12, 12, 48, 1, 1, 1, 1, 0, 0], // 1×1, one tile per image (the products in place)
];

const convArgs = ([B, Cin, H, W, Cout, kH, kW, strideH, strideW, padH, padW]: ConvCase): Conv2dArgs => ({
  B, Cin, H, W, Cout, kH, kW, strideH, strideW, padH, padW,
  Ho: Math.floor((H + 2 * padH - kH) / strideH) + 1, Wo: Math.floor((W + 2 * padW - kW) / strideW) + 1,
});

/** The kernels' outputs on one backend: out, then dx, dw, db (NaN-filled first, so an unwritten element shows). */
function runConv(be: FullBackend, a: Conv2dArgs, bias: boolean): Float32Array[] {
  const [nx, nw, no] = [a.B * a.Cin * a.H * a.W, a.Cout * a.Cin * a.kH * a.kW, a.B * a.Cout * a.Ho * a.Wo];
  const make = (data: ArrayLike<number>) => {
    const s = be.alloc('float32', data.length);
    be.write(s, data);
    return s;
  };
  const nan = (n: number) => make(new Float32Array(n).fill(NaN));
  const [x, w, b, dy] = [make(rand(nx, nx + 1, -2, 2)), make(rand(nw, nw + 2)), make(rand(a.Cout, 3)), make(rand(no, no + 4))];
  const [out, dx, dw, db] = [nan(no), nan(nx), nan(nw), nan(a.Cout)];
  be.conv2dForward(x, w, bias ? b : null, out, a);
  be.conv2dBackward(dy, x, w, dx, dw, db, a);
  const res = [out, dx, dw, db].map((s) => be.readSync!(s) as Float32Array);
  for (const s of [x, w, b, dy, out, dx, dw, db]) be.free(s);
  return res;
}

/** [B, C, H, W, kH, kW, sH, sW, pH, pW] */
type PoolCase = [number, number, number, number, number, number, number, number, number, number];
const POOL_CASES: PoolCase[] = [
  [1, 1, 1, 1, 1, 1, 1, 1, 0, 0],
  [2, 3, 7, 9, 2, 2, 2, 2, 0, 0],
  [1, 2, 9, 8, 3, 3, 2, 2, 1, 1],
  [3, 5, 6, 7, 3, 2, 1, 2, 1, 1], // overlapping windows in H
  [2, 64, 33, 17, 3, 3, 2, 2, 1, 1], // enough planes to split over threads
];

const poolArgs = ([B, C, H, W, kH, kW, strideH, strideW, padH, padW]: PoolCase): Pool2dArgs => ({
  B, C, H, W, kH, kW, strideH, strideW, padH, padW,
  Ho: Math.floor((H + 2 * padH - kH) / strideH) + 1, Wo: Math.floor((W + 2 * padW - kW) / strideW) + 1,
});

function runPool(be: FullBackend, a: Pool2dArgs, ties: boolean): (Float32Array | Int32Array)[] {
  const [nx, no] = [a.B * a.C * a.H * a.W, a.B * a.C * a.Ho * a.Wo];
  const make = (data: ArrayLike<number>, dtype: 'float32' | 'int32' = 'float32') => {
    const s = be.alloc(dtype, data.length);
    be.write(s, data);
    return s;
  };
  // With ties: values on a coarse grid, many windows holding equal maxima.
  const xs = ties ? Float32Array.from(rand(nx, 5), (v) => Math.round(v * 2)) : rand(nx, nx + 5);
  const [x, dy] = [make(xs), make(rand(no, no + 6))];
  const out: Storage[] = [make(new Float32Array(no).fill(NaN)), make(new Int32Array(no).fill(-7), 'int32'), make(new Float32Array(nx).fill(NaN)),
    make(new Float32Array(no).fill(NaN)), make(new Float32Array(nx).fill(NaN))];
  be.maxPool2dForward(x, out[0], out[1], a);
  be.maxPool2dBackward(dy, out[1], out[2], a);
  be.avgPool2dForward(x, out[3], a);
  be.avgPool2dBackward(dy, out[4], a);
  const res = out.map((s) => be.readSync!(s) as Float32Array | Int32Array);
  for (const s of [x, dy, ...out]) be.free(s);
  return res;
}

describe.each(flavours.map((k) => [k.flavour, k] as const))('convolution and pooling kernels, wasm (%s) against ref', (_f, kernels) => {
  const ref = createRefBackend();
  const single = kernels.createBackend();
  single.poisonUninit = true;
  let threaded: WasmBackend[] = [];

  it.each(CONV_CASES.map((c) => [c.join('×'), c] as const))('conv2d forward and backward %s, 1, 2 and 3 threads', async (_n, c) => {
    if (threaded.length === 0) threaded = await Promise.all([2, 3].map((threads) => kernels.createThreadedBackend({ threads })));
    const a = convArgs(c);
    for (const bias of [true, false]) {
      const want = runConv(ref, a, bias);
      const got = runConv(single, a, bias);
      ['out', 'dx', 'dw', 'db'].forEach((name, i) => expect(relError(got[i], want[i]), `${name}, bias ${bias}`).toBeLessThanOrEqual(1e-5));
      for (const be of threaded) expect(sameBits(runConv(be, a, bias), got), `${be.threads} threads`).toBe(true);
    }
  });

  it.each(POOL_CASES.map((c) => [c.join('×'), c] as const))('max and average pooling %s, 1, 2 and 3 threads', async (_n, c) => {
    if (threaded.length === 0) threaded = await Promise.all([2, 3].map((threads) => kernels.createThreadedBackend({ threads })));
    const a = poolArgs(c);
    for (const ties of [false, true]) {
      const want = runPool(ref, a, ties);
      const got = runPool(single, a, ties);
      expect(sameBits(got.slice(0, 2), want.slice(0, 2)), 'max and argmax (exact)').toBe(true);
      for (const i of [2, 3, 4]) expect(relError(got[i], want[i]), `output ${i}, ties ${ties}`).toBeLessThanOrEqual(1e-5);
      for (const be of threaded) expect(sameBits(runPool(be, a, ties), got), `${be.threads} threads`).toBe(true);
    }
  });

  it('disposes its thread pools', async () => {
    await Promise.all(threaded.map((be) => be.dispose()));
    threaded = [];
  });
});

describe('the compositions from the core (ref, core only) against the fused reference kernels', () => {
  const fused = createRefBackend();
  const core = coreOnly(createRefBackend());

  /** Output and input gradients of f on backend be, for Σ f(x)·dout. */
  function grads(be: Backend, f: (x: Tensor, w: Tensor, b: Tensor) => Tensor, shapes: number[][], seed: number): Float64Array[] {
    return stepScope(() => {
      const ins = shapes.map((s, i) => tensor(rand(s.reduce((p, q) => p * q, 1), seed + i, -2, 2), s, { backend: be, requiresGrad: true }));
      const y = f(ins[0], ins[1], ins[2]);
      backward(y, tensor(rand(y.size, seed + 9), y.shape, { backend: be }));
      return [y, ...ins.map((t) => t.grad!)].map((t) => Float64Array.from(t.toArraySync()));
    });
  }

  it.each(CONV_CASES.slice(0, 9).map((c) => [c.join('×'), c] as const))('conv2d %s', (_n, c) => {
    const a = convArgs(c);
    const f = (x: Tensor, w: Tensor, b: Tensor) => conv2d(x, w, b, { stride: [a.strideH, a.strideW], padding: [a.padH, a.padW] });
    const shapes = [[a.B, a.Cin, a.H, a.W], [a.Cout, a.Cin, a.kH, a.kW], [a.Cout]];
    const want = grads(fused, f, shapes, 3);
    grads(core, f, shapes, 3).forEach((g, i) => expect(relError(g, want[i]), `output ${i}`).toBeLessThanOrEqual(1e-5));
  });

  it.each(POOL_CASES.slice(0, 4).map((c) => [c.join('×'), c] as const))('max and average pooling %s', (_n, c) => {
    const a = poolArgs(c);
    const opts = { stride: [a.strideH, a.strideW] as const, padding: [a.padH, a.padW] as const };
    for (const f of [(x: Tensor) => maxPool2d(x, [a.kH, a.kW], opts), (x: Tensor) => avgPool2d(x, [a.kH, a.kW], opts)]) {
      const want = grads(fused, f, [[a.B, a.C, a.H, a.W]], 4);
      grads(core, f, [[a.B, a.C, a.H, a.W]], 4).forEach((g, i) => expect(relError(g, want[i]), `output ${i}`).toBeLessThanOrEqual(1e-6));
    }
  });
});
