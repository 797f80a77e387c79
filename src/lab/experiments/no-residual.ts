// Experiment 1: a deep stack without shortcuts (residual 'none') against the same stack with them.

import type { Experiment } from '../index-types.ts';
import { arm, FULL, lower, QUICK, ref } from './common.ts';

const quick = { ...QUICK, nLayer: 12, nEmbd: 32, blockSize: 32 };
const full = { ...FULL, nLayer: 24, nEmbd: 128, nHead: 4 };
const arms = [
  arm('residual', 'with shortcuts (pre-LN)', { residual: 'plain' }, ['init-gradients', 'train-gradients']),
  arm('no-residual', 'no shortcuts (pre-LN)', { residual: 'none' }, ['init-gradients', 'train-gradients']),
];

export const noResidual: Experiment = {
  name: 'no-residual',
  title: 'A deep stack without residual connections',
  finding: 'without shortcuts a deep stack barely trains and its early layers get little gradient',
  paper: {
    citation: 'He, Zhang, Ren & Sun 2016, "Deep Residual Learning for Image Recognition" (CVPR); Glorot & Bengio 2010 (AISTATS) on vanishing gradients',
    found:
      'He et al. show the degradation problem: deeper plain networks train to a higher error than shallower ones (Figure 1: 56 vs 20 layers on CIFAR-10), and shortcuts remove it — Table 2 (ImageNet top-1 error): plain-18 27.94%, plain-34 28.54%; ResNet-18 27.88%, ResNet-34 25.03%. Note that He et al. attribute degradation to optimisation difficulty, *not* vanishing gradients: their plain nets use BatchNorm and they report "healthy" gradient norms (§4.1). The vanishing-gradient account of deep stacks without shortcuts is older (Glorot & Bengio 2010, for sigmoid/tanh networks without normalisation).',
  },
  differences:
    'A 12-layer (full: 24) pre-LN character-level Transformer on Moby-Dick for a few hundred steps, not a CNN on images. The blocks keep their norms (pre-LN): only the shortcut is removed, x ← F(LN(x)), so activations stay normalised and the vanishing-gradient effect can be weaker than in an un-normalised plain net. GPT-2 initialisation scales the output projections by 1/sqrt(2L), which matters more without a shortcut to carry the signal.',
  plans: {
    quick: { base: quick, arms, seeds: 3 },
    full: { base: full, arms, seeds: 3 },
  },
  claims: [
    {
      id: 'trains',
      text: 'Without shortcuts the deep model barely trains; with them it trains',
      conditions: [lower('residual', 'no-residual', 0.1), { kind: 'above', ref: ref('no-residual', 'finalValLoss'), pass: 2.8, fail: 2.5 }],
      notes: { 'not reproduced': 'The shortcut-free stack learned more than "barely": with a norm before every sub-layer and a few hundred steps, twelve layers are still trainable here.' },
    },
    {
      id: 'vanish',
      text: "Without shortcuts the early layers' gradients vanish",
      conditions: [
        { kind: 'below', ref: ref('no-residual', 'trainGradEarlyLate'), pass: 0.1, fail: 0.5 },
        { kind: 'less', a: ref('no-residual', 'trainGradEarlyLate'), b: ref('residual', 'trainGradEarlyLate'), sd: 2 },
      ],
    },
  ],
  columns: [
    { metric: 'trainGradEarlyLate', label: 'grad first/last quarter (training)' },
    { metric: 'initGradEarlyLate', label: 'grad first/last quarter (init)' },
  ],
  figures: [
    { kind: 'curves', title: 'Validation loss' },
    { kind: 'series', title: 'Gradient norm per block, mean over training', series: 'trainGrad', logY: true, xLabel: 'block', yLabel: '‖∂L/∂θ‖ of the block' },
    { kind: 'series', title: 'Gradient norm per block at initialisation', series: 'initGrad', logY: true, xLabel: 'block', yLabel: '‖∂L/∂θ‖ of the block' },
  ],
};
