// Normalization layers over the feature axis, selected by a typed union (see NormKind; the table in
// docs/designs.md, "Norm kinds"). LayerNorm: (x − μ)/sqrt(σ² + ε)·γ + β, Ba, Kiros & Hinton 2016.
// RMSNorm: x/rms(x)·γ, Zhang & Sennrich 2019. DyT and BatchNorm live in their own files.

import { layerNorm, rmsNorm } from '../tensor/ops/norms.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { BatchNorm } from './batch-norm.ts';
import { DyT } from './dyt.ts';
import { Norm } from './norm-base.ts';
import { taps } from './taps.ts';
import type { Parameter } from './parameter.ts';

export { Norm } from './norm-base.ts';
export { BatchNorm } from './batch-norm.ts';
export { DyT } from './dyt.ts';

export const NORM_KINDS = ['layernorm', 'rmsnorm', 'dyt', 'batchnorm', 'none'] as const;
export type NormKind = (typeof NORM_KINDS)[number];

export class LayerNorm extends Norm {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  constructor(
    readonly dim: number,
    opts: { bias?: boolean; eps?: number } = {},
  ) {
    super();
    this.eps = opts.eps ?? 1e-5;
    this.weight = this.param('weight', [dim], { kind: 'ones' });
    this.bias = (opts.bias ?? true) ? this.param('bias', [dim], { kind: 'zeros' }) : null;
  }
  readonly eps: number;

  forward(x: Tensor): Tensor {
    const y = layerNorm(x, this.weight.value, this.bias?.value ?? null, this.eps);
    taps()?.norm(this, x, y, this.weight.value);
    return y;
  }
}

export class RMSNorm extends Norm {
  readonly weight: Parameter;
  readonly eps: number;
  constructor(
    readonly dim: number,
    opts: { eps?: number } = {},
  ) {
    super();
    this.eps = opts.eps ?? 1e-5;
    this.weight = this.param('weight', [dim], { kind: 'ones' });
  }

  forward(x: Tensor): Tensor {
    const y = rmsNorm(x, this.weight.value, this.eps);
    taps()?.norm(this, x, y, this.weight.value);
    return y;
  }
}

/** No normalization: x itself, no parameters and no tap (there is nothing to observe). */
export class IdentityNorm extends Norm {
  forward(x: Tensor): Tensor {
    return x;
  }
}

export function makeNorm(kind: NormKind, dim: number, bias: boolean): Norm {
  switch (kind) {
    case 'layernorm':
      return new LayerNorm(dim, { bias });
    case 'rmsnorm':
      return new RMSNorm(dim);
    case 'dyt':
      return new DyT(dim, { bias });
    case 'batchnorm':
      return new BatchNorm(dim, { bias });
    case 'none':
      return new IdentityNorm();
    default: {
      const never: never = kind;
      throw new Error(`unknown norm kind '${String(never)}'`);
    }
  }
}
