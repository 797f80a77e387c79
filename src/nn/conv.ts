// 2-D convolution layer over NCHW inputs, torch.nn.Conv2d (dilation 1, groups 1): weight
// (Cout, Cin, kH, kW), bias (Cout), and torch's default initialisation.

import { conv2d, type Pair } from '../tensor/ops/conv.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { Module } from './module.ts';
import type { Parameter } from './parameter.ts';

export interface Conv2dOptions {
  /** Default 1. */
  stride?: Pair;
  /** Zeros on each side of H and W; default 0. */
  padding?: Pair;
  /** Default true, as in torch. */
  bias?: boolean;
}

export class Conv2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly kernel: [number, number];
  readonly stride: Pair;
  readonly padding: Pair;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernel: Pair,
    opts: Conv2dOptions = {},
  ) {
    super();
    this.kernel = typeof kernel === 'number' ? [kernel, kernel] : [kernel[0], kernel[1]];
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    // torch's reset_parameters: kaiming_uniform_(a = √5), i.e. U(±gain·√(3/fan_in)) with gain = √(2/(1 + 5)),
    // which is U(±1/√fan_in); the bias U(±1/√fan_in) too.
    const bound = 1 / Math.sqrt(inChannels * this.kernel[0] * this.kernel[1]);
    this.weight = this.param('weight', [outChannels, inChannels, ...this.kernel], { kind: 'uniform', bound });
    this.bias = (opts.bias ?? true) ? this.param('bias', [outChannels], { kind: 'uniform', bound }) : null;
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight.value, this.bias?.value ?? null, { stride: this.stride, padding: this.padding }); // (B, Cout, Ho, Wo)
  }
}
