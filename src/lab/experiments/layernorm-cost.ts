// Experiment 13: "LayerNorm is cheap": its share of the FLOPs and of the step time, per kernel.

import type { Experiment } from '../index-types.ts';
import { arm, FULL, QUICK, ref } from './common.ts';

const profile = ['kernel-profile'] as const;
const arms = (wide: number) => [
  { ...arm('width-64', 'width 64', { nEmbd: 64 }, [...profile]), train: false },
  { ...arm(`width-${wide}`, `width ${wide}`, { nEmbd: wide }, [...profile]), train: false },
];

export const layernormCost: Experiment = {
  name: 'layernorm-cost',
  title: '"LayerNorm is cheap": its share of the FLOPs and of the step time',
  finding: "LayerNorm is a sliver of the FLOPs but a several-times larger share of the step's time",
  timing: true,
  paper: {
    citation: 'Ivanov, Dryden, Ben-Nun, Li & Hoefler 2021, "Data Movement Is All You Need: A Case Study on Optimizing Transformers" (MLSys)',
    found:
      'Counting FLOPs, normalization looks free. Profiling BERT-large training on a GPU, the paper reports that tensor contractions perform about 99.8% of the FLOPs yet take only about 61% of the runtime; the rest goes to memory-bound operators — statistical normalizations (LayerNorm, softmax) and element-wise ones — whose share of the time is far larger than their share of the arithmetic (§3).',
  },
  differences:
    'A CPU (WebAssembly SIMD) backend instead of a GPU, and tiny models (4 layers, width 64 and 256, block 64, batch 16). LayerNorm here is one fused kernel forward and one backward; per-call overheads of the JavaScript engine sit outside the kernels and are not attributed to any. FLOPs are counted by the conventions in src/lab/analysis/kernel-profile.ts.',
  plans: {
    quick: { base: { ...QUICK }, arms: arms(256), seeds: 3 },
    full: { base: { ...FULL, nHead: 4 }, arms: arms(768), seeds: 3 },
  },
  claims: [
    { id: 'flops', text: 'LayerNorm is under 2% of the FLOPs of a training step', conditions: [{ kind: 'below', ref: ref('width-64', 'layernormFlopShare'), pass: 0.02, fail: 0.05 }] },
    {
      id: 'memory-bound',
      text: 'Its share of the step time is at least 3× its share of the FLOPs (it is memory-bound)',
      conditions: [{ kind: 'above', ref: ref('width-64', 'normTimeOverFlopShare'), pass: 3, fail: 1.5 }],
    },
    { id: 'cheap', text: 'LayerNorm takes under 10% of the step time', conditions: [{ kind: 'below', ref: ref('width-64', 'layernormTimeShare'), pass: 0.1, fail: 0.2 }] },
  ],
  columns: [
    { metric: 'layernormFlopShare', label: 'LN share of FLOPs' },
    { metric: 'layernormTimeShare', label: 'LN share of step time' },
    { metric: 'normTimeOverFlopShare', label: 'time share / FLOP share' },
    { metric: 'profileStepMs', label: 'eager step (ms)', digits: 3 },
  ],
  figures: [
    { kind: 'series', title: 'Time per kernel per step', series: 'kernelMs', logY: true, xLabel: 'kernel', yLabel: 'ms per step' },
    { kind: 'bars', title: "LayerNorm's share of the step time", metric: 'layernormTimeShare', yLabel: 'share' },
  ],
};
