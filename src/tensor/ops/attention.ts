// Scaled dot-product attention, softmax(Q·Kᵀ/√D + mask)·V (Vaswani et al. 2017, eq. 1), as one
// fused op: over (B, H, T, D) tensors (attention), straight from GPT-2's packed (B, T, 3C) projection
// to heads-merged (B, T, C) (packedAttention), or from a decoder's queries (B, Tq, C) to an encoder's
// packed keys | values (B, Tk, 2C) (crossAttention): the kernels read and write the strided heads in
// place, so training needs no slice, permute or gradient-sum copies. Only each row's logsumexp is saved
// for backward, not the Tq×Tk matrix. A key mask (B, Tk) is data, an input the kernels read, so captured
// steps replay it with each batch's mask. cachedAttention is the inference-only twin for generation
// with a KV cache.

import type { AttentionKeys, HeadLayout, Storage } from '../../backend/backend.ts';
import { denseHeads } from '../../backend/kernel-shapes.ts';
import { isGradEnabled, record } from '../autograd.ts';
import { fmt, sameShape, ShapeError, stridesOf } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { allocOut, checkInputs } from './common.ts';
import { attentionComposed, cachedAttentionComposed, crossAttentionComposed, packedAttentionComposed } from './composed.ts';

/** Refuses a key mask that is not a (B, Tk) float tensor of the operands' dtype. */
function checkKeyMask(op: string, keyMask: Tensor | null, like: Tensor, B: number, Tk: number): void {
  if (keyMask === null) return;
  checkInputs(op, like, keyMask);
  if (!sameShape(keyMask.shape, [B, Tk])) {
    throw new ShapeError(`${op}: keyMask must be (B, Tk) = ${fmt([B, Tk])} (1 for a real key, 0 for padding), got ${fmt(keyMask.shape)}`);
  }
}

/** Refuses a head count that is not a positive integer dividing C. */
function checkHeads(op: string, C: number, nHead: number, shape: readonly number[]): void {
  if (!(Number.isInteger(nHead) && nHead >= 1)) throw new ShapeError(`${op}: nHead must be a positive integer, got ${nHead}`);
  if (C % nHead !== 0) {
    throw new ShapeError(`${op}: ${fmt(shape)} has C = ${C}, which is not divisible by nHead = ${nHead}; pass a head count that divides C`);
  }
}

/** One fused attention launch: operands as strided (B, H, T, D) views, sizes, and where the gradients go. */
interface FusedCall {
  q: Storage;
  k: Storage;
  v: Storage;
  qLayout: HeadLayout;
  kvLayout: HeadLayout;
  outLayout: HeadLayout;
  B: number;
  H: number;
  Tq: number;
  Tk: number;
  D: number;
  causal: boolean;
  keyMask: Tensor | null;
  /** Allocates the gradients of `inputs` and returns them with the views dq, dk, dv the kernel writes (laid out as q and k, v). */
  grads(): { tensors: Tensor[]; dq: Storage; dk: Storage; dv: Storage };
}

/** Whether the call is the plain self-attention form (one layout, Tq = Tk, no mask), which needs no AttentionKeys. */
function keysOf(c: FusedCall): AttentionKeys | undefined {
  const l = c.qLayout, m = c.kvLayout;
  if (c.Tk === c.Tq && c.keyMask === null && l.batch === m.batch && l.head === m.head && l.row === m.row) return undefined;
  return { Tk: c.Tk, kvLayout: c.kvLayout, dkvLayout: c.kvLayout, keyMask: c.keyMask?.storage ?? null };
}

function fusedAttention(op: string, inputs: Tensor[], outShape: number[], c: FusedCall): Tensor {
  const like = inputs[0];
  const be = like.backend;
  const scale = 1 / Math.sqrt(c.D);
  const keys = keysOf(c);
  const out = allocOut(like, outShape);
  const lse = allocOut(like, [c.B, c.H, c.Tq]);
  be.attentionForward!(c.q, c.k, c.v, c.qLayout, out.storage, c.outLayout, lse.storage, c.B, c.H, c.Tq, c.D, scale, c.causal, keys);
  return record(out, op, inputs, (g) => {
    const { tensors, dq, dk, dv } = c.grads();
    be.attentionBackward!(c.q, c.k, c.v, c.qLayout, out.storage, g.storage, c.outLayout, lse.storage, dq, dk, dv, c.qLayout, c.B, c.H,
      c.Tq, c.D, scale, c.causal, keys);
    return tensors;
  });
}

/**
 * Attention over q (B, H, Tq, D) and k, v (B, H, Tk, D). When causal, the queries are the last Tq of
 * Tk positions: query t sees keys j ≤ Tk − Tq + t. keyMask (B, Tk), of q's dtype: 1 for a real key, 0
 * for padding (anywhere, not only on the right), which gets no weight; values other than 0 and 1 are
 * not allowed. A query that sees no real key gives a zero row, with zero (finite) gradients.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, causal = true, keyMask: Tensor | null = null): Tensor {
  checkInputs('attention', q, k, v);
  const [B, H, T, D] = q.shape;
  if (q.rank !== 4 || k.rank !== 4 || !sameShape(k.shape, v.shape) || k.shape[0] !== B || k.shape[1] !== H || k.shape[3] !== D) {
    throw new ShapeError(`attention: q must be (B, H, Tq, D) and k, v share one (B, H, Tk, D) shape, got ${fmt(q.shape)}, ${fmt(k.shape)}, ${fmt(v.shape)}`);
  }
  const Tk = k.shape[2];
  checkKeyMask('attention', keyMask, q, B, Tk);
  const be = q.backend;
  if (!be.attentionForward || !be.attentionBackward) return attentionComposed(q, k, v, causal, keyMask);
  const qLayout = denseHeads(H, T, D);
  const kvLayout = denseHeads(H, Tk, D);
  return fusedAttention('attention', [q, k, v], q.shape.slice(), {
    q: q.storage, k: k.storage, v: v.storage, qLayout, kvLayout, outLayout: qLayout, B, H, Tq: T, Tk, D, causal, keyMask,
    grads: () => {
      const dq = allocOut(q, q.shape);
      const dk = allocOut(q, k.shape);
      const dv = allocOut(q, v.shape);
      return { tensors: [dq, dk, dv], dq: dq.storage, dk: dk.storage, dv: dv.storage };
    },
  });
}

/**
 * Multi-head attention on GPT-2's packed projection: qkv (B, T, 3C) holds q | k | v side by side, heads
 * of D = C/nHead within each (c_attn's order); returns (B, T, C) with heads merged. The same result as
 * slicing q, k, v, permuting each to (B, H, T, D), attention, and permuting back, without those copies:
 * backward writes dq, dk, dv straight into one (B, T, 3C) gradient. keyMask (B, T) as in attention
 * (an encoder's self-attention over a padded batch: causal = false and the batch's mask).
 */
export function packedAttention(qkv: Tensor, nHead: number, causal = true, keyMask: Tensor | null = null): Tensor {
  checkInputs('packedAttention', qkv);
  if (qkv.rank !== 3 || qkv.shape[2] % 3 !== 0) {
    throw new ShapeError(`packedAttention: qkv must be (B, T, 3C) with its last dimension divisible by 3, got ${fmt(qkv.shape)}`);
  }
  const [B, T, C3] = qkv.shape;
  const C = C3 / 3;
  checkHeads('packedAttention', C, nHead, qkv.shape);
  checkKeyMask('packedAttention', keyMask, qkv, B, T);
  const H = nHead;
  const D = C / H;
  const be = qkv.backend;
  if (!be.attentionForward || !be.attentionBackward) return packedAttentionComposed(qkv, H, causal, keyMask);
  const inLayout: HeadLayout = { batch: T * C3, head: D, row: C3 }; // each third of qkv as (B, H, T, D)
  /** q, k, v (or dq, dk, dv): views of a (B, T, 3C) buffer at offsets 0, C, 2C, each as long as its layout spans. */
  const thirds = (s: Storage): [Storage, Storage, Storage] => {
    const n = B * T * C3;
    if (n === 0) return [s, s, s];
    return [be.view(s, 0, n - 2 * C), be.view(s, C, n - 2 * C), be.view(s, 2 * C, n - 2 * C)];
  };
  const [q, k, v] = thirds(qkv.storage);
  return fusedAttention('packedAttention', [qkv], [B, T, C], {
    q, k, v, qLayout: inLayout, kvLayout: inLayout, outLayout: { batch: T * C, head: D, row: C }, B, H, Tq: T, Tk: T, D, causal, keyMask,
    grads: () => {
      const dqkv = allocOut(qkv, qkv.shape); // uninit: the kernel writes every element of dq, dk and dv
      const [dq, dk, dv] = thirds(dqkv.storage);
      return { tensors: [dqkv], dq, dk, dv };
    },
  });
}

/**
 * Encoder-decoder cross-attention, not causal: q (B, Tq, C) is the decoder's query projection, kv
 * (B, Tk, 2C) the encoder output's packed key | value projection (keys in [0, C), values in [C, 2C),
 * heads of D = C/nHead within each); returns (B, Tq, C) with heads merged, and backward dq and dkv.
 * Heads are read and written in place, as packedAttention's. keyMask (B, Tk) marks the encoder's real
 * positions, as in attention.
 *
 * Generation: project the encoder output once into kv, keep it with the mask, and call crossAttention
 * (q of the new positions, e.g. Tq = 1, kv, nHead, keyMask) under noGrad at every decode step; only q
 * is computed per step (the keys and values are not, and no cache write is needed: they never change).
 */
export function crossAttention(q: Tensor, kv: Tensor, nHead: number, keyMask: Tensor | null = null): Tensor {
  checkInputs('crossAttention', q, kv);
  const [B, Tq, C] = q.shape;
  if (q.rank !== 3 || kv.rank !== 3 || kv.shape[0] !== B || kv.shape[2] !== 2 * C) {
    throw new ShapeError(`crossAttention: q must be (B, Tq, C) and kv (B, Tk, 2C), got ${fmt(q.shape)} and ${fmt(kv.shape)}`);
  }
  const Tk = kv.shape[1];
  checkHeads('crossAttention', C, nHead, q.shape);
  checkKeyMask('crossAttention', keyMask, q, B, Tk);
  const H = nHead;
  const D = C / H;
  const be = q.backend;
  if (!be.attentionForward || !be.attentionBackward) return crossAttentionComposed(q, kv, H, keyMask);
  const qLayout: HeadLayout = { batch: Tq * C, head: D, row: C };
  const kvLayout: HeadLayout = { batch: Tk * 2 * C, head: D, row: 2 * C };
  /** k, v (or dk, dv): views of a (B, Tk, 2C) buffer at offsets 0 and C. */
  const halves = (s: Storage): [Storage, Storage] => {
    const n = B * Tk * 2 * C;
    if (n === 0) return [s, s];
    return [be.view(s, 0, n - C), be.view(s, C, n - C)];
  };
  const [k, v] = halves(kv.storage);
  return fusedAttention('crossAttention', [q, kv], [B, Tq, C], {
    q: q.storage, k, v, qLayout, kvLayout, outLayout: qLayout, B, H, Tq, Tk, D, causal: false, keyMask,
    grads: () => {
      const dq = allocOut(q, q.shape);
      const dkv = allocOut(kv, kv.shape); // uninit: the kernel writes every element of dk and dv
      const [dk, dv] = halves(dkv.storage);
      return { tensors: [dq, dkv], dq: dq.storage, dk, dv };
    },
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
