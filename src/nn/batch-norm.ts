// BatchNorm over the channel (last) axis, as torch.nn.BatchNorm1d on the (rows, C) matrix of every
// leading axis (for (B, T, C): the B·T positions). Ioffe & Szegedy 2015. Training normalizes with the
// batch's statistics and updates running estimates; evaluation uses the estimates.

import { add, div, mul, scale, sqrt, sub } from '../tensor/ops/elementwise.ts';
import { mean } from '../tensor/ops/reduce.ts';
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
    const xhat = this.training ? this.batchNormalized(x) : this.runningNormalized(x);
    const yw = mul(xhat, this.weight.value);
    const y = this.bias ? add(yw, this.bias.value) : yw;
    taps()?.norm(this, x, y, this.weight.value);
    return y;
  }

  /**
   * Batch statistics, differentiated through (composed ops), and the running estimates updated.
   * As in torch, the update follows the mode, not grad mode: a no-grad forward in training mode updates too.
   */
  private batchNormalized(x: Tensor): Tensor {
    const n = x.size / this.dim;
    if (n < 2) throw new ShapeError(`BatchNorm: training needs more than one row per channel to estimate a variance, got input ${fmt(x.shape)}; call eval() first`);
    const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
    const mu = mean(x, axes, true); // (1, .., 1, C)
    const xc = sub(x, mu);
    const variance = mean(mul(xc, xc), axes, true); // biased, two passes
    this.updateRunning(mu, variance, n);
    return div(xc, sqrt(scale(variance, 1, this.eps)));
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

  /** (x − running_mean)/sqrt(running_var + ε): the estimates are state, not parameters, so no gradient reaches them. */
  private runningNormalized(x: Tensor): Tensor {
    return div(sub(x, this.runningMean.value), sqrt(scale(this.runningVar.value, 1, this.eps)));
  }
}

