// A small ResNet-style net for the convolution tests (the wasm captured-step test and the WebGPU
// training test): conv–BN–ReLU–max pool, an identity and a projection block, global pool, a head.
import { BatchNorm2d } from '../../src/nn/batch-norm-2d.ts';
import { Conv2d } from '../../src/nn/conv.ts';
import { Linear } from '../../src/nn/linear.ts';
import { Module } from '../../src/nn/module.ts';
import { GlobalAvgPool, MaxPool2d } from '../../src/nn/pool.ts';
import { ResidualBlock } from '../../src/nn/residual-block.ts';
import { relu, type Tensor } from '../../src/tensor/index.ts';

/** 3-channel images to 5 classes; on 18 × 18 inputs the stem's pooled map is (B, 8, 9, 9). */
export class TinyConvNet extends Module {
  readonly stem = this.child('stem', new Conv2d(3, 8, 3, { padding: 1 }));
  readonly bn = this.child('bn', new BatchNorm2d(8));
  readonly pool = new MaxPool2d(2);
  readonly block1 = this.child('block1', new ResidualBlock(8, 8));
  readonly block2 = this.child('block2', new ResidualBlock(8, 12, 2));
  readonly gap = new GlobalAvgPool();
  readonly head = this.child('head', new Linear(12, 5, { init: { kind: 'normal', std: 0.1 } }));

  forward(x: Tensor): Tensor {
    const h = this.pool.forward(relu(this.bn.forward(this.stem.forward(x)))); // (B, 8, 9, 9)
    return this.head.forward(this.gap.forward(this.block2.forward(this.block1.forward(h)))); // (B, 5)
  }
}
