// Data movement for the reference backend: the generic N-d strided copy (permute, slice, concat and
// their gradients all reduce to it) and dtype conversion.
import type { HostArray } from '../backend.ts';

/**
 * dst[dstOffset + Σ i_d·dstStrides_d] = src[srcOffset + Σ i_d·srcStrides_d] for every index i < shape.
 * Rank 0 copies one element. Strides may be 0 (broadcast) or negative (reversal); src and dst must not
 * overlap unless they are the same positions.
 */
export function stridedCopy(
  src: HostArray,
  srcOffset: number,
  srcStrides: readonly number[],
  dst: HostArray,
  dstOffset: number,
  dstStrides: readonly number[],
  shape: readonly number[],
): void {
  const rank = shape.length;
  if (srcStrides.length !== rank || dstStrides.length !== rank) {
    throw new Error(
      `stridedCopy got shape [${shape}] with src strides [${srcStrides}] and dst strides [${dstStrides}]; ` +
        'all three need one entry per dim.',
    );
  }
  let total = 1;
  for (const n of shape) total *= n;
  if (total === 0) return;
  const idx = new Array<number>(rank).fill(0);
  let is = srcOffset;
  let id = dstOffset;
  for (let i = 0; i < total; i++) {
    dst[id] = src[is];
    // Odometer step over shape, moving both offsets by their strides.
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      is += srcStrides[d];
      id += dstStrides[d];
      if (idx[d] < shape[d]) break;
      is -= srcStrides[d] * shape[d];
      id -= dstStrides[d] * shape[d];
      idx[d] = 0;
    }
  }
}

/** The lowest and highest element offsets a strided walk touches (for bounds checks). */
export function stridedExtent(offset: number, strides: readonly number[], shape: readonly number[]): [number, number] {
  let lo = offset;
  let hi = offset;
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 0) return [offset, offset - 1];
    const span = strides[d] * (shape[d] - 1);
    if (span > 0) hi += span;
    else lo += span;
  }
  return [lo, hi];
}

/**
 * Converts every element. Float to int32 truncates toward zero (C and PyTorch semantics), NaN becomes
 * 0 and values beyond the int32 range wrap modulo 2³² like any int32 store; everything else is exact
 * or rounds to nearest (float64 → float32).
 */
export function cast(src: HostArray, out: HostArray): void {
  if (out instanceof Int32Array && !(src instanceof Int32Array)) {
    for (let i = 0; i < out.length; i++) out[i] = Math.trunc(src[i]);
    return;
  }
  // Same dtype or a widening / rounding float store: set() copies correctly even if they overlap.
  out.set(src.length === out.length ? src : src.subarray(0, out.length));
}
