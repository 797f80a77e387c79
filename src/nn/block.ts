// One Transformer layer: attention and feed-forward sub-layers, each wrapped in a residual
// connection y = x + F(x) and a normalization, placed either
//   pre  (GPT-2, Xiong et al. 2020):      x ← x + F(LN(x))
//   post (Vaswani et al. 2017, eq. in the seed articles: Y' = LN(Y + X)):  x ← LN(x + F(x))

import { add } from '../tensor/ops/elementwise.ts';
import type { Rng } from '../tensor/rng.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Activation } from './activation.ts';
import { CausalSelfAttention } from './attention.ts';
import { Dropout } from './dropout.ts';
import type { LayerCache } from './kv-cache.ts';
import { MLP } from './mlp.ts';
import { Module } from './module.ts';
import { taps } from './taps.ts';
import { makeNorm, type Norm, type NormKind } from './norm.ts';
import type { Init } from './parameter.ts';

export const PLACEMENTS = ['pre', 'post'] as const;
export type Placement = (typeof PLACEMENTS)[number];

export interface BlockOptions {
  C: number;
  nHead: number;
  bias: boolean;
  norm: NormKind;
  placement: Placement;
  activation: Activation;
  dropout: number;
  /** Init of the two projections that write into the residual stream. */
  projInit: Init;
  rng: Rng;
}

export class Block extends Module {
  readonly ln_1: Norm;
  readonly attn: CausalSelfAttention;
  readonly ln_2: Norm;
  readonly mlp: MLP;
  private readonly drop: Dropout;
  readonly placement: Placement;

  constructor(o: BlockOptions) {
    super();
    this.placement = o.placement;
    this.ln_1 = this.child('ln_1', makeNorm(o.norm, o.C, o.bias));
    this.attn = this.child('attn', new CausalSelfAttention(o.C, o.nHead, { bias: o.bias, projInit: o.projInit }));
    this.ln_2 = this.child('ln_2', makeNorm(o.norm, o.C, o.bias));
    this.mlp = this.child('mlp', new MLP(o.C, { bias: o.bias, activation: o.activation, projInit: o.projInit }));
    this.drop = this.child('drop', new Dropout(o.dropout, o.rng));
  }

  forward(x: Tensor, cache?: LayerCache): Tensor {
    const y = this.sublayers(x, cache);
    taps()?.block(this, x, y);
    return y;
  }

  private sublayers(x: Tensor, cache?: LayerCache): Tensor {
    const attn = (h: Tensor) => this.drop.forward(this.attn.forward(h, cache));
    const mlp = (h: Tensor) => this.drop.forward(this.mlp.forward(h));
    switch (this.placement) {
      case 'pre':
        x = residual(this.attn, x, attn(this.ln_1.forward(x))); // (B, T, C)
        return residual(this.mlp, x, mlp(this.ln_2.forward(x)));
      case 'post':
        x = this.ln_1.forward(residual(this.attn, x, attn(x)));
        return this.ln_2.forward(residual(this.mlp, x, mlp(x)));
      default: {
        const never: never = this.placement;
        throw new Error(`unknown placement '${String(never)}'`);
      }
    }
  }
}

/** The residual connection `stream + update`, shown to the taps with the sub-layer that made the update. */
function residual(sublayer: Module, stream: Tensor, update: Tensor): Tensor {
  taps()?.residual(sublayer, stream, update);
  return add(stream, update);
}

/** Whether a stack of blocks needs a norm after its last one: post-LN's already ends in one, pre-LN's does not (GPT-2's ln_f). */
export function needsFinalNorm(placement: Placement): boolean {
  switch (placement) {
    case 'pre':
      return true;
    case 'post':
      return false;
    default: {
      const never: never = placement;
      throw new Error(`unknown placement '${String(never)}'`);
    }
  }
}
