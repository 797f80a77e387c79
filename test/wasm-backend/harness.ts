// Runs one kernel call on the reference backend and on a backend under test with the same inputs,
// and returns both backends' outputs, so a test can compare them (wasm-vs-ref.test.ts).
import type { FullBackend as Backend, DType, HostArray, Storage } from '../../src/backend/backend.ts';

export interface Input {
  dtype?: DType;
  data: ArrayLike<number>;
}

/** Deterministic pseudo-random floats in [lo, hi) (a small LCG: the tests need spread, not quality). */
export function rand(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = lo + ((s >>> 8) / 16777216) * (hi - lo);
  }
  return a;
}

export function randInts(n: number, seed: number, hi: number): Int32Array {
  return Int32Array.from(rand(n, seed, 0, hi), (v) => Math.min(hi - 1, Math.floor(v)));
}

/**
 * Allocates `inputs` (written) and `outputs` (zero-filled unless listed in `initial`) on `be`,
 * runs `call`, and returns every output read back.
 */
export function runOn(
  be: Backend,
  inputs: Record<string, Input>,
  outputs: Record<string, number | Input>,
  call: (s: Record<string, Storage>) => void,
): Record<string, HostArray> {
  const s: Record<string, Storage> = {};
  for (const [name, x] of Object.entries(inputs)) {
    s[name] = be.alloc(x.dtype ?? 'float32', x.data.length);
    be.write(s[name], x.data);
  }
  for (const [name, o] of Object.entries(outputs)) {
    if (typeof o === 'number') {
      s[name] = be.alloc('float32', o);
    } else {
      s[name] = be.alloc(o.dtype ?? 'float32', o.data.length);
      be.write(s[name], o.data);
    }
  }
  call(s);
  const res: Record<string, HostArray> = {};
  for (const name of Object.keys(outputs)) res[name] = be.readSync!(s[name]);
  for (const st of Object.values(s)) be.free(st);
  return res;
}
