// Reductions for the reference backend: sum, max and sum of squares over any set of axes, with the
// output laid out as the input shape with those axes removed.
import type { HostArray, ReduceOp } from '../backend.ts';
import { reducedDims } from '../kernel-shapes.ts';

/**
 * Reduces x (of `shape`) over `axes` (sorted, unique). out[j] combines every x whose kept-axes index
 * is j, in the same order keepdim would give. Sums accumulate in float64; max propagates NaN like
 * PyTorch, and an empty reduction gives 0 for sums and −Infinity for max.
 */
export function reduce(op: ReduceOp, x: HostArray, shape: readonly number[], axes: readonly number[], out: HostArray): void {
  const rank = shape.length;
  const reduced = reducedDims(shape, axes);
  // Strides of each input dim in the output: 0 for reduced dims, row-major over the kept ones.
  const outStrides = new Array<number>(rank).fill(0);
  let outLen = 1;
  for (let d = rank - 1; d >= 0; d--) {
    if (reduced[d]) continue;
    outStrides[d] = outLen;
    outLen *= shape[d];
  }
  const acc = new Float64Array(outLen).fill(op === 'max' ? -Infinity : 0);
  let total = 1;
  for (const n of shape) total *= n;
  if (total > 0) {
    const idx = new Array<number>(rank).fill(0);
    let j = 0;
    for (let i = 0; i < total; i++) {
      const v = x[i];
      switch (op) {
        case 'sum':
          acc[j] += v;
          break;
        case 'sumsq':
          acc[j] += v * v;
          break;
        case 'max':
          if (v > acc[j] || Number.isNaN(v)) acc[j] = v;
          break;
        default: {
          const never: never = op;
          throw new Error(`Unknown reduce op '${String(never)}'.`);
        }
      }
      for (let d = rank - 1; d >= 0; d--) {
        idx[d]++;
        j += outStrides[d];
        if (idx[d] < shape[d]) break;
        j -= outStrides[d] * shape[d];
        idx[d] = 0;
      }
    }
  }
  for (let j = 0; j < outLen; j++) out[j] = acc[j];
}
