// Key/value cache for autoregressive generation: each layer keeps the keys and values of the tokens
// seen so far in (B, H, maxT, D) buffers, so a new token costs one position's work, not T positions'.
// cachedAttention (tensor/ops/attention.ts) writes the new positions and reads the cache in place.

import type { Backend } from '../backend/backend.ts';
import { zeros, type Tensor } from '../tensor/tensor.ts';

export interface LayerCache {
  k: Tensor; // (B, H, maxT, D)
  v: Tensor; // (B, H, maxT, D)
  /** Positions already filled before this forward call. */
  start: number;
}

export class KVCache {
  private readonly layers: { k: Tensor; v: Tensor }[];
  /** Number of positions filled. */
  length = 0;

  constructor(
    readonly backend: Backend,
    nLayer: number,
    readonly B: number,
    readonly H: number,
    readonly maxT: number,
    readonly D: number,
  ) {
    // Allocated outside any step arena: the cache lives across generation steps until dispose().
    this.layers = Array.from({ length: nLayer }, () => ({
      k: zeros([B, H, maxT, D], { backend }),
      v: zeros([B, H, maxT, D], { backend }),
    }));
  }

  layer(i: number): LayerCache {
    return { ...this.layers[i], start: this.length };
  }

  reset(): void {
    this.length = 0;
  }

  dispose(): void {
    for (const l of this.layers) {
      l.k.buf.release();
      l.v.buf.release();
    }
  }
}
