// Experiment 12: lesions (one block deleted) and the logit lens on a trained residual model.

import type { Experiment } from '../index-types.ts';
import { arm, FULL, QUICK, ref } from './common.ts';

const measures = ['lesion', 'logit-lens'] as const;
const arms = [
  arm('pre', 'Pre-LN residual', { placement: 'pre', residual: 'plain' }, [...measures]),
  arm('post', 'Post-LN residual', { placement: 'post', residual: 'plain' }, [...measures]),
  arm('no-residual', 'no shortcuts (pre-LN)', { placement: 'pre', residual: 'none' }, [...measures]),
];

export const lesionLogitLens: Experiment = {
  name: 'lesion-logit-lens',
  title: 'Deleting a block, and reading each layer through the head (logit lens)',
  finding: 'deleting one block of a trained residual model hurts a little; the prediction forms layer by layer',
  paper: {
    citation: 'Veit, Wilber & Belongie 2016, "Residual Networks Behave Like Ensembles of Relatively Shallow Networks" (NeurIPS); nostalgebraist 2020, "interpreting GPT: the logit lens" (LessWrong)',
    found:
      'Veit et al. delete single blocks of a trained ResNet-110 at test time (§4, Figure 3): on CIFAR-10 the error rises only modestly for most blocks (the downsampling blocks hurt more), while deleting any layer of a VGG network, which has no shortcuts, drops it to chance. The logit lens decodes GPT-2\'s residual stream after every layer with the final norm and the unembedding, and finds the prediction refined gradually toward the final one.',
  },
  differences:
    'Eight-layer character models of width 64, block 32 (full: 6 × 192, block 128), trained 400 steps (full: 3,000), not ResNets on images or GPT-2. "Damage" is the share of what the model learned that a lesion undoes: (L_lesioned − L)/(ln V − L); the first block (which reads the raw embedding, like Veit\'s special blocks) is reported apart from the median over the others. The lens uses ln_f when the model has one (Pre-LN) and reads Post-LN\'s already-normalised stream directly.',
  plans: {
    quick: { base: { ...QUICK, nLayer: 8, blockSize: 32, maxIters: 400 }, arms, seeds: 3 },
    full: { base: { ...FULL }, arms, seeds: 3 },
  },
  claims: [
    {
      id: 'lesion-mild',
      text: 'Deleting one block (other than the first) of a trained Pre-LN residual model hurts only a little',
      conditions: [{ kind: 'below', ref: ref('pre', 'lesionDamageMedian'), pass: 0.1, fail: 0.3 }],
    },
    {
      id: 'lesion-no-residual',
      text: 'Without shortcuts, deleting a block is far more harmful',
      conditions: [{ kind: 'less', a: ref('pre', 'lesionDamageMedian'), b: ref('no-residual', 'lesionDamageMedian'), sd: 2, minDiff: 0.2 }],
      notes: {
        inconclusive:
          "Veit et al.'s contrast is with a *trained* network without shortcuts (VGG). Here the shortcut-free stack did not learn beyond character frequencies in the budget (see the failed column and no-residual's report), so its 'damage' divides by almost nothing learned and varies wildly from seed to seed; the comparison needs a shortcut-free model that trains.",
      },
    },
    {
      id: 'lens',
      text: 'The logit lens shows the prediction forming layer by layer (its loss falls with depth)',
      conditions: [{ kind: 'below', ref: ref('pre', 'lensSpearman'), pass: -0.8, fail: 0 }],
    },
  ],
  columns: [
    { metric: 'lesionDamageMedian', label: 'lesion damage, median (blocks ≥ 1)' },
    { metric: 'lesionDamageMax', label: 'lesion damage, max (blocks ≥ 1)' },
    { metric: 'lesionDamageFirst', label: 'lesion damage, block 0' },
    { metric: 'lensSpearman', label: 'lens loss vs depth (Spearman)' },
    { metric: 'lensModelGap', label: 'lens at last block − model loss' },
  ],
  figures: [
    { kind: 'series', title: 'Validation loss with one block deleted', series: 'lesionLoss', xLabel: 'deleted block', yLabel: 'loss (nats)' },
    { kind: 'series', title: 'Logit lens: loss of each block\'s stream read through the head', series: 'lensLoss', xLabel: 'block', yLabel: 'loss (nats)' },
    { kind: 'curves', title: 'Validation loss' },
  ],
};
