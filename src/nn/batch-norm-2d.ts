// BatchNorm over the channels of NCHW inputs, torch.nn.BatchNorm2d: statistics per channel over
// (B, H, W). It is the feature-axis BatchNorm (batch-norm.ts: the same parameters, running buffers,
// momentum, biased variance to normalize and unbiased running estimate, updated by backend kernels so
// captured steps replay it), normalizing along axis 1 in place: the fused kernel reads NCHW as
// (B, C, H·W), with no channels-last copy before and after.

import { fmt, ShapeError } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { BatchNorm } from './batch-norm.ts';

export class BatchNorm2d extends BatchNorm {
  constructor(channels: number, opts: { bias?: boolean; eps?: number; momentum?: number } = {}) {
    super(channels, opts);
  }

  override forward(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== this.dim) {
      throw new ShapeError(`BatchNorm2d: expected an input (B, ${this.dim}, H, W), got ${fmt(x.shape)}`);
    }
    const [B, , H, W] = x.shape;
    if (this.training && B * H * W < 2) {
      throw new ShapeError(`BatchNorm2d: training needs more than one value per channel (B·H·W > 1) to estimate a variance, got input ${fmt(x.shape)}; call eval() first`);
    }
    return this.normalize(x, 1);
  }
}
