// Step arenas: the engine, not the user, owns the lifetime of a step's activations.
// Every buffer allocated while an arena is open belongs to it and is released when the arena closes,
// so a training loop that wraps each step in `stepScope` cannot leak, whatever the model does.
// Buffers allocated with no arena open (parameters, optimizer state) persist until freed explicitly.

import type { Backend, HostArray, Storage } from '../backend/backend.ts';
import type { Tensor } from './tensor.ts';

/** A backend buffer plus ownership: tensors (and reshaped views of them) share one BufferRef. */
export class BufferRef {
  released = false;
  constructor(
    readonly backend: Backend,
    readonly storage: Storage,
    /** Views into a larger buffer (parameters in the flat store) are never freed on their own. */
    readonly isView: boolean,
  ) {}

  release(): void {
    if (this.released) return;
    this.released = true;
    if (!this.isView) this.backend.free(this.storage);
  }
}

export class Arena {
  private readonly owned = new Set<BufferRef>();
  constructor(readonly parent: Arena | null) {}

  track(buf: BufferRef): void {
    this.owned.add(buf);
  }

  /** Moves a buffer out of this arena into its parent (or makes it persistent at the top level). */
  adopt(buf: BufferRef): void {
    if (!this.owned.delete(buf)) return;
    this.parent?.track(buf);
  }

  releaseAll(): void {
    for (const b of this.owned) b.release();
    this.owned.clear();
  }

  get size(): number {
    return this.owned.size;
  }
}

let current: Arena | null = null;

export function currentArena(): Arena | null {
  return current;
}

/**
 * Runs `fn` with a fresh arena; everything allocated inside is released when it returns,
 * except tensors passed to `keep()`. Return plain values (numbers, host arrays) from `fn`.
 */
export function stepScope<T>(fn: () => T): T {
  const arena = new Arena(current);
  current = arena;
  try {
    const result = fn();
    if (result instanceof Promise) throw new Error('stepScope: fn returned a Promise; a scope cannot span an await — compute in the scope, then await the read outside it (readAfterScope)');
    return result;
  } finally {
    current = arena.parent;
    arena.releaseAll();
  }
}

/**
 * Runs `fn` with no arena open, whatever the caller's: what it allocates persists until released
 * explicitly (`t.buf.release()`), like parameters. For state that outlives steps, e.g. a captured step's inputs.
 */
export function outsideArenas<T>(fn: () => T): T {
  const saved = current;
  current = null;
  try {
    return fn();
  } finally {
    current = saved;
  }
}

/**
 * Computes a tensor in its own step scope and reads it after the scope has closed. The way to read
 * on any backend: a scope never spans an `await`, so two steps awaiting at once (two models, two
 * requests of a worker) cannot see each other's arena. The result is released after the read.
 */
export async function readAfterScope(fn: () => Tensor): Promise<HostArray> {
  const t = stepScope(() => {
    const r = fn();
    current?.adopt(r.buf); // out of the scope's arena: the scope may close before the read
    return r;
  });
  try {
    return await t.toArray();
  } finally {
    t.buf.release();
  }
}
