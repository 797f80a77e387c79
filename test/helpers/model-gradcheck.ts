// Finite-difference gradient check of a whole model in float64 (materialised with dtype 'float64'):
// for a few random coordinates of every parameter tensor, the analytic gradient of `lossOf` must match
// a fourth-order central difference (8·(L(+h) − L(−h)) − (L(+2h) − L(−2h))) / 12h, whose truncation is
// ~h⁴·L⁽⁵⁾/30 and rounding ~1.5·ε·L/h ≈ 1e-11 at h = 1e-4. Errors are relative to the tensor's largest
// sampled gradient, floored at 1e-4. Returns one line per tensor that fails (empty: all pass).

import type { ParameterStore } from '../../src/nn/parameter-store.ts';
import { noGrad, type Rng } from '../../src/tensor/index.ts';

export interface GradcheckOptions {
  coords: number;
  tol: number;
  h?: number;
}

/** `lossOf(true)` runs forward and backward (gradients into the store); `lossOf(false)` only the forward. */
export async function modelGradcheck(store: ParameterStore, lossOf: (withGrad: boolean) => number, rng: Rng, o: GradcheckOptions): Promise<string[]> {
  const h = o.h ?? 1e-4;
  const backend = store.backend;
  lossOf(true);
  const grads = new Map(store.entries.map((e) => [e.name, e.param.value.grad!.toArraySync()]));
  const theta = await backend.read(store.data);
  if (!(theta instanceof Float64Array)) throw new Error('modelGradcheck needs a float64 model (create it with dtype: float64)');
  const set = (i: number, v: number) => backend.write(backend.view(store.data, i, 1), [v]);
  const failures: string[] = [];
  noGrad(() => {
    for (const e of store.entries) {
      const picks = new Set<number>();
      while (picks.size < Math.min(o.coords, e.size)) picks.add(rng.int(e.size));
      const analytic: number[] = [];
      const numeric: number[] = [];
      for (const j of picks) {
        const i = e.offset + j;
        const x0 = theta[i];
        const at = (d: number) => {
          set(i, x0 + d);
          return lossOf(false);
        };
        numeric.push((8 * (at(h) - at(-h)) - (at(2 * h) - at(-2 * h))) / (12 * h));
        set(i, x0);
        analytic.push(grads.get(e.name)![j]);
      }
      const scale = Math.max(...numeric.map(Math.abs), 1e-4);
      const err = Math.max(...analytic.map((a, n) => Math.abs(a - numeric[n]))) / scale;
      if (!(err <= o.tol)) failures.push(`${e.name}: rel err ${err.toExponential(2)} (analytic ${analytic.map((v) => v.toExponential(4)).join(', ')}; numeric ${numeric.map((v) => v.toExponential(4)).join(', ')})`);
    }
  });
  return failures;
}
