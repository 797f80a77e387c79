// Experiment 10: every placement across a learning-rate sweep: final loss and failure rate.

import type { Arm, Claim, Experiment } from '../index-types.ts';
import { FULL, QUICK, ref } from './common.ts';

const PLACEMENTS = ['pre', 'post', 'peri', 'sandwich', 'mix'] as const;
const NAMES: Record<(typeof PLACEMENTS)[number], string> = { pre: 'Pre-LN', post: 'Post-LN', peri: 'Peri-LN', sandwich: 'Sandwich-LN', mix: 'Mix-LN' };
const LRS = [1e-3, 4e-3, 1.6e-2];
const id = (p: string, i: number) => `${p}-lr${i}`;
const arms: Arm[] = PLACEMENTS.flatMap((p) => LRS.map((lr, i) => ({ id: id(p, i), label: `${NAMES[p]}, lr ${lr}`, config: { placement: p, lr, minLr: lr / 10 } })));

const periVsPre = (i: number): Claim => ({
  id: `peri-${i}`,
  text: `Peri-LN is at least as good as Pre-LN at lr ${LRS[i]}`,
  conditions: [{ kind: 'atMost', a: ref(id('peri', i), 'finalValLoss'), b: ref(id('pre', i), 'finalValLoss'), tolerance: 0.02 }],
});

export const placementZoo: Experiment = {
  name: 'placement-zoo',
  title: 'Every norm placement across a learning-rate sweep',
  finding: 'final loss and failure rate of Pre-, Post-, Peri-, Sandwich- and Mix-LN over learning rates',
  paper: {
    citation:
      'Xiong et al. 2020 (Pre- vs Post-LN, ICML); Ding et al. 2021, "CogView" (Sandwich-LN, NeurIPS); Li et al. 2024, "Mix-LN: Unleashing the Power of Deeper Layers by Combining Pre-LN and Post-LN"; Kim et al. 2025, "Peri-LN" (ICML)',
    found:
      'Post-LN is the least stable placement at large learning rates (Xiong et al.). Sandwich-LN was introduced to stop CogView\'s training from diverging; Mix-LN (Post-LN in the first ⌊ρL⌋ layers, Pre-LN after) is reported to train better than either alone; Kim et al. report that Peri-LN reaches lower loss than Pre-LN with fewer divergent runs across learning rates and seeds.',
  },
  differences:
    'Six layers of width 48, block 32 (full: 6 × 192, block 128), 250 steps (full: 3,000), AdamW with 30 warm-up steps, cosine decay to lr/10 and clipping at 1.0 (which keeps most runs finite); three learning rates. The papers sweep far larger models and budgets; at this scale a placement\'s advantage can be within the seed noise.',
  plans: {
    quick: { base: { ...QUICK, nLayer: 6, nEmbd: 48, blockSize: 32, maxIters: 250 }, arms, seeds: 3 },
    full: { base: { ...FULL }, arms, seeds: 3 },
  },
  claims: [
    {
      id: 'post-fragile',
      text: 'At the highest learning rate Post-LN fails more often, or ends worse, than Pre-LN',
      conditions: [
        {
          kind: 'any',
          of: [
            { kind: 'less', a: ref(id('pre', 2), 'failed'), b: ref(id('post', 2), 'failed'), sd: 2, minDiff: 0.3 },
            { kind: 'less', a: ref(id('pre', 2), 'finalValLoss'), b: ref(id('post', 2), 'finalValLoss'), sd: 2, minDiff: 0.05 },
          ],
        },
      ],
      notes: {
        reproduced:
          "Read the table before the verdict: in the quick runs Post-LN failed at every learning rate, not only the highest — it never left the plateau at the unigram loss that Post-LN shows early in training at this size (the warm-up experiment's report describes it) — so the sweep shows Post-LN's slow start more than a learning-rate limit. Mix-LN, whose first layer is Post-LN here (⌊0.25·6⌋ = 1), trains in two of three runs at the lowest learning rate and in none at the higher ones.",
      },
    },
    ...LRS.map((_, i) => periVsPre(i)),
  ],
  columns: [],
  figures: [
    {
      kind: 'sweep',
      title: 'Final validation loss by learning rate',
      metric: 'finalValLoss',
      x: LRS,
      logX: true,
      groups: PLACEMENTS.map((p) => ({ label: NAMES[p], arms: LRS.map((_, i) => id(p, i)) })),
      xLabel: 'learning rate',
      yLabel: 'nats',
    },
    {
      kind: 'sweep',
      title: 'Share of failed runs by learning rate',
      metric: 'failed',
      x: LRS,
      logX: true,
      groups: PLACEMENTS.map((p) => ({ label: NAMES[p], arms: LRS.map((_, i) => id(p, i)) })),
      xLabel: 'learning rate',
      yLabel: 'failed / seeds',
    },
  ],
};
