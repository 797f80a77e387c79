// One sub-layer (attention, feed-forward, cross-attention) wrapped in its design: an optional input
// norm, the branch F, an optional output norm, the residual rule, an optional norm after the add
// (docs/designs.md). The norms and the rule's parameters belong to the layer that owns the sub-layer,
// under GPT-2's names (ln_1, ln_2, …), so `ResidualLayer.sublayer` registers them there and the
// Sublayer only runs them.

import { add, mul, scale } from '../tensor/ops/elementwise.ts';
import { reshape, slice } from '../tensor/ops/layout.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { ResidualRule, SublayerDesign } from './design.ts';
import { HyperConnection } from './hyper-connection.ts';
import { Module } from './module.ts';
import { makeNorm, type Norm, type NormKind } from './norm.ts';
import type { Parameter } from './parameter.ts';
import { taps } from './taps.ts';

/** The rule with the parameters it was given. */
type RuleState =
  | { kind: 'add' }
  | { kind: 'scaled-stream'; alpha: number }
  | { kind: 'gate'; gate: Parameter }
  | { kind: 'stream-weight'; omega: Parameter }
  | { kind: 'hyper'; hc: HyperConnection }
  | { kind: 'branch-only' };

export interface SublayerOptions {
  C: number;
  norm: NormKind;
  bias: boolean;
}

export class Sublayer {
  constructor(
    readonly inNorm: Norm | null,
    readonly outNorm: Norm | null,
    readonly postNorm: Norm | null,
    private readonly rule: RuleState,
  ) {}

  /**
   * The stream after this sub-layer. `branch` is the module that computes F (for the taps); x is the
   * stream, (B, T, C), or the n hyper-connection streams (B, T, n, C) for the 'hyper' rule.
   */
  forward(x: Tensor, branch: Module, F: (h: Tensor) => Tensor): Tensor {
    const r = this.rule;
    if (r.kind === 'hyper') {
      const { mix, beta } = r.hc.width(x);
      const [B, T, , C] = mix.shape;
      const input = reshape(slice(mix, 2, 0, 1), [B, T, C]);
      const u = this.branch(input, F);
      taps()?.residual(branch, input, u);
      return r.hc.depth(mix, beta, u);
    }
    const u = this.branch(x, F);
    const y = this.join(r, x, u, branch);
    return this.postNorm ? this.postNorm.forward(y) : y;
  }

  private branch(x: Tensor, F: (h: Tensor) => Tensor): Tensor {
    const u = F(this.inNorm ? this.inNorm.forward(x) : x);
    return this.outNorm ? this.outNorm.forward(u) : u;
  }

  private join(r: Exclude<RuleState, { kind: 'hyper' }>, x: Tensor, u: Tensor, branch: Module): Tensor {
    switch (r.kind) {
      case 'add':
        taps()?.residual(branch, x, u);
        return add(x, u);
      case 'scaled-stream':
        taps()?.residual(branch, x, u);
        return add(scale(x, r.alpha), u);
      case 'gate': {
        const g = mul(u, r.gate.value);
        taps()?.residual(branch, x, g);
        return add(x, g);
      }
      case 'stream-weight':
        taps()?.residual(branch, x, u);
        return add(mul(x, r.omega.value), u);
      case 'branch-only':
        return u;
      default: {
        const never: never = r;
        throw new Error(`unknown residual rule ${JSON.stringify(never)}`);
      }
    }
  }
}

/**
 * A layer made of residual sub-layers. `sublayer(k, design, o)` registers the k-th sub-layer's norms
 * (ln_k, ln_k_out) and the rule's parameters (alpha_k, ls_k, omega_k, hc_k) on this layer, and returns
 * the Sublayer that runs them.
 */
export abstract class ResidualLayer extends Module {
  protected sublayer(k: number, design: SublayerDesign, o: SublayerOptions): Sublayer {
    const norm = (name: string) => this.child(name, makeNorm(o.norm, o.C, o.bias));
    // The norm that runs first is GPT-2's ln_k: the input norm, or post-LN's norm after the add.
    const inNorm = design.inNorm ? norm(`ln_${k}`) : null;
    const outNorm = design.outNorm ? norm(`ln_${k}_out`) : null;
    const postNorm = design.postNorm ? norm(design.inNorm ? `ln_${k}_post` : `ln_${k}`) : null;
    return new Sublayer(inNorm, outNorm, postNorm, this.ruleState(k, design.rule, o.C, o.bias));
  }

  private ruleState(k: number, rule: ResidualRule, C: number, bias: boolean): RuleState {
    switch (rule.kind) {
      case 'add':
      case 'branch-only':
        return rule;
      case 'scaled-stream':
        return { kind: 'scaled-stream', alpha: rule.alpha };
      case 'gate': {
        const name = rule.shape === 'scalar' ? `alpha_${k}` : `ls_${k}`;
        const shape = rule.shape === 'scalar' ? [1] : [C];
        return { kind: 'gate', gate: this.param(name, shape, { kind: 'constant', value: rule.init }) };
      }
      case 'stream-weight':
        return { kind: 'stream-weight', omega: this.param(`omega_${k}`, [C], { kind: 'ones' }) };
      case 'hyper':
        return { kind: 'hyper', hc: this.child(`hc_${k}`, new HyperConnection(C, rule.streams, rule.index, bias)) };
      default: {
        const never: never = rule;
        throw new Error(`unknown residual rule ${JSON.stringify(never)}`);
      }
    }
  }
}
