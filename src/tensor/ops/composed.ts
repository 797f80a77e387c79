// Every fused layer op composed from the core primitives, for backends that declare no fused kernel
// for it (see FusedKernels in src/backend/backend.ts). Autograd differentiates the compositions, so they
// need no backward of their own. They are the slow, obvious twins of the fused kernels: the parity suite
// runs on a core-only view of the reference backend, where every op takes these paths.

import { noGrad } from '../autograd.ts';
import { empty, tensor, type Tensor } from '../tensor.ts';
import { add, div, exp, log, mul, neg, scale, sqrt, sub } from './elementwise.ts';
import { expand, permute, reshape, slice, transpose } from './layout.ts';
import { matmul } from './matmul.ts';
import { max, mean, sum } from './reduce.ts';
import { embedding } from './embedding.ts';

/**
 * (x − μ)/sqrt(σ² + ε)·γ + β over the last axis, σ² the biased variance, in two passes. Each row is
 * first shifted by its first element (a constant: LayerNorm is shift-invariant), so that a row offset
 * by ~1e4 keeps its digits in the float32 sum of the mean, as the fused kernels' pilot value does.
 */
export function layerNormComposed(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps: number): Tensor {
  const near = sub(x, noGrad(() => slice(x, x.rank - 1, 0, 1)));
  const xc = sub(near, mean(near, [-1], true));
  const y = div(xc, sqrt(scale(mean(mul(xc, xc), [-1], true), 1, eps)));
  const yw = weight ? mul(y, weight) : y;
  return bias ? add(yw, bias) : yw;
}

export function rmsNormComposed(x: Tensor, weight: Tensor | null, eps: number): Tensor {
  const y = div(x, sqrt(scale(mean(mul(x, x), [-1], true), 1, eps)));
  return weight ? mul(y, weight) : y;
}

/**
 * BatchNorm with the batch's statistics over x viewed as (outer, C, inner): mean and biased variance
 * per channel (two passes), differentiated through. Also returns those statistics, each (C).
 */
export function batchNormComposed(x: Tensor, weight: Tensor | null, bias: Tensor | null, outer: number, C: number, inner: number,
  eps: number): { out: Tensor; mean: Tensor; variance: Tensor } {
  const x3 = reshape(x, [outer, C, inner]);
  const mu = mean(x3, [0, 2], true); // (1, C, 1)
  const xc = sub(x3, mu);
  const variance = mean(mul(xc, xc), [0, 2], true);
  const y = div(xc, sqrt(scale(variance, 1, eps)));
  const yw = weight ? mul(y, reshape(weight, [C, 1])) : y;
  const out = bias ? add(yw, reshape(bias, [C, 1])) : yw;
  return { out: reshape(out, x.shape), mean: reshape(mu, [C]), variance: reshape(variance, [C]) };
}

/** x − max(x) over the last axis; the max is a constant (softmax is shift-invariant, so no gradient flows through it). */
function shifted(x: Tensor): Tensor {
  return sub(x, noGrad(() => max(x, [-1], true)));
}

export function softmaxComposed(x: Tensor): Tensor {
  const e = exp(shifted(x));
  return div(e, sum(e, [-1], true));
}

export function logSoftmaxComposed(x: Tensor): Tensor {
  const z = shifted(x);
  return sub(z, log(sum(exp(z), [-1], true)));
}

/** A tensor computed from `x` with no gradient: a mask or index built from data. */
function constant(x: Tensor, shape: readonly number[], fill: (out: Tensor) => void, dtype: Tensor['dtype'] = x.dtype): Tensor {
  const out = empty(shape, { backend: x.backend, dtype });
  fill(out);
  return out;
}

/**
 * Mean of logsumexp(z) − z[target] over the targets that are not ignoreIndex (0 when all are).
 * The one-hot rows come from comparing a column index with each target; targets out of [0, V) are
 * refused by the core gather, as embedding ids are.
 */
export function crossEntropyComposed(logits: Tensor, targets: Tensor, ignoreIndex: number): Tensor {
  const be = logits.backend;
  const V = logits.shape[logits.rank - 1];
  const N = logits.size / V;
  const rows = reshape(logits, [N, V]);
  const dtype = logits.dtype;
  const t = constant(logits, [N, 1], (o) => be.cast(targets.storage, o.storage));
  const ignoreAt = tensor([ignoreIndex], [1, 1], { backend: be, dtype });
  const ignored = constant(t, [N, 1], (o) => be.equal(t.storage, [N, 1], ignoreAt.storage, [1, 1], o.storage));
  const valid = noGrad(() => scale(ignored, -1, 1));
  const kept = noGrad(() => mul(t, valid)); // ignored targets → 0
  const index = constant(t, [N], (o) => be.cast(kept.storage, o.storage), 'int32');
  noGrad(() => embedding(empty([V, 1], { backend: be }), index)); // the range check, by the gather kernel
  const columns = noGrad(() => expand(tensor(Float64Array.from({ length: V }, (_, i) => i), [1, V], { backend: be, dtype }), [N, V]));
  const onehot = constant(columns, [N, V], (o) => be.equal(columns.storage, [N, V], kept.storage, [N, 1], o.storage));
  const picked = sum(mul(logSoftmaxComposed(rows), onehot), [-1], true); // (N, 1): log p[target]
  const count = noGrad(() => sum(valid));
  const zero = tensor([0], [], { backend: be, dtype });
  const none = constant(count, [], (o) => be.equal(count.storage, [], zero.storage, [], o.storage));
  return neg(div(sum(mul(picked, valid)), noGrad(() => add(count, none))));
}

/**
 * (T, Tk) additive mask: query t sees keys j ≤ Tk − T + t (the queries are the last T positions); the
 * others get `masked` (−∞ by default; diagnostics pass a finite one so that p·log p stays 0, not NaN).
 */
export function causalMask(like: Tensor, T: number, Tk: number, masked = -Infinity): Tensor {
  const m = new Float32Array(T * Tk);
  for (let t = 0; t < T; t++) for (let j = Tk - T + t + 1; j < Tk; j++) m[t * Tk + j] = masked;
  return tensor(m, [T, Tk], { backend: like.backend, dtype: like.dtype });
}

/**
 * How far a masked score is pushed down before the row max is taken: far enough that exp underflows to
 * exactly 0 beside any real score, finite so that a row with no real key stays finite (its max is then
 * a masked score, and x − max is 0, not −∞ − (−∞) = NaN).
 */
const MASKED_SHIFT = 1e30;

/**
 * softmax over the last axis where `keep` (0/1, broadcast to x) is 1, exactly 0 where it is 0, and a row
 * with no kept entry all zeros (the attention of a query with no real key: finite output and gradients).
 */
function maskedSoftmaxComposed(x: Tensor, keep: Tensor): Tensor {
  const e = mul(exp(shifted(add(x, noGrad(() => scale(keep, MASKED_SHIFT, -MASKED_SHIFT))))), keep);
  const none = noGrad(() => scale(max(keep, [-1], true), -1, 1)); // 1 where a row keeps nothing: 0/1, not 0/0
  return div(e, add(sum(e, [-1], true), none));
}

/**
 * softmax(q·kᵀ/√D + mask)·v over (B, H, Tq, D) queries and (B, H, Tk, D) keys and values. When causal,
 * the queries are the last Tq of Tk positions (causalMask). keyMask (B, Tk): 1 for a real key, 0 for
 * padding, which gets no weight; a query that sees no real key gives zeros.
 */
export function attentionComposed(q: Tensor, k: Tensor, v: Tensor, causal: boolean, keyMask: Tensor | null = null): Tensor {
  const [B, , T, D] = q.shape;
  const Tk = k.shape[2];
  const scores = scale(matmul(q, transpose(k, 2, 3)), 1 / Math.sqrt(D)); // (B, H, T, Tk)
  if (keyMask === null && !(causal && T > Tk)) {
    return matmul(softmaxComposed(causal ? add(scores, causalMask(q, T, Tk)) : scores), v);
  }
  const keep = noGrad(() => {
    const keys = keyMask ? reshape(keyMask, [B, 1, 1, Tk]) : null;
    const visible = causal ? scale(causalMask(q, T, Tk, -1), 1, 1) : null; // (T, Tk): 1 where the query may look
    return keys && visible ? mul(keys, visible) : (keys ?? visible!);
  });
  return matmul(maskedSoftmaxComposed(scores, keep), v);
}

/** (B, T, H·D) → (B, H, T, D). */
export function splitHeads(x: Tensor, H: number): Tensor {
  const [B, T, C] = x.shape;
  return permute(reshape(x, [B, T, H, C / H]), [0, 2, 1, 3]);
}

/** (B, H, T, D) → (B, T, H·D). */
function mergeHeads(x: Tensor): Tensor {
  const [B, H, T, D] = x.shape;
  return reshape(permute(x, [0, 2, 1, 3]), [B, T, H * D]);
}

/** GPT-2's packed (B, T, 3C) projection → (B, T, C) heads merged, by slicing, permuting and attention. */
export function packedAttentionComposed(qkv: Tensor, H: number, causal: boolean, keyMask: Tensor | null = null): Tensor {
  const C = qkv.shape[2] / 3;
  const [q, k, v] = [0, 1, 2].map((i) => splitHeads(slice(qkv, 2, i * C, (i + 1) * C), H));
  return mergeHeads(attentionComposed(q, k, v, causal, keyMask));
}

/** Cross-attention: q (B, Tq, C) against packed keys | values kv (B, Tk, 2C) → (B, Tq, C) heads merged, not causal. */
export function crossAttentionComposed(q: Tensor, kv: Tensor, H: number, keyMask: Tensor | null = null): Tensor {
  const C = q.shape[2];
  const k = splitHeads(slice(kv, 2, 0, C), H);
  const v = splitHeads(slice(kv, 2, C, 2 * C), H);
  return mergeHeads(attentionComposed(splitHeads(q, H), k, v, false, keyMask));
}

/** The new positions' attention against the first `Tk` cached keys and values (the cache already holds the new ones). */
export function cachedAttentionComposed(qkv: Tensor, kCache: Tensor, vCache: Tensor, Tk: number): Tensor {
  const H = kCache.shape[1];
  const C = qkv.shape[2] / 3;
  const q = splitHeads(slice(qkv, 2, 0, C), H);
  return mergeHeads(attentionComposed(q, slice(kCache, 2, 0, Tk), slice(vCache, 2, 0, Tk), true));
}
