// Token (or position) embedding table (V, C).

import { embedding } from '../tensor/ops/embedding.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { Module } from './module.ts';
import type { Init, Parameter } from './parameter.ts';

export class Embedding extends Module {
  readonly weight: Parameter;
  constructor(
    readonly numEmbeddings: number,
    readonly dim: number,
    init: Init = { kind: 'normal', std: 0.02 },
  ) {
    super();
    this.weight = this.param('weight', [numEmbeddings, dim], init);
  }

  forward(ids: Tensor): Tensor {
    return embedding(this.weight.value, ids); // (...ids, C)
  }
}
