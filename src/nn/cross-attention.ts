// The encoder-decoder's two attention layers besides the decoder's causal self-attention
// (CausalSelfAttention, attention.ts): the encoder's self-attention, which sees every real source
// position (no causal mask; padded keys masked by the batch's source mask), and the decoder's
// cross-attention, queries from the decoder's stream against keys and values of the encoder's output
// (Vaswani et al. 2017, §3.2.3). The mask is an input tensor of the batch, so a captured training step
// replays with each new batch's padding.

import { crossAttention, packedAttention } from '../tensor/ops/attention.ts';
import { add, mul } from '../tensor/ops/elementwise.ts';
import { concat, reshape, slice } from '../tensor/ops/layout.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { headSplitProblem, type ValueStream } from './attention.ts';
import { Linear } from './linear.ts';
import { Module } from './module.ts';
import { makeNorm, type Norm, type NormKind } from './norm.ts';
import type { Init, Parameter } from './parameter.ts';

/** QK-norm of (B, T, C) queries or keys: each head's D = C/H channels normalized, the norm shared by the heads. */
function normHeads(norm: Norm, x: Tensor, H: number): Tensor {
  const [B, T, C] = x.shape;
  return reshape(norm.forward(reshape(x, [B, T, H, C / H])), [B, T, C]);
}

interface QKNorms {
  q_norm: Norm | null;
  k_norm: Norm | null;
}

function qkNorms(owner: string, C: number, nHead: number, kind: NormKind | null | undefined, bias: boolean, child: <M extends Module>(name: string, m: M) => M): QKNorms {
  const problem = headSplitProblem(C, nHead);
  if (problem) throw new Error(`${owner}: ${problem}`);
  const D = C / nHead;
  return {
    q_norm: kind ? child('q_norm', makeNorm(kind, D, bias)) : null,
    k_norm: kind ? child('k_norm', makeNorm(kind, D, bias)) : null,
  };
}

export interface EncoderAttentionOptions {
  bias: boolean;
  /** Init of c_attn's weight (default N(0, 0.02); DeepNorm's per-block Xavier gains). */
  qkvInit?: Init;
  projInit: Init;
  qkNorm?: NormKind | null;
  /** Value residual: this layer's values are mixed with the encoder's first layer's. */
  valueMix?: boolean;
}

/**
 * Multi-head self-attention over the whole source: GPT-2's packed c_attn and c_proj, queries see every
 * key whose source mask is 1. QK-norm and the value residual act as in CausalSelfAttention.
 */
export class EncoderSelfAttention extends Module {
  readonly c_attn: Linear;
  readonly c_proj: Linear;
  readonly q_norm: Norm | null;
  readonly k_norm: Norm | null;
  readonly lambda_v: Parameter | null;
  constructor(
    C: number,
    readonly nHead: number,
    opts: EncoderAttentionOptions,
  ) {
    super();
    this.c_attn = this.child('c_attn', new Linear(C, 3 * C, { bias: opts.bias, init: opts.qkvInit }));
    this.c_proj = this.child('c_proj', new Linear(C, C, { bias: opts.bias, init: opts.projInit }));
    ({ q_norm: this.q_norm, k_norm: this.k_norm } = qkNorms('EncoderSelfAttention', C, nHead, opts.qkNorm, opts.bias, (n, m) => this.child(n, m)));
    this.lambda_v = opts.valueMix ? this.param('lambda_v', [2], { kind: 'constant', value: 0.5 }) : null;
  }

  /** x: (B, S, C); keyMask: (B, S), 1 for a real source position, 0 for padding. */
  forward(x: Tensor, keyMask: Tensor, values?: ValueStream): Tensor {
    let qkv = this.c_attn.forward(x); // (B, S, 3C)
    const first = values !== undefined && values.first === null;
    if (this.q_norm || this.lambda_v || first) {
      const C = qkv.shape[2] / 3;
      let q = slice(qkv, 2, 0, C);
      let k = slice(qkv, 2, C, 2 * C);
      let v = slice(qkv, 2, 2 * C, 3 * C);
      if (first && values) values.first = v; // the encoder's first layer keeps its values for the others
      if (this.q_norm && this.k_norm) {
        q = normHeads(this.q_norm, q, this.nHead);
        k = normHeads(this.k_norm, k, this.nHead);
      }
      if (this.lambda_v) {
        if (!values?.first) throw new Error("EncoderSelfAttention: the value residual needs the first layer's values (pass the encoder's ValueStream)");
        const l = this.lambda_v.value;
        v = add(mul(v, slice(l, 0, 0, 1)), mul(values.first, slice(l, 0, 1, 2)));
      }
      if (this.q_norm || this.lambda_v) qkv = concat([q, k, v], 2);
    }
    // No attention tap: the diagnostics' attention probe knows no padding, and would count padded keys.
    return this.c_proj.forward(packedAttention(qkv, this.nHead, false, keyMask)); // (B, S, C)
  }
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
