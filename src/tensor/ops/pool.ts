// Pooling over NCHW planes: max and average over sliding windows (torch.nn.functional.max_pool2d and
// avg_pool2d with their defaults: stride = kernel, count_include_pad, no ceil mode), and the global
// average over H and W. Fused kernels where the backend has them; otherwise the windows are gathered
// from the planes as in conv2d's composition (one padding element after the last) and reduced.

import type { Pool2dArgs } from '../../backend/backend.ts';
import { noGrad, record } from '../autograd.ts';
import { fmt, ShapeError } from '../shape.ts';
import { full, ones, type Tensor } from '../tensor.ts';
import { allocOut, checkFloat } from './common.ts';
import { type Pair, window2d, windowIds } from './conv.ts';
import { mul, scale } from './elementwise.ts';
import { embedding } from './embedding.ts';
import { concat, reshape, slice } from './layout.ts';
import { max, mean, sum } from './reduce.ts';

export interface Pool2dOptions {
  /** Default: the kernel size. */
  stride?: Pair;
  /** On each side of H and W, at most half the kernel; default 0. */
  padding?: Pair;
}

/** float32's largest magnitude: the max-pooling composition's padding, finite so that 0·pad stays 0. */
const LOWEST = -3.4028234663852886e38;

function poolArgs(op: string, x: Tensor, kernel: Pair, opts: Pool2dOptions): Pool2dArgs {
  checkFloat(op, x);
  return { ...window2d(op, x, kernel, opts.stride ?? kernel, opts.padding ?? 0, true), C: x.shape[1] };
}

/** (B, C, H, W) → (B, C, Ho, Wo): the max of each window; the gradient goes to the first maximum (torch's choice). */
export function maxPool2d(x: Tensor, kernel: Pair, opts: Pool2dOptions = {}): Tensor {
  const a = poolArgs('maxPool2d', x, kernel, opts);
  const be = x.backend;
  if (!be.maxPool2dForward || !be.maxPool2dBackward) return maxPool2dComposed(x, a);
  const shape = [a.B, a.C, a.Ho, a.Wo];
  const out = allocOut(x, shape);
  const argmax = allocOut(x, shape, 'int32');
  be.maxPool2dForward(x.storage, out.storage, argmax.storage, a);
  return record(out, 'maxPool2d', [x], (g) => {
    const dx = allocOut(x, x.shape);
    be.maxPool2dBackward!(g.storage, argmax.storage, dx.storage, a);
    return [dx];
  });
}

/** (B, C, H, W) → (B, C, Ho, Wo): the mean of each window, padding counted as zeros. */
export function avgPool2d(x: Tensor, kernel: Pair, opts: Pool2dOptions = {}): Tensor {
  const a = poolArgs('avgPool2d', x, kernel, opts);
  const be = x.backend;
  if (!be.avgPool2dForward || !be.avgPool2dBackward) return avgPool2dComposed(x, a);
  const out = allocOut(x, [a.B, a.C, a.Ho, a.Wo]);
  be.avgPool2dForward(x.storage, out.storage, a);
  return record(out, 'avgPool2d', [x], (g) => {
    const dx = allocOut(x, x.shape);
    be.avgPool2dBackward!(g.storage, dx.storage, a);
    return [dx];
  });
}

/** (B, C, H, W) → (B, C): the mean over H and W (torch's adaptive_avg_pool2d(x, 1), flattened). */
export function globalAvgPool(x: Tensor): Tensor {
  if (x.rank !== 4) throw new ShapeError(`globalAvgPool: expected an input (B, C, H, W), got ${fmt(x.shape)}`);
  return mean(x, [2, 3]);
}

/** (planes·Ho·Wo, kH·kW) window taps of every plane, padding reading `pad`. */
function windows(x: Tensor, a: Pool2dArgs, pad: number): Tensor {
  const P = a.B * a.C;
  const table = concat([reshape(x, [P * a.H * a.W, 1]), full([1, 1], pad, { backend: x.backend, dtype: x.dtype })], 0);
  return reshape(embedding(table, windowIds(x, a, P)), [P * a.Ho * a.Wo, a.kH * a.kW]);
}

function avgPool2dComposed(x: Tensor, a: Pool2dArgs): Tensor {
  return reshape(mean(windows(x, a, 0), [1]), [a.B, a.C, a.Ho, a.Wo]);
}

/**
 * The max as Σ taps·onehot, the one-hot picking each window's first maximum (a constant), so the
 * gradient reaches that tap only. (A NaN in a window gives 0 here, where the fused kernels give NaN.)
 */
function maxPool2dComposed(x: Tensor, a: Pool2dArgs): Tensor {
  const taps = windows(x, a, LOWEST);
  const K = a.kH * a.kW;
  const pick = noGrad(() => {
    const top = max(taps, [1], true);
    const eq = allocOut(taps, taps.shape);
    x.backend.equal(taps.storage, taps.shape, top.storage, top.shape, eq.storage);
    let unseen = ones([taps.shape[0], 1], { backend: x.backend, dtype: x.dtype });
    const parts: Tensor[] = [];
    for (let k = 0; k < K; k++) {
      const e = slice(eq, 1, k, k + 1);
      parts.push(mul(e, unseen));
      unseen = mul(unseen, scale(e, -1, 1));
    }
    return K === 1 ? parts[0] : concat(parts, 1);
  });
  return reshape(sum(mul(taps, pick), [1]), [a.B, a.C, a.Ho, a.Wo]);
}
