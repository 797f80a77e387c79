// Experiment 11: hyper-connections and value residual against the plain residual.

import type { Experiment } from '../index-types.ts';
import { arm, FULL, lower, QUICK } from './common.ts';

const arms = [
  arm('plain', 'plain residual', { residual: 'plain' }),
  arm('hyper', 'hyper-connections (n = 4)', { residual: 'hyper', hyperStreams: 4 }),
  arm('value-residual', 'value residual', { residual: 'value-residual' }),
];

export const hyperValueResidual: Experiment = {
  name: 'hyper-value-residual',
  title: 'Hyper-connections and value residual vs the plain residual',
  finding: 'hyper-connections and value residual against plain residuals at (nearly) equal parameters',
  paper: {
    citation: 'Zhu et al. 2024, "Hyper-Connections" (ICLR 2025); Zhou et al. 2024, "Value Residual Learning For Alleviating Attention Concentration In Transformers" (ResFormer)',
    found:
      'Zhu et al. replace the residual stream by n streams mixed with learned static and dynamic weights and report lower loss and faster convergence than residual connections in LLM pretraining (OLMo dense and mixture-of-experts models), for n = 4 in particular. Zhou et al. add the first layer\'s values to every later layer\'s (ResFormer) and report a lower validation loss than the vanilla Transformer at the same size, reaching the baseline\'s loss with fewer parameters and less data.',
  },
  differences:
    'Parameters are not matched by resizing: hyper-connections add about (n+1)·C + C + n(n+2) + 2 + 2C parameters per sub-layer and value residual 2 per layer, a few percent or less here; the table reports every arm\'s count. Six pre-LN layers of width 64, block 32 (full: 6 × 192, block 128), 300 steps (full: 3,000); the papers train models of 0.5B–7B parameters.',
  plans: {
    quick: { base: { ...QUICK, nLayer: 6, blockSize: 32 }, arms, seeds: 3 },
    full: { base: { ...FULL }, arms, seeds: 3 },
  },
  claims: [
    { id: 'hyper', text: 'Hyper-connections reach a lower loss than the plain residual', conditions: [lower('hyper', 'plain', 0.01)] },
    { id: 'value', text: 'Value residual reaches a lower loss than the plain residual', conditions: [lower('value-residual', 'plain', 0.01)] },
  ],
  columns: [{ metric: 'params', label: 'parameters', digits: 6 }],
  figures: [
    { kind: 'curves', title: 'Validation loss' },
    { kind: 'bars', title: 'Final validation loss', metric: 'finalValLoss', yLabel: 'nats' },
  ],
};
