// The decoder's cross-attention of the encoder-decoder: queries from the decoder's stream against keys
// and values of the encoder's output (Vaswani et al. 2017, §3.2.3), padded source positions masked by
// the batch's source mask (an input tensor, so a captured training step replays each batch's padding).
// Both stacks' self-attention is SelfAttention (attention.ts).

import { crossAttention } from '../tensor/ops/attention.ts';
import { concat, slice } from '../tensor/ops/layout.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { headSplitProblem, normHeads } from './attention.ts';
import { Linear } from './linear.ts';
import { Module } from './module.ts';
import { makeNorm, type Norm, type NormKind } from './norm.ts';
import type { Init } from './parameter.ts';

/** QK-norm's two norms over D = C/nHead channels, or nulls when it is off. */
function qkNorms(owner: string, C: number, nHead: number, kind: NormKind | null | undefined, bias: boolean, child: <M extends Module>(name: string, m: M) => M): { q_norm: Norm | null; k_norm: Norm | null } {
  const problem = headSplitProblem(C, nHead);
  if (problem) throw new Error(`${owner}: ${problem}`);
  const D = C / nHead;
  return {
    q_norm: kind ? child('q_norm', makeNorm(kind, D, bias)) : null,
    k_norm: kind ? child('k_norm', makeNorm(kind, D, bias)) : null,
  };
}

export interface CrossAttentionOptions {
  bias: boolean;
  /** Inits of the query projection, of the packed keys | values projection (DeepNorm: gain β on the values) and of the output projection. */
  qInit?: Init;
  kvInit?: Init;
  projInit: Init;
  qkNorm?: NormKind | null;
}

/**
 * Multi-head cross-attention: queries c_q (C → C) from the decoder's stream, keys and values from the
 * encoder's output in one packed projection c_kv (C → 2C, keys | values, heads of D within each),
 * then c_proj. `keysValues` is split out so that decoding projects the encoder's output once per layer.
 */
export class CrossAttention extends Module {
  readonly c_q: Linear;
  readonly c_kv: Linear;
  readonly c_proj: Linear;
  readonly q_norm: Norm | null;
  readonly k_norm: Norm | null;
  constructor(
    C: number,
    readonly nHead: number,
    opts: CrossAttentionOptions,
  ) {
    super();
    this.c_q = this.child('c_q', new Linear(C, C, { bias: opts.bias, init: opts.qInit }));
    this.c_kv = this.child('c_kv', new Linear(C, 2 * C, { bias: opts.bias, init: opts.kvInit }));
    this.c_proj = this.child('c_proj', new Linear(C, C, { bias: opts.bias, init: opts.projInit }));
    ({ q_norm: this.q_norm, k_norm: this.k_norm } = qkNorms('CrossAttention', C, nHead, opts.qkNorm, opts.bias, (n, m) => this.child(n, m)));
  }

  /** The packed keys | values (B, S, 2C) of the encoder's output (B, S, C), QK-normed keys when on. */
  keysValues(memory: Tensor): Tensor {
    const kv = this.c_kv.forward(memory);
    if (!this.k_norm) return kv;
    const C = kv.shape[2] / 2;
    return concat([normHeads(this.k_norm, slice(kv, 2, 0, C), this.nHead), slice(kv, 2, C, 2 * C)], 2);
  }

  /** x: (B, T, C) decoder stream; kv: keysValues of the encoder output; keyMask: (B, S) source mask. */
  forward(x: Tensor, kv: Tensor, keyMask: Tensor): Tensor {
    const q = this.c_q.forward(x);
    const qn = this.q_norm ? normHeads(this.q_norm, q, this.nHead) : q;
    return this.c_proj.forward(crossAttention(qn, kv, this.nHead, keyMask)); // (B, T, C)
  }
}
