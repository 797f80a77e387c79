// Multi-head self-attention: one packed Q,K,V projection (GPT-2's c_attn), fused scaled dot-product
// attention that reads the heads from it in place and writes them merged, then the output projection.
// Causal for decoders (the GPT, the encoder-decoder's decoder); bidirectional with a key padding mask
// for encoders. The mask is an input tensor of the batch, so a captured step replays each batch's padding.

import { cachedAttention, packedAttention } from '../tensor/ops/attention.ts';
import { add, mul } from '../tensor/ops/elementwise.ts';
import { concat, reshape, slice } from '../tensor/ops/layout.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { LayerCache } from './kv-cache.ts';
import { Linear } from './linear.ts';
import { Module } from './module.ts';
import { makeNorm, type Norm, type NormKind } from './norm.ts';
import { taps } from './taps.ts';
import type { Init, Parameter } from './parameter.ts';

export interface AttentionOptions {
  bias: boolean;
  /** Init of c_attn's weight (GPT-2: N(0, 0.02)) and of the output projection that writes into the residual stream. */
  qkvInit?: Init;
  projInit: Init;
  /** QK-norm: each head's queries and keys normalized over D with this kind (null: off). */
  qkNorm?: NormKind | null;
  /** Value residual (ResFormer): this layer's values are mixed with the first layer's. */
  valueMix?: boolean;
  /** Whether a position sees only earlier ones (default true); an encoder's self-attention is not causal. */
  causal?: boolean;
}

/** Carries the first layer's values (B, T, C) to the later layers of one forward pass (value residual). */
export interface ValueStream {
  first: Tensor | null;
}

export class SelfAttention extends Module {
  readonly c_attn: Linear;
  readonly c_proj: Linear;
  readonly q_norm: Norm | null;
  readonly k_norm: Norm | null;
  /** [λ_own, λ_first]: the weights of this layer's values and the first layer's (value residual). */
  readonly lambda_v: Parameter | null;
  readonly nHead: number;
  readonly causal: boolean;
  constructor(C: number, nHead: number, opts: AttentionOptions) {
    super();
    const problem = headSplitProblem(C, nHead);
    if (problem) throw new Error(`SelfAttention: ${problem}`);
    this.nHead = nHead;
    this.causal = opts.causal ?? true;
    this.c_attn = this.child('c_attn', new Linear(C, 3 * C, { bias: opts.bias, init: opts.qkvInit }));
    this.c_proj = this.child('c_proj', new Linear(C, C, { bias: opts.bias, init: opts.projInit }));
    const D = C / nHead;
    this.q_norm = opts.qkNorm ? this.child('q_norm', makeNorm(opts.qkNorm, D, opts.bias)) : null;
    this.k_norm = opts.qkNorm ? this.child('k_norm', makeNorm(opts.qkNorm, D, opts.bias)) : null;
    this.lambda_v = opts.valueMix ? this.param('lambda_v', [2], { kind: 'constant', value: 0.5 }) : null;
  }

  /**
   * x: (B, T, C). With a cache (inference, causal only), x holds only the new positions and attends to
   * the cached ones too. `values` carries the first layer's values to the later ones when the model
   * mixes them; keyMask (B, T) is 1 for a real position and 0 for padding (encoders).
   */
  forward(x: Tensor, cache?: LayerCache, values?: ValueStream, keyMask: Tensor | null = null): Tensor {
    const qkv = this.projectQKV(x, values); // (B, T, 3C)
    // The cached path reads q and the cache in place and writes heads merged: (B, T, C).
    if (cache) return this.c_proj.forward(cachedAttention(qkv, cache.k, cache.v, cache.start));
    // Without a cache (training, evaluation) the heads of q, k, v are read from qkv in place too. The
    // diagnostics' attention probe knows no padding, so a masked attention is not shown to it.
    if (!keyMask) taps()?.attention(this, qkv, this.nHead, this.causal);
    return this.c_proj.forward(packedAttention(qkv, this.nHead, this.causal, keyMask)); // (B, T, C)
  }

  /** The packed projection, with QK-norm and the value residual applied to its parts when on. */
  private projectQKV(x: Tensor, values?: ValueStream): Tensor {
    const qkv = this.c_attn.forward(x);
    if (!this.q_norm && !this.lambda_v && !(values && values.first === null)) return qkv;
    const C3 = qkv.shape[2];
    const C = C3 / 3;
    let q = slice(qkv, 2, 0, C);
    let k = slice(qkv, 2, C, 2 * C);
    let v = slice(qkv, 2, 2 * C, C3);
    if (values && values.first === null) values.first = v; // the first layer keeps its values for the others
    if (this.q_norm && this.k_norm) {
      q = normHeads(this.q_norm, q, this.nHead);
      k = normHeads(this.k_norm, k, this.nHead);
    }
    if (this.lambda_v) {
      if (!values?.first) throw new Error('SelfAttention: the value residual needs the first layer\'s values (pass the model\'s ValueStream)');
      const l = this.lambda_v.value;
      v = add(mul(v, slice(l, 0, 0, 1)), mul(values.first, slice(l, 0, 1, 2)));
    }
    return this.q_norm || this.lambda_v ? concat([q, k, v], 2) : qkv;
  }
}

/** QK-norm of (B, T, C) queries or keys: each head's D = C/H channels normalized, the norm shared by the heads. */
export function normHeads(norm: Norm, x: Tensor, H: number): Tensor {
  const [B, T, C] = x.shape;
  return reshape(norm.forward(reshape(x, [B, T, H, C / H])), [B, T, C]);
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
