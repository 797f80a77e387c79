// AdamW (Loshchilov & Hutter 2019) with PyTorch's semantics: bias-corrected moments and decoupled
// weight decay θ ← θ − lr·λ·θ, applied only to the decayed range of the flat parameter buffer.

import type { AdamWArgs, Backend, Storage } from '../backend/backend.ts';
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
      const step = b.adamw ? b.adamw.bind(b) : (p: Storage, g: Storage, m: Storage, v: Storage, a: AdamWArgs) => adamwComposed(b, p, g, m, v, a);
      step(b.view(data, off, n), b.view(grad, off, n), b.view(this.m, off, n), b.view(this.v, off, n), { ...common, weightDecay });
    };
    range(0, decaySize, c.weightDecay);
    range(decaySize, size - decaySize, 0);
  }
}

/**
 * The AdamW step from core kernels, for backends without a fused one (PyTorch's formula, float32
 * like the fused kernels, in a different order of operations, so equal to them within rounding).
 */
export function adamwComposed(b: Backend, param: Storage, grad: Storage, m: Storage, v: Storage, a: AdamWArgs): void {
  const n = param.length;
  const shape = [n];
  b.affine(param, param, 1 - a.lr * a.weightDecay, 0); // θ ← θ − lr·λ·θ
  b.affine(m, m, a.beta1, 0); // m ← β1·m + (1 − β1)·g
  b.axpy(grad, m, 1 - a.beta1);
  const tmp = b.alloc('float32', n, 'uninit');
  b.binary('mul', grad, shape, grad, shape, tmp, shape); // v ← β2·v + (1 − β2)·g²
  b.affine(v, v, a.beta2, 0);
  b.axpy(tmp, v, 1 - a.beta2);
  b.affine(v, tmp, 1 / a.biasCorrection2, 0); // sqrt(v̂) + ε
  b.unary('sqrt', tmp, tmp);
  b.affine(tmp, tmp, 1, a.eps);
  b.binary('div', m, shape, tmp, shape, tmp, shape); // θ ← θ − lr·m̂/(sqrt(v̂) + ε)
  b.axpy(tmp, param, -a.lr / a.biasCorrection1);
  b.free(tmp);
}
