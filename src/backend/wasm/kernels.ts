// The exports of the compiled kernels (assembly/index.ts), typed for the backend. Pointers are byte
// offsets into the shared memory; booleans travel as 0/1.

type Ptr = number;

export interface KernelExports {
  heapBase(): number;
  relaxedBuild(): number;
  matmulScratchBytes(): number;
  fill32(p: Ptr, n: number, bits: number): void;
  zero(p: Ptr, bytes: number): void;
  matmul(a: Ptr, b: Ptr, c: Ptr, batch: number, m: number, n: number, k: number, transA: number, transB: number,
    strideA: number, strideB: number, accumulate: number, scratch: Ptr): void;
  matmulPart(a: Ptr, b: Ptr, c: Ptr, batch: number, m: number, n: number, k: number, transA: number, transB: number,
    strideA: number, strideB: number, accumulate: number, scratch0: Ptr, scratchStride: number, tid: number, threads: number): void;
  unary(op: number, x: Ptr, out: Ptr, n: number): void;
  unaryPart(op: number, x: Ptr, out: Ptr, n: number, tid: number, threads: number): void;
  unaryBackwardPart(op: number, x: Ptr, dy: Ptr, dx: Ptr, n: number, tid: number, threads: number): void;
  unaryBackward(op: number, x: Ptr, dy: Ptr, dx: Ptr, n: number): void;
  affine(x: Ptr, out: Ptr, n: number, alpha: number, beta: number): void;
  axpy(src: Ptr, dst: Ptr, n: number, alpha: number): void;
  binary(op: number, a: Ptr, b: Ptr, out: Ptr, rank: number, meta: Ptr, idx: Ptr): void;
  stridedCopy(src: Ptr, srcOff: number, dst: Ptr, dstOff: number, rank: number, meta: Ptr, idx: Ptr): void;
  stridedCopyPart(src: Ptr, srcOff: number, dst: Ptr, dstOff: number, rank: number, meta: Ptr, idx0: Ptr, tid: number, threads: number): void;
  reduce(op: number, x: Ptr, out: Ptr, outLen: number, rank: number, meta: Ptr, acc: Ptr, idx: Ptr): void;
  columnSumsPart(op: number, x: Ptr, out: Ptr, R: number, C: number, tid: number, threads: number): void;
  layerNormForward(x: Ptr, w: Ptr, b: Ptr, out: Ptr, mean: Ptr, rstd: Ptr, rows: number, C: number, eps: number): void;
  layerNormBackward(dy: Ptr, x: Ptr, w: Ptr, mean: Ptr, rstd: Ptr, dx: Ptr, dw: Ptr, db: Ptr, rows: number, C: number,
    acc: Ptr): void;
  rmsNormForward(x: Ptr, w: Ptr, out: Ptr, rrms: Ptr, rows: number, C: number, eps: number): void;
  rmsNormBackward(dy: Ptr, x: Ptr, w: Ptr, rrms: Ptr, dx: Ptr, dw: Ptr, rows: number, C: number, acc: Ptr): void;
  softmaxForward(x: Ptr, out: Ptr, rows: number, C: number): void;
  softmaxBackward(y: Ptr, dy: Ptr, dx: Ptr, rows: number, C: number): void;
  logSoftmaxForward(x: Ptr, out: Ptr, rows: number, C: number): void;
  logSoftmaxBackward(y: Ptr, dy: Ptr, dx: Ptr, rows: number, C: number): void;
  checkTargets(targets: Ptr, rows: number, V: number, ignoreIndex: number): number;
  crossEntropyRowsPart(logits: Ptr, lse: Ptr, l64: Ptr, rows: number, V: number, tid: number, threads: number): void;
  crossEntropyLoss(logits: Ptr, targets: Ptr, l64: Ptr, loss: Ptr, rows: number, V: number, ignoreIndex: number): void;
  crossEntropyBackwardPart(logits: Ptr, targets: Ptr, lse: Ptr, dloss: Ptr, dlogits: Ptr, rows: number, V: number,
    ignoreIndex: number, tid: number, threads: number): void;
  attentionScratchFloats(T: number, D: number): number;
  attentionForward(q: Ptr, k: Ptr, v: Ptr, ib: number, ih: number, ir: number, out: Ptr, ob: number, oh: number, or: number, lse: Ptr,
    B: number, H: number, T: number, D: number, scale: number, causal: number, scratch: Ptr): void;
  attentionForwardPart(q: Ptr, k: Ptr, v: Ptr, ib: number, ih: number, ir: number, out: Ptr, ob: number, oh: number, or: number,
    lse: Ptr, B: number, H: number, T: number, D: number, scale: number, causal: number, scratch0: Ptr, scratchStride: number,
    tid: number, threads: number): void;
  attentionBackwardPart(q: Ptr, k: Ptr, v: Ptr, ib: number, ih: number, ir: number, dout: Ptr, ob: number, oh: number, or: number,
    lse: Ptr, dq: Ptr, dk: Ptr, dv: Ptr, gb: number, gh: number, gr: number, B: number, H: number, T: number, D: number,
    scale: number, causal: number, scratch0: Ptr, scratchStride: number, tid: number, threads: number): void;
  attentionBackward(q: Ptr, k: Ptr, v: Ptr, ib: number, ih: number, ir: number, dout: Ptr, ob: number, oh: number, or: number,
    lse: Ptr, dq: Ptr, dk: Ptr, dv: Ptr, gb: number, gh: number, gr: number, B: number, H: number, T: number, D: number,
    scale: number, causal: number, scratch: Ptr): void;
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
  checkIds(ids: Ptr, N: number, V: number): number;
  embeddingBackwardPart(dout: Ptr, ids: Ptr, dweight: Ptr, N: number, C: number, tid: number, threads: number): void;
  softmaxForwardPart(x: Ptr, out: Ptr, rows: number, C: number, tid: number, threads: number): void;
  logSoftmaxForwardPart(x: Ptr, out: Ptr, rows: number, C: number, tid: number, threads: number): void;
  softmaxBackwardPart(y: Ptr, dy: Ptr, dx: Ptr, rows: number, C: number, tid: number, threads: number): void;
  logSoftmaxBackwardPart(y: Ptr, dy: Ptr, dx: Ptr, rows: number, C: number, tid: number, threads: number): void;
  embeddingForward(weight: Ptr, ids: Ptr, out: Ptr, N: number, C: number, V: number): number;
  embeddingBackward(dout: Ptr, ids: Ptr, dweight: Ptr, N: number, C: number, V: number): number;
  dropoutForward(x: Ptr, out: Ptr, mask: Ptr, n: number, p: number, seed: number): void;
  adamw(param: Ptr, grad: Ptr, m: Ptr, v: Ptr, n: number, lr: number, beta1: number, beta2: number, eps: number,
    weightDecay: number, bc1: number, bc2: number): void;
}
