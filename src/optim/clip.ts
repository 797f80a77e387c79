// Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_: g ← g·min(1, max/(‖g‖ + 1e-6)).
// In two halves so that a training step reads once: the squared norm is computed on the backend with
// the rest of the step, read together with the loss, and the scale is then applied from the host.

import type { Storage } from '../backend/backend.ts';
import type { ParameterStore } from '../nn/parameter-store.ts';

/** Writes Σ g² over every gradient into `out` (one element) on the backend; nothing is read. */
export function gradSquaredNorm(store: ParameterStore, out: Storage): void {
  store.backend.reduce('sumsq', store.grad, [store.size], [0], out);
}

/** Scales the gradients when their norm (as computed from gradSquaredNorm's value) exceeds maxNorm. */
export function clipByNorm(store: ParameterStore, maxNorm: number, norm: number): void {
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) store.backend.affine(store.grad, store.grad, coef, 0);
}

/** Both halves with a read between; returns the norm before clipping. */
export async function clipGradNorm(store: ParameterStore, maxNorm: number): Promise<number> {
  const b = store.backend;
  const out = b.alloc('float32', 1);
  try {
    gradSquaredNorm(store, out);
    const norm = Math.sqrt((await b.read(out))[0]);
    clipByNorm(store, maxNorm, norm);
    return norm;
  } finally {
    b.free(out);
  }
}
