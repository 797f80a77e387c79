// Thread shares of the row-wise and elementwise kernels (the `*Part(…, tid, threads)` jobs the
// thread pool runs). Rows and 4-aligned chunks are split so that every output element is computed by
// one thread with the same instructions in the same order as on one thread: results do not depend on
// the thread count. Reductions over rows (LayerNorm's dγ, dβ) are split by channels instead.
//
// `if (threads == 1)`, where a share calls a loop kernel of its own (adamw, softmaxBackward, …): one share is
// the whole range, and the second call keeps that kernel out of line. With one call site, Binaryen's -O3
// inlines it into the share, and V8 ran some of the merged functions slower (1 thread, best of 11, both
// builds: softmaxBackwardPart 7-16%, embeddingBackwardPart 7-9%); the kernels were out of line while their
// single-thread versions were exported, and are again.
import { adamw, embeddingBackwardChannels } from './misc';
import { affine, axpy, binaryRange, chunk } from './elementwise';
import {
  layerNormBackwardChannels, layerNormBackwardRows, layerNormForward, rmsNormBackwardChannels, rmsNormBackwardRows, rmsNormForward,
} from './norms';
import {
  crossEntropyBackwardRange, crossEntropyRows, logSoftmaxBackward, logSoftmaxForward, softmaxBackward, softmaxForward,
} from './softmax';

@inline function start(c: i64): usize {
  return <usize>(<i32>(c >> 32)) << 2;
}

@inline function count(c: i64): i32 {
  return <i32>(c & 0xffffffff);
}

@inline function lo(n: i32, tid: i32, threads: i32): i32 {
  return <i32>((<i64>n * tid) / threads);
}

export function affinePart(x: usize, out: usize, n: i32, alpha: f32, beta: f32, tid: i32, threads: i32): void {
  const c = chunk(n, tid, threads);
  affine(x + start(c), out + start(c), count(c), alpha, beta);
}

export function axpyPart(src: usize, dst: usize, n: i32, alpha: f32, tid: i32, threads: i32): void {
  const c = chunk(n, tid, threads);
  axpy(src + start(c), dst + start(c), count(c), alpha);
}

export function adamwPart(param: usize, grad: usize, m: usize, v: usize, n: i32, lr: f64, beta1: f64, beta2: f64, eps: f64,
  weightDecay: f64, bc1: f64, bc2: f64, tid: i32, threads: i32): void {
  if (threads == 1) {
    adamw(param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, bc1, bc2);
    return;
  }
  const c = chunk(n, tid, threads);
  const o = start(c);
  adamw(param + o, grad + o, m + o, v + o, count(c), lr, beta1, beta2, eps, weightDecay, bc1, bc2);
}

/** A binary op's share: a range of its innermost runs, or of the elements when there is one run. */
export function binaryPart(op: i32, a: usize, b: usize, out: usize, rank: i32, meta: usize, idx0: usize, tid: i32,
  threads: i32): void {
  binaryRange(op, a, b, out, rank, meta, idx0 + (<usize>(tid * max<i32>(rank, 1)) << 2), tid, threads);
}

/** Rows [r0, r1) of a row-wise kernel for thread tid. */
export function layerNormForwardPart(x: usize, w: usize, b: usize, out: usize, mean: usize, rstd: usize, rows: i32, C: i32,
  eps: f64, tid: i32, threads: i32): void {
  const r0 = lo(rows, tid, threads), r1 = lo(rows, tid + 1, threads);
  const o = <usize>(r0 * C) << 2, s = <usize>r0 << 2;
  layerNormForward(x + o, w, b, out + o, mean + s, rstd + s, r1 - r0, C, eps);
}

export function rmsNormForwardPart(x: usize, w: usize, out: usize, rrms: usize, rows: i32, C: i32, eps: f64, tid: i32,
  threads: i32): void {
  const r0 = lo(rows, tid, threads), r1 = lo(rows, tid + 1, threads);
  const o = <usize>(r0 * C) << 2;
  rmsNormForward(x + o, w, out + o, rrms + (<usize>r0 << 2), r1 - r0, C, eps);
}

/** LayerNorm backward, first job: dx for a range of rows (each row's float64 mean to mu). */
export function layerNormBackwardRowsPart(dy: usize, x: usize, w: usize, rstd: usize, dx: usize, rows: i32, C: i32, mu: usize,
  tid: i32, threads: i32): void {
  const r0 = lo(rows, tid, threads), r1 = lo(rows, tid + 1, threads);
  const o = <usize>(r0 * C) << 2;
  layerNormBackwardRows(dy + o, x + o, w, rstd + (<usize>r0 << 2), dx + o, r1 - r0, C, mu + (<usize>r0 << 3));
}

/** LayerNorm backward, second job (after every row's mean is in mu): dγ, dβ for a 4-aligned range of channels. */
export function layerNormBackwardChannelsPart(dy: usize, x: usize, rstd: usize, mu: usize, dw: usize, db: usize, rows: i32, C: i32,
  acc: usize, tid: i32, threads: i32): void {
  const c = chunk(C, tid, threads);
  const c0 = <i32>(c >> 32);
  layerNormBackwardChannels(dy, x, rstd, mu, dw, db, rows, C, c0, c0 + count(c), acc);
}

/** RMSNorm backward, first job: dx for a range of rows. */
export function rmsNormBackwardRowsPart(dy: usize, x: usize, w: usize, rrms: usize, dx: usize, rows: i32, C: i32, tid: i32,
  threads: i32): void {
  const r0 = lo(rows, tid, threads), r1 = lo(rows, tid + 1, threads);
  const o = <usize>(r0 * C) << 2;
  rmsNormBackwardRows(dy + o, x + o, w, rrms + (<usize>r0 << 2), dx + o, r1 - r0, C);
}

/** RMSNorm backward, second job: dγ for a 4-aligned range of channels. */
export function rmsNormBackwardChannelsPart(dy: usize, x: usize, rrms: usize, dw: usize, rows: i32, C: i32, acc: usize, tid: i32,
  threads: i32): void {
  if (threads == 1) {
    rmsNormBackwardChannels(dy, x, rrms, dw, rows, C, 0, C, acc);
    return;
  }
  const c = chunk(C, tid, threads);
  const c0 = <i32>(c >> 32);
  rmsNormBackwardChannels(dy, x, rrms, dw, rows, C, c0, c0 + count(c), acc);
}

/** Embedding backward (ids already checked) for a 4-aligned range of channels: every id's rows in order. */
export function embeddingBackwardPart(dout: usize, ids: usize, dweight: usize, N: i32, C: i32, tid: i32, threads: i32): void {
  if (threads == 1) {
    embeddingBackwardChannels(dout, ids, dweight, N, C, 0, C);
    return;
  }
  const c = chunk(C, tid, threads);
  const c0 = <i32>(c >> 32);
  embeddingBackwardChannels(dout, ids, dweight, N, C, c0, c0 + count(c));
}

export function softmaxForwardPart(x: usize, out: usize, rows: i32, C: i32, tid: i32, threads: i32): void {
  if (threads == 1) {
    softmaxForward(x, out, rows, C);
    return;
  }
  const r0 = lo(rows, tid, threads), r1 = lo(rows, tid + 1, threads);
  const o = <usize>(r0 * C) << 2;
  softmaxForward(x + o, out + o, r1 - r0, C);
}

export function logSoftmaxForwardPart(x: usize, out: usize, rows: i32, C: i32, tid: i32, threads: i32): void {
  if (threads == 1) {
    logSoftmaxForward(x, out, rows, C);
    return;
  }
  const r0 = lo(rows, tid, threads), r1 = lo(rows, tid + 1, threads);
  const o = <usize>(r0 * C) << 2;
  logSoftmaxForward(x + o, out + o, r1 - r0, C);
}

export function softmaxBackwardPart(y: usize, dy: usize, dx: usize, rows: i32, C: i32, tid: i32, threads: i32): void {
  if (threads == 1) {
    softmaxBackward(y, dy, dx, rows, C);
    return;
  }
  const r0 = lo(rows, tid, threads), r1 = lo(rows, tid + 1, threads);
  const o = <usize>(r0 * C) << 2;
  softmaxBackward(y + o, dy + o, dx + o, r1 - r0, C);
}

export function logSoftmaxBackwardPart(y: usize, dy: usize, dx: usize, rows: i32, C: i32, tid: i32, threads: i32): void {
  if (threads == 1) {
    logSoftmaxBackward(y, dy, dx, rows, C);
    return;
  }
  const r0 = lo(rows, tid, threads), r1 = lo(rows, tid + 1, threads);
  const o = <usize>(r0 * C) << 2;
  logSoftmaxBackward(y + o, dy + o, dx + o, r1 - r0, C);
}

/** Cross-entropy forward's logsumexp rows for thread tid (crossEntropyLoss then sums them in order). */
export function crossEntropyRowsPart(logits: usize, lse: usize, l64: usize, rows: i32, V: i32, tid: i32, threads: i32): void {
  const r0 = lo(rows, tid, threads), r1 = lo(rows, tid + 1, threads);
  crossEntropyRows(logits + (<usize>(r0 * V) << 2), lse + (<usize>r0 << 2), l64 + (<usize>r0 << 3), r1 - r0, V);
}

export function crossEntropyBackwardPart(logits: usize, targets: usize, lse: usize, dloss: usize, dlogits: usize, rows: i32, V: i32,
  ignoreIndex: i32, tid: i32, threads: i32): void {
  crossEntropyBackwardRange(logits, targets, lse, dloss, dlogits, rows, V, ignoreIndex, lo(rows, tid, threads), lo(rows, tid + 1, threads));
}
