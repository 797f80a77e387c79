// Linear layer y = x·Wᵀ + b, W stored (out, in) as torch.nn.Linear.

import { linear } from '../tensor/ops/matmul.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { Module } from './module.ts';
import type { Init, Parameter } from './parameter.ts';

export interface LinearOptions {
  bias?: boolean;
  /** Defaults to GPT-2's N(0, 0.02). */
  init?: Init;
}

export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: LinearOptions = {},
  ) {
    super();
    this.weight = this.param('weight', [outFeatures, inFeatures], opts.init ?? { kind: 'normal', std: 0.02 });
    this.bias = (opts.bias ?? true) ? this.param('bias', [outFeatures], { kind: 'zeros' }) : null;
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight.value, this.bias?.value ?? null); // (..., out)
  }
}
