// One Transformer layer: causal self-attention and a feed-forward sub-layer, each wrapped in its
// design (docs/designs.md): where the norms sit (pre, post, peri, sandwich, mix, none) and how the
// branch joins the residual stream (plain, DeepNorm, ReZero, LayerScale, Admin, hyper-connections,
// value residual, none). The Sublayer runs the design; this file only builds it.

import type { Rng } from '../tensor/rng.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Activation } from './activation.ts';
import { CausalSelfAttention, type ValueStream } from './attention.ts';
import { deepNormConstants, sublayerDesign, type DesignFields } from './design.ts';
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
  /** Init of the two projections that write into the residual stream (GPT-2: scaled by 1/sqrt(2·L)). */
  projInit: Init;
  rng: Rng;
  design: DesignFields;
  /** This block's index in the stack (0-based). */
  layer: number;
}

export class Block extends ResidualLayer {
  readonly attn: CausalSelfAttention;
  readonly mlp: MLP;
  private readonly drop: Dropout;
  private readonly attnSub: Sublayer;
  private readonly mlpSub: Sublayer;

  constructor(o: BlockOptions) {
    super();
    const d = o.design;
    const inits = initsOf(o);
    const sub = { C: o.C, norm: d.norm, bias: o.bias };
    // Declaration order (ln_1, attn, ln_2, mlp) is GPT-2's, and the order initial values are drawn in.
    this.attnSub = this.sublayer(1, sublayerDesign(d, o.layer, 0), sub);
    this.attn = this.child('attn', new CausalSelfAttention(o.C, o.nHead, {
      bias: o.bias,
      qkvInit: inits.qkv,
      projInit: inits.attnProj,
      qkNorm: d.qkNorm ? d.norm : null,
      valueMix: d.residual === 'value-residual' && o.layer > 0,
    }));
    this.mlpSub = this.sublayer(2, sublayerDesign(d, o.layer, 1), sub);
    this.mlp = this.child('mlp', new MLP(o.C, { bias: o.bias, activation: o.activation, fcInit: inits.fc, projInit: inits.mlpProj }));
    this.drop = this.child('drop', new Dropout(o.dropout, o.rng));
  }

  /** x: the stream (B, T, C), or the hyper-connection streams (B, T, n, C). */
  forward(x: Tensor, cache?: LayerCache, values?: ValueStream): Tensor {
    const h = this.attnSub.forward(x, this.attn, (a) => this.drop.forward(this.attn.forward(a, cache, values)));
    const y = this.mlpSub.forward(h, this.mlp, (a) => this.drop.forward(this.mlp.forward(a)));
    taps()?.block(this, x, y);
    return y;
  }
}

interface BlockInits {
  qkv: Init | undefined;
  attnProj: Init;
  fc: Init | undefined;
  mlpProj: Init;
}

/**
 * GPT-2's init, or DeepNorm's: Xavier-normal everywhere in the block, with gain β = (8N)^−¼ on the
 * value, output and feed-forward projections and gain 1 on the queries and keys (Wang et al. 2022).
 */
function initsOf(o: BlockOptions): BlockInits {
  if (o.design.residual !== 'deepnorm') return { qkv: undefined, attnProj: o.projInit, fc: undefined, mlpProj: o.projInit };
  const { beta } = deepNormConstants(o.design.nLayer);
  const xavier = (fanIn: number, fanOut: number, gain: number) => gain * Math.sqrt(2 / (fanIn + fanOut));
  const C = o.C;
  return {
    qkv: { kind: 'normalBlocks', stds: [xavier(C, C, 1), xavier(C, C, 1), xavier(C, C, beta)] },
    attnProj: { kind: 'normal', std: xavier(C, C, beta) },
    fc: { kind: 'normal', std: xavier(C, 4 * C, beta) },
    mlpProj: { kind: 'normal', std: xavier(4 * C, C, beta) },
  };
}
