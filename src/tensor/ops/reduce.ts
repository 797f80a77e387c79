// Reductions over axes: sum, mean, max (with keepdim, PyTorch-style). An empty axis list is
// rejected; `undefined` axes means "all axes" and yields a scalar (shape []).

import { record } from '../autograd.ts';
import { normalizeAxes, ShapeError } from '../shape.ts';
import { viewAs, type Tensor } from '../tensor.ts';
import type { ReduceOp } from '../../backend/backend.ts';
import { allocOut, checkFloat } from './common.ts';
import { expand } from './layout.ts';
import { mul, scale } from './elementwise.ts';

function reduceRaw(op: ReduceOp, x: Tensor, axes: readonly number[] | undefined, keepdim: boolean, name: string) {
  checkFloat(name, x);
  const ax = normalizeAxes(axes, x.rank, name);
  if (axes !== undefined && axes.length === 0) throw new ShapeError(`${name}: the axis list is empty; omit it to reduce over all axes`);
  const keptShape = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const outShape = keepdim ? keptShape : x.shape.filter((_, i) => !ax.includes(i));
  const out = allocOut(x, outShape);
  x.backend.reduce(op, x.storage, x.shape, ax, out.storage);
  return { out, keptShape, count: ax.reduce((n, a) => n * x.shape[a], 1) };
}

export function sum(x: Tensor, axes?: readonly number[], keepdim = false): Tensor {
  const { out, keptShape } = reduceRaw('sum', x, axes, keepdim, 'sum');
  return record(out, 'sum', [x], (g) => [expand(viewAs(g, keptShape), x.shape)]);
}

export function mean(x: Tensor, axes?: readonly number[], keepdim = false): Tensor {
  const { out, keptShape, count } = reduceRaw('sum', x, axes, keepdim, 'mean');
  x.backend.affine(out.storage, out.storage, 1 / count, 0);
  return record(out, 'mean', [x], (g) => [scale(expand(viewAs(g, keptShape), x.shape), 1 / count)]);
}

/** Max over axes. Its gradient flows to every element equal to the max (ties share it fully). */
export function max(x: Tensor, axes?: readonly number[], keepdim = false): Tensor {
  const { out, keptShape } = reduceRaw('max', x, axes, keepdim, 'max');
  return record(out, 'max', [x], (g) => {
    const mask = allocOut(x, x.shape);
    x.backend.equal(x.storage, x.shape, out.storage, keptShape, mask.storage);
    return [mul(expand(viewAs(g, keptShape), x.shape), mask)];
  });
}

/** Σ x² over every element, as a scalar; used by gradient-norm clipping. Not differentiable. */
export function sumOfSquares(x: Tensor): Tensor {
  const { out } = reduceRaw('sumsq', x, undefined, false, 'sumOfSquares');
  return out;
}
