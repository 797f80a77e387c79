// Shared helpers for the backend tests: a seeded generator, buffer shorthands, tolerance checks and a
// central finite-difference gradient in float64.
import { expect } from 'vitest';
import type { DType, Storage } from '../../src/backend/backend.ts';
import type { RefBackend } from '../../src/backend/ref/ref-backend.ts';

/** mulberry32: a tiny seeded generator so every test sees the same inputs. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n values uniform in [lo, hi). */
export function randn(r: () => number, n: number, lo = -1, hi = 1): number[] {
  return Array.from({ length: n }, () => lo + (hi - lo) * r());
}

export function buf(be: RefBackend, dtype: DType, values: ArrayLike<number>): Storage {
  const s = be.alloc(dtype, values.length);
  be.write(s, values);
  return s;
}

export function get(be: RefBackend, s: Storage): number[] {
  return Array.from(be.readSync(s));
}

/** Element-wise |a − b| ≤ atol + rtol·|b|, naming the first index that fails. */
export function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, atol = 1e-12, rtol = 1e-10): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    const ok = Math.abs(a[i] - b[i]) <= atol + rtol * Math.abs(b[i]);
    if (!ok) expect.fail(`index ${i}: got ${a[i]}, expected ${b[i]} (atol ${atol}, rtol ${rtol})`);
  }
}

/** Central differences of a scalar function of x, one coordinate at a time (x is restored). */
export function numericGrad(f: (x: number[]) => number, x: number[], h = 1e-6): number[] {
  const g = new Array<number>(x.length);
  for (let i = 0; i < x.length; i++) {
    const x0 = x[i];
    x[i] = x0 + h;
    const fp = f(x);
    x[i] = x0 - h;
    const fm = f(x);
    x[i] = x0;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

/** Σ a·b, the scalar a finite-difference check differentiates (dy = b). */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
