// The feed-forward sub-layer's nonlinearity, chosen by name. Both are GELU, x·Φ(x) (Hendrycks &
// Gimpel 2016): 'gelu' computes Φ with erf, as torch.nn.GELU() and nanoGPT do; 'gelu-tanh' is GPT-2's
// approximation 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), torch's GELU(approximate='tanh').

import { gelu } from '../tensor/ops/elementwise.ts';
import type { Tensor } from '../tensor/tensor.ts';

export const ACTIVATIONS = ['gelu', 'gelu-tanh'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

export function activate(kind: Activation, x: Tensor): Tensor {
  switch (kind) {
    case 'gelu':
      return gelu(x, 'none');
    case 'gelu-tanh':
      return gelu(x, 'tanh');
    default: {
      const never: never = kind;
      throw new Error(`unknown activation '${String(never)}'`);
    }
  }
}
