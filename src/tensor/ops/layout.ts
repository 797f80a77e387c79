// Layout ops: reshape (a view), and permute / slice / concat / expand, which copy through the
// backend's one strided-copy primitive. Their backward passes are the same primitive run the other way.

import { record } from '../autograd.ts';
import { fmt, normalizeAxis, padShape, ShapeError, sizeOf, stridesOf, type Shape } from '../shape.ts';
import { viewAs, type Tensor } from '../tensor.ts';
import { alloc, allocOut, checkSameBackend, checkSameDtype } from './common.ts';
import { sum } from './reduce.ts';

export function reshape(x: Tensor, shape: Shape): Tensor {
  // One dimension may be -1 (inferred), as in PyTorch.
  const known = shape.filter((d) => d !== -1);
  const inferred = shape.length - known.length;
  if (inferred > 1) throw new ShapeError(`reshape: at most one dimension can be -1, got ${fmt(shape)}`);
  let target = [...shape];
  if (inferred === 1) {
    const k = sizeOf(known);
    if (k === 0 || x.size % k !== 0) throw new ShapeError(`reshape: cannot infer -1 in ${fmt(shape)} for ${x.size} elements`);
    target = shape.map((d) => (d === -1 ? x.size / k : d));
  }
  if (sizeOf(target) !== x.size) throw new ShapeError(`reshape: cannot reshape ${fmt(x.shape)} (${x.size} elements) to ${fmt(target)}`);
  const out = viewAs(x, target);
  return record(out, 'reshape', [x], (g) => [viewAs(g, x.shape)]);
}

export function permute(x: Tensor, perm: readonly number[]): Tensor {
  if (perm.length !== x.rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new ShapeError(`permute: ${fmt(perm)} is not a permutation of the ${x.rank} axes of ${fmt(x.shape)}`);
  }
  const inStrides = stridesOf(x.shape);
  const outShape = perm.map((p) => x.shape[p]);
  const out = allocOut(x, outShape);
  x.backend.stridedCopy(x.storage, 0, perm.map((p) => inStrides[p]), out.storage, 0, stridesOf(outShape), outShape);
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  return record(out, 'permute', [x], (g) => [permute(g, inverse)]);
}

export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const a = normalizeAxis(dim0, x.rank, 'transpose');
  const b = normalizeAxis(dim1, x.rank, 'transpose');
  const perm = x.shape.map((_, i) => i);
  [perm[a], perm[b]] = [perm[b], perm[a]];
  return permute(x, perm);
}

/** x.narrow(axis, start, end − start): elements start ≤ i < end along `axis`. */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  const ax = normalizeAxis(axis, x.rank, 'slice');
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > x.shape[ax] || start > end) {
    throw new ShapeError(`slice: range [${start}, ${end}) is invalid for axis ${ax} of size ${x.shape[ax]} in ${fmt(x.shape)}`);
  }
  const outShape = [...x.shape];
  outShape[ax] = end - start;
  const strides = stridesOf(x.shape);
  const out = allocOut(x, outShape);
  x.backend.stridedCopy(x.storage, start * strides[ax], strides, out.storage, 0, stridesOf(outShape), outShape);
  return record(out, 'slice', [x], (g) => {
    const dx = alloc(g, x.shape);
    g.backend.stridedCopy(g.storage, 0, stridesOf(outShape), dx.storage, start * strides[ax], strides, outShape);
    return [dx];
  });
}

export function concat(ts: readonly Tensor[], axis: number): Tensor {
  if (ts.length === 0) throw new ShapeError('concat: needs at least one tensor');
  checkSameBackend('concat', ...ts);
  checkSameDtype('concat', ...ts);
  const ax = normalizeAxis(axis, ts[0].rank, 'concat');
  for (const t of ts) {
    if (t.rank !== ts[0].rank || t.shape.some((d, i) => i !== ax && d !== ts[0].shape[i])) {
      throw new ShapeError(`concat: shapes ${fmt(ts[0].shape)} and ${fmt(t.shape)} differ outside axis ${ax}`);
    }
  }
  const outShape = [...ts[0].shape];
  outShape[ax] = ts.reduce((n, t) => n + t.shape[ax], 0);
  const out = allocOut(ts[0], outShape);
  const outStrides = stridesOf(outShape);
  let offset = 0;
  const starts: number[] = [];
  for (const t of ts) {
    starts.push(offset);
    t.backend.stridedCopy(t.storage, 0, stridesOf(t.shape), out.storage, offset * outStrides[ax], outStrides, t.shape);
    offset += t.shape[ax];
  }
  return record(out, 'concat', ts, (g) => ts.map((t, i) => slice(g, ax, starts[i], starts[i] + t.shape[ax])));
}

/** Broadcasts x to `shape` by copying (NumPy rules); backward sums over the broadcast axes. */
export function expand(x: Tensor, shape: Shape): Tensor {
  if (x.rank > shape.length) throw new ShapeError(`expand: cannot broadcast ${fmt(x.shape)} to the lower-rank ${fmt(shape)}`);
  const padded = padShape(x.shape, shape.length);
  if (padded.length !== shape.length || padded.some((d, i) => d !== 1 && d !== shape[i])) {
    throw new ShapeError(`expand: cannot broadcast ${fmt(x.shape)} to ${fmt(shape)}`);
  }
  const inStrides = stridesOf(padded).map((s, i) => (padded[i] === 1 ? 0 : s));
  const out = allocOut(x, shape);
  x.backend.stridedCopy(x.storage, 0, inStrides, out.storage, 0, stridesOf(shape), shape);
  return record(out, 'expand', [x], (g) => [sumTo(g, x.shape)]);
}

/** Sums g over the axes along which `shape` was broadcast to g's shape (the adjoint of expand). */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (g.rank === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const padded = padShape(shape, g.rank);
  const axes: number[] = [];
  padded.forEach((d, i) => {
    if (d === 1 && g.shape[i] !== 1) axes.push(i);
  });
  const reduced = axes.length > 0 ? sum(g, axes, true) : g;
  return reshape(reduced, shape);
}
