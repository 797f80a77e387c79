// Per-parameter statistics of one step, from the flat gradient and weight buffers: ‖g‖ before
// clipping, ‖θ‖ after the update and ‖Δθ‖/‖θ‖. All of it is computed on the backend around the
// step's eager update (the captured part of a step ends with the gradients, so these run in both
// modes on the same numbers) and read once.

import type { Backend, Storage } from '../../backend/backend.ts';
import type { ParameterStore } from '../../nn/parameter-store.ts';
import type { ParamStat } from './records.ts';

/**
 * The layer a parameter belongs to: its dotted name up to its first index (`h.3.attn.c_attn.weight`
 * → `h.3`, `encoder.layers.2.…` → `encoder.layers.2`), or its first component when it has none.
 */
export function layerOf(name: string): string {
  const parts = name.split('.');
  const i = parts.findIndex((p) => /^\d+$/.test(p));
  return i >= 0 ? parts.slice(0, i + 1).join('.') : parts[0];
}

/** One step's inspection: `beforeUpdate` after backward, `afterUpdate` after AdamW, then `read`. */
export class ParamInspection {
  private readonly be: Backend;
  /** [0, n): Σg², [n, 2n): Σ(Δθ)², [2n, 3n): Σθ². */
  private readonly sums: Storage;
  private snapshot: Storage | null = null;

  constructor(readonly store: ParameterStore) {
    this.be = store.backend;
    this.sums = this.be.alloc('float32', 3 * store.entries.length);
  }

  private sumsq(src: Storage, slot: number): void {
    this.store.entries.forEach((e, i) => this.be.reduce('sumsq', this.be.view(src, e.offset, e.size), [e.size], [0], this.be.view(this.sums, slot + i, 1)));
  }

  /** Gradients before clipping, and a copy of the weights before the update. */
  beforeUpdate(): void {
    this.sumsq(this.store.grad, 0);
    this.snapshot = this.be.alloc('float32', this.store.size, 'uninit');
    this.be.cast(this.store.data, this.snapshot);
  }

  afterUpdate(): void {
    if (!this.snapshot) throw new Error('ParamInspection.afterUpdate before beforeUpdate');
    const n = this.store.entries.length;
    this.be.axpy(this.store.data, this.snapshot, -1); // θ_old − θ_new = −Δθ
    this.sumsq(this.snapshot, n);
    this.sumsq(this.store.data, 2 * n);
    this.be.free(this.snapshot);
    this.snapshot = null;
  }

  /** Reads the sums and frees the buffers; per parameter and per layer, in model order. */
  async read(): Promise<{ params: ParamStat[]; layers: ParamStat[] }> {
    try {
      if (this.snapshot) throw new Error('ParamInspection.read before afterUpdate');
      const s = await this.be.read(this.sums);
      const n = this.store.entries.length;
      const stat = (name: string, g: number, d: number, w: number): ParamStat => ({ name, gradNorm: Math.sqrt(g), norm: Math.sqrt(w), updateRatio: w > 0 ? Math.sqrt(d / w) : 0 });
      const params = this.store.entries.map((e, i) => stat(e.name, s[i], s[n + i], s[2 * n + i]));
      const groups = new Map<string, [number, number, number]>();
      this.store.entries.forEach((e, i) => {
        const layer = layerOf(e.name);
        const acc = groups.get(layer) ?? [0, 0, 0];
        groups.set(layer, [acc[0] + s[i], acc[1] + s[n + i], acc[2] + s[2 * n + i]]);
      });
      const layers = [...groups].map(([name, [g, d, w]]) => stat(name, g, d, w));
      return { params, layers };
    } finally {
      this.dispose();
    }
  }

  private disposed = false;

  /** Frees what the inspection holds; safe to call more than once. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.snapshot) this.be.free(this.snapshot);
    this.snapshot = null;
    this.be.free(this.sums);
  }
}
