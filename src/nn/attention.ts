// Multi-head causal self-attention: one packed Q,K,V projection (GPT-2's c_attn), heads split as
// (B, T, H, D) → (B, H, T, D), fused scaled dot-product attention, then the output projection.

import { attention, cachedAttention } from '../tensor/ops/attention.ts';
import { permute, reshape, slice } from '../tensor/ops/layout.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { LayerCache } from './kv-cache.ts';
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

  /** x: (B, T, C). With a cache (inference), x holds only the new positions and attends to the cached ones too. */
  forward(x: Tensor, cache?: LayerCache): Tensor {
    const [B, T, C] = x.shape;
    const qkv = this.c_attn.forward(x); // (B, T, 3C)
    // The cached path reads q and the cache in place and writes heads merged: (B, T, C).
    if (cache) return this.c_proj.forward(cachedAttention(qkv, cache.k, cache.v, cache.start));
    const q = this.heads(slice(qkv, 2, 0, C)); // (B, H, T, D)
    const k = this.heads(slice(qkv, 2, C, 2 * C));
    const v = this.heads(slice(qkv, 2, 2 * C, 3 * C));
    const y = attention(q, k, v, true); // (B, H, T, D)
    const merged = reshape(permute(y, [0, 2, 1, 3]), [B, T, C]);
    return this.c_proj.forward(merged); // (B, T, C)
  }
}
