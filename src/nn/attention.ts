// Multi-head causal self-attention: one packed Q,K,V projection (GPT-2's c_attn), fused scaled
// dot-product attention that reads the heads from it in place and writes them merged, then the output
// projection.

import { cachedAttention, packedAttention } from '../tensor/ops/attention.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { LayerCache } from './kv-cache.ts';
import { Linear } from './linear.ts';
import { Module } from './module.ts';
import { taps } from './taps.ts';
import type { Init } from './parameter.ts';

export class CausalSelfAttention extends Module {
  readonly c_attn: Linear;
  readonly c_proj: Linear;
  readonly nHead: number;
  constructor(C: number, nHead: number, opts: { bias: boolean; projInit: Init }) {
    super();
    const problem = headSplitProblem(C, nHead);
    if (problem) throw new Error(`CausalSelfAttention: ${problem}`);
    this.nHead = nHead;
    this.c_attn = this.child('c_attn', new Linear(C, 3 * C, { bias: opts.bias }));
    this.c_proj = this.child('c_proj', new Linear(C, C, { bias: opts.bias, init: opts.projInit }));
  }

  /** x: (B, T, C). With a cache (inference), x holds only the new positions and attends to the cached ones too. */
  forward(x: Tensor, cache?: LayerCache): Tensor {
    const qkv = this.c_attn.forward(x); // (B, T, 3C)
    // The cached path reads q and the cache in place and writes heads merged: (B, T, C).
    if (cache) return this.c_proj.forward(cachedAttention(qkv, cache.k, cache.v, cache.start));
    // Without a cache (training, evaluation) the heads of q, k, v are read from qkv in place too.
    taps()?.attention(this, qkv, this.nHead, true);
    return this.c_proj.forward(packedAttention(qkv, this.nHead, true)); // (B, T, C)
  }
}

/**
 * Why a width of C channels cannot be split into nHead heads of D = C / H channels each, or null
 * when it can. The one place this is checked: the config schemas (and so the CLI, config files,
 * checkpoints and GPT.create) and this layer all ask here. Non-integers are left to those schemas.
 */
export function headSplitProblem(C: number, nHead: number): string | null {
  if (!Number.isSafeInteger(C) || !Number.isSafeInteger(nHead) || C <= 0 || nHead <= 0 || C % nHead === 0) return null;
  // The nearest head counts that do divide C, looked for in a bounded window (sizes may come from a
  // corrupt file); 1 always does.
  const nearestDivisor = (from: number, step: 1 | -1): number | null => {
    for (let d = from, n = 0; d >= 1 && d <= C && n < 10_000; d += step, n++) if (C % d === 0) return d;
    return null;
  };
  const below = nearestDivisor(Math.min(nHead - 1, C), -1) ?? 1;
  const above = nearestDivisor(nHead + 1, 1);
  const suggestions = above === null ? `${below}` : `${below} or ${above}`;
  return `nEmbd = ${C} is not divisible by nHead = ${nHead}; each head needs nEmbd / nHead channels, so try nHead = ${suggestions}`;
}
