// Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_: g ← g·min(1, max/(‖g‖ + 1e-6)).

import type { ParameterStore } from '../nn/parameter-store.ts';

/** Returns the norm before clipping (reported in metrics: a rising norm is an early sign of trouble). */
export function clipGradNorm(store: ParameterStore, maxNorm: number): number {
  const b = store.backend;
  const out = b.alloc('float32', 1);
  b.reduce('sumsq', store.grad, [store.size], [0], out);
  const sq = b.readSync ? b.readSync(out)[0] : Number.NaN;
  b.free(out);
  const norm = Math.sqrt(sq);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) b.affine(store.grad, store.grad, coef, 0);
  return norm;
}
