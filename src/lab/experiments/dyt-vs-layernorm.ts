// Experiment 8: Dynamic Tanh in place of LayerNorm, at an equal budget (Zhu et al. 2025).

import type { Experiment } from '../index-types.ts';
import { arm, FULL, QUICK, ref } from './common.ts';

const arms = [arm('layernorm', 'LayerNorm', { norm: 'layernorm' }), arm('dyt', 'DyT', { norm: 'dyt' })];

export const dytVsLayernorm: Experiment = {
  name: 'dyt-vs-layernorm',
  title: 'DyT vs LayerNorm at an equal budget',
  finding: 'the loss gap between DyT and LayerNorm at the same number of steps',
  paper: {
    citation: 'Zhu, Chen, He, LeCun & Liu 2025, "Transformers without Normalization" (CVPR)',
    found:
      'DyT(x) = γ·tanh(α·x) + β, with a learnable scalar α, replaces every normalization layer. The paper reports that Transformers with DyT match or exceed their normalised counterparts across vision, speech and language, mostly without tuning; for LLaMA pretraining (7B–70B) the training losses of DyT and RMSNorm are close, and there the initial α needs tuning (smaller for wider models).',
  },
  differences:
    'A 4-layer pre-LN character model of width 64 (full: 6 × 192), 300 steps; α starts at 0.5, the paper\'s default for non-LLM models, with no tuning. The paper\'s LLaMA runs use RMSNorm as the baseline and far longer training.',
  plans: {
    quick: { base: { ...QUICK }, arms, seeds: 3 },
    full: { base: { ...FULL }, arms, seeds: 3 },
  },
  claims: [
    {
      id: 'matches',
      text: "DyT's loss is no worse than LayerNorm's (within 0.03 nats) at the same budget",
      conditions: [{ kind: 'atMost', a: ref('dyt', 'finalValLoss'), b: ref('layernorm', 'finalValLoss'), tolerance: 0.03 }],
      notes: {
        'not reproduced':
          "DyT does not rescale its input, LayerNorm does. With GPT-2's initialisation the first block reads the raw embedding (std ≈ 0.06 in the diagnostics of the quick runs), which tanh(0.5·x) passes on at RMS ≈ 0.05 where LayerNorm outputs 1.0; deeper, the un-normalised pre-LN stream grows (RMS ≈ 27 after the last block in the quick runs) and tanh saturates at ±1. The paper's recipe for language models tunes α's initial value (and our runs are short), which is where the gap can close.",
      },
    },
  ],
  columns: [],
  figures: [
    { kind: 'curves', title: 'Validation loss' },
    { kind: 'bars', title: 'Final validation loss', metric: 'finalValLoss', yLabel: 'nats' },
  ],
};
