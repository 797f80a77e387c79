// The inits of one Transformer layer's Linears: GPT-2's, or DeepNorm's (Wang et al. 2022) Xavier-normal
// ones, std = gain·sqrt(2/(fan_in + fan_out)), gain β (the stack's, deepNormOf) on the values, the
// output projections and the feed-forward, gain 1 on the queries and keys. Every block asks here: the
// GPT's, the encoder's and the decoder's (whose cross-attention is initialised as self-attention is).

import { deepNormOf, type DesignFields } from './design.ts';
import type { Init } from './parameter.ts';

export interface BlockInits {
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

/** `projInit`: GPT-2's init of the projections that write into the residual stream. */
export function blockInits(design: DesignFields, C: number, projInit: Init): BlockInits {
  if (design.residual !== 'deepnorm') return { qkv: undefined, q: undefined, kv: undefined, attnProj: projInit, fc: undefined, mlpProj: projInit };
  const { beta } = deepNormOf(design);
  const xavier = (fanIn: number, fanOut: number, gain: number) => gain * Math.sqrt(2 / (fanIn + fanOut));
  return {
    qkv: { kind: 'normalBlocks', stds: [xavier(C, C, 1), xavier(C, C, 1), xavier(C, C, beta)] },
    q: { kind: 'normal', std: xavier(C, C, 1) },
    kv: { kind: 'normalBlocks', stds: [xavier(C, C, 1), xavier(C, C, beta)] },
    attnProj: { kind: 'normal', std: xavier(C, C, beta) },
    fc: { kind: 'normal', std: xavier(C, 4 * C, beta) },
    mlpProj: { kind: 'normal', std: xavier(4 * C, C, beta) },
  };
}
