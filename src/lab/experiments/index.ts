// Every experiment of `resnorm lab`, in the order of the issue that asked for them.

import type { Experiment } from '../experiment.ts';
import { batchnormVsLayernorm } from './batchnorm-vs-layernorm.ts';
import { deepPostLn } from './deep-post-ln.ts';
import { dytVsLayernorm } from './dyt-vs-layernorm.ts';
import { hyperValueResidual } from './hyper-value-residual.ts';
import { initGradients } from './init-gradients.ts';
import { layernormCost } from './layernorm-cost.ts';
import { lesionLogitLens } from './lesion-logit-lens.ts';
import { mlpDepth } from './mlp-depth.ts';
import { noResidual } from './no-residual.ts';
import { placementZoo } from './placement-zoo.ts';
import { residualNormGrid } from './residual-norm-grid.ts';
import { rmsnormVsLayernorm } from './rmsnorm-vs-layernorm.ts';
import { streamGrowth } from './stream-growth.ts';
import { warmup } from './warmup.ts';

export const EXPERIMENTS: readonly Experiment[] = [
  noResidual,
  residualNormGrid,
  initGradients,
  warmup,
  deepPostLn,
  streamGrowth,
  rmsnormVsLayernorm,
  dytVsLayernorm,
  batchnormVsLayernorm,
  placementZoo,
  hyperValueResidual,
  lesionLogitLens,
  layernormCost,
  mlpDepth,
];

export function findExperiment(name: string): Experiment | undefined {
  return EXPERIMENTS.find((e) => e.name === name);
}
