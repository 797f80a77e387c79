// Experiment 6: the residual stream's RMS by depth for Pre-, Post- and Peri-LN.

import type { Experiment } from '../index-types.ts';
import { arm, FULL, QUICK, ref } from './common.ts';

const arms = [
  arm('pre', 'Pre-LN', { placement: 'pre' }, ['stream-rms']),
  arm('post', 'Post-LN', { placement: 'post' }, ['stream-rms']),
  arm('peri', 'Peri-LN', { placement: 'peri' }, ['stream-rms']),
];

export const streamGrowth: Experiment = {
  name: 'stream-growth',
  title: "The residual stream's size by depth: Pre-LN grows, Post-LN is reset, Peri-LN bounds it",
  finding: "Pre-LN's residual RMS grows with depth, Post-LN's stays constant, Peri-LN bounds it",
  paper: {
    citation: 'Xiong et al. 2020 (ICML), Lemma 2; Kim et al. 2025, "Peri-LN: Revisiting Normalization Layer in the Transformer Architecture" (ICML)',
    found:
      "Xiong et al. (Lemma 2) show that at initialisation Post-LN's stream has the same expected squared norm (d) after every layer, while Pre-LN's grows linearly with the layer index. Kim et al. find that in trained Pre-LN models the hidden states' variance grows large with depth (massive activations), that Post-LN keeps it fixed at the cost of weaker gradients, and that Peri-LN — normalising each sub-layer's input and output, and the embedding — keeps the growth moderate and trains more stably.",
  },
  differences:
    'Twelve layers of width 64 (full: 192), 300 steps on characters; the papers study models of hundreds of millions of parameters over billions of tokens, where Pre-LN\'s growth is far larger. We read the stream\'s RMS leaving each block from the diagnostics probe (4 validation sequences) at the last step, and summarise it as RMS after the last block over RMS after the first.',
  plans: {
    quick: { base: { ...QUICK, nLayer: 12, blockSize: 32 }, arms, seeds: 3 },
    full: { base: { ...FULL, nLayer: 12 }, arms, seeds: 3 },
  },
  claims: [
    { id: 'pre-grows', text: "Pre-LN's residual stream grows with depth", conditions: [{ kind: 'above', ref: ref('pre', 'streamGrowth'), pass: 2, fail: 1.2 }] },
    {
      id: 'post-constant',
      text: "Post-LN's residual stream stays the same size",
      conditions: [
        { kind: 'above', ref: ref('post', 'streamGrowth'), pass: 0.8, fail: 0.67 },
        { kind: 'below', ref: ref('post', 'streamGrowth'), pass: 1.25, fail: 1.5 },
      ],
    },
    {
      id: 'peri-bounds',
      text: "Peri-LN's stream grows less than Pre-LN's",
      conditions: [{ kind: 'less', a: ref('peri', 'streamGrowth'), b: ref('pre', 'streamGrowth'), sd: 2 }],
      notes: {
        inconclusive:
          "At this budget both streams grow by a similar factor from the first block to the last, from different starts: Peri-LN normalises the embedding (ln_e) and every sub-layer's output, so its stream starts near RMS 1 and adds about one unit of RMS per sub-layer; Pre-LN's starts at the raw embedding's small scale (GPT-2's init, std 0.02) and is still below 1 after 300 steps. Kim et al.'s contrast is about long training, where Pre-LN's un-normalised updates grow the stream by orders of magnitude (massive activations); a few hundred steps of a tiny model do not get there.",
        'not reproduced':
          "Peri-LN adds a normalised update (RMS ≈ its gain) in every sub-layer, so its stream grows steadily (≈ sqrt of the number of sub-layers, if the updates are uncorrelated), while Pre-LN's updates are still small after a short training from GPT-2's small init. Kim et al.'s contrast is about long training, where Pre-LN's stream grows by orders of magnitude.",
      },
    },
  ],
  columns: [
    { metric: 'streamGrowth', label: 'RMS last block / first block' },
    { metric: 'streamRmsLast', label: 'RMS after the last block' },
  ],
  figures: [
    { kind: 'series', title: 'Residual stream RMS leaving each block (end of training)', series: 'streamRms', logY: true, xLabel: 'block', yLabel: 'RMS' },
    { kind: 'curves', title: 'Validation loss' },
  ],
};
