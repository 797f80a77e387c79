// Scaled dot-product attention, softmax(Q·Kᵀ/√D + mask)·V (Vaswani et al. 2017, eq. 1), as one
// fused op over (B, H, T, D). Only each row's logsumexp is saved for backward, not the T×T matrix.

import { record } from '../autograd.ts';
import { fmt, sameShape, ShapeError } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { alloc, checkInputs } from './common.ts';

export function attention(q: Tensor, k: Tensor, v: Tensor, causal = true): Tensor {
  checkInputs('attention', q, k, v);
  if (q.rank !== 4 || !sameShape(q.shape, k.shape) || !sameShape(q.shape, v.shape)) {
    throw new ShapeError(`attention: q, k, v must share one (B, H, T, D) shape, got ${fmt(q.shape)}, ${fmt(k.shape)}, ${fmt(v.shape)}`);
  }
  const [B, H, T, D] = q.shape;
  const BH = B * H;
  const scale = 1 / Math.sqrt(D);
  const out = alloc(q, q.shape);
  const lse = alloc(q, [B, H, T]);
  q.backend.attentionForward(q.storage, k.storage, v.storage, out.storage, lse.storage, BH, T, D, scale, causal);
  return record(out, 'attention', [q, k, v], (g) => {
    const dq = alloc(q, q.shape);
    const dk = alloc(q, q.shape);
    const dv = alloc(q, q.shape);
    q.backend.attentionBackward(q.storage, k.storage, v.storage, out.storage, lse.storage, g.storage, dq.storage, dk.storage, dv.storage, BH, T, D, scale, causal);
    return [dq, dk, dv];
  });
}
