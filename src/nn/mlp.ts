// The position-wise feed-forward sub-layer: Linear(C → 4C) → activation (a GELU) → Linear(4C → C).

import type { Tensor } from '../tensor/tensor.ts';
import { activate, type Activation } from './activation.ts';
import { Linear } from './linear.ts';
import { Module } from './module.ts';
import type { Init } from './parameter.ts';

export class MLP extends Module {
  readonly c_fc: Linear;
  readonly c_proj: Linear;
  constructor(
    C: number,
    opts: { bias: boolean; activation: Activation; fcInit?: Init; projInit: Init },
  ) {
    super();
    this.activation = opts.activation;
    this.c_fc = this.child('c_fc', new Linear(C, 4 * C, { bias: opts.bias, init: opts.fcInit }));
    this.c_proj = this.child('c_proj', new Linear(4 * C, C, { bias: opts.bias, init: opts.projInit }));
  }
  private readonly activation: Activation;

  forward(x: Tensor): Tensor {
    return this.c_proj.forward(activate(this.activation, this.c_fc.forward(x))); // (B, T, C)
  }
}
