// The reference backend: plain TypeScript over JS typed arrays, written for clarity. It is the oracle
// every faster backend is tested against; the kernels live in one file per family and this class
// checks its handles and sizes, then delegates.
import {
  type AdamWArgs,
  type AttentionKeys,
  type Backend,
  type BinaryOp,
  type Conv2dArgs,
  type DType,
  type HeadLayout,
  type HostArray,
  type MatmulArgs,
  type MemoryStats,
  type Pool2dArgs,
  type ReduceOp,
  type Storage,
  type UnaryOp,
} from '../backend.ts';
import { adamw } from './adamw.ts';
import { attentionBackward, attentionForward, attentionInference } from './attention.ts';
import { crossEntropyBackward, crossEntropyForward } from './cross-entropy.ts';
import { dropoutForward } from './dropout.ts';
import * as ew from './elementwise.ts';
import { embeddingBackward, embeddingForward } from './embedding.ts';
import { conv2dBackward, conv2dForward } from './conv.ts';
import { cast, stridedCopy, stridedExtent } from './layout.ts';
import { matmul, matmulExtents } from './matmul.ts';
import { batchNormBackward, batchNormForward, layerNormBackward, layerNormForward, rmsNormBackward, rmsNormForward } from './norms.ts';
import { avgPool2dBackward, avgPool2dForward, maxPool2dBackward, maxPool2dForward } from './pool.ts';
import { reduce } from './reduce.ts';
import { logSoftmaxBackward, logSoftmaxForward, softmaxBackward, softmaxForward } from './softmax.ts';
import { attentionExtents, attentionInferenceExtents } from '../kernel-shapes.ts';
import { checkAllocLength, checkViewRange, StorageLedger } from '../storage-checks.ts';
import { RefStorage, arr, floats, ints, newArray, type FloatArray } from './storage.ts';

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** floats() for an optional parameter (γ, β, dγ, dβ, a key mask may be null). */
function maybeFloats(s: Storage | null, need: number, name: string): FloatArray | null {
  return s === null ? null : floats(s, need, name);
}

export class RefBackend implements Backend {
  readonly name = 'ref';
  private readonly ledger = new StorageLedger(RefStorage, this, 'ref');

  // ---- memory -------------------------------------------------------------------------------
  alloc(dtype: DType, length: number): Storage {
    checkAllocLength(length);
    const s = new RefStorage(newArray(dtype, length), null, this);
    this.ledger.add(s);
    return s;
  }

  view(base: Storage, offset: number, length: number): Storage {
    const data = arr(base, 0, 'view base');
    checkViewRange(offset, length, data.length);
    const b = base as RefStorage;
    return new RefStorage(data.subarray(offset, offset + length), b.root ?? b, this);
  }

  free(s: Storage): void {
    this.ledger.free(s);
  }

  write(s: Storage, src: ArrayLike<number>): void {
    const data = arr(s, 0, 'write target');
    if (src.length !== data.length) {
      throw new Error(`write got ${src.length} values for a buffer of ${data.length} elements; lengths must match.`);
    }
    if (data instanceof Int32Array && !(src instanceof Int32Array)) {
      for (let i = 0; i < data.length; i++) data[i] = Math.trunc(src[i]);
    } else {
      data.set(src);
    }
  }

  read(s: Storage): Promise<HostArray> {
    return Promise.resolve(this.readSync(s));
  }

  readSync(s: Storage): HostArray {
    return arr(s, 0, 'read source').slice();
  }

  memoryStats(): MemoryStats {
    return this.ledger.stats();
  }

  // ---- data movement --------------------------------------------------------------------------
  fill(out: Storage, value: number): void {
    arr(out, 0, 'fill target').fill(value);
  }

  cast(src: Storage, out: Storage): void {
    const o = arr(out, 0, 'cast output');
    cast(arr(src, o.length, 'cast source'), o);
  }

  stridedCopy(
    src: Storage,
    srcOffset: number,
    srcStrides: readonly number[],
    dst: Storage,
    dstOffset: number,
    dstStrides: readonly number[],
    shape: readonly number[],
  ): void {
    const s = arr(src, 0, 'stridedCopy source');
    const d = arr(dst, 0, 'stridedCopy destination');
    for (const [name, a, off, strides] of [
      ['source', s, srcOffset, srcStrides],
      ['destination', d, dstOffset, dstStrides],
    ] as const) {
      const [lo, hi] = stridedExtent(off, strides, shape);
      if (lo <= hi && (lo < 0 || hi >= a.length)) {
        throw new Error(
          `stridedCopy ${name} walk over shape [${shape}] touches elements [${lo}, ${hi}] of a buffer of ${a.length}.`,
        );
      }
    }
    stridedCopy(s, srcOffset, srcStrides, d, dstOffset, dstStrides, shape);
  }

  // ---- elementwise ----------------------------------------------------------------------------
  unary(op: UnaryOp, x: Storage, out: Storage): void {
    const o = arr(out, 0, 'unary output');
    ew.unary(op, arr(x, o.length, 'unary input'), o);
  }

  unaryBackward(op: UnaryOp, x: Storage, dy: Storage, dx: Storage): void {
    const g = arr(dx, 0, 'dx');
    ew.unaryBackward(op, arr(x, g.length, 'x'), arr(dy, g.length, 'dy'), g);
  }

  affine(x: Storage, out: Storage, alpha: number, beta: number): void {
    const o = arr(out, 0, 'affine output');
    ew.affine(arr(x, o.length, 'affine input'), o, alpha, beta);
  }

  axpy(src: Storage, dst: Storage, alpha: number): void {
    const d = arr(dst, 0, 'axpy destination');
    ew.axpy(arr(src, d.length, 'axpy source'), d, alpha);
  }

  binary(
    op: BinaryOp,
    a: Storage,
    aShape: readonly number[],
    b: Storage,
    bShape: readonly number[],
    out: Storage,
    outShape: readonly number[],
  ): void {
    const [x, y] = [arr(a, numel(aShape), 'a'), arr(b, numel(bShape), 'b')];
    ew.binary(op, x, aShape, y, bShape, arr(out, numel(outShape), 'out'), outShape);
  }

  equal(a: Storage, aShape: readonly number[], b: Storage, bShape: readonly number[], out: Storage): void {
    const outLen = numel(ew.broadcastShape(aShape, bShape));
    ew.equal(arr(a, numel(aShape), 'a'), aShape, arr(b, numel(bShape), 'b'), bShape, arr(out, outLen, 'out'));
  }

  // ---- reductions -----------------------------------------------------------------------------
  reduce(op: ReduceOp, x: Storage, shape: readonly number[], axes: readonly number[], out: Storage): void {
    const kept = shape.filter((_, d) => !axes.includes(d));
    reduce(op, arr(x, numel(shape), 'reduce input'), shape, axes, arr(out, numel(kept), 'reduce output'));
  }

  // ---- matrix product -------------------------------------------------------------------------
  matmul(a: Storage, b: Storage, out: Storage, args: MatmulArgs): void {
    const need = matmulExtents(args);
    matmul(arr(a, need.a, 'matmul A'), arr(b, need.b, 'matmul B'), arr(out, need.out, 'matmul C'), args);
  }

  // ---- fused layers ---------------------------------------------------------------------------
  layerNormForward(x: Storage, w: Storage | null, b: Storage | null, out: Storage, mean: Storage, rstd: Storage,
    rows: number, C: number, eps: number): void {
    const n = rows * C;
    layerNormForward(floats(x, n, 'x'), maybeFloats(w, C, 'weight'), maybeFloats(b, C, 'bias'), floats(out, n, 'out'),
      floats(mean, rows, 'mean'), floats(rstd, rows, 'rstd'), rows, C, eps);
  }

  layerNormBackward(dy: Storage, x: Storage, w: Storage | null, mean: Storage, rstd: Storage, dx: Storage,
    dw: Storage | null, db: Storage | null, rows: number, C: number): void {
    const n = rows * C;
    layerNormBackward(floats(dy, n, 'dy'), floats(x, n, 'x'), maybeFloats(w, C, 'weight'), floats(mean, rows, 'mean'),
      floats(rstd, rows, 'rstd'), floats(dx, n, 'dx'), maybeFloats(dw, C, 'dweight'), maybeFloats(db, C, 'dbias'),
      rows, C);
  }

  rmsNormForward(x: Storage, w: Storage | null, out: Storage, rrms: Storage, rows: number, C: number, eps: number): void {
    const n = rows * C;
    rmsNormForward(floats(x, n, 'x'), maybeFloats(w, C, 'weight'), floats(out, n, 'out'), floats(rrms, rows, 'rrms'),
      rows, C, eps);
  }

  rmsNormBackward(dy: Storage, x: Storage, w: Storage | null, rrms: Storage, dx: Storage, dw: Storage | null,
    rows: number, C: number): void {
    const n = rows * C;
    rmsNormBackward(floats(dy, n, 'dy'), floats(x, n, 'x'), maybeFloats(w, C, 'weight'), floats(rrms, rows, 'rrms'),
      floats(dx, n, 'dx'), maybeFloats(dw, C, 'dweight'), rows, C);
  }

  batchNormForward(x: Storage, w: Storage | null, b: Storage | null, out: Storage, mean: Storage, variance: Storage, rstd: Storage,
    outer: number, C: number, inner: number, eps: number): void {
    const n = outer * C * inner;
    batchNormForward(floats(x, n, 'x'), maybeFloats(w, C, 'weight'), maybeFloats(b, C, 'bias'), floats(out, n, 'out'),
      floats(mean, C, 'mean'), floats(variance, C, 'variance'), floats(rstd, C, 'rstd'), outer, C, inner, eps);
  }

  batchNormBackward(dy: Storage, x: Storage, w: Storage | null, mean: Storage, rstd: Storage, dx: Storage, dw: Storage | null,
    db: Storage | null, outer: number, C: number, inner: number): void {
    const n = outer * C * inner;
    batchNormBackward(floats(dy, n, 'dy'), floats(x, n, 'x'), maybeFloats(w, C, 'weight'), floats(mean, C, 'mean'),
      floats(rstd, C, 'rstd'), floats(dx, n, 'dx'), maybeFloats(dw, C, 'dweight'), maybeFloats(db, C, 'dbias'), outer, C, inner);
  }

  softmaxForward(x: Storage, out: Storage, rows: number, C: number): void {
    softmaxForward(floats(x, rows * C, 'x'), floats(out, rows * C, 'out'), rows, C);
  }

  softmaxBackward(y: Storage, dy: Storage, dx: Storage, rows: number, C: number): void {
    const n = rows * C;
    softmaxBackward(floats(y, n, 'y'), floats(dy, n, 'dy'), floats(dx, n, 'dx'), rows, C);
  }

  logSoftmaxForward(x: Storage, out: Storage, rows: number, C: number): void {
    logSoftmaxForward(floats(x, rows * C, 'x'), floats(out, rows * C, 'out'), rows, C);
  }

  logSoftmaxBackward(y: Storage, dy: Storage, dx: Storage, rows: number, C: number): void {
    const n = rows * C;
    logSoftmaxBackward(floats(y, n, 'y'), floats(dy, n, 'dy'), floats(dx, n, 'dx'), rows, C);
  }

  crossEntropyForward(logits: Storage, targets: Storage, loss: Storage, lse: Storage, rows: number, V: number,
    ignoreIndex: number): void {
    crossEntropyForward(floats(logits, rows * V, 'logits'), ints(targets, rows, 'targets'), floats(loss, 1, 'loss'),
      floats(lse, rows, 'lse'), rows, V, ignoreIndex);
  }

  crossEntropyBackward(logits: Storage, targets: Storage, lse: Storage, dloss: Storage, dlogits: Storage,
    rows: number, V: number, ignoreIndex: number): void {
    crossEntropyBackward(floats(logits, rows * V, 'logits'), ints(targets, rows, 'targets'), floats(lse, rows, 'lse'),
      floats(dloss, 1, 'dloss'), floats(dlogits, rows * V, 'dlogits'), rows, V, ignoreIndex);
  }

  attentionForward(q: Storage, k: Storage, v: Storage, inLayout: HeadLayout, out: Storage, outLayout: HeadLayout, lse: Storage,
    B: number, H: number, T: number, D: number, scale: number, causal: boolean, keys?: AttentionKeys): void {
    const need = attentionExtents('attentionForward', inLayout, outLayout, null, B, H, T, D, keys);
    attentionForward(floats(q, need.qkv, 'q'), floats(k, need.kv, 'k'), floats(v, need.kv, 'v'), inLayout,
      floats(out, need.out, 'out'), outLayout, floats(lse, need.lse, 'lse'), B, H, T, D, scale, causal, keys?.Tk, keys?.kvLayout,
      maybeFloats(keys?.keyMask ?? null, need.mask, 'keyMask'));
  }

  attentionInference(q: Storage, qLayout: HeadLayout, k: Storage, v: Storage, kvLayout: HeadLayout, out: Storage,
    outLayout: HeadLayout, B: number, H: number, Tq: number, Tk: number, D: number, scale: number, causal: boolean): void {
    const need = attentionInferenceExtents(qLayout, kvLayout, outLayout, B, H, Tq, Tk, D);
    attentionInference(floats(q, need.q, 'q'), qLayout, floats(k, need.kv, 'k'), floats(v, need.kv, 'v'), kvLayout,
      floats(out, need.out, 'out'), outLayout, B, H, Tq, Tk, D, scale, causal);
  }

  attentionBackward(q: Storage, k: Storage, v: Storage, inLayout: HeadLayout, out: Storage, dout: Storage, outLayout: HeadLayout,
    lse: Storage, dq: Storage, dk: Storage, dv: Storage, gradLayout: HeadLayout, B: number, H: number, T: number, D: number,
    scale: number, causal: boolean, keys?: AttentionKeys): void {
    const need = attentionExtents('attentionBackward', inLayout, outLayout, gradLayout, B, H, T, D, keys);
    attentionBackward(floats(q, need.qkv, 'q'), floats(k, need.kv, 'k'), floats(v, need.kv, 'v'), inLayout,
      floats(out, need.out, 'out'), floats(dout, need.out, 'dout'), outLayout, floats(lse, need.lse, 'lse'),
      floats(dq, need.grad, 'dq'), floats(dk, need.dkv, 'dk'), floats(dv, need.dkv, 'dv'), gradLayout, B, H, T, D, scale, causal,
      keys?.Tk, keys?.kvLayout, keys ? (keys.dkvLayout ?? keys.kvLayout) : undefined, maybeFloats(keys?.keyMask ?? null, need.mask, 'keyMask'));
  }

  embeddingForward(weight: Storage, ids: Storage, out: Storage, N: number, C: number): void {
    embeddingForward(floats(weight, 0, 'weight'), ints(ids, N, 'ids'), floats(out, N * C, 'out'), N, C);
  }

  embeddingBackward(dout: Storage, ids: Storage, dweight: Storage, N: number, C: number): void {
    embeddingBackward(floats(dout, N * C, 'dout'), ints(ids, N, 'ids'), floats(dweight, 0, 'dweight'), N, C);
  }

  dropoutForward(x: Storage, out: Storage, mask: Storage, p: number, seed: number): void {
    const o = floats(out, 0, 'out');
    dropoutForward(floats(x, o.length, 'x'), o, floats(mask, o.length, 'mask'), p, seed);
  }

  // ---- convolution and pooling ----------------------------------------------------------------
  conv2dForward(x: Storage, w: Storage, bias: Storage | null, out: Storage, a: Conv2dArgs): void {
    conv2dForward(floats(x, a.B * a.Cin * a.H * a.W, 'x'), floats(w, a.Cout * a.Cin * a.kH * a.kW, 'weight'),
      maybeFloats(bias, a.Cout, 'bias'), floats(out, a.B * a.Cout * a.Ho * a.Wo, 'out'), a);
  }

  conv2dBackward(dy: Storage, x: Storage, w: Storage, dx: Storage | null, dw: Storage | null, dbias: Storage | null,
    a: Conv2dArgs): void {
    const [nx, nw] = [a.B * a.Cin * a.H * a.W, a.Cout * a.Cin * a.kH * a.kW];
    conv2dBackward(floats(dy, a.B * a.Cout * a.Ho * a.Wo, 'dy'), floats(x, nx, 'x'), floats(w, nw, 'weight'), maybeFloats(dx, nx, 'dx'),
      maybeFloats(dw, nw, 'dweight'), maybeFloats(dbias, a.Cout, 'dbias'), a);
  }

  maxPool2dForward(x: Storage, out: Storage, argmax: Storage, a: Pool2dArgs): void {
    const n = a.B * a.C * a.Ho * a.Wo;
    maxPool2dForward(floats(x, a.B * a.C * a.H * a.W, 'x'), floats(out, n, 'out'), ints(argmax, n, 'argmax'), a);
  }

  maxPool2dBackward(dy: Storage, argmax: Storage, dx: Storage, a: Pool2dArgs): void {
    const n = a.B * a.C * a.Ho * a.Wo;
    maxPool2dBackward(floats(dy, n, 'dy'), ints(argmax, n, 'argmax'), floats(dx, a.B * a.C * a.H * a.W, 'dx'), a);
  }

  avgPool2dForward(x: Storage, out: Storage, a: Pool2dArgs): void {
    avgPool2dForward(floats(x, a.B * a.C * a.H * a.W, 'x'), floats(out, a.B * a.C * a.Ho * a.Wo, 'out'), a);
  }

  avgPool2dBackward(dy: Storage, dx: Storage, a: Pool2dArgs): void {
    avgPool2dBackward(floats(dy, a.B * a.C * a.Ho * a.Wo, 'dy'), floats(dx, a.B * a.C * a.H * a.W, 'dx'), a);
  }

  // ---- optimizer ------------------------------------------------------------------------------
  adamw(param: Storage, grad: Storage, m: Storage, v: Storage, args: AdamWArgs): void {
    const p = floats(param, 0, 'param');
    const n = p.length;
    adamw(p, floats(grad, n, 'grad'), floats(m, n, 'm'), floats(v, n, 'v'), args);
  }
}

export function createRefBackend(): RefBackend {
  return new RefBackend();
}
