// Parameters are declared by modules (shape, initialiser, weight-decay flag) and materialised later
// by a ParameterStore into one flat buffer, so optimizers and checkpoints touch a single array.

import type { Rng } from '../tensor/rng.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Shape } from '../tensor/shape.ts';

export type Init =
  | { kind: 'zeros' }
  | { kind: 'ones' }
  | { kind: 'constant'; value: number }
  /** Given values, one per element (hyper-connections' one-hot and identity mixing). */
  | { kind: 'values'; values: Float32Array }
  /** Normal with a standard deviation per block of leading rows: the first axis split into stds.length equal parts (DeepNorm's q, k, v in one c_attn). */
  | { kind: 'normalBlocks'; stds: readonly number[] }
  | { kind: 'normal'; std: number }
  /** Uniform in [−bound, bound] (PyTorch's default Linear init uses bound = 1/sqrt(in)). */
  | { kind: 'uniform'; bound: number };

export class Parameter {
  private tensor: Tensor | null = null;
  constructor(
    readonly shape: Shape,
    public init: Init,
    /** AdamW decays only matrices and embeddings (tensors with ≥ 2 dimensions), as nanoGPT does. */
    readonly decay: boolean = shape.length >= 2,
  ) {}

  get value(): Tensor {
    if (!this.tensor) throw new Error('Parameter used before its module was materialised (call model.materialize first)');
    return this.tensor;
  }

  get materialized(): boolean {
    return this.tensor !== null;
  }

  bind(t: Tensor): void {
    this.tensor = t;
  }
}

/** Draws initial values on the host, so every backend starts from the same numbers. */
export function initValues(init: Init, n: number, rng: Rng): Float32Array {
  const out = new Float32Array(n);
  switch (init.kind) {
    case 'zeros':
      break;
    case 'ones':
      out.fill(1);
      break;
    case 'constant':
      out.fill(init.value);
      break;
    case 'values':
      if (init.values.length !== n) throw new Error(`init: ${init.values.length} values for a parameter of ${n} elements`);
      out.set(init.values);
      break;
    case 'normalBlocks': {
      const per = n / init.stds.length;
      if (!Number.isInteger(per)) throw new Error(`init: ${n} elements do not split into ${init.stds.length} equal blocks`);
      for (let i = 0; i < n; i++) out[i] = rng.normal() * init.stds[Math.floor(i / per)];
      break;
    }
    case 'normal':
      for (let i = 0; i < n; i++) out[i] = rng.normal() * init.std;
      break;
    case 'uniform':
      for (let i = 0; i < n; i++) out[i] = (2 * rng.uniform() - 1) * init.bound;
      break;
    default: {
      const never: never = init;
      throw new Error(`unknown init ${JSON.stringify(never)}`);
    }
  }
  return out;
}
