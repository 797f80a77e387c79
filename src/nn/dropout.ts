// Dropout layer: draws a fresh seed per call from the model's generator, active only in training mode.

import { dropout } from '../tensor/ops/dropout.ts';
import type { Rng } from '../tensor/rng.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { Module } from './module.ts';

export class Dropout extends Module {
  constructor(
    readonly p: number,
    private readonly rng: Rng,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    return dropout(x, this.p, this.rng.nextU32());
  }
}
