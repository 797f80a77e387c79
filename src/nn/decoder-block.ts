// One layer of the decoder of an encoder-decoder Transformer (Vaswani et al. 2017, §3.1): causal
// self-attention, cross-attention on the encoder's output, and a feed-forward sub-layer: three
// sub-layers, each wrapped in its design (docs/designs.md), whose norms are ln_1, ln_2, ln_3.

import type { Tensor } from '../tensor/tensor.ts';
import { SelfAttention, type ValueStream } from './attention.ts';
import { blockInits } from './block-inits.ts';
import type { BlockOptions } from './block.ts';
import { CrossAttention } from './cross-attention.ts';
import { sublayerDesign } from './design.ts';
import { Dropout } from './dropout.ts';
import type { LayerCache } from './kv-cache.ts';
import { MLP } from './mlp.ts';
import { ResidualLayer, type Sublayer } from './sublayer.ts';
import { taps } from './taps.ts';

/** What cross-attention reads: the packed keys | values of the encoder output (B, S, 2C) and the source mask (B, S). */
export interface CrossMemory {
  kv: Tensor;
  keyMask: Tensor;
}

export class DecoderBlock extends ResidualLayer {
  readonly attn: SelfAttention;
  readonly cross: CrossAttention;
  readonly mlp: MLP;
  private readonly drop: Dropout;
  private readonly attnSub: Sublayer;
  private readonly crossSub: Sublayer;
  private readonly mlpSub: Sublayer;

  constructor(o: BlockOptions) {
    super();
    const d = o.design;
    const inits = blockInits(d, o.C, o.projInit);
    const sub = { C: o.C, norm: d.norm, bias: o.bias };
    const qkNorm = d.qkNorm ? d.norm : null;
    this.attnSub = this.sublayer(1, sublayerDesign(d, o.layer, 0, 3), sub);
    this.attn = this.child('attn', new SelfAttention(o.C, o.nHead, {
      bias: o.bias,
      qkvInit: inits.qkv,
      projInit: inits.attnProj,
      qkNorm,
      valueMix: d.residual === 'value-residual' && o.layer > 0,
    }));
    this.crossSub = this.sublayer(2, sublayerDesign(d, o.layer, 1, 3), sub);
    this.cross = this.child('cross', new CrossAttention(o.C, o.nHead, { bias: o.bias, qInit: inits.q, kvInit: inits.kv, projInit: inits.attnProj, qkNorm }));
    this.mlpSub = this.sublayer(3, sublayerDesign(d, o.layer, 2, 3), sub);
    this.mlp = this.child('mlp', new MLP(o.C, { bias: o.bias, activation: o.activation, fcInit: inits.fc, projInit: inits.mlpProj }));
    this.drop = this.child('drop', new Dropout(o.dropout, o.rng));
  }

  /**
   * x: the stream (B, T, C) or the hyper-connection streams (B, T, n, C). With a cache (decoding), x
   * holds only the new positions; the cross-attention memory is the same at every step.
   */
  forward(x: Tensor, memory: CrossMemory, cache?: LayerCache, values?: ValueStream): Tensor {
    const a = this.attnSub.forward(x, this.attn, (h) => this.drop.forward(this.attn.forward(h, cache, values)));
    const c = this.crossSub.forward(a, this.cross, (h) => this.drop.forward(this.cross.forward(h, memory.kv, memory.keyMask)));
    const y = this.mlpSub.forward(c, this.mlp, (h) => this.drop.forward(this.mlp.forward(h)));
    taps()?.block(this, x, y);
    return y;
  }
}
