// One Transformer layer: self-attention and a feed-forward sub-layer, each wrapped in its design
// (docs/designs.md): where the norms sit (pre, post, peri, sandwich, mix, none) and how the branch
// joins the residual stream (plain, DeepNorm, ReZero, LayerScale, Admin, hyper-connections, value
// residual, none). The Sublayer runs the design; this file only builds it. Causal, it is the GPT's
// block and the decoder-only layer; bidirectional with a key padding mask, the encoder's layer.

import type { Rng } from '../tensor/rng.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Activation } from './activation.ts';
import { SelfAttention, type ValueStream } from './attention.ts';
import { blockInits } from './block-inits.ts';
import { sublayerDesign, type DesignFields } from './design.ts';
import { Dropout } from './dropout.ts';
import type { LayerCache } from './kv-cache.ts';
import { MLP } from './mlp.ts';
import type { Init } from './parameter.ts';
import { ResidualLayer, type Sublayer } from './sublayer.ts';
import { taps } from './taps.ts';

export { needsFinalNorm, PLACEMENTS, type Placement } from './design.ts';

export interface BlockOptions {
  C: number;
  nHead: number;
  bias: boolean;
  activation: Activation;
  dropout: number;
  /** Init of the projections that write into the residual stream (GPT-2: scaled by 1/sqrt(2·L)). */
  projInit: Init;
  rng: Rng;
  /** The stack's design: nLayer is this stack's depth (and `stack` its role in an encoder-decoder). */
  design: DesignFields;
  /** This block's index in its stack (0-based). */
  layer: number;
  /** Whether self-attention is causal (default true); an encoder's is not. */
  causal?: boolean;
}

export class Block extends ResidualLayer {
  readonly attn: SelfAttention;
  readonly mlp: MLP;
  private readonly drop: Dropout;
  private readonly attnSub: Sublayer;
  private readonly mlpSub: Sublayer;

  constructor(o: BlockOptions) {
    super();
    const d = o.design;
    const inits = blockInits(d, o.C, o.projInit);
    const sub = { C: o.C, norm: d.norm, bias: o.bias };
    // Declaration order (ln_1, attn, ln_2, mlp) is GPT-2's, and the order initial values are drawn in.
    this.attnSub = this.sublayer(1, sublayerDesign(d, o.layer, 0, 2), sub);
    this.attn = this.child('attn', new SelfAttention(o.C, o.nHead, {
      bias: o.bias,
      qkvInit: inits.qkv,
      projInit: inits.attnProj,
      qkNorm: d.qkNorm ? d.norm : null,
      valueMix: d.residual === 'value-residual' && o.layer > 0,
      causal: o.causal ?? true,
    }));
    this.mlpSub = this.sublayer(2, sublayerDesign(d, o.layer, 1, 2), sub);
    this.mlp = this.child('mlp', new MLP(o.C, { bias: o.bias, activation: o.activation, fcInit: inits.fc, projInit: inits.mlpProj }));
    this.drop = this.child('drop', new Dropout(o.dropout, o.rng));
  }

  /**
   * x: the stream (B, T, C), or the hyper-connection streams (B, T, n, C). keyMask (B, T): an encoder's
   * source padding (1 real, 0 pad).
   */
  forward(x: Tensor, cache?: LayerCache, values?: ValueStream, keyMask: Tensor | null = null): Tensor {
    const h = this.attnSub.forward(x, this.attn, (a) => this.drop.forward(this.attn.forward(a, cache, values, keyMask)));
    const y = this.mlpSub.forward(h, this.mlp, (a) => this.drop.forward(this.mlp.forward(a)));
    taps()?.block(this, x, y);
    return y;
  }
}
