// The checks a backend makes on the buffers it is handed, and its memory accounting, written once for
// every backend: a foreign or freed handle, a buffer shorter than a kernel needs, a view out of bounds,
// a double free, and live and peak bytes. Each backend's storage class extends TrackedStorage.
import { BYTES_PER_ELEMENT, type DType, type MemoryStats, type Storage } from './backend.ts';

/** A buffer handle that knows the backend that made it, and whether it (or the allocation it views) was freed. */
export abstract class TrackedStorage implements Storage {
  freed = false;
  abstract readonly dtype: DType;
  abstract readonly length: number;

  /**
   * @param root  the allocation a view belongs to; null for an allocation itself
   * @param owner the backend that made it, so a foreign handle is recognised
   */
  constructor(
    readonly root: TrackedStorage | null,
    readonly owner: object,
  ) {}

  get isView(): boolean {
    return this.root !== null;
  }

  /** True when this allocation, or the one this view looks into, has been released. */
  get isFreed(): boolean {
    return this.freed || (this.root !== null && this.root.freed);
  }
}

/** A storage class, for the `instanceof` that tells a backend's own handles from anything else. */
export type StorageClass<S extends TrackedStorage> = abstract new (...args: never[]) => S;

/**
 * `s` as one of the backend's live handles holding at least `need` elements, or an error naming the
 * operand: not of `kind` (or, when `owner` is given, made by another backend), already freed, too short
 * (typed arrays read `undefined` past their end, which would silently turn into NaN). Called for every
 * operand of every eager kernel call: only comparisons unless it throws.
 */
export function liveHandle<S extends TrackedStorage>(kind: StorageClass<S>, owner: object | null, backend: string, s: Storage,
  need: number, name: string): S {
  if (!(s instanceof kind) || (owner !== null && s.owner !== owner)) {
    throw new Error(`The ${backend} backend was given a ${name} it did not allocate; pass storage from the same backend.`);
  }
  if (s.isFreed) throw new Error(`The ${backend} backend was given a ${name} that was already freed; this is a use-after-free bug.`);
  if (s.length < need) throw new Error(`The ${backend} backend needs ${need} elements in ${name} but it holds ${s.length}.`);
  return s;
}

/** Throws unless `length` can be allocated. */
export function checkAllocLength(length: number): void {
  if (!Number.isInteger(length) || length < 0) throw new Error(`alloc needs a non-negative integer length, got ${length}.`);
}

/** Throws unless elements [offset, offset + length) lie inside a buffer of `baseLength`. */
export function checkViewRange(offset: number, length: number, baseLength: number): void {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > baseLength) {
    throw new Error(`view [${offset}, ${offset + length}) does not fit in a buffer of ${baseLength} elements.`);
  }
}

/** The bytes of a buffer's elements. */
export function storageBytes(s: Storage): number {
  return s.length * BYTES_PER_ELEMENT[s.dtype];
}

/** A backend's live allocations and their bytes (memoryStats), and the checks that free() makes. */
export class StorageLedger<S extends TrackedStorage> {
  private readonly live_ = new Set<S>();
  private liveBytes = 0;
  private peakBytes = 0;

  constructor(
    private readonly kind: StorageClass<S>,
    private readonly owner: object,
    private readonly backend: string,
  ) {}

  /** The live allocations (not views). */
  get live(): ReadonlySet<S> {
    return this.live_;
  }

  /** Counts a new allocation. */
  add(s: S): void {
    this.live_.add(s);
    this.liveBytes += storageBytes(s);
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
  }

  /**
   * free()'s checks and bookkeeping: throws on a foreign handle or a second free; marks `s` freed and
   * returns it when its memory is to be released, null for a view (which owns no memory).
   */
  free(s: Storage): S | null {
    if (!(s instanceof this.kind) || s.owner !== this.owner) {
      throw new Error(`free was given a buffer this ${this.backend} backend did not allocate; free it with its own backend.`);
    }
    if (s.isView) return null;
    if (!this.live_.delete(s)) throw new Error('free was called twice on the same buffer; this is a double-free bug.');
    s.freed = true;
    this.liveBytes -= storageBytes(s);
    return s;
  }

  stats(): MemoryStats {
    return { liveBuffers: this.live_.size, liveBytes: this.liveBytes, peakBytes: this.peakBytes };
  }
}
