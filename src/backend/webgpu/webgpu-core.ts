// The WebGPU backend's required core of the backend contract (memory, copies, element-wise ops,
// reductions, the batched matmul, the embedding gather and scatter-add) as WGSL compute kernels
// (wgsl.ts), in GPU buffers; webgpu-attention.ts and webgpu-backend.ts add the fused kernels, and any
// layer without one runs as the op front-end's composition of these. Launches are recorded as commands
// (commands.ts) and submitted together when a value is read or the host writes a buffer; buffers are
// pooled by size, so a training step allocates none after its first; a captured step replays as one
// submission. Reads are asynchronous only (there is no readSync on a GPU). A kernel that finds a bad id
// records it in an error word that the next read reports, as the contract's async view does.

import type {
  AllocInit, BinaryOp, CaptureKernels, CaptureResult, CoreBackend, DType, HostArray, KernelProgram, MatmulArgs, MemoryStats, ReduceOp, Storage, UnaryOp,
} from '../backend.ts';
import { encode, prepare, type Command } from './commands.ts';
import { broadcastStrides, reducedDims } from '../kernel-shapes.ts';
import { checkBroadcast, denseStrides, mergeDims, numel } from '../wasm/shapes.ts';
import {
  affineWgsl, axpyWgsl, binaryWgsl, castWgsl, embeddingBackwardWgsl, embeddingForwardWgsl, fillWgsl, matmulWgsl, MAX_RANK, reduceWgsl,
  stridedCopyWgsl, MM_TILE, TILE, matmulSmallWgsl, unaryCode, unaryWgsl, WG, type Elem,
} from './wgsl.ts';

/** A buffer, or a view into one: `offset` elements into `root`'s GPUBuffer. */
export class GpuStorage implements Storage {
  freed = false;
  constructor(
    readonly dtype: DType,
    readonly length: number,
    readonly buffer: GPUBuffer,
    readonly offset: number,
    readonly root: GpuStorage | null,
  ) {}
}

const NO_ERROR = 0xffffffff;

/** A grid of `groups` workgroups over x then y (a dimension holds at most 65,535). */
export function grid2d(groups: number): [number, number, number] {
  const x = Math.max(1, Math.min(groups, 65535));
  return [x, Math.ceil(groups / x), 1];
}

export function elemOf(dtype: DType, what: string): Elem {
  switch (dtype) {
    case 'float32':
      return 'f32';
    case 'int32':
      return 'i32';
    case 'float64':
      throw new Error(`${what}: the WebGPU backend has no float64 (WGSL has no 64-bit floats); use float32 tensors, or the ref backend for float64 checks`);
    default: {
      const never: never = dtype;
      throw new Error(`unknown dtype ${String(never)}`);
    }
  }
}

/** Words of a kernel's parameter block: unsigned, signed (two's complement) or float32 bits. */
export class Params {
  private readonly words: number[] = [];
  private static readonly f = new Float32Array(1);
  private static readonly u = new Uint32Array(Params.f.buffer);
  u(...v: number[]): this {
    for (const x of v) this.words.push(x >>> 0);
    return this;
  }
  f(v: number): this {
    Params.f[0] = v;
    this.words.push(Params.u[0]);
    return this;
  }
  /** A list padded to MAX_RANK words. */
  list(v: readonly number[]): this {
    if (v.length > MAX_RANK) throw new Error(`the WebGPU backend's strided kernels take at most ${MAX_RANK} dims (after merging), got ${v.length}`);
    for (let i = 0; i < MAX_RANK; i++) this.words.push((v[i] ?? 0) >>> 0);
    return this;
  }
  array(): Uint32Array<ArrayBuffer> {
    return Uint32Array.from(this.words);
  }
}

/**
 * The storage buffers' usage flags, read when a backend exists: GPUBufferUsage is a global only where
 * WebGPU is, and this module is imported everywhere the library is (Node without Dawn included).
 */
const usage = (): number => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** What a capture records: its commands, and the buffers it allocated (pinned for the program it becomes). */
interface Capture {
  cmds: Command[];
  owned: Set<GPUBuffer>;
  /** Why a replay could not repeat what was seen (a host write into a buffer from before the capture). */
  reason: string | null;
}

export class WebGpuCore implements CoreBackend, CaptureKernels {
  readonly name: string = 'webgpu';
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  /** Commands not yet submitted. */
  private pending: Command[] = [];
  /** Scratch buffers of the pending commands, back to the pool after their submission. */
  private transient: GPUBuffer[] = [];
  /** Free buffers by byte size: a step's buffers come back each step with the same sizes. */
  private readonly pool = new Map<number, GPUBuffer[]>();
  /** Buffers a captured program owns: freeing their storage leaves them to the program. */
  private readonly pinned = new Set<GPUBuffer>();
  /** Pinned (or captured) buffers whose storage was freed: the program gives them back when disposed. */
  private readonly freedPinned = new Set<GPUBuffer>();
  private capture: Capture | null = null;
  private params: GPUBuffer | null = null;
  protected readonly errors: GPUBuffer;
  private live = 0;
  private liveBytes = 0;
  private peakBytes = 0;
  /** GPU buffers created so far (the pool's misses): flat across steps once the first has run. */
  created = 0;

  constructor(readonly device: GPUDevice, readonly adapterName: string) {
    this.errors = device.createBuffer({ label: 'error word', size: 16, usage: usage() });
    device.queue.writeBuffer(this.errors, 0, Uint32Array.of(NO_ERROR, 0, 0, 0));
  }

  // ---- memory ---------------------------------------------------------------------------------
  private take(bytes: number): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    const b = this.pool.get(size)?.pop();
    if (b) return b;
    this.created++;
    return this.device.createBuffer({ size, usage: usage() });
  }

  private give(b: GPUBuffer): void {
    let list = this.pool.get(b.size);
    if (!list) this.pool.set(b.size, (list = []));
    list.push(b);
  }

  alloc(dtype: DType, length: number, init: AllocInit = 'zeros'): Storage {
    elemOf(dtype, 'alloc');
    const buffer = this.take(length * 4);
    // A reused buffer holds its last contents: cleared in command order (a new one is zero already,
    // but clearing it too keeps a captured replay's buffers as the capture saw them).
    if (init === 'zeros') this.record({ kind: 'clear', buffer });
    this.capture?.owned.add(buffer);
    this.live++;
    this.liveBytes += buffer.size;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    return new GpuStorage(dtype, length, buffer, 0, null);
  }

  view(base: Storage, offset: number, length: number): Storage {
    const b = this.st(base, 'view base');
    if (offset < 0 || length < 0 || offset + length > b.length) throw new Error(`view [${offset}, ${offset + length}) lies outside a buffer of ${b.length} elements`);
    return new GpuStorage(b.dtype, length, b.buffer, b.offset + offset, b.root ?? b);
  }

  free(s: Storage): void {
    const g = this.st(s, 'free');
    g.freed = true;
    if (g.root !== null) return; // a view owns nothing
    this.live--;
    this.liveBytes -= g.buffer.size;
    // Pending commands may still use it: the commands run in order, so whoever takes it next writes
    // after them. A buffer a capture allocated stays the program's.
    if (this.capture?.owned.has(g.buffer) || this.pinned.has(g.buffer)) this.freedPinned.add(g.buffer);
    else this.give(g.buffer);
  }

  write(s: Storage, src: ArrayLike<number>): void {
    const g = this.st(s, 'write');
    if (src.length > g.length) throw new Error(`write: ${src.length} values into a buffer of ${g.length}`);
    if (this.capture && !this.capture.owned.has(g.buffer)) this.capture.reason ??= 'the captured code writes host data into a buffer made before the capture, which a replay would not repeat';
    this.flush(); // queue.writeBuffer lands before the next submission: the commands before it go first
    const data = g.dtype === 'int32' ? Int32Array.from(src) : Float32Array.from(src);
    this.device.queue.writeBuffer(g.buffer, g.offset * 4, data);
  }

  async read(s: Storage): Promise<HostArray> {
    const g = this.st(s, 'read');
    const bytes = g.length * 4;
    const staging = this.device.createBuffer({ size: Math.max(16, bytes + 16), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    // Not recorded into a capture: a read is the caller's, each time.
    if (bytes > 0) this.pending.push({ kind: 'copy', src: g.buffer, srcOffset: g.offset * 4, dst: staging, dstOffset: 16, size: bytes });
    this.pending.push({ kind: 'copy', src: this.errors, srcOffset: 0, dst: staging, dstOffset: 0, size: 16 });
    this.flush();
    this.device.queue.writeBuffer(this.errors, 0, Uint32Array.of(NO_ERROR, 0, 0, 0)); // after that copy: an error is reported once
    await staging.mapAsync(GPUMapMode.READ);
    const mapped = staging.getMappedRange();
    const err = new Uint32Array(mapped, 0, 1)[0];
    const out = g.dtype === 'int32' ? new Int32Array(g.length) : new Float32Array(g.length);
    out.set(g.dtype === 'int32' ? new Int32Array(mapped, 16, g.length) : new Float32Array(mapped, 16, g.length));
    staging.unmap();
    staging.destroy();
    if (err !== NO_ERROR) throw new Error(`an embedding or cross-entropy kernel met an id outside its range at row ${err - 1} (reported by the WebGPU backend at the next read)`);
    return out;
  }

  memoryStats(): MemoryStats {
    return { liveBuffers: this.live, liveBytes: this.liveBytes, peakBytes: this.peakBytes };
  }

  // ---- capture --------------------------------------------------------------------------------
  beginCapture(): void {
    if (this.capture) throw new Error('a capture is already running on this WebGPU backend');
    this.capture = { cmds: [], owned: new Set(), reason: null };
  }

  endCapture(): CaptureResult {
    const c = this.capture;
    if (!c) throw new Error('endCapture without beginCapture');
    this.capture = null;
    if (c.reason !== null) {
      this.unpin(c.owned);
      return { program: null, reason: c.reason };
    }
    for (const b of c.owned) this.pinned.add(b);
    return { program: this.program(c), reason: null };
  }

  /** A program's buffers back: those whose storage was freed to the pool, the live ones to their storage. */
  private unpin(owned: Set<GPUBuffer>): void {
    for (const b of owned) {
      this.pinned.delete(b);
      if (this.freedPinned.delete(b)) this.give(b);
    }
  }

  private program(c: Capture): KernelProgram {
    const prepared = prepare(this.device, c.cmds, null); // its own parameters and bind groups, made once
    let disposed = false;
    return {
      launches: c.cmds.filter((x) => x.kind === 'dispatch').length,
      run: () => {
        if (disposed) throw new Error('this captured WebGPU program was disposed');
        this.flush(); // what came before goes first
        this.device.queue.submit([encode(this.device, c.cmds, prepared)]);
      },
      dispose: () => {
        if (disposed) return;
        disposed = true;
        this.flush();
        prepared.params.destroy();
        this.unpin(c.owned);
      },
    };
  }

  /** Makes a running capture refuse, saying why (a kernel whose replay would repeat what it should redo). */
  protected refuseCapture(reason: string): void {
    if (this.capture) this.capture.reason ??= reason;
  }

  // ---- layout ---------------------------------------------------------------------------------
  fill(out: Storage, value: number): void {
    const o = this.st(out, 'fill');
    const bits = o.dtype === 'int32' ? value | 0 : new Uint32Array(Float32Array.of(value).buffer)[0];
    this.run('fill', fillWgsl(), o.length, new Params().u(o.length, o.offset, bits), [], o);
  }

  cast(src: Storage, out: Storage): void {
    const [s, o] = [this.st(src, 'cast source'), this.st(out, 'cast output')];
    const n = o.length;
    if (s.dtype === o.dtype) {
      this.stridedCopy(src, 0, [1], out, 0, [1], [n]);
      return;
    }
    this.run(`cast`, castWgsl(elemOf(s.dtype, 'cast'), elemOf(o.dtype, 'cast')), n, new Params().u(n, s.offset, o.offset), [s], o);
  }

  stridedCopy(src: Storage, srcOffset: number, srcStrides: readonly number[], dst: Storage, dstOffset: number, dstStrides: readonly number[],
    shape: readonly number[]): void {
    const [s, d] = [this.st(src, 'stridedCopy source'), this.st(dst, 'stridedCopy destination')];
    const n = numel(shape);
    if (n === 0) return;
    const m = mergeDims(shape, [srcStrides, dstStrides]);
    const p = new Params().u(n, m.shape.length, s.offset + srcOffset, d.offset + dstOffset).list(m.shape).list(m.strides[0]).list(m.strides[1]);
    this.run('stridedCopy', stridedCopyWgsl(elemOf(s.dtype, 'stridedCopy')), n, p, [s], d);
  }

  // ---- element-wise ---------------------------------------------------------------------------
  unary(op: UnaryOp, x: Storage, out: Storage): void {
    const [a, o] = [this.st(x, 'unary input'), this.st(out, 'unary output')];
    this.run('unary', unaryWgsl(false), o.length, new Params().u(o.length, unaryCode(op), a.offset, o.offset), [a], o);
  }

  unaryBackward(op: UnaryOp, x: Storage, dy: Storage, dx: Storage): void {
    const [a, g, o] = [this.st(x, 'x'), this.st(dy, 'dy'), this.st(dx, 'dx')];
    this.run('unaryBackward', unaryWgsl(true), o.length, new Params().u(o.length, unaryCode(op), a.offset, g.offset, o.offset), [a, g], o);
  }

  affine(x: Storage, out: Storage, alpha: number, beta: number): void {
    const [a, o] = [this.st(x, 'affine input'), this.st(out, 'affine output')];
    this.run('affine', affineWgsl(), o.length, new Params().u(o.length, a.offset, o.offset).f(alpha).f(beta), [a], o);
  }

  axpy(src: Storage, dst: Storage, alpha: number): void {
    const [s, d] = [this.st(src, 'axpy source'), this.st(dst, 'axpy destination')];
    this.run('axpy', axpyWgsl(), d.length, new Params().u(d.length, s.offset, d.offset).f(alpha), [s], d);
  }

  binary(op: BinaryOp, a: Storage, aShape: readonly number[], b: Storage, bShape: readonly number[], out: Storage, outShape: readonly number[]): void {
    this.broadcast(op, a, aShape, b, bShape, out, outShape);
  }

  equal(a: Storage, aShape: readonly number[], b: Storage, bShape: readonly number[], out: Storage): void {
    this.broadcast('equal', a, aShape, b, bShape, out, aShape.map((n, d) => (n === 1 ? bShape[d] : n)));
  }

  private broadcast(op: BinaryOp | 'equal', a: Storage, aShape: readonly number[], b: Storage, bShape: readonly number[], out: Storage,
    outShape: readonly number[]): void {
    checkBroadcast(aShape, bShape, outShape);
    const [x, y, o] = [this.st(a, 'a'), this.st(b, 'b'), this.st(out, 'out')];
    const n = numel(outShape);
    if (n === 0) return;
    const m = mergeDims(outShape, [broadcastStrides(aShape), broadcastStrides(bShape)]);
    const p = new Params().u(n, m.shape.length, x.offset, y.offset, o.offset).list(m.shape).list(m.strides[0]).list(m.strides[1]);
    const src = binaryWgsl(op, elemOf(x.dtype, op), elemOf(y.dtype, op), elemOf(o.dtype, op));
    this.run(op, src, n, p, [x, y], o);
  }

  // ---- reductions -----------------------------------------------------------------------------
  reduce(op: ReduceOp, x: Storage, shape: readonly number[], axes: readonly number[], out: Storage): void {
    const [a, o] = [this.st(x, 'reduce input'), this.st(out, 'reduce output')];
    const reduced = reducedDims(shape, axes);
    const strides = denseStrides(shape);
    const keptShape = shape.filter((_, d) => !reduced[d]);
    const n = numel(keptShape);
    if (n === 0) return;
    const kept = mergeDims(keptShape, [strides.filter((_, d) => !reduced[d])]);
    const red = mergeDims(shape.filter((_, d) => reduced[d]), [strides.filter((_, d) => reduced[d])]);
    const count = numel(shape) === 0 ? 0 : numel(red.shape);
    if (count === 0) {
      this.fill(out, op === 'max' ? -Infinity : 0);
      return;
    }
    const p = new Params().u(n, kept.shape.length, red.shape.length, count, a.offset, o.offset)
      .list(kept.shape).list(kept.strides[0]).list(red.shape).list(red.strides[0]);
    this.run(`reduce`, reduceWgsl(op), n, p, [a], o);
  }

  // ---- matrix product -------------------------------------------------------------------------
  matmul(a: Storage, b: Storage, out: Storage, args: MatmulArgs): void {
    const [x, y, c] = [this.st(a, 'matmul A'), this.st(b, 'matmul B'), this.st(out, 'matmul C')];
    const { batch, m, n, k, transA, transB, strideA, strideB, accumulate } = args;
    if (batch === 0 || m === 0 || n === 0) return;
    if (batch > 65535) throw new Error(`the WebGPU matmul takes at most 65,535 batches per call, got ${batch}`);
    const p = new Params().u(m, n, k, +transA, +transB, strideA, strideB, +accumulate, x.offset, y.offset, c.offset);
    // 64 × 64 register-blocked blocks where the product fills them; 16 × 16 tiles for small ones. The
    // two sum every element's products in the same order, so they agree bit for bit.
    if (m >= MM_TILE && n >= MM_TILE) this.dispatch('matmul', matmulWgsl(), [Math.ceil(n / MM_TILE), Math.ceil(m / MM_TILE), batch], p, [x, y], [c]);
    else this.dispatch('matmul', matmulSmallWgsl(), [Math.ceil(n / TILE), Math.ceil(m / TILE), batch], p, [x, y], [c]);
  }

  // ---- embedding ------------------------------------------------------------------------------
  embeddingForward(weight: Storage, ids: Storage, out: Storage, N: number, C: number): void {
    const [w, i, o] = [this.st(weight, 'weight'), this.st(ids, 'ids'), this.st(out, 'out')];
    const V = Math.floor(w.length / C);
    this.run('embeddingForward', embeddingForwardWgsl(), N * C, new Params().u(N * C, C, V, w.offset, i.offset, o.offset), [w, i], o, true);
  }

  embeddingBackward(dout: Storage, ids: Storage, dweight: Storage, N: number, C: number): void {
    const [d, i, w] = [this.st(dout, 'dout'), this.st(ids, 'ids'), this.st(dweight, 'dweight')];
    const VC = Math.floor(w.length / C) * C;
    this.run('embeddingBackward', embeddingBackwardWgsl(), VC, new Params().u(VC, C, N, d.offset, i.offset, w.offset), [d, i], w, true);
  }

  // ---- launching ------------------------------------------------------------------------------
  protected st(s: Storage, what: string): GpuStorage {
    if (!(s instanceof GpuStorage)) throw new Error(`${what}: this storage belongs to another backend, not the WebGPU one`);
    if (s.freed || s.root?.freed) throw new Error(`${what}: this buffer was freed`);
    return s;
  }

  /** Adds a command to the pending list, and to the capture's when one runs. */
  private record(c: Command): void {
    this.pending.push(c);
    this.capture?.cmds.push(c);
  }

  /** Submits the pending commands as one command buffer; their scratch buffers go back to the pool. */
  private flush(): void {
    if (this.pending.length === 0) return;
    const prepared = prepare(this.device, this.pending, this.params);
    this.params = prepared.params;
    this.device.queue.submit([encode(this.device, this.pending, prepared)]);
    this.pending = [];
    for (const b of this.transient) this.give(b);
    this.transient = [];
  }

  private pipeline(src: string, label: string): GPUComputePipeline {
    let p = this.pipelines.get(src);
    if (!p) {
      p = this.device.createComputePipeline({ label, layout: 'auto', compute: { module: this.device.createShaderModule({ label, code: src }), entryPoint: 'main' } });
      this.pipelines.set(src, p);
    }
    return p;
  }

  /** One invocation per output element (n of them), on a 2-D grid of WG-wide workgroups. */
  protected run(label: string, src: string, n: number, p: Params, inputs: GpuStorage[], out: GpuStorage, errors = false): void {
    if (n === 0) return;
    this.dispatch(label, src, grid2d(Math.ceil(n / WG)), p, inputs, [out], errors);
  }

  /**
   * One launch: binding 0 the parameters, then `reads`, then `writes` (binding 9 the error word when
   * `errors`). WebGPU forbids a writable binding to overlap another binding of the same buffer, so a
   * read that shares a written buffer is read from a copy, and a second write into one buffer goes to
   * a copy whose written range is copied back after the launch (whole buffers are bound: the offsets
   * are the kernel's parameters).
   */
  protected dispatch(label: string, src: string, grid: [number, number, number], p: Params, reads: GpuStorage[], writes: GpuStorage[], errors = false): void {
    const copyOf = (b: GPUBuffer): GPUBuffer => {
      const copy = this.scratchBuffer(b.size);
      this.record({ kind: 'copy', src: b, srcOffset: 0, dst: copy, dstOffset: 0, size: b.size });
      return copy;
    };
    const written = new Set<GPUBuffer>();
    const writeBack: [GPUBuffer, GpuStorage][] = [];
    const writeBuffers = writes.map((s, i) => {
      if (!written.has(s.buffer)) {
        written.add(s.buffer);
        return s.buffer;
      }
      // The copy's range goes back whole, so it would overwrite what an earlier write wrote inside it.
      const clash = writes.slice(0, i).find((e) => e.buffer === s.buffer && e.offset < s.offset + s.length && s.offset < e.offset + e.length);
      if (clash) throw new Error(`${label}: two of its outputs are overlapping views of one buffer ([${clash.offset}, ${clash.offset + clash.length}) and [${s.offset}, ${s.offset + s.length})), which one launch cannot write through two bindings; write both through one binding, as attention's packed dk and dv are`);
      const copy = copyOf(s.buffer);
      writeBack.push([copy, s]);
      return copy;
    });
    const readBuffers = reads.map((s) => (written.has(s.buffer) ? copyOf(s.buffer) : s.buffer));
    this.record({ kind: 'dispatch', label, pipeline: this.pipeline(src, label), grid, words: p.array(), buffers: [...readBuffers, ...writeBuffers], errors: errors ? this.errors : null });
    for (const [copy, s] of writeBack) {
      if (s.length > 0) this.record({ kind: 'copy', src: copy, srcOffset: s.offset * 4, dst: s.buffer, dstOffset: s.offset * 4, size: s.length * 4 });
    }
  }

  /** A pooled buffer for the pending commands only (a capture's stays with its program). */
  private scratchBuffer(bytes: number): GPUBuffer {
    const b = this.take(bytes);
    if (this.capture) {
      this.capture.owned.add(b);
      this.freedPinned.add(b); // no storage holds it: the program gives it back
    } else {
      this.transient.push(b);
    }
    return b;
  }

  /** A buffer for one call's intermediate values, back to the pool after the next submission. */
  protected scratch(dtype: DType, length: number): GpuStorage {
    return new GpuStorage(dtype, length, this.scratchBuffer(length * 4), 0, null);
  }

  async dispose(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    for (const list of this.pool.values()) for (const b of list) b.destroy();
    this.pool.clear();
    this.params?.destroy();
    this.errors.destroy();
    this.device.destroy();
  }
}
