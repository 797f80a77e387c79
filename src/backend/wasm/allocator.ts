// The wasm backend's allocator over its one WebAssembly.Memory: size classes (4 per power of two, so
// at most 25% slack) with a free list each, above a bump pointer that grows the memory on demand.
// A training step that frees its activations and asks for the same sizes next step reuses the same
// blocks, so the memory stays flat over steps; freed blocks are never returned to the system.

const ALIGN = 64; // one cache line: SIMD loads never straddle it and threads never share one
const PAGE = 65536;

/** The block size a request of `bytes` is served from (a multiple of 64). */
export function sizeClass(bytes: number): number {
  if (bytes <= ALIGN) return ALIGN;
  const k = 31 - Math.clz32(bytes - 1); // 2^k < bytes ≤ 2^(k+1)
  const step = Math.max(ALIGN, 2 ** (k - 2));
  return Math.ceil(bytes / step) * step;
}

export class SizeClassAllocator {
  private top: number;
  private readonly freeLists = new Map<number, number[]>();

  /** @param start first byte the allocator may hand out (above the module's static data) */
  constructor(
    private readonly memory: WebAssembly.Memory,
    start: number,
    private readonly maxBytes: number,
  ) {
    this.top = Math.ceil(start / ALIGN) * ALIGN;
  }

  /** A block of at least `bytes`; returns its byte offset and whether it may hold old data. */
  alloc(bytes: number): { ptr: number; reused: boolean } {
    const cls = sizeClass(bytes);
    const list = this.freeLists.get(cls);
    if (list && list.length > 0) return { ptr: list.pop()!, reused: true };
    const ptr = this.top;
    const end = ptr + cls;
    if (end > this.maxBytes) {
      throw new Error(
        `The wasm backend is out of memory: ${bytes} more bytes would exceed its ${this.maxBytes / 2 ** 20} MiB limit; ` +
          'free unused tensors (wrap steps in stepScope) or create the backend with a larger maxMemoryMiB.',
      );
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE));
    this.top = end;
    return { ptr, reused: false };
  }

  /** Returns a block obtained from alloc(bytes) to its size class's free list. */
  release(ptr: number, bytes: number): void {
    const cls = sizeClass(bytes);
    let list = this.freeLists.get(cls);
    if (!list) {
      list = [];
      this.freeLists.set(cls, list);
    }
    list.push(ptr);
  }

  /** Takes a block out of its free list, if it is there (a kernel program claims it); true if it was. */
  take(ptr: number, bytes: number): boolean {
    const list = this.freeLists.get(sizeClass(bytes));
    const i = list ? list.lastIndexOf(ptr) : -1;
    if (i < 0) return false;
    list!.splice(i, 1);
    return true;
  }

  /** Bytes of linear memory in use by the allocator's blocks, free or not (the high-water mark). */
  get reservedBytes(): number {
    return this.top;
  }
}
