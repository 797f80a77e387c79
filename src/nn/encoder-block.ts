// One layer of the encoder of an encoder-decoder Transformer (Vaswani et al. 2017, §3.1): self-attention
// over the whole source (padded keys masked) and a feed-forward sub-layer, each wrapped in its design
// (docs/designs.md) by ResidualLayer.sublayer, under the GPT's names (ln_1, attn, ln_2, mlp).

import type { Rng } from '../tensor/rng.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Activation } from './activation.ts';
import type { ValueStream } from './attention.ts';
import { EncoderSelfAttention } from './cross-attention.ts';
import { deepNormOf, sublayerDesign, type DesignFields } from './design.ts';
import { Dropout } from './dropout.ts';
import { MLP } from './mlp.ts';
import type { Init } from './parameter.ts';
import { ResidualLayer, type Sublayer } from './sublayer.ts';
import { taps } from './taps.ts';

/** What a layer of either stack is built from. */
export interface StackBlockOptions {
  C: number;
  nHead: number;
  bias: boolean;
  activation: Activation;
  dropout: number;
  /** Init of the projections that write into the residual stream (GPT-2's, scaled by the stack's residual adds). */
  projInit: Init;
  rng: Rng;
  /** The stack's design: nLayer is this stack's depth, `stack` its role (DeepNorm's constants). */
  design: DesignFields;
  /** This layer's index in its stack (0-based). */
  layer: number;
}

/** The inits of one block's Linears: GPT-2's, or DeepNorm's Xavier-normal ones. */
export interface StackInits {
  /** c_attn (q | k | v) of self-attention; undefined: GPT-2's N(0, 0.02). */
  qkv: Init | undefined;
  /** Cross-attention's c_q and c_kv (k | v). */
  q: Init | undefined;
  kv: Init | undefined;
  /** Every c_proj of attention. */
  attnProj: Init;
  fc: Init | undefined;
  mlpProj: Init;
}

/**
 * GPT-2's init, or DeepNorm's (Wang et al. 2022): Xavier-normal everywhere in the block,
 * std = gain·sqrt(2/(fan_in + fan_out)), gain β (the stack's, deepNormOf) on the values, the output
 * projections and the feed-forward, gain 1 on the queries and keys; cross-attention's as self-attention's.
 */
export function stackInits(o: StackBlockOptions): StackInits {
  if (o.design.residual !== 'deepnorm') return { qkv: undefined, q: undefined, kv: undefined, attnProj: o.projInit, fc: undefined, mlpProj: o.projInit };
  const { beta } = deepNormOf(o.design);
  const xavier = (fanIn: number, fanOut: number, gain: number) => gain * Math.sqrt(2 / (fanIn + fanOut));
  const C = o.C;
  return {
    qkv: { kind: 'normalBlocks', stds: [xavier(C, C, 1), xavier(C, C, 1), xavier(C, C, beta)] },
    q: { kind: 'normal', std: xavier(C, C, 1) },
    kv: { kind: 'normalBlocks', stds: [xavier(C, C, 1), xavier(C, C, beta)] },
    attnProj: { kind: 'normal', std: xavier(C, C, beta) },
    fc: { kind: 'normal', std: xavier(C, 4 * C, beta) },
    mlpProj: { kind: 'normal', std: xavier(4 * C, C, beta) },
  };
}

export class EncoderBlock extends ResidualLayer {
  readonly attn: EncoderSelfAttention;
  readonly mlp: MLP;
  private readonly drop: Dropout;
  private readonly attnSub: Sublayer;
  private readonly mlpSub: Sublayer;

  constructor(o: StackBlockOptions) {
    super();
    const d = o.design;
    const inits = stackInits(o);
    const sub = { C: o.C, norm: d.norm, bias: o.bias };
    this.attnSub = this.sublayer(1, sublayerDesign(d, o.layer, 0, 2), sub);
    this.attn = this.child('attn', new EncoderSelfAttention(o.C, o.nHead, {
      bias: o.bias,
      qkvInit: inits.qkv,
      projInit: inits.attnProj,
      qkNorm: d.qkNorm ? d.norm : null,
      valueMix: d.residual === 'value-residual' && o.layer > 0,
    }));
    this.mlpSub = this.sublayer(2, sublayerDesign(d, o.layer, 1, 2), sub);
    this.mlp = this.child('mlp', new MLP(o.C, { bias: o.bias, activation: o.activation, fcInit: inits.fc, projInit: inits.mlpProj }));
    this.drop = this.child('drop', new Dropout(o.dropout, o.rng));
  }

  /** x: the stream (B, S, C) or the hyper-connection streams (B, S, n, C); keyMask: (B, S) source mask. */
  forward(x: Tensor, keyMask: Tensor, values?: ValueStream): Tensor {
    const h = this.attnSub.forward(x, this.attn, (a) => this.drop.forward(this.attn.forward(a, keyMask, values)));
    const y = this.mlpSub.forward(h, this.mlp, (a) => this.drop.forward(this.mlp.forward(a)));
    taps()?.block(this, x, y);
    return y;
  }
}
