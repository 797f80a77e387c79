// Inverted dropout (Srivastava et al. 2014) for the reference backend, drawing its mask from the
// counter-based hash so that the mask depends only on (seed, element index).
import { hashUniformMixed, mixSeed } from '../counter-hash.ts';
import type { FloatArray } from './storage.ts';

/** Keeps x[i] iff hashUniform(seed, i) >= p; mask[i] = 0 or 1/(1 − p); out = x·mask. */
export function dropoutForward(x: FloatArray, out: FloatArray, mask: FloatArray, p: number, seed: number): void {
  if (!(p >= 0 && p <= 1)) {
    throw new Error(`Dropout probability must lie in [0, 1], got ${p}.`);
  }
  const keepScale = p === 1 ? 0 : 1 / (1 - p);
  const s = mixSeed(seed);
  for (let i = 0; i < out.length; i++) {
    const m = hashUniformMixed(s, i) >= p ? keepScale : 0;
    mask[i] = m;
    out[i] = x[i] * m;
  }
}
