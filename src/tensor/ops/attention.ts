// Scaled dot-product attention, softmax(Q·Kᵀ/√D + mask)·V (Vaswani et al. 2017, eq. 1), as one
// fused op: over (B, H, T, D) tensors (attention), or straight from GPT-2's packed (B, T, 3C) projection
// to heads-merged (B, T, C) (packedAttention: the kernels read and write the strided heads in place, so
// training needs no slice, permute or gradient-sum copies). Only each row's logsumexp is saved for
// backward, not the T×T matrix. cachedAttention is the inference-only twin for generation with a KV cache.

import type { HeadLayout, Storage } from '../../backend/backend.ts';
import { denseHeads } from '../../backend/kernel-shapes.ts';
import { isGradEnabled, record } from '../autograd.ts';
import { fmt, sameShape, ShapeError, stridesOf } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { allocOut, checkInputs } from './common.ts';
import { attentionComposed, cachedAttentionComposed, packedAttentionComposed } from './composed.ts';

export function attention(q: Tensor, k: Tensor, v: Tensor, causal = true): Tensor {
  checkInputs('attention', q, k, v);
  if (q.rank !== 4 || !sameShape(q.shape, k.shape) || !sameShape(q.shape, v.shape)) {
    throw new ShapeError(`attention: q, k, v must share one (B, H, T, D) shape, got ${fmt(q.shape)}, ${fmt(k.shape)}, ${fmt(v.shape)}`);
  }
  const [B, H, T, D] = q.shape;
  const dense = denseHeads(H, T, D);
  const scale = 1 / Math.sqrt(D);
  const be = q.backend;
  if (!be.attentionForward || !be.attentionBackward) return attentionComposed(q, k, v, causal);
  const out = allocOut(q, q.shape);
  const lse = allocOut(q, [B, H, T]);
  be.attentionForward(q.storage, k.storage, v.storage, dense, out.storage, dense, lse.storage, B, H, T, D, scale, causal);
  return record(out, 'attention', [q, k, v], (g) => {
    const dq = allocOut(q, q.shape);
    const dk = allocOut(q, q.shape);
    const dv = allocOut(q, q.shape);
    be.attentionBackward!(q.storage, k.storage, v.storage, dense, out.storage, g.storage, dense, lse.storage, dq.storage, dk.storage,
      dv.storage, dense, B, H, T, D, scale, causal);
    return [dq, dk, dv];
  });
}

/**
 * Multi-head attention on GPT-2's packed projection: qkv (B, T, 3C) holds q | k | v side by side, heads
 * of D = C/nHead within each (c_attn's order); returns (B, T, C) with heads merged. The same result as
 * slicing q, k, v, permuting each to (B, H, T, D), attention, and permuting back, without those copies:
 * backward writes dq, dk, dv straight into one (B, T, 3C) gradient.
 */
export function packedAttention(qkv: Tensor, nHead: number, causal = true): Tensor {
  checkInputs('packedAttention', qkv);
  if (qkv.rank !== 3 || qkv.shape[2] % 3 !== 0) {
    throw new ShapeError(`packedAttention: qkv must be (B, T, 3C) with its last dimension divisible by 3, got ${fmt(qkv.shape)}`);
  }
  const [B, T, C3] = qkv.shape;
  const C = C3 / 3;
  if (!(Number.isInteger(nHead) && nHead >= 1)) throw new ShapeError(`packedAttention: nHead must be a positive integer, got ${nHead}`);
  if (C % nHead !== 0) {
    throw new ShapeError(`packedAttention: qkv ${fmt(qkv.shape)} has C = ${C}, which is not divisible by nHead = ${nHead}; pass a head count that divides C`);
  }
  const H = nHead;
  const D = C / H;
  const inLayout: HeadLayout = { batch: T * C3, head: D, row: C3 }; // each third of qkv as (B, H, T, D)
  const outLayout: HeadLayout = { batch: T * C, head: D, row: C }; // (B, T, C), heads merged
  const scale = 1 / Math.sqrt(D);
  const be = qkv.backend;
  if (!be.attentionForward || !be.attentionBackward) return packedAttentionComposed(qkv, H, causal);
  /** q, k, v (or dq, dk, dv): views of a (B, T, 3C) buffer at offsets 0, C, 2C, each as long as its layout spans. */
  const thirds = (s: Storage): [Storage, Storage, Storage] => {
    const n = B * T * C3;
    if (n === 0) return [s, s, s];
    return [be.view(s, 0, n - 2 * C), be.view(s, C, n - 2 * C), be.view(s, 2 * C, n - 2 * C)];
  };
  const [q, k, v] = thirds(qkv.storage);
  const out = allocOut(qkv, [B, T, C]);
  const lse = allocOut(qkv, [B, H, T]);
  be.attentionForward(q, k, v, inLayout, out.storage, outLayout, lse.storage, B, H, T, D, scale, causal);
  return record(out, 'packedAttention', [qkv], (g) => {
    const dqkv = allocOut(qkv, qkv.shape); // uninit: the kernel writes every element of dq, dk and dv
    const [dq, dk, dv] = thirds(dqkv.storage);
    be.attentionBackward!(q, k, v, inLayout, out.storage, g.storage, outLayout, lse.storage, dq, dk, dv, inLayout, B, H, T, D, scale,
      causal);
    return [dqkv];
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
  if (!be.attentionInference) return cachedAttentionComposed(qkv, kCache, vCache, start + T);
  const out = allocOut(qkv, [B, T, C]);
  be.attentionInference(qkv.storage, { batch: T * C3, head: D, row: C3 }, kCache.storage, vCache.storage,
    { batch: H * maxT * D, head: maxT * D, row: D }, out.storage, { batch: T * C, head: D, row: C }, B, H, T, start + T, D,
    1 / Math.sqrt(D), true);
  return out;
}
