// Shape helpers shared by every backend's kernels (the ref oracle and the fast backends must read
// broadcast shapes and reduction axes the same way, so they share one implementation).

/** Element strides of a dense row-major shape, 0 where the dim has size 1 (it broadcasts). */
export function broadcastStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = shape[d] === 1 ? 0 : s;
    s *= shape[d];
  }
  return strides;
}

/** Which dims of `shape` a reduction over `axes` removes; axes must be sorted, unique and in range. */
export function reducedDims(shape: readonly number[], axes: readonly number[]): boolean[] {
  const rank = shape.length;
  const reduced = new Array<boolean>(rank).fill(false);
  for (let i = 0; i < axes.length; i++) {
    const ax = axes[i];
    if (!Number.isInteger(ax) || ax < 0 || ax >= rank || (i > 0 && ax <= axes[i - 1])) {
      throw new Error(`reduce axes [${axes}] must be sorted, unique and lie in [0, ${rank}) for shape [${shape}].`);
    }
    reduced[ax] = true;
  }
  return reduced;
}
