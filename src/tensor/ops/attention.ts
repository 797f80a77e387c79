// Scaled dot-product attention, softmax(Q·Kᵀ/√D + mask)·V (Vaswani et al. 2017, eq. 1), as one
// fused op over (B, H, T, D). Only each row's logsumexp is saved for backward, not the T×T matrix.
// cachedAttention is its inference-only twin for generation with a KV cache.

import { isGradEnabled, record } from '../autograd.ts';
import { fmt, sameShape, ShapeError, stridesOf } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { allocOut, checkInputs } from './common.ts';

export function attention(q: Tensor, k: Tensor, v: Tensor, causal = true): Tensor {
  checkInputs('attention', q, k, v);
  if (q.rank !== 4 || !sameShape(q.shape, k.shape) || !sameShape(q.shape, v.shape)) {
    throw new ShapeError(`attention: q, k, v must share one (B, H, T, D) shape, got ${fmt(q.shape)}, ${fmt(k.shape)}, ${fmt(v.shape)}`);
  }
  const [B, H, T, D] = q.shape;
  const BH = B * H;
  const scale = 1 / Math.sqrt(D);
  const out = allocOut(q, q.shape);
  const lse = allocOut(q, [B, H, T]);
  q.backend.attentionForward(q.storage, k.storage, v.storage, out.storage, lse.storage, BH, T, D, scale, causal);
  return record(out, 'attention', [q, k, v], (g) => {
    const dq = allocOut(q, q.shape);
    const dk = allocOut(q, q.shape);
    const dv = allocOut(q, q.shape);
    q.backend.attentionBackward(q.storage, k.storage, v.storage, out.storage, lse.storage, g.storage, dq.storage, dk.storage, dv.storage, BH, T, D, scale, causal);
    return [dq, dk, dv];
  });
}

/**
 * Inference-only causal attention of T new positions against a KV cache. qkv (B, T, 3C) is GPT-2's
 * packed projection (q, k, v side by side, heads of D = C/H within each); kCache and vCache
 * (B, H, maxT, D) already hold `start` positions. Writes the new keys and values at [start, start + T)
 * and returns (B, T, C) with heads merged: q and the cache are read in place, with no copies.
 */
export function cachedAttention(qkv: Tensor, kCache: Tensor, vCache: Tensor, start: number): Tensor {
  checkInputs('cachedAttention', qkv, kCache, vCache);
  if (isGradEnabled() && qkv.requiresGrad) {
    throw new Error('cachedAttention is inference-only (it records no backward); run generation under noGrad().');
  }
  const [B, T, C3] = qkv.shape;
  const [Bc, H, maxT, D] = kCache.shape;
  const C = C3 / 3;
  if (qkv.rank !== 3 || kCache.rank !== 4 || !sameShape(kCache.shape, vCache.shape) || Bc !== B || H * D !== C) {
    throw new ShapeError(`cachedAttention: qkv (B, T, 3·H·D) and caches (B, H, maxT, D) do not fit: ${fmt(qkv.shape)}, ${fmt(kCache.shape)}, ${fmt(vCache.shape)}`);
  }
  if (!(Number.isInteger(start) && start >= 0 && start + T <= maxT)) {
    throw new Error(`KV cache overflow: ${start} cached + ${T} new positions exceed its ${maxT}; reset the cache or shorten the context.`);
  }
  const be = qkv.backend;
  const src = [T * C3, D, C3, 1]; // (B, H, T, D) inside qkv
  const dst = stridesOf(kCache.shape);
  be.stridedCopy(qkv.storage, C, src, kCache.storage, start * D, dst, [B, H, T, D]);
  be.stridedCopy(qkv.storage, 2 * C, src, vCache.storage, start * D, dst, [B, H, T, D]);
  const out = allocOut(qkv, [B, T, C]);
  be.attentionInference(qkv.storage, { batch: T * C3, head: D, row: C3 }, kCache.storage, vCache.storage,
    { batch: H * maxT * D, head: maxT * D, row: D }, out.storage, { batch: T * C, head: D, row: C }, B, H, T, start + T, D,
    1 / Math.sqrt(D), true);
  return out;
}
