// The exports of the compiled kernels (assembly/index.ts), typed for the backend. Pointers are byte
// offsets into the shared memory; booleans travel as 0/1. The loader checks this list against the binary
// (kernel-tables.ts): the same functions, each taking KERNEL_ARITY's number of parameters.

type Ptr = number;

export interface KernelExports {
  heapBase(): number;
  matmulScratchBytes(): number;
  fill32(p: Ptr, n: number, bits: number): void;
  zero(p: Ptr, bytes: number): void;
  matmulPart(a: Ptr, b: Ptr, c: Ptr, batch: number, m: number, n: number, k: number, transA: number, transB: number,
    strideA: number, strideB: number, accumulate: number, scratch0: Ptr, scratchStride: number, tid: number, threads: number): void;
  unaryPart(op: number, x: Ptr, out: Ptr, n: number, tid: number, threads: number): void;
  unaryBackwardPart(op: number, x: Ptr, dy: Ptr, dx: Ptr, n: number, tid: number, threads: number): void;
  stridedCopyPart(src: Ptr, srcOff: number, dst: Ptr, dstOff: number, rank: number, meta: Ptr, idx0: Ptr, tid: number, threads: number): void;
  reduce(op: number, x: Ptr, out: Ptr, outLen: number, rank: number, meta: Ptr, acc: Ptr, idx: Ptr): void;
  columnSumsPart(op: number, x: Ptr, out: Ptr, R: number, C: number, tid: number, threads: number): void;
  checkTargets(targets: Ptr, rows: number, V: number, ignoreIndex: number): number;
  crossEntropyRowsPart(logits: Ptr, lse: Ptr, l64: Ptr, rows: number, V: number, tid: number, threads: number): void;
  crossEntropyLoss(logits: Ptr, targets: Ptr, l64: Ptr, loss: Ptr, rows: number, V: number, ignoreIndex: number): void;
  crossEntropyBackwardPart(logits: Ptr, targets: Ptr, lse: Ptr, dloss: Ptr, dlogits: Ptr, rows: number, V: number,
    ignoreIndex: number, tid: number, threads: number): void;
  attentionScratchFloats(T: number, D: number): number;
  attentionForwardPart(q: Ptr, k: Ptr, v: Ptr, ib: number, ih: number, ir: number, out: Ptr, ob: number, oh: number, or: number,
    lse: Ptr, B: number, H: number, T: number, D: number, scale: number, causal: number, scratch0: Ptr, scratchStride: number,
    tid: number, threads: number): void;
  attentionBackwardPart(q: Ptr, k: Ptr, v: Ptr, ib: number, ih: number, ir: number, dout: Ptr, ob: number, oh: number, or: number,
    lse: Ptr, dq: Ptr, dk: Ptr, dv: Ptr, gb: number, gh: number, gr: number, B: number, H: number, T: number, D: number,
    scale: number, causal: number, scratch0: Ptr, scratchStride: number, tid: number, threads: number): void;
  attentionKeysForwardPart(q: Ptr, k: Ptr, v: Ptr, out: Ptr, lse: Ptr, mask: Ptr, meta: Ptr, B: number, H: number, Tq: number,
    Tk: number, D: number, scale: number, causal: number, scratch0: Ptr, scratchStride: number, tid: number, threads: number): void;
  attentionKeysBackwardPart(q: Ptr, k: Ptr, v: Ptr, dout: Ptr, lse: Ptr, dq: Ptr, dk: Ptr, dv: Ptr, mask: Ptr, meta: Ptr, B: number,
    H: number, Tq: number, Tk: number, D: number, scale: number, causal: number, scratch0: Ptr, scratchStride: number, tid: number,
    threads: number): void;
  attentionInferencePart(q: Ptr, qb: number, qh: number, qr: number, k: Ptr, v: Ptr, kb: number, kh: number, kr: number, out: Ptr,
    ob: number, oh: number, or: number, B: number, H: number, Tq: number, Tk: number, D: number, scale: number, causal: number,
    scratch0: Ptr, scratchStride: number, tid: number, threads: number): void;
  layerNormBackwardScratchBytes(rows: number, C: number): number;
  affinePart(x: Ptr, out: Ptr, n: number, alpha: number, beta: number, tid: number, threads: number): void;
  axpyPart(src: Ptr, dst: Ptr, n: number, alpha: number, tid: number, threads: number): void;
  adamwPart(param: Ptr, grad: Ptr, m: Ptr, v: Ptr, n: number, lr: number, beta1: number, beta2: number, eps: number,
    weightDecay: number, bc1: number, bc2: number, tid: number, threads: number): void;
  binaryPart(op: number, a: Ptr, b: Ptr, out: Ptr, rank: number, meta: Ptr, idx0: Ptr, tid: number, threads: number): void;
  layerNormForwardPart(x: Ptr, w: Ptr, b: Ptr, out: Ptr, mean: Ptr, rstd: Ptr, rows: number, C: number, eps: number, tid: number,
    threads: number): void;
  rmsNormForwardPart(x: Ptr, w: Ptr, out: Ptr, rrms: Ptr, rows: number, C: number, eps: number, tid: number, threads: number): void;
  layerNormBackwardRowsPart(dy: Ptr, x: Ptr, w: Ptr, rstd: Ptr, dx: Ptr, rows: number, C: number, mu: Ptr, tid: number,
    threads: number): void;
  layerNormBackwardChannelsPart(dy: Ptr, x: Ptr, rstd: Ptr, mu: Ptr, dw: Ptr, db: Ptr, rows: number, C: number, acc: Ptr,
    tid: number, threads: number): void;
  rmsNormBackwardRowsPart(dy: Ptr, x: Ptr, w: Ptr, rrms: Ptr, dx: Ptr, rows: number, C: number, tid: number, threads: number): void;
  rmsNormBackwardChannelsPart(dy: Ptr, x: Ptr, rrms: Ptr, dw: Ptr, rows: number, C: number, acc: Ptr, tid: number, threads: number): void;
  batchNormScratchBytes(C: number): number;
  batchNormForwardPart(x: Ptr, w: Ptr, b: Ptr, out: Ptr, mean: Ptr, variance: Ptr, rstd: Ptr, outer: number, C: number, inner: number,
    eps: number, scratch: Ptr, tid: number, threads: number): void;
  batchNormBackwardPart(dy: Ptr, x: Ptr, w: Ptr, mean: Ptr, rstd: Ptr, dx: Ptr, dw: Ptr, db: Ptr, outer: number, C: number, inner: number,
    scratch: Ptr, tid: number, threads: number): void;
  checkIds(ids: Ptr, N: number, V: number): number;
  embeddingBackwardPart(dout: Ptr, ids: Ptr, dweight: Ptr, N: number, C: number, tid: number, threads: number): void;
  softmaxForwardPart(x: Ptr, out: Ptr, rows: number, C: number, tid: number, threads: number): void;
  logSoftmaxForwardPart(x: Ptr, out: Ptr, rows: number, C: number, tid: number, threads: number): void;
  softmaxBackwardPart(y: Ptr, dy: Ptr, dx: Ptr, rows: number, C: number, tid: number, threads: number): void;
  logSoftmaxBackwardPart(y: Ptr, dy: Ptr, dx: Ptr, rows: number, C: number, tid: number, threads: number): void;
  embeddingForward(weight: Ptr, ids: Ptr, out: Ptr, N: number, C: number, V: number): number;
  dropoutForward(x: Ptr, out: Ptr, mask: Ptr, n: number, p: number, seed: number): void;
  conv2dScratchFloats(Cin: number, Cout: number, H: number, W: number, kH: number, kW: number, pH: number, pW: number): number;
  conv2dForwardPart(x: Ptr, w: Ptr, bias: Ptr, out: Ptr, B: number, Cin: number, H: number, W: number, Cout: number, kH: number, kW: number,
    sH: number, sW: number, pH: number, pW: number, Ho: number, Wo: number, scratch0: Ptr, scratchStride: number, mm0: Ptr, mmStride: number,
    tid: number, threads: number): void;
  conv2dBackwardDataPart(dy: Ptr, w: Ptr, dx: Ptr, B: number, Cin: number, H: number, W: number, Cout: number, kH: number, kW: number,
    sH: number, sW: number, pH: number, pW: number, Ho: number, Wo: number, scratch0: Ptr, scratchStride: number, mm0: Ptr, mmStride: number,
    tid: number, threads: number): void;
  conv2dBackwardFilterPart(dy: Ptr, x: Ptr, dw: Ptr, db: Ptr, B: number, Cin: number, H: number, W: number, Cout: number, kH: number,
    kW: number, sH: number, sW: number, pH: number, pW: number, Ho: number, Wo: number, scratch0: Ptr, scratchStride: number, mm0: Ptr,
    mmStride: number, tid: number, threads: number): void;
  maxPool2dForwardPart(x: Ptr, out: Ptr, argmax: Ptr, planes: number, H: number, W: number, kH: number, kW: number, sH: number, sW: number,
    pH: number, pW: number, Ho: number, Wo: number, tid: number, threads: number): void;
  maxPool2dBackwardPart(dy: Ptr, argmax: Ptr, dx: Ptr, planes: number, H: number, W: number, Ho: number, Wo: number, tid: number,
    threads: number): void;
  avgPool2dForwardPart(x: Ptr, out: Ptr, planes: number, H: number, W: number, kH: number, kW: number, sH: number, sW: number, pH: number,
    pW: number, Ho: number, Wo: number, tid: number, threads: number): void;
  avgPool2dBackwardPart(dy: Ptr, dx: Ptr, planes: number, H: number, W: number, kH: number, kW: number, sH: number, sW: number, pH: number,
    pW: number, Ho: number, Wo: number, tid: number, threads: number): void;
}

/**
 * Parameters of each export, checked at load against each wasm function's `length`: JavaScript pads a
 * call that passes too few with undefined (0 to wasm) and drops extras, so an argument list that drifted
 * from its kernel would run, wrongly, instead of failing. Typed so that tsc holds it to the interface
 * above (every member, its parameter count), and the load check holds the binary to it.
 */
export const KERNEL_ARITY: { readonly [K in keyof KernelExports]: Parameters<KernelExports[K]>['length'] } = {
  heapBase: 0, matmulScratchBytes: 0, fill32: 3, zero: 2, matmulPart: 16, unaryPart: 6, unaryBackwardPart: 7, stridedCopyPart: 9,
  reduce: 8, columnSumsPart: 7, checkTargets: 4, crossEntropyRowsPart: 7, crossEntropyLoss: 7, crossEntropyBackwardPart: 10,
  attentionScratchFloats: 2, attentionForwardPart: 21, attentionBackwardPart: 27, attentionInferencePart: 24,
  attentionKeysForwardPart: 18, attentionKeysBackwardPart: 21,
  layerNormBackwardScratchBytes: 2, affinePart: 7, axpyPart: 6, adamwPart: 14, binaryPart: 9, layerNormForwardPart: 11,
  rmsNormForwardPart: 9, layerNormBackwardRowsPart: 10, layerNormBackwardChannelsPart: 11, rmsNormBackwardRowsPart: 9,
  rmsNormBackwardChannelsPart: 9, batchNormScratchBytes: 1, batchNormForwardPart: 14, batchNormBackwardPart: 14, checkIds: 3, embeddingBackwardPart: 7, softmaxForwardPart: 6, logSoftmaxForwardPart: 6,
  softmaxBackwardPart: 7, logSoftmaxBackwardPart: 7, embeddingForward: 6, dropoutForward: 6, conv2dScratchFloats: 8, conv2dForwardPart: 23,
  conv2dBackwardDataPart: 22, conv2dBackwardFilterPart: 23, maxPool2dForwardPart: 16, maxPool2dBackwardPart: 10, avgPool2dForwardPart: 15,
  avgPool2dBackwardPart: 15,
};
