// The position-wise feed-forward sub-layer: Linear(C → 4C) → GELU → Linear(4C → C).

import { gelu, type GeluApproximation } from '../tensor/ops/elementwise.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { Linear } from './linear.ts';
import { Module } from './module.ts';
import type { Init } from './parameter.ts';

export class MLP extends Module {
  readonly c_fc: Linear;
  readonly c_proj: Linear;
  constructor(
    C: number,
    opts: { bias: boolean; activation: GeluApproximation; projInit: Init },
  ) {
    super();
    this.activation = opts.activation;
    this.c_fc = this.child('c_fc', new Linear(C, 4 * C, { bias: opts.bias }));
    this.c_proj = this.child('c_proj', new Linear(4 * C, C, { bias: opts.bias, init: opts.projInit }));
  }
  private readonly activation: GeluApproximation;

  forward(x: Tensor): Tensor {
    return this.c_proj.forward(gelu(this.c_fc.forward(x), this.activation)); // (B, T, C)
  }
}
