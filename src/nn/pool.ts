// Pooling layers over NCHW inputs: torch.nn.MaxPool2d, AvgPool2d (padding counted, torch's default)
// and a global average over H and W (AdaptiveAvgPool2d(1) followed by flatten: (B, C)).

import { avgPool2d, globalAvgPool, maxPool2d, type Pool2dOptions } from '../tensor/ops/pool.ts';
import type { Pair } from '../tensor/ops/conv.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { Module } from './module.ts';

export class MaxPool2d extends Module {
  constructor(
    readonly kernel: Pair,
    readonly opts: Pool2dOptions = {},
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernel, this.opts);
  }
}

export class AvgPool2d extends Module {
  constructor(
    readonly kernel: Pair,
    readonly opts: Pool2dOptions = {},
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernel, this.opts);
  }
}

export class GlobalAvgPool extends Module {
  forward(x: Tensor): Tensor {
    return globalAvgPool(x); // (B, C)
  }
}
