// Buffers: tensors a module keeps beside its parameters — saved, loaded and allocated with the model,
// but never trained: no gradient, no optimizer update, not counted as parameters. BatchNorm's running
// mean and variance are what they are for (torch.nn.Module.register_buffer).

import type { Shape } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Init } from './parameter.ts';

export class ModuleBuffer {
  private tensor: Tensor | null = null;
  constructor(
    readonly shape: Shape,
    /** The value before any update (running mean: zeros, running variance: ones). */
    readonly init: Init,
  ) {}

  /** The buffer's tensor on the model's backend; a module updates it by writing its storage. */
  get value(): Tensor {
    if (!this.tensor) throw new Error('Buffer used before its module was materialised (call model.materialize first)');
    return this.tensor;
  }

  bind(t: Tensor): void {
    this.tensor = t;
  }
}
