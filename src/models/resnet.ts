// A small ResNet for 28×28 greyscale images (MNIST, Fashion-MNIST): a 3×3 stem convolution with
// BatchNorm and ReLU, stages of the articles' residual blocks (He et al. 2016's basic block: the
// first block of each later stage halves the resolution and doubles the channels through a 1×1
// projection shortcut), global average pooling and a linear head — ResNet-20's CIFAR layout (§4.2),
// scaled to what trains in minutes on a CPU.

import { z } from 'zod';
import type { Backend } from '../backend/backend.ts';
import { BatchNorm2d } from '../nn/batch-norm-2d.ts';
import { Conv2d } from '../nn/conv.ts';
import { Linear } from '../nn/linear.ts';
import { Module, ModuleList } from '../nn/module.ts';
import { GlobalAvgPool } from '../nn/pool.ts';
import { ResidualBlock } from '../nn/residual-block.ts';
import { getDefaultBackend } from '../tensor/backend-registry.ts';
import { relu } from '../tensor/ops/elementwise.ts';
import { Rng } from '../tensor/rng.ts';
import { fmt } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { ConfigError, configError } from './gpt-config.ts';

const posInt = z.number().int().positive();

export const ResNetConfigSchema = z
  .object({
    /** Input channels and side (28 for MNIST-format images). */
    channels: posInt.default(1),
    size: posInt.default(28),
    classes: posInt.min(2).default(10),
    /** The stem's output channels; stage s has width·2^s. */
    width: posInt.max(512).default(16),
    /** Residual blocks per stage (ResNet-20: 3 stages of 3). */
    blocks: z.array(posInt.max(64)).min(1).max(6).default([2, 2]),
  })
  .strict();

export type ResNetConfig = z.output<typeof ResNetConfigSchema>;

export class ResNet extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly layers: ModuleList<ResidualBlock>;
  readonly pool: GlobalAvgPool;
  readonly fc: Linear;
  /** No dropout; kept for the trainer's checkpoints, as every task model has one. */
  readonly dropoutRng = new Rng(0);

  private constructor(readonly config: ResNetConfig) {
    super();
    const c = config;
    this.conv1 = this.child('conv1', new Conv2d(c.channels, c.width, 3, { padding: 1, bias: false }));
    this.bn1 = this.child('bn1', new BatchNorm2d(c.width));
    const blocks: ResidualBlock[] = [];
    let inC = c.width;
    c.blocks.forEach((n, stage) => {
      const outC = c.width * 2 ** stage;
      for (let i = 0; i < n; i++) {
        blocks.push(new ResidualBlock(inC, outC, stage > 0 && i === 0 ? 2 : 1));
        inC = outC;
      }
    });
    this.layers = this.child('layers', new ModuleList(blocks));
    this.pool = this.child('pool', new GlobalAvgPool());
    this.fc = this.child('fc', new Linear(inC, c.classes, { init: { kind: 'uniform', bound: 1 / Math.sqrt(inC) } }));
  }

  static create(config: Partial<ResNetConfig>, opts: { backend?: Backend; seed?: number; dtype?: 'float32' | 'float64' } = {}): ResNet {
    const r = ResNetConfigSchema.safeParse(config);
    if (!r.success) throw configError('ResNet config', config, r.error, Object.keys(ResNetConfigSchema.shape));
    const model = new ResNet(r.data);
    model.materialize(opts.backend ?? getDefaultBackend(), new Rng(opts.seed ?? 1337), opts.dtype ?? 'float32');
    return model;
  }

  get backend(): Backend {
    return this.store!.backend;
  }

  /** x: (B, channels, size, size) → logits (B, classes). */
  logits(x: Tensor): Tensor {
    const { channels, size } = this.config;
    if (x.rank !== 4 || x.shape[1] !== channels || x.shape[2] !== size || x.shape[3] !== size) {
      throw new ConfigError(`ResNet: images must be (B, ${channels}, ${size}, ${size}), got ${fmt(x.shape)}; set the model's channels and size to the data's`);
    }
    let h = relu(this.bn1.forward(this.conv1.forward(x)));
    for (const block of this.layers.items) h = block.forward(h);
    return this.fc.forward(this.pool.forward(h)); // (B, classes)
  }
}
