// Dynamic Tanh (Zhu et al. 2025, "Transformers without Normalization"): y = γ·tanh(α·x) + β, an
// elementwise stand-in for LayerNorm with one learnable scalar α (init 0.5) and no statistics.

import { add, mul, tanh } from '../tensor/ops/elementwise.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { Norm } from './norm-base.ts';
import type { Parameter } from './parameter.ts';
import { taps } from './taps.ts';

export class DyT extends Norm {
  readonly alpha: Parameter;
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  constructor(
    readonly dim: number,
    opts: { bias?: boolean; alphaInit?: number } = {},
  ) {
    super();
    this.alpha = this.param('alpha', [1], { kind: 'constant', value: opts.alphaInit ?? 0.5 });
    this.weight = this.param('weight', [dim], { kind: 'ones' });
    this.bias = (opts.bias ?? true) ? this.param('bias', [dim], { kind: 'zeros' }) : null;
  }

  forward(x: Tensor): Tensor {
    const yw = mul(tanh(mul(x, this.alpha.value)), this.weight.value); // (..., C)
    const y = this.bias ? add(yw, this.bias.value) : yw;
    taps()?.norm(this, x, y, this.weight.value);
    return y;
  }
}
