// One design of each kind, so every norm, placement, residual rule and QK-norm is exercised at least
// once by the suites that run whole models (captured training, cached generation).

import type { GPTConfig } from '../../src/models/gpt.ts';

export const DESIGN_SAMPLES: Partial<GPTConfig>[] = [
  { norm: 'dyt' }, { norm: 'batchnorm' }, { norm: 'rmsnorm', qkNorm: true }, { norm: 'none' },
  { placement: 'post' }, { placement: 'peri' }, { placement: 'sandwich' }, { placement: 'mix', mixRatio: 0.5 }, { placement: 'none' },
  { placement: 'post', residual: 'deepnorm' }, { placement: 'post', residual: 'admin' }, { placement: 'none', residual: 'rezero' },
  { residual: 'layerscale' }, { residual: 'hyper', hyperStreams: 3 }, { residual: 'value-residual' }, { residual: 'none' },
];
