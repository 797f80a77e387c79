// BatchNorm over the channel (last) axis, as torch.nn.BatchNorm1d on the (rows, C) matrix of every
// leading axis (for (B, T, C): the B·T positions). Ioffe & Szegedy 2015. Training normalizes with the
// batch's statistics and updates running estimates; evaluation uses the estimates.

import { add, div, mul, scale, sqrt, sub } from '../tensor/ops/elementwise.ts';
import { reshape } from '../tensor/ops/layout.ts';
import { batchNorm } from '../tensor/ops/norms.ts';
import { fmt, ShapeError } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { ModuleBuffer } from './buffer.ts';
import { Norm } from './norm-base.ts';
import type { Parameter } from './parameter.ts';
import { taps } from './taps.ts';

export class BatchNorm extends Norm {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly runningMean: ModuleBuffer;
  readonly runningVar: ModuleBuffer;
  readonly eps: number;
  /** Weight of the new batch in the running estimates (PyTorch's default 0.1). */
  readonly momentum: number;
  constructor(
    readonly dim: number,
    opts: { bias?: boolean; eps?: number; momentum?: number } = {},
  ) {
    super();
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum ?? 0.1;
    this.weight = this.param('weight', [dim], { kind: 'ones' });
    this.bias = (opts.bias ?? true) ? this.param('bias', [dim], { kind: 'zeros' }) : null;
    this.runningMean = this.buffer('running_mean', [dim], { kind: 'zeros' });
    this.runningVar = this.buffer('running_var', [dim], { kind: 'ones' });
  }

  forward(x: Tensor): Tensor {
    const C = x.shape[x.rank - 1];
    if (x.rank < 2 || C !== this.dim) {
      throw new ShapeError(`BatchNorm: expected an input (..., ${this.dim}) with at least one leading axis, got ${fmt(x.shape)}`);
    }
    if (this.training && x.size / this.dim < 2) {
      throw new ShapeError(`BatchNorm: training needs more than one row per channel to estimate a variance, got input ${fmt(x.shape)}; call eval() first`);
    }
    return this.normalize(x, x.rank - 1);
  }

  /**
   * Normalizes x over every axis but `channelAxis` (the last for this module, 1 for NCHW's BatchNorm2d):
   * in training with the batch's statistics (one fused kernel where the backend has it, differentiated
   * through them), updating the running estimates; in evaluation with the estimates.
   * As in torch, the update follows the mode, not grad mode: a no-grad forward in training mode updates too.
   */
  protected normalize(x: Tensor, channelAxis: number): Tensor {
    let y: Tensor;
    if (this.training) {
      const r = batchNorm(x, this.weight.value, this.bias?.value ?? null, channelAxis, this.eps);
      this.updateRunning(r.mean, r.variance, x.size / this.dim);
      y = r.out;
    } else {
      // Per-channel vectors shaped to broadcast along the channel axis: (C, 1, …, 1).
      const along = (t: Tensor) => reshape(t, [this.dim, ...Array<number>(x.rank - 1 - channelAxis).fill(1)]);
      const xhat = div(sub(x, along(this.runningMean.value)), sqrt(scale(along(this.runningVar.value), 1, this.eps)));
      const yw = mul(xhat, along(this.weight.value));
      y = this.bias ? add(yw, along(this.bias.value)) : yw;
    }
    taps()?.norm(this, x, y, this.weight.value);
    return y;
  }

  /**
   * running = (1 − m)·running + m·batch, the variance made unbiased (·n/(n − 1)). Kernels writing the
   * buffers' storage, no host round trip: a captured training step replays them like any other launch.
   */
  private updateRunning(mu: Tensor, variance: Tensor, n: number): void {
    const be = mu.backend;
    const m = this.momentum;
    const rm = this.runningMean.value.storage;
    const rv = this.runningVar.value.storage;
    be.affine(rm, rm, 1 - m, 0);
    be.axpy(mu.storage, rm, m);
    be.affine(rv, rv, 1 - m, 0);
    be.axpy(variance.storage, rv, (m * n) / (n - 1));
  }
}

