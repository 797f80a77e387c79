// Fused normalization ops over the last axis: LayerNorm (Ba, Kiros & Hinton 2016) and
// RMSNorm (Zhang & Sennrich 2019). One kernel call forward, one backward, with the per-row
// statistics saved in between, as in llm.c; composed from primitives where the backend has no kernel.

import { record } from '../autograd.ts';
import { fmt, ShapeError } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { allocOut, checkInputs } from './common.ts';
import { batchNormComposed, layerNormComposed, rmsNormComposed } from './composed.ts';

/** γ or β must be a vector of the normalized axis' C entries: the last axis, or `channelAxis` (BatchNorm's). */
function checkAffine(op: string, x: Tensor, p: Tensor | null, what: string, channelAxis?: number): void {
  const C = x.shape[channelAxis ?? x.rank - 1];
  if (p && (p.rank !== 1 || p.shape[0] !== C)) {
    const where = channelAxis === undefined ? `the input's last dimension is ${C}` : `the input has ${C} channels (axis ${channelAxis})`;
    throw new ShapeError(`${op}: ${what} has shape ${fmt(p.shape)} but ${where}; expected [${C}]`);
  }
}

/** (x − μ)/sqrt(σ² + ε)·γ + β over the last axis, σ² the biased variance (PyTorch semantics). */
export function layerNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  checkInputs('layerNorm', x, ...[weight, bias].filter((t): t is Tensor => t !== null));
  if (x.rank < 1) throw new ShapeError('layerNorm: input must have at least one dimension');
  checkAffine('layerNorm', x, weight, 'weight');
  checkAffine('layerNorm', x, bias, 'bias');
  const be = x.backend;
  if (!be.layerNormForward || !be.layerNormBackward) return layerNormComposed(x, weight, bias, eps);
  const C = x.shape[x.rank - 1];
  const rows = x.size / C;
  const out = allocOut(x, x.shape);
  const mean = allocOut(x, [rows]);
  const rstd = allocOut(x, [rows]);
  be.layerNormForward(x.storage, weight?.storage ?? null, bias?.storage ?? null, out.storage, mean.storage, rstd.storage, rows, C, eps);
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record(out, 'layerNorm', inputs, (g) => {
    const dx = allocOut(x, x.shape);
    const dw = weight ? allocOut(weight, weight.shape) : null;
    const db = bias ? allocOut(bias, bias.shape) : null;
    be.layerNormBackward!(g.storage, x.storage, weight?.storage ?? null, mean.storage, rstd.storage, dx.storage, dw?.storage ?? null, db?.storage ?? null, rows, C);
    return [dx, ...(dw ? [dw] : []), ...(db ? [db] : [])];
  });
}

/** x/sqrt(mean(x²) + ε)·γ over the last axis. */
export function rmsNorm(x: Tensor, weight: Tensor | null, eps = 1e-5): Tensor {
  checkInputs('rmsNorm', x, ...(weight ? [weight] : []));
  if (x.rank < 1) throw new ShapeError('rmsNorm: input must have at least one dimension');
  checkAffine('rmsNorm', x, weight, 'weight');
  const be = x.backend;
  if (!be.rmsNormForward || !be.rmsNormBackward) return rmsNormComposed(x, weight, eps);
  const C = x.shape[x.rank - 1];
  const rows = x.size / C;
  const out = allocOut(x, x.shape);
  const rrms = allocOut(x, [rows]);
  be.rmsNormForward(x.storage, weight?.storage ?? null, out.storage, rrms.storage, rows, C, eps);
  return record(out, 'rmsNorm', weight ? [x, weight] : [x], (g) => {
    const dx = allocOut(x, x.shape);
    const dw = weight ? allocOut(weight, weight.shape) : null;
    be.rmsNormBackward!(g.storage, x.storage, weight?.storage ?? null, rrms.storage, dx.storage, dw?.storage ?? null, rows, C);
    return dw ? [dx, dw] : [dx];
  });
}

/** What batchNorm returns: the output, and the batch's statistics (C), no gradient, for the running estimates. */
export interface BatchNormResult {
  out: Tensor;
  mean: Tensor;
  /** Biased (divided by the count), as the normalization uses it. */
  variance: Tensor;
}

/**
 * BatchNorm with the batch's statistics (training mode) over axis `channelAxis` of a contiguous x:
 * every other axis is averaged over, so NCHW with channelAxis 1 needs no channels-last copy.
 */
export function batchNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, channelAxis: number, eps = 1e-5): BatchNormResult {
  checkInputs('batchNorm', x, ...[weight, bias].filter((t): t is Tensor => t !== null));
  if (!Number.isInteger(channelAxis) || channelAxis < 0 || channelAxis >= x.rank) {
    throw new ShapeError(`batchNorm: channel axis ${channelAxis} is not an axis of an input of shape ${fmt(x.shape)}`);
  }
  checkAffine('batchNorm', x, weight, 'weight', channelAxis);
  checkAffine('batchNorm', x, bias, 'bias', channelAxis);
  const C = x.shape[channelAxis];
  const outer = x.shape.slice(0, channelAxis).reduce((a, d) => a * d, 1);
  const inner = x.shape.slice(channelAxis + 1).reduce((a, d) => a * d, 1);
  const be = x.backend;
  if (!be.batchNormForward || !be.batchNormBackward) return batchNormComposed(x, weight, bias, outer, C, inner, eps);
  const out = allocOut(x, x.shape);
  const mean = allocOut(x, [C]);
  const variance = allocOut(x, [C]);
  const rstd = allocOut(x, [C]);
  be.batchNormForward(x.storage, weight?.storage ?? null, bias?.storage ?? null, out.storage, mean.storage, variance.storage, rstd.storage,
    outer, C, inner, eps);
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  const y = record(out, 'batchNorm', inputs, (g) => {
    const dx = allocOut(x, x.shape);
    const dw = weight ? allocOut(weight, weight.shape) : null;
    const db = bias ? allocOut(bias, bias.shape) : null;
    be.batchNormBackward!(g.storage, x.storage, weight?.storage ?? null, mean.storage, rstd.storage, dx.storage, dw?.storage ?? null,
      db?.storage ?? null, outer, C, inner);
    return [dx, ...(dw ? [dw] : []), ...(db ? [db] : [])];
  });
  return { out: y, mean, variance };
}
