// Hyper-connections (Zhu et al. 2024, the dynamic form of the paper's Algorithm 2): the stream is n
// copies H (B, T, n, C) instead of one, and each sub-layer reads a learned mix of them and writes its
// output back into each with a learned weight. The mixing weights are static parameters plus small
// input-dependent corrections (tanh of a projection of norm(H), scaled by 0.01 at init), so at init
// the network is a pre-norm residual network spread over n streams.

import { add, mul, tanh } from '../tensor/ops/elementwise.ts';
import { linear, matmul } from '../tensor/ops/matmul.ts';
import { reshape, slice, transpose } from '../tensor/ops/layout.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { Module } from './module.ts';
import { LayerNorm } from './norm.ts';
import type { Parameter } from './parameter.ts';

export class HyperConnection extends Module {
  /** (n, n+1): column 0 weighs the streams into the sub-layer's input, columns 1…n mix the streams. */
  readonly static_alpha: Parameter;
  /** (n): the sub-layer output's weight into each stream. */
  readonly static_beta: Parameter;
  /** (n+1, C) and (1, C): the dynamic projections, stored as nn.Linear stores weights. */
  readonly dynamic_alpha: Parameter;
  readonly dynamic_beta: Parameter;
  readonly dynamic_alpha_scale: Parameter;
  readonly dynamic_beta_scale: Parameter;
  readonly norm: LayerNorm;

  /** `index`: the sub-layer's place in the stack, which picks the stream it reads at init. */
  constructor(
    readonly C: number,
    readonly streams: number,
    index: number,
    bias: boolean,
  ) {
    super();
    const n = streams;
    const alpha = new Float32Array(n * (n + 1));
    alpha[(index % n) * (n + 1)] = 1; // e_{index mod n} in column 0
    for (let j = 0; j < n; j++) alpha[j * (n + 1) + 1 + j] = 1; // identity in columns 1…n
    this.static_alpha = this.param('static_alpha', [n, n + 1], { kind: 'values', values: alpha });
    this.static_beta = this.param('static_beta', [n], { kind: 'ones' });
    this.dynamic_alpha = this.param('dynamic_alpha', [n + 1, C], { kind: 'zeros' });
    this.dynamic_beta = this.param('dynamic_beta', [1, C], { kind: 'zeros' });
    this.dynamic_alpha_scale = this.param('dynamic_alpha_scale', [1], { kind: 'constant', value: 0.01 });
    this.dynamic_beta_scale = this.param('dynamic_beta_scale', [1], { kind: 'constant', value: 0.01 });
    this.norm = this.child('norm', new LayerNorm(C, { bias }));
  }

  /**
   * H (B, T, n, C) → mix (B, T, n+1, C): row 0 is the sub-layer's input, rows 1…n the streams carried
   * on; beta (B, T, n) weighs the sub-layer's output into each stream.
   */
  width(H: Tensor): { mix: Tensor; beta: Tensor } {
    const [B, T, n] = H.shape;
    const h = this.norm.forward(H);
    const A = add(mul(tanh(linear(h, this.dynamic_alpha.value, null)), this.dynamic_alpha_scale.value), this.static_alpha.value); // (B, T, n, n+1)
    const dyn = reshape(linear(h, this.dynamic_beta.value, null), [B, T, n]);
    const beta = add(mul(tanh(dyn), this.dynamic_beta_scale.value), this.static_beta.value); // (B, T, n)
    return { mix: matmul(transpose(A, 2, 3), H), beta }; // (B, T, n+1, C)
  }

  /** The new streams: beta ⊗ u + the carried streams. u: (B, T, C). */
  depth(mix: Tensor, beta: Tensor, u: Tensor): Tensor {
    const [B, T, n1, C] = mix.shape;
    const written = matmul(reshape(beta, [B, T, n1 - 1, 1]), reshape(u, [B, T, 1, C])); // (B, T, n, C)
    return add(written, slice(mix, 2, 1, n1));
  }
}
