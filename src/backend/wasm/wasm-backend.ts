// The WebAssembly SIMD backend's kernel wrappers: each Backend op checks its handles and sizes like the
// ref backend, lays out shape metadata and launches its kernels (assembly/, compiled to kernels-*.wasm).
// Memory and pinning are backend-memory.ts's, launching and capture backend-capture.ts's, which this extends.
// Storage is float32 and int32 only: float64 (the finite-difference gradient checks) stays on ref.
import type {
  AdamWArgs, AttentionKeys, Backend, BinaryOp, Conv2dArgs, HeadLayout, MatmulArgs, Pool2dArgs, ReduceOp, Storage, UnaryOp,
} from '../backend.ts';
import { attentionExtents, attentionInferenceExtents, reducedDims } from '../kernel-shapes.ts';
import { stridedExtent } from '../ref/layout.ts';
import { matmulExtents } from '../ref/matmul.ts';
import { WasmCapture } from './backend-capture.ts';
import { BINARY_CODE, EQUAL_CODE, REDUCE_CODE, UNARY_CODE } from './kernel-tables.ts';
import type { KernelExports } from './kernels.ts';
import type { SimdFlavour } from './load.ts';
import { broadcastStrides, checkBroadcast, denseStrides, mergeDims, numel } from './shapes.ts';
import type { WasmStorage } from './storage.ts';

/** Below this much work (multiply-adds, or elements) a kernel runs on the calling thread: waking workers costs more. */
const MATMUL_THREAD_MIN = 64 * 64 * 64;
const ELEMENTWISE_THREAD_MIN = 1 << 15;

export interface WasmBackendInfo {
  flavour: SimdFlavour;
  threads: number;
  /** Bytes of linear memory the allocator has handed out, free or live (flat over training steps). */
  reservedBytes: number;
  /** Total size of the linear memory. */
  memoryBytes: number;
}

export class WasmBackend extends WasmCapture implements Backend {
  readonly name = 'wasm';

  constructor(
    k: KernelExports,
    memory: WebAssembly.Memory,
    readonly flavour: SimdFlavour,
    maxBytes: number,
    /** Threads the kernels are split over (the pool is attached by attachPool when > 1). */
    threads = 1,
  ) {
    super(k, memory, maxBytes, threads);
  }

  info(): WasmBackendInfo {
    return { flavour: this.flavour, threads: this.threads, reservedBytes: this.alloc_.reservedBytes, memoryBytes: this.memory.buffer.byteLength };
  }

  /** Per-thread scratch for attention (contiguous, one stride apart). */
  private attentionScratch(T: number, D: number): [number, number] {
    const stride = Math.ceil((4 * this.k.attentionScratchFloats(T, D)) / 64) * 64;
    return [this.ensureScratch(stride * this.threads + 64), stride];
  }

  /**
   * The layouts of an attention call with AttentionKeys as i32 (batch, head, row) triples at the start
   * of scratch (a captured replay rewrites them), and per-thread attention scratch after them, for
   * T = max(Tq, Tk): [meta, scratch, stride].
   */
  private attentionMeta(layouts: readonly HeadLayout[], T: number, D: number): [number, number, number] {
    const stride = Math.ceil((4 * this.k.attentionScratchFloats(T, D)) / 64) * 64;
    const meta = this.writeMeta(layouts.map((l) => [l.batch, l.head, l.row]), stride * this.threads + 64);
    return [meta, Math.ceil((meta + 12 * layouts.length) / 64) * 64, stride];
  }

  // ---- data movement --------------------------------------------------------------------------
  fill(out: Storage, value: number): void {
    const o = this.st(out, 0, 'fill target');
    // The bit pattern of value as this dtype stores it (float32 rounding, or int32 truncation and wrap).
    const bits = o.dtype === 'int32' ? new Int32Array([value])[0] : new Int32Array(new Float32Array([value]).buffer)[0];
    this.call(this.k.fill32, [o.ptr, o.length, bits]);
  }

  cast(src: Storage, out: Storage): void {
    const o = this.st(out, 0, 'cast output');
    const s = this.st(src, o.length, 'cast source');
    const from = this.hostView(s);
    this.hostView(o).set(from.length === o.length ? from : from.subarray(0, o.length));
    if (this.rec) {
      this.rec.record(s.dtype === o.dtype ? { kind: 'copy', dst: o.ptr, src: s.ptr, bytes: 4 * o.length }
        : { kind: 'convert', toFloat: o.dtype === 'float32', dst: o.ptr >>> 2, src: s.ptr >>> 2, n: o.length });
    }
  }

  stridedCopy(src: Storage, srcOffset: number, srcStrides: readonly number[], dst: Storage, dstOffset: number,
    dstStrides: readonly number[], shape: readonly number[]): void {
    const s = this.st(src, 0, 'stridedCopy source');
    const d = this.st(dst, 0, 'stridedCopy destination');
    const rank = shape.length;
    if (srcStrides.length !== rank || dstStrides.length !== rank) {
      throw new Error(`stridedCopy got shape [${shape}] with src strides [${srcStrides}] and dst strides [${dstStrides}]; ` +
        'all three need one entry per dim.');
    }
    if (s.dtype !== d.dtype) throw new Error(`stridedCopy copies between equal dtypes, got ${s.dtype} → ${d.dtype}; cast first.`);
    for (const [name, b, off, strides] of [['source', s, srcOffset, srcStrides], ['destination', d, dstOffset, dstStrides]] as const) {
      const [lo, hi] = stridedExtent(off, strides, shape);
      if (lo <= hi && (lo < 0 || hi >= b.length)) {
        throw new Error(`stridedCopy ${name} walk over shape [${shape}] touches elements [${lo}, ${hi}] of a buffer of ${b.length}.`);
      }
    }
    if (numel(shape) === 0) return;
    const m = mergeDims(shape, [srcStrides, dstStrides]);
    const r = m.shape.length;
    const meta = this.writeMeta([m.shape, m.strides[0], m.strides[1]], 4 * Math.max(r, 1) * this.threads);
    // Split by innermost runs; a single run (a plain contiguous copy) stays whole: memory.copy is one call.
    const runs = r === 0 ? 1 : numel(shape) / m.shape[r - 1];
    this.parallel('stridedCopyPart', [s.ptr, srcOffset, d.ptr, dstOffset, r, meta, meta + 12 * r], runs > 1 ? numel(shape) : 0,
      ELEMENTWISE_THREAD_MIN);
  }

  // ---- elementwise ----------------------------------------------------------------------------
  unary(op: UnaryOp, x: Storage, out: Storage): void {
    const o = this.st(out, 0, 'unary output');
    const n = o.length;
    this.parallel('unaryPart', [UNARY_CODE[op], this.f(x, n, 'unary input'), this.f(o, 0, 'unary output'), n], n, ELEMENTWISE_THREAD_MIN);
  }

  unaryBackward(op: UnaryOp, x: Storage, dy: Storage, dx: Storage): void {
    const n = this.st(dx, 0, 'dx').length;
    this.parallel('unaryBackwardPart', [UNARY_CODE[op], this.f(x, n, 'x'), this.f(dy, n, 'dy'), this.f(dx, n, 'dx'), n], n,
      ELEMENTWISE_THREAD_MIN);
  }

  affine(x: Storage, out: Storage, alpha: number, beta: number): void {
    const n = this.st(out, 0, 'affine output').length;
    this.parallel('affinePart', [this.f(x, n, 'affine input'), this.f(out, n, 'affine output'), n, alpha, beta], n,
      ELEMENTWISE_THREAD_MIN);
  }

  axpy(src: Storage, dst: Storage, alpha: number): void {
    const n = this.st(dst, 0, 'axpy destination').length;
    this.parallel('axpyPart', [this.f(src, n, 'axpy source'), this.f(dst, n, 'axpy destination'), n, alpha], n, ELEMENTWISE_THREAD_MIN);
  }

  private broadcastOp(code: number, a: Storage, aShape: readonly number[], b: Storage, bShape: readonly number[], out: Storage,
    outShape: readonly number[]): void {
    checkBroadcast(aShape, bShape, outShape);
    const pa = this.f(a, numel(aShape), 'a');
    const pb = this.f(b, numel(bShape), 'b');
    const po = this.f(out, numel(outShape), 'out');
    if (numel(outShape) === 0) return;
    const m = mergeDims(outShape, [broadcastStrides(aShape), broadcastStrides(bShape)]);
    const r = m.shape.length;
    const meta = this.writeMeta([m.shape, m.strides[0], m.strides[1]], 4 * Math.max(r, 1) * this.threads);
    this.parallel('binaryPart', [code, pa, pb, po, r, meta, meta + 12 * r], numel(outShape), ELEMENTWISE_THREAD_MIN);
  }

  binary(op: BinaryOp, a: Storage, aShape: readonly number[], b: Storage, bShape: readonly number[], out: Storage,
    outShape: readonly number[]): void {
    this.broadcastOp(BINARY_CODE[op], a, aShape, b, bShape, out, outShape);
  }

  equal(a: Storage, aShape: readonly number[], b: Storage, bShape: readonly number[], out: Storage): void {
    const outShape = aShape.map((n, d) => (n === 1 ? bShape[d] : n));
    this.broadcastOp(EQUAL_CODE, a, aShape, b, bShape, out, outShape);
  }

  // ---- reductions -----------------------------------------------------------------------------
  reduce(op: ReduceOp, x: Storage, shape: readonly number[], axes: readonly number[], out: Storage): void {
    const rank = shape.length;
    const reduced = reducedDims(shape, axes);
    const kept = shape.filter((_, d) => !reduced[d]);
    const outLen = numel(kept);
    const px = this.f(x, numel(shape), 'reduce input');
    const po = this.f(out, outLen, 'reduce output');
    if (numel(shape) === 0) {
      this.call(this.k.fill32, [po, outLen, op === 'max' ? 0xff800000 | 0 : 0]); // −Infinity or 0
      return;
    }
    const outStrides = new Array<number>(rank).fill(0);
    let s = 1;
    for (let d = rank - 1; d >= 0; d--) {
      if (reduced[d]) continue;
      outStrides[d] = s;
      s *= shape[d];
    }
    const m = mergeDims(shape, [denseStrides(shape), outStrides]);
    const r = m.shape.length;
    if (r === 2 && op !== 'max' && m.strides[1][0] === 0 && m.strides[1][1] === 1) {
      // Σ over rows of a (R, C) matrix, columns kept: the bias gradient of every linear layer.
      this.parallel('columnSumsPart', [REDUCE_CODE[op], px, po, m.shape[0], m.shape[1]], numel(shape), ELEMENTWISE_THREAD_MIN);
      return;
    }
    const metaBytes = 12 * r + 64;
    const meta = this.writeMeta([m.shape, m.strides[1]], 4 * r + 8 * outLen + 64);
    const acc = Math.ceil((meta + metaBytes) / 8) * 8;
    this.call(this.k.reduce, [REDUCE_CODE[op], px, po, outLen, r, meta, acc, meta + 8 * r]);
  }

  // ---- matrix product -------------------------------------------------------------------------
  matmul(a: Storage, b: Storage, out: Storage, args: MatmulArgs): void {
    const need = matmulExtents(args);
    const pa = this.f(a, need.a, 'matmul A');
    const pb = this.f(b, need.b, 'matmul B');
    const pc = this.f(out, need.out, 'matmul C');
    const { batch, m, n, k, transA, transB, strideA, strideB, accumulate } = args;
    if (batch === 0 || m === 0 || n === 0) return;
    this.parallel('matmulPart', [pa, pb, pc, batch, m, n, k, +transA, +transB, strideA, strideB, +accumulate,
      this.matmulScratch, this.matmulScratchStride], batch * m * n * k, MATMUL_THREAD_MIN);
  }

  // ---- fused layers ---------------------------------------------------------------------------
  layerNormForward(x: Storage, w: Storage | null, b: Storage | null, out: Storage, mean: Storage, rstd: Storage,
    rows: number, C: number, eps: number): void {
    const n = rows * C;
    this.parallel('layerNormForwardPart', [this.f(x, n, 'x'), this.fOpt(w, C, 'weight'), this.fOpt(b, C, 'bias'), this.f(out, n, 'out'),
      this.f(mean, rows, 'mean'), this.f(rstd, rows, 'rstd'), rows, C, eps], n, ELEMENTWISE_THREAD_MIN);
  }

  layerNormBackward(dy: Storage, x: Storage, w: Storage | null, mean: Storage, rstd: Storage, dx: Storage,
    dw: Storage | null, db: Storage | null, rows: number, C: number): void {
    const n = rows * C;
    const [pdy, px, pw, prstd, pdx] = [this.f(dy, n, 'dy'), this.f(x, n, 'x'), this.fOpt(w, C, 'weight'), this.f(rstd, rows, 'rstd'),
      this.f(dx, n, 'dx')];
    this.f(mean, rows, 'mean');
    const [pdw, pdb] = [this.fOpt(dw, C, 'dweight'), this.fOpt(db, C, 'dbias')];
    // Two jobs: dx by rows (each row's float64 mean kept in scratch), then dγ, dβ by channels.
    const acc = this.ensureScratch(this.k.layerNormBackwardScratchBytes(rows, C) + 64);
    const mu = acc + 16 * C;
    this.parallel('layerNormBackwardRowsPart', [pdy, px, pw, prstd, pdx, rows, C, mu], n, ELEMENTWISE_THREAD_MIN);
    if (pdw !== 0 || pdb !== 0) {
      this.parallel('layerNormBackwardChannelsPart', [pdy, px, prstd, mu, pdw, pdb, rows, C, acc], n, ELEMENTWISE_THREAD_MIN);
    }
  }

  batchNormForward(x: Storage, w: Storage | null, b: Storage | null, out: Storage, mean: Storage, variance: Storage, rstd: Storage,
    outer: number, C: number, inner: number, eps: number): void {
    const n = outer * C * inner;
    const args = [this.f(x, n, 'x'), this.fOpt(w, C, 'weight'), this.fOpt(b, C, 'bias'), this.f(out, n, 'out'), this.f(mean, C, 'mean'),
      this.f(variance, C, 'variance'), this.f(rstd, C, 'rstd'), outer, C, inner, eps];
    // Threads take whole channels: below two channels per thread, or little work, one thread.
    this.parallel('batchNormForwardPart', [...args, this.ensureScratch(this.k.batchNormScratchBytes(C) + 64)], C >= 2 * this.threads ? n : 0,
      ELEMENTWISE_THREAD_MIN);
  }

  batchNormBackward(dy: Storage, x: Storage, w: Storage | null, mean: Storage, rstd: Storage, dx: Storage, dw: Storage | null,
    db: Storage | null, outer: number, C: number, inner: number): void {
    const n = outer * C * inner;
    const args = [this.f(dy, n, 'dy'), this.f(x, n, 'x'), this.fOpt(w, C, 'weight'), this.f(mean, C, 'mean'), this.f(rstd, C, 'rstd'),
      this.f(dx, n, 'dx'), this.fOpt(dw, C, 'dweight'), this.fOpt(db, C, 'dbias'), outer, C, inner];
    this.parallel('batchNormBackwardPart', [...args, this.ensureScratch(this.k.batchNormScratchBytes(C) + 64)], C >= 2 * this.threads ? n : 0,
      ELEMENTWISE_THREAD_MIN);
  }

  rmsNormForward(x: Storage, w: Storage | null, out: Storage, rrms: Storage, rows: number, C: number, eps: number): void {
    const n = rows * C;
    this.parallel('rmsNormForwardPart', [this.f(x, n, 'x'), this.fOpt(w, C, 'weight'), this.f(out, n, 'out'),
      this.f(rrms, rows, 'rrms'), rows, C, eps], n, ELEMENTWISE_THREAD_MIN);
  }

  rmsNormBackward(dy: Storage, x: Storage, w: Storage | null, rrms: Storage, dx: Storage, dw: Storage | null,
    rows: number, C: number): void {
    const n = rows * C;
    const [pdy, px, pw, prrms, pdx, pdw] = [this.f(dy, n, 'dy'), this.f(x, n, 'x'), this.fOpt(w, C, 'weight'),
      this.f(rrms, rows, 'rrms'), this.f(dx, n, 'dx'), this.fOpt(dw, C, 'dweight')];
    // Two jobs: dx by rows, then dγ by channels (rows summed in order).
    this.parallel('rmsNormBackwardRowsPart', [pdy, px, pw, prrms, pdx, rows, C], n, ELEMENTWISE_THREAD_MIN);
    if (pdw !== 0) {
      this.parallel('rmsNormBackwardChannelsPart', [pdy, px, prrms, pdw, rows, C, this.ensureScratch(8 * C + 64)], n,
        ELEMENTWISE_THREAD_MIN);
    }
  }

  softmaxForward(x: Storage, out: Storage, rows: number, C: number): void {
    this.parallel('softmaxForwardPart', [this.f(x, rows * C, 'x'), this.f(out, rows * C, 'out'), rows, C], rows * C, ELEMENTWISE_THREAD_MIN);
  }

  softmaxBackward(y: Storage, dy: Storage, dx: Storage, rows: number, C: number): void {
    const n = rows * C;
    this.parallel('softmaxBackwardPart', [this.f(y, n, 'y'), this.f(dy, n, 'dy'), this.f(dx, n, 'dx'), rows, C], n, ELEMENTWISE_THREAD_MIN);
  }

  logSoftmaxForward(x: Storage, out: Storage, rows: number, C: number): void {
    this.parallel('logSoftmaxForwardPart', [this.f(x, rows * C, 'x'), this.f(out, rows * C, 'out'), rows, C], rows * C,
      ELEMENTWISE_THREAD_MIN);
  }

  logSoftmaxBackward(y: Storage, dy: Storage, dx: Storage, rows: number, C: number): void {
    const n = rows * C;
    this.parallel('logSoftmaxBackwardPart', [this.f(y, n, 'y'), this.f(dy, n, 'dy'), this.f(dx, n, 'dx'), rows, C], n,
      ELEMENTWISE_THREAD_MIN);
  }

  private checkTarget(bad: number, targets: Storage, V: number, ignoreIndex: number): void {
    if (bad < 0) return;
    const t = this.hostView(targets as WasmStorage)[bad];
    throw new Error(`Cross-entropy target ${t} at row ${bad} is outside [0, ${V}) and is not the ignore index ${ignoreIndex}.`);
  }

  crossEntropyForward(logits: Storage, targets: Storage, loss: Storage, lse: Storage, rows: number, V: number,
    ignoreIndex: number): void {
    const [pz, pt, ploss, plse] = [this.f(logits, rows * V, 'logits'), this.int(targets, rows, 'targets'), this.f(loss, 1, 'loss'),
      this.f(lse, rows, 'lse')];
    this.check(this.k.checkTargets, [pt, rows, V, ignoreIndex], (bad) => this.checkTarget(bad, targets, V, ignoreIndex));
    // Each row's logsumexp (by rows, kept in float64 in scratch), then the mean summed in row order.
    const l64 = this.ensureScratch(8 * rows + 64);
    this.parallel('crossEntropyRowsPart', [pz, plse, l64, rows, V], rows * V, ELEMENTWISE_THREAD_MIN);
    this.call(this.k.crossEntropyLoss, [pz, pt, l64, ploss, rows, V, ignoreIndex]);
  }

  crossEntropyBackward(logits: Storage, targets: Storage, lse: Storage, dloss: Storage, dlogits: Storage, rows: number,
    V: number, ignoreIndex: number): void {
    const pt = this.int(targets, rows, 'targets');
    const args = [this.f(logits, rows * V, 'logits'), pt, this.f(lse, rows, 'lse'), this.f(dloss, 1, 'dloss'),
      this.f(dlogits, rows * V, 'dlogits'), rows, V, ignoreIndex];
    this.check(this.k.checkTargets, [pt, rows, V, ignoreIndex], (bad) => this.checkTarget(bad, targets, V, ignoreIndex));
    this.parallel('crossEntropyBackwardPart', args, rows * V, ELEMENTWISE_THREAD_MIN);
  }

  attentionForward(q: Storage, k: Storage, v: Storage, inLayout: HeadLayout, out: Storage, outLayout: HeadLayout, lse: Storage,
    B: number, H: number, T: number, D: number, scale: number, causal: boolean, keys?: AttentionKeys): void {
    const need = attentionExtents('attentionForward', inLayout, outLayout, null, B, H, T, D, keys);
    if (keys) {
      const ptrs = [this.f(q, need.qkv, 'q'), this.f(k, need.kv, 'k'), this.f(v, need.kv, 'v'), this.f(out, need.out, 'out'),
        this.f(lse, need.lse, 'lse'), keys.keyMask ? this.f(keys.keyMask, need.mask, 'keyMask') : 0];
      const [meta, scratch, stride] = this.attentionMeta([inLayout, keys.kvLayout, outLayout], Math.max(T, keys.Tk), D);
      this.parallel('attentionKeysForwardPart', [...ptrs, meta, B, H, T, keys.Tk, D, scale, +causal, scratch, stride],
        B * H * T * keys.Tk * D, MATMUL_THREAD_MIN);
      return;
    }
    const args = [this.f(q, need.qkv, 'q'), this.f(k, need.qkv, 'k'), this.f(v, need.qkv, 'v'), inLayout.batch, inLayout.head, inLayout.row,
      this.f(out, need.out, 'out'), outLayout.batch, outLayout.head, outLayout.row, this.f(lse, need.lse, 'lse')];
    const [scratch, stride] = this.attentionScratch(T, D);
    this.parallel('attentionForwardPart', [...args, B, H, T, D, scale, +causal, scratch, stride], B * H * T * T * D, MATMUL_THREAD_MIN);
  }

  attentionBackward(q: Storage, k: Storage, v: Storage, inLayout: HeadLayout, out: Storage, dout: Storage, outLayout: HeadLayout,
    lse: Storage, dq: Storage, dk: Storage, dv: Storage, gradLayout: HeadLayout, B: number, H: number, T: number, D: number,
    scale: number, causal: boolean, keys?: AttentionKeys): void {
    const need = attentionExtents('attentionBackward', inLayout, outLayout, gradLayout, B, H, T, D, keys);
    this.f(out, need.out, 'out'); // checked, not read: the kernel sums Δ from P and dP
    if (keys) {
      const ptrs = [this.f(q, need.qkv, 'q'), this.f(k, need.kv, 'k'), this.f(v, need.kv, 'v'), this.f(dout, need.out, 'dout'),
        this.f(lse, need.lse, 'lse'), this.f(dq, need.grad, 'dq'), this.f(dk, need.dkv, 'dk'), this.f(dv, need.dkv, 'dv'),
        keys.keyMask ? this.f(keys.keyMask, need.mask, 'keyMask') : 0];
      const layouts = [inLayout, keys.kvLayout, outLayout, gradLayout, keys.dkvLayout ?? keys.kvLayout];
      const [meta, scratch, stride] = this.attentionMeta(layouts, Math.max(T, keys.Tk), D);
      this.parallel('attentionKeysBackwardPart', [...ptrs, meta, B, H, T, keys.Tk, D, scale, +causal, scratch, stride],
        B * H * T * keys.Tk * D, MATMUL_THREAD_MIN);
      return;
    }
    const args = [this.f(q, need.qkv, 'q'), this.f(k, need.qkv, 'k'), this.f(v, need.qkv, 'v'), inLayout.batch, inLayout.head, inLayout.row,
      this.f(dout, need.out, 'dout'), outLayout.batch, outLayout.head, outLayout.row, this.f(lse, need.lse, 'lse'),
      this.f(dq, need.grad, 'dq'), this.f(dk, need.grad, 'dk'), this.f(dv, need.grad, 'dv'), gradLayout.batch, gradLayout.head,
      gradLayout.row];
    const [scratch, stride] = this.attentionScratch(T, D);
    this.parallel('attentionBackwardPart', [...args, B, H, T, D, scale, +causal, scratch, stride], B * H * T * T * D, MATMUL_THREAD_MIN);
  }

  attentionInference(q: Storage, qLayout: HeadLayout, k: Storage, v: Storage, kvLayout: HeadLayout, out: Storage,
    outLayout: HeadLayout, B: number, H: number, Tq: number, Tk: number, D: number, scale: number, causal: boolean): void {
    const need = attentionInferenceExtents(qLayout, kvLayout, outLayout, B, H, Tq, Tk, D);
    const pq = this.f(q, need.q, 'q');
    const pk = this.f(k, need.kv, 'k');
    const pv = this.f(v, need.kv, 'v');
    const po = this.f(out, need.out, 'out');
    if (B * H * D === 0) return;
    const [scratch, stride] = this.attentionScratch(Tk, D);
    this.parallel('attentionInferencePart', [pq, qLayout.batch, qLayout.head, qLayout.row, pk, pv, kvLayout.batch, kvLayout.head,
      kvLayout.row, po, outLayout.batch, outLayout.head, outLayout.row, B, H, Tq, Tk, D, scale, +causal, scratch, stride],
    B * H * Tq * Tk * D, MATMUL_THREAD_MIN);
  }

  private checkIds(bad: number, ids: Storage, V: number): void {
    if (bad < 0) return;
    const id = this.hostView(ids as WasmStorage)[bad];
    throw new Error(`Embedding id ${id} at position ${bad} is outside [0, ${V}); the vocabulary has ${V} rows.`);
  }

  embeddingForward(weight: Storage, ids: Storage, out: Storage, N: number, C: number): void {
    const V = Math.floor(this.st(weight, 0, 'weight').length / C);
    this.check(this.k.embeddingForward, [this.f(weight, 0, 'weight'), this.int(ids, N, 'ids'), this.f(out, N * C, 'out'), N, C, V],
      (bad) => this.checkIds(bad, ids, V));
  }

  embeddingBackward(dout: Storage, ids: Storage, dweight: Storage, N: number, C: number): void {
    const V = Math.floor(this.st(dweight, 0, 'dweight').length / C);
    const [pdout, pids, pdw] = [this.f(dout, N * C, 'dout'), this.int(ids, N, 'ids'), this.f(dweight, 0, 'dweight')];
    this.check(this.k.checkIds, [pids, N, V], (bad) => this.checkIds(bad, ids, V));
    this.parallel('embeddingBackwardPart', [pdout, pids, pdw, N, C], N * C, ELEMENTWISE_THREAD_MIN);
  }

  dropoutForward(x: Storage, out: Storage, mask: Storage, p: number, seed: number): void {
    if (!(p >= 0 && p <= 1)) throw new Error(`Dropout probability must lie in [0, 1], got ${p}.`);
    const n = this.st(out, 0, 'out').length;
    this.rec?.refuse('dropout draws a fresh mask every step, and a replay would repeat this one');
    this.call(this.k.dropoutForward, [this.f(x, n, 'x'), this.f(out, n, 'out'), this.f(mask, n, 'mask'), n, p, seed | 0]);
  }

  // ---- convolution and pooling ----------------------------------------------------------------
  /** Per-thread scratch for the convolution jobs (contiguous, one stride apart), then matmul's. */
  private convScratch(a: Conv2dArgs): number[] {
    const stride = Math.ceil((4 * this.k.conv2dScratchFloats(a.Cin, a.Cout, a.H, a.W, a.kH, a.kW, a.padH, a.padW)) / 64) * 64;
    return [this.ensureScratch(stride * this.threads + 64), stride, this.matmulScratch, this.matmulScratchStride];
  }

  private static convShape(a: Conv2dArgs): number[] {
    return [a.B, a.Cin, a.H, a.W, a.Cout, a.kH, a.kW, a.strideH, a.strideW, a.padH, a.padW, a.Ho, a.Wo];
  }

  conv2dForward(x: Storage, w: Storage, bias: Storage | null, out: Storage, a: Conv2dArgs): void {
    const args = [this.f(x, a.B * a.Cin * a.H * a.W, 'x'), this.f(w, a.Cout * a.Cin * a.kH * a.kW, 'weight'), this.fOpt(bias, a.Cout, 'bias'),
      this.f(out, a.B * a.Cout * a.Ho * a.Wo, 'out')];
    const macs = a.B * a.Cout * a.Ho * a.Wo * a.Cin * a.kH * a.kW;
    if (a.B * a.Cout * a.Ho * a.Wo === 0) return;
    this.parallel('conv2dForwardPart', [...args, ...WasmBackend.convShape(a), ...this.convScratch(a)], macs, MATMUL_THREAD_MIN);
  }

  conv2dBackward(dy: Storage, x: Storage, w: Storage, dx: Storage | null, dw: Storage | null, dbias: Storage | null, a: Conv2dArgs): void {
    const [nx, nw] = [a.B * a.Cin * a.H * a.W, a.Cout * a.Cin * a.kH * a.kW];
    const [pdy, px, pw] = [this.f(dy, a.B * a.Cout * a.Ho * a.Wo, 'dy'), this.f(x, nx, 'x'), this.f(w, nw, 'weight')];
    const [pdx, pdw, pdb] = [this.fOpt(dx, nx, 'dx'), this.fOpt(dw, nw, 'dweight'), this.fOpt(dbias, a.Cout, 'dbias')];
    const macs = a.B * a.Cout * a.Ho * a.Wo * a.Cin * a.kH * a.kW;
    const shape = WasmBackend.convShape(a);
    // Two jobs: dx by blocks of input channels, then dW by blocks of its rows and dbias by channels.
    if (pdx !== 0) {
      if (nx > 0 && (a.Cout === 0 || a.Ho * a.Wo === 0)) this.call(this.k.zero, [pdx, 4 * nx]);
      else this.parallel('conv2dBackwardDataPart', [pdy, pw, pdx, ...shape, ...this.convScratch(a)], macs, MATMUL_THREAD_MIN);
    }
    if (pdw !== 0 || pdb !== 0) {
      this.parallel('conv2dBackwardFilterPart', [pdy, px, pdw, pdb, ...shape, ...this.convScratch(a)], macs, MATMUL_THREAD_MIN);
    }
  }

  private static poolShape(a: Pool2dArgs): number[] {
    return [a.B * a.C, a.H, a.W, a.kH, a.kW, a.strideH, a.strideW, a.padH, a.padW, a.Ho, a.Wo];
  }

  maxPool2dForward(x: Storage, out: Storage, argmax: Storage, a: Pool2dArgs): void {
    const n = a.B * a.C * a.Ho * a.Wo;
    this.parallel('maxPool2dForwardPart', [this.f(x, a.B * a.C * a.H * a.W, 'x'), this.f(out, n, 'out'), this.int(argmax, n, 'argmax'),
      ...WasmBackend.poolShape(a)], n * a.kH * a.kW, ELEMENTWISE_THREAD_MIN);
  }

  maxPool2dBackward(dy: Storage, argmax: Storage, dx: Storage, a: Pool2dArgs): void {
    const n = a.B * a.C * a.Ho * a.Wo;
    this.parallel('maxPool2dBackwardPart', [this.f(dy, n, 'dy'), this.int(argmax, n, 'argmax'), this.f(dx, a.B * a.C * a.H * a.W, 'dx'),
      a.B * a.C, a.H, a.W, a.Ho, a.Wo], a.B * a.C * a.H * a.W, ELEMENTWISE_THREAD_MIN);
  }

  avgPool2dForward(x: Storage, out: Storage, a: Pool2dArgs): void {
    const n = a.B * a.C * a.Ho * a.Wo;
    this.parallel('avgPool2dForwardPart', [this.f(x, a.B * a.C * a.H * a.W, 'x'), this.f(out, n, 'out'), ...WasmBackend.poolShape(a)],
      n * a.kH * a.kW, ELEMENTWISE_THREAD_MIN);
  }

  avgPool2dBackward(dy: Storage, dx: Storage, a: Pool2dArgs): void {
    const n = a.B * a.C * a.Ho * a.Wo;
    this.parallel('avgPool2dBackwardPart', [this.f(dy, n, 'dy'), this.f(dx, a.B * a.C * a.H * a.W, 'dx'), ...WasmBackend.poolShape(a)],
      n * a.kH * a.kW, ELEMENTWISE_THREAD_MIN);
  }

  // ---- optimizer ------------------------------------------------------------------------------
  adamw(param: Storage, grad: Storage, m: Storage, v: Storage, args: AdamWArgs): void {
    const n = this.st(param, 0, 'param').length;
    const { lr, beta1, beta2, eps, weightDecay, biasCorrection1, biasCorrection2 } = args;
    this.parallel('adamwPart', [this.f(param, n, 'param'), this.f(grad, n, 'grad'), this.f(m, n, 'm'), this.f(v, n, 'v'), n, lr, beta1,
      beta2, eps, weightDecay, biasCorrection1, biasCorrection2], n, ELEMENTWISE_THREAD_MIN);
  }
}
