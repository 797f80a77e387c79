// Shape bookkeeping done in TypeScript before a kernel call: broadcast strides, and merging adjacent
// dims that walk memory the same way, so the kernels' odometers run over as few dims as possible.

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export { broadcastStrides } from '../kernel-shapes.ts';

/** Dense row-major element strides. */
export function denseStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

/**
 * Drops size-1 dims and merges dim d into d+1 wherever every stride list satisfies
 * stride[d] = stride[d+1]·shape[d+1]; the walk visits the same elements in the same order.
 * Call only for non-empty shapes.
 */
export function mergeDims(shape: readonly number[], strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, i) => outStrides[i][last] === s[d] * shape[d])) {
      outShape[last] *= shape[d];
      strides.forEach((s, i) => (outStrides[i][last] = s[d]));
    } else {
      outShape.push(shape[d]);
      strides.forEach((s, i) => outStrides[i].push(s[d]));
    }
  }
  return { shape: outShape, strides: outStrides };
}

export function checkBroadcast(aShape: readonly number[], bShape: readonly number[], outShape: readonly number[]): void {
  const rank = outShape.length;
  if (aShape.length !== rank || bShape.length !== rank) {
    throw new Error(`Broadcast shapes must have equal rank: a [${aShape}], b [${bShape}], out [${outShape}]; pad with 1s first.`);
  }
  for (let d = 0; d < rank; d++) {
    const n = outShape[d];
    if ((aShape[d] !== n && aShape[d] !== 1) || (bShape[d] !== n && bShape[d] !== 1)) {
      throw new Error(`Shapes a [${aShape}] and b [${bShape}] do not broadcast to [${outShape}] at dim ${d}.`);
    }
  }
}
