// The residual block of the articles (He et al. 2016, "basic block"): y = ReLU(F(x) + S(x)), with
// F = conv3×3 – BN – ReLU – conv3×3 – BN and the shortcut S the identity, or a 1×1 convolution + BN
// (the projection, option B) when the stride or the channel count changes. Convolutions have no bias:
// the BatchNorm after each removes it. Names follow torchvision's BasicBlock (conv1, bn1, conv2, bn2,
// downsample.0, downsample.1): its state dicts load, once torch's num_batches_tracked counters are dropped.

import { add, relu } from '../tensor/ops/elementwise.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { BatchNorm2d } from './batch-norm-2d.ts';
import { Conv2d } from './conv.ts';
import { Module } from './module.ts';
import { taps } from './taps.ts';

/** The projection shortcut: 1×1 convolution with the block's stride, then BatchNorm. */
export class Projection extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  constructor(inChannels: number, outChannels: number, stride: number) {
    super();
    this.conv = this.child('0', new Conv2d(inChannels, outChannels, 1, { stride, bias: false }));
    this.bn = this.child('1', new BatchNorm2d(outChannels));
  }

  forward(x: Tensor): Tensor {
    return this.bn.forward(this.conv.forward(x));
  }
}

export class ResidualBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  /** null: the identity shortcut. */
  readonly downsample: Projection | null;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly stride = 1,
  ) {
    super();
    this.conv1 = this.child('conv1', new Conv2d(inChannels, outChannels, 3, { stride, padding: 1, bias: false }));
    this.bn1 = this.child('bn1', new BatchNorm2d(outChannels));
    this.conv2 = this.child('conv2', new Conv2d(outChannels, outChannels, 3, { padding: 1, bias: false }));
    this.bn2 = this.child('bn2', new BatchNorm2d(outChannels));
    const project = stride !== 1 || inChannels !== outChannels;
    this.downsample = project ? this.child('downsample', new Projection(inChannels, outChannels, stride)) : null;
  }

  forward(x: Tensor): Tensor {
    const h = relu(this.bn1.forward(this.conv1.forward(x))); // (B, Cout, Ho, Wo)
    const f = this.bn2.forward(this.conv2.forward(h)); // F(x)
    const s = this.downsample ? this.downsample.forward(x) : x; // S(x)
    taps()?.residual(this, s, f);
    const y = relu(add(s, f));
    taps()?.block(this, x, y);
    return y;
  }
}
