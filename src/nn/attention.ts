// Multi-head causal self-attention: one packed Q,K,V projection (GPT-2's c_attn), heads split as
// (B, T, H, D) → (B, H, T, D), fused scaled dot-product attention, then the output projection.

import { attention } from '../tensor/ops/attention.ts';
import { scale } from '../tensor/ops/elementwise.ts';
import { permute, reshape, slice, transpose } from '../tensor/ops/layout.ts';
import { matmul } from '../tensor/ops/matmul.ts';
import { softmax } from '../tensor/ops/softmax.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { KVCache, type LayerCache } from './kv-cache.ts';
import { Linear } from './linear.ts';
import { Module } from './module.ts';
import type { Init } from './parameter.ts';

export class CausalSelfAttention extends Module {
  readonly c_attn: Linear;
  readonly c_proj: Linear;
  readonly nHead: number;
  constructor(C: number, nHead: number, opts: { bias: boolean; projInit: Init }) {
    super();
    if (C % nHead !== 0) throw new Error(`CausalSelfAttention: width ${C} is not divisible by ${nHead} heads`);
    this.nHead = nHead;
    this.c_attn = this.child('c_attn', new Linear(C, 3 * C, { bias: opts.bias }));
    this.c_proj = this.child('c_proj', new Linear(C, C, { bias: opts.bias, init: opts.projInit }));
  }

  /** Splits (B, T, C) into heads: (B, H, T, D). */
  private heads(x: Tensor): Tensor {
    const [B, T, C] = x.shape;
    return permute(reshape(x, [B, T, this.nHead, C / this.nHead]), [0, 2, 1, 3]);
  }

  /** x: (B, T, C). With a cache, x holds only the new positions and attends to the cached ones too. */
  forward(x: Tensor, cache?: LayerCache): Tensor {
    const [B, T, C] = x.shape;
    const qkv = this.c_attn.forward(x); // (B, T, 3C)
    const q = this.heads(slice(qkv, 2, 0, C)); // (B, H, T, D)
    const k = this.heads(slice(qkv, 2, C, 2 * C));
    const v = this.heads(slice(qkv, 2, 2 * C, 3 * C));
    const y = cache ? this.cachedAttention(q, k, v, cache) : attention(q, k, v, true); // (B, H, T, D)
    const merged = reshape(permute(y, [0, 2, 1, 3]), [B, T, C]);
    return this.c_proj.forward(merged); // (B, T, C)
  }

  private cachedAttention(q: Tensor, k: Tensor, v: Tensor, cache: LayerCache): Tensor {
    KVCache.write(cache, k, v);
    const total = cache.start + q.shape[2];
    // The prompt (nothing cached yet) takes the fused causal kernel; later tokens come one at a time
    // and see every cached position, so they need no mask.
    if (cache.start === 0) return attention(q, k, v, true);
    if (q.shape[2] !== 1) throw new Error('KV cache: after the prompt, tokens must be appended one at a time');
    const kAll = slice(cache.k, 2, 0, total); // (B, H, total, D)
    const vAll = slice(cache.v, 2, 0, total);
    const scores = scale(matmul(q, transpose(kAll, 2, 3)), 1 / Math.sqrt(q.shape[3])); // (B, H, 1, total)
    return matmul(softmax(scores), vAll); // (B, H, 1, D)
  }
}
