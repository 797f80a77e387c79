// Inverted dropout with a seeded, backend-independent mask.

import { record } from '../autograd.ts';
import { ShapeError } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { allocOut, checkFloat } from './common.ts';
import { hashUniformMixed, mixSeed } from '../../backend/counter-hash.ts';

/**
 * Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1 − p).
 * The mask depends only on (seed, element index), so every backend draws the same one.
 */
export function dropout(x: Tensor, p: number, seed: number): Tensor {
  checkFloat('dropout', x);
  if (!(p >= 0 && p < 1)) throw new ShapeError(`dropout: p must be in [0, 1), got ${p}`);
  if (p === 0) return x;
  const out = allocOut(x, x.shape);
  const mask = allocOut(x, x.shape);
  const be = x.backend;
  if (be.dropoutForward) {
    be.dropoutForward(x.storage, out.storage, mask.storage, p, seed >>> 0);
  } else {
    // The same mask from the same counter hash, drawn in JavaScript and written to the backend.
    const m = new Float32Array(x.size);
    const s = mixSeed(seed >>> 0);
    for (let i = 0; i < m.length; i++) m[i] = hashUniformMixed(s, i) >= p ? 1 / (1 - p) : 0;
    be.write(mask.storage, m);
    be.binary('mul', x.storage, x.shape, mask.storage, mask.shape, out.storage, x.shape);
  }
  return record(out, 'dropout', [x], (g) => {
    const dx = allocOut(x, x.shape);
    x.backend.binary('mul', g.storage, g.shape, mask.storage, mask.shape, dx.storage, x.shape);
    return [dx];
  });
}
