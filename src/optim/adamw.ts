// AdamW (Loshchilov & Hutter 2019) with PyTorch's semantics: bias-corrected moments and decoupled
// weight decay θ ← θ − lr·λ·θ, applied only to the decayed range of the flat parameter buffer.

import type { Storage } from '../backend/backend.ts';
import type { ParameterStore } from '../nn/parameter-store.ts';

export interface AdamWConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const DEFAULT_ADAMW: AdamWConfig = { lr: 1e-3, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 };

export class AdamW {
  /** Steps taken so far (t in the bias corrections). */
  step = 0;
  readonly m: Storage;
  readonly v: Storage;

  constructor(
    readonly store: ParameterStore,
    readonly config: AdamWConfig = DEFAULT_ADAMW,
  ) {
    this.m = store.backend.alloc('float32', store.size);
    this.v = store.backend.alloc('float32', store.size);
  }

  /** One update with learning rate `lr` (defaults to the configured one). */
  update(lr = this.config.lr): void {
    this.step++;
    const { backend: b, data, grad, decaySize, size } = this.store;
    const c = this.config;
    const common = {
      lr,
      beta1: c.beta1,
      beta2: c.beta2,
      eps: c.eps,
      biasCorrection1: 1 - Math.pow(c.beta1, this.step),
      biasCorrection2: 1 - Math.pow(c.beta2, this.step),
    };
    const range = (off: number, n: number, weightDecay: number) => {
      if (n === 0) return;
      b.adamw(b.view(data, off, n), b.view(grad, off, n), b.view(this.m, off, n), b.view(this.v, off, n), { ...common, weightDecay });
    };
    range(0, decaySize, c.weightDecay);
    range(decaySize, size - decaySize, 0);
  }
}
