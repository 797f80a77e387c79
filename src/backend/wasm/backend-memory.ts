// The wasm backend's memory: buffers in its one shared WebAssembly.Memory (size-class allocator), kernel
// scratch, the blocks kernel programs pin, and the handle checks every kernel wrapper makes on its operands.
import { BYTES_PER_ELEMENT, type AllocInit, type DType, type HostArray, type MemoryStats, type Storage } from '../backend.ts';
import { checkAllocLength, checkViewRange, liveHandle, StorageLedger, storageBytes } from '../storage-checks.ts';
import { SizeClassAllocator } from './allocator.ts';
import type { KernelFn, Recorder } from './kernel-program.ts';
import type { KernelExports } from './kernels.ts';
import { WasmStorage } from './storage.ts';
import { CTRL_BYTES } from './thread-pool.ts';

export abstract class WasmMemory {
  protected readonly alloc_: SizeClassAllocator;
  protected readonly ledger: StorageLedger<WasmStorage>;
  protected readonly matmulScratch: number;
  protected readonly matmulScratchStride: number;
  /** Control block the thread pool synchronises on (allocated even with one thread: CTRL_BYTES, 64-byte aligned). */
  readonly ctrlPtr: number;
  /**
   * Fill 'uninit' buffers with NaN instead of leaving old data (tests set it), so a kernel that
   * leaves part of an output unwritten shows up as NaN rather than as a stale, plausible number.
   */
  poisonUninit = false;
  protected scratchPtr = 0;
  protected scratchBytes = 0;
  private buf: ArrayBufferLike;
  protected f32!: Float32Array;
  protected i32!: Int32Array;
  protected u8!: Uint8Array;
  /** The open capture, if any (beginCapture … endCapture): what memory does is recorded in it too. */
  protected rec: Recorder | null = null;
  /** Blocks that kernel programs own: pointer → bytes and how many programs hold it; never released while here. */
  private readonly pinned = new Map<number, { bytes: number; refs: number }>();

  constructor(
    protected readonly k: KernelExports,
    readonly memory: WebAssembly.Memory,
    maxBytes: number,
    /** Threads the kernels are split over: one matmul scratch each. */
    readonly threads: number,
  ) {
    this.ledger = new StorageLedger(WasmStorage, this, 'wasm');
    this.alloc_ = new SizeClassAllocator(memory, k.heapBase(), maxBytes);
    this.buf = memory.buffer;
    this.refreshViews();
    // One matmul scratch (packed A and B panels) per thread, cache-line aligned and contiguous.
    this.matmulScratchStride = Math.ceil(k.matmulScratchBytes() / 64) * 64;
    this.matmulScratch = this.alloc_.alloc(this.matmulScratchStride * threads).ptr;
    this.ctrlPtr = this.alloc_.alloc(CTRL_BYTES).ptr;
    this.ensureScratch(1 << 16);
  }

  protected refreshViews(): void {
    const b = this.memory.buffer;
    if (this.f32 && b.byteLength === this.buf.byteLength) return;
    this.buf = b;
    this.f32 = new Float32Array(b);
    this.i32 = new Int32Array(b);
    this.u8 = new Uint8Array(b);
  }

  /** Runs a kernel on this thread, recording it when a capture is open. */
  protected call<R>(fn: (...a: number[]) => R, args: number[]): R {
    this.rec?.record({ kind: 'call', fn: fn as KernelFn, args });
    return fn(...args);
  }

  /** A raw block outside the user-visible accounting (kernel scratch). */
  protected ensureScratch(bytes: number): number {
    if (bytes > this.scratchBytes) {
      if (this.scratchBytes > 0) {
        // An open capture has used the old scratch (its launches point into it): the program must keep it.
        this.rec?.blocks.set(this.scratchPtr, this.scratchBytes);
        this.releaseBlock(this.scratchPtr, this.scratchBytes);
      }
      const size = Math.max(bytes, 2 * this.scratchBytes);
      this.scratchPtr = this.alloc_.alloc(size).ptr;
      this.scratchBytes = size;
      this.rec?.blocks.set(this.scratchPtr, size);
      this.refreshViews();
    }
    return this.scratchPtr;
  }

  /** Returns a block to the allocator, unless a kernel program owns it. */
  private releaseBlock(ptr: number, bytes: number): void {
    if (!this.pinned.has(ptr)) this.alloc_.release(ptr, bytes);
  }

  /** A capture's blocks become a program's: out of the free lists, never released while pinned. */
  protected pin(blocks: ReadonlyMap<number, number>): void {
    for (const [ptr, bytes] of blocks) {
      this.alloc_.take(ptr, bytes);
      const p = this.pinned.get(ptr);
      if (p) p.refs++;
      else this.pinned.set(ptr, { bytes, refs: 1 });
    }
  }

  /** A disposed program's blocks: back to the allocator once no program pins them and no buffer or scratch uses them. */
  protected unpin(blocks: ReadonlyMap<number, number>): void {
    const inUse = new Set<number>([this.scratchPtr]);
    for (const s of this.ledger.live) inUse.add(s.ptr);
    for (const [ptr, bytes] of blocks) {
      const p = this.pinned.get(ptr);
      if (!p || --p.refs > 0) continue;
      this.pinned.delete(ptr);
      if (!inUse.has(ptr)) this.alloc_.release(ptr, bytes);
    }
  }

  // ---- handle checks (per operand of every eager kernel call: comparisons only) ----------------
  protected st(s: Storage | null, need: number, name: string): WasmStorage {
    return liveHandle(WasmStorage, this, 'wasm', s as Storage, need, name);
  }

  /** Pointer of a float32 buffer. */
  protected f(s: Storage, need: number, name: string): number {
    const w = this.st(s, need, name);
    if (w.dtype !== 'float32') throw new Error(`The wasm backend expected a float32 ${name} but got ${w.dtype}; cast it first.`);
    return w.ptr;
  }

  /** Pointer of an optional float32 buffer, 0 for null. */
  protected fOpt(s: Storage | null, need: number, name: string): number {
    return s === null ? 0 : this.f(s, need, name);
  }

  protected int(s: Storage, need: number, name: string): number {
    const w = this.st(s, need, name);
    if (w.dtype !== 'int32') throw new Error(`The wasm backend expected int32 ${name} but got ${w.dtype}; index buffers are int32.`);
    return w.ptr;
  }

  protected hostView(s: WasmStorage): HostArray {
    this.refreshViews();
    const o = s.ptr >>> 2;
    return s.dtype === 'int32' ? this.i32.subarray(o, o + s.length) : this.f32.subarray(o, o + s.length);
  }

  // ---- Backend: memory ------------------------------------------------------------------------
  alloc(dtype: DType, length: number, init: AllocInit = 'zeros'): Storage {
    checkAllocLength(length);
    if (dtype === 'float64') {
      throw new Error(
        'The wasm backend stores float32 and int32 only; float64 (used for finite-difference gradient checks) ' +
          'needs the ref backend (createRefBackend()).',
      );
    }
    const bytes = length * BYTES_PER_ELEMENT[dtype];
    let ptr = 0;
    if (bytes > 0) {
      const block = this.alloc_.alloc(bytes);
      ptr = block.ptr;
      this.refreshViews();
      // A fresh block is already zero, but a replay finds it holding the last replay's data.
      this.rec?.blocks.set(ptr, bytes);
      if (init === 'zeros') {
        this.rec?.record({ kind: 'call', fn: this.k.zero as KernelFn, args: [ptr, bytes] });
        if (block.reused) this.k.zero(ptr, bytes);
      } else if (this.poisonUninit) {
        this.call(this.k.fill32, [ptr, bytes >> 2, 0x7fc00000]); // NaN
      }
    }
    const s = new WasmStorage(dtype, length, ptr, null, this);
    this.ledger.add(s);
    return s;
  }

  view(base: Storage, offset: number, length: number): Storage {
    const b = this.st(base, 0, 'view base');
    checkViewRange(offset, length, b.length);
    return new WasmStorage(b.dtype, length, b.ptr + offset * BYTES_PER_ELEMENT[b.dtype], b.root ?? b, this);
  }

  free(s: Storage): void {
    const w = this.ledger.free(s);
    if (w === null) return;
    const bytes = storageBytes(w);
    if (bytes > 0) this.releaseBlock(w.ptr, bytes);
  }

  write(s: Storage, src: ArrayLike<number>): void {
    const w = this.st(s, 0, 'write target');
    if (src.length !== w.length) {
      throw new Error(`write got ${src.length} values for a buffer of ${w.length} elements; lengths must match.`);
    }
    // Int32Array.set truncates toward zero and wraps, as the ref backend's Math.trunc + int32 store.
    const view = this.hostView(w);
    view.set(src);
    // Host data written during a capture is replayed as it was then (a constant, like backward's seed of ones).
    if (this.rec) {
      this.rec.record(w.dtype === 'int32' ? { kind: 'write32', at: w.ptr >>> 2, values: Int32Array.from(view) }
        : { kind: 'writeF32', at: w.ptr >>> 2, values: Float32Array.from(view) });
    }
  }

  read(s: Storage): Promise<HostArray> {
    return Promise.resolve(this.readSync(s));
  }

  readSync(s: Storage): HostArray {
    const w = this.st(s, 0, 'read source');
    this.rec?.refuse('a value was read back to JavaScript, so what follows may depend on the data');
    // new + set, not slice(): V8 copies out of shared memory ~10x faster this way.
    const out = w.dtype === 'int32' ? new Int32Array(w.length) : new Float32Array(w.length);
    out.set(this.hostView(w));
    return out;
  }

  memoryStats(): MemoryStats {
    return this.ledger.stats();
  }
}
