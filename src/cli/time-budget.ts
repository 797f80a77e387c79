// `--budget-minutes`: fits the number of iterations to a time budget by timing a few steps of a
// throwaway copy of the model first (so the real run stays deterministic), and says what it chose.

import { GPT } from '../models/gpt.ts';
import { modelConfigOf, type TrainConfig } from '../train/config.ts';
import { Trainer } from '../train/trainer.ts';

export async function chooseIterations(config: TrainConfig, vocabSize: number, data: { train: Int32Array; val: Int32Array }, budgetMinutes: number): Promise<TrainConfig> {
  const probe = new Trainer(GPT.create(modelConfigOf(config, vocabSize), { seed: config.seed }), config, data);
  await probe.trainStep(); // warm-up: lets V8 compile the hot paths
  const t0 = performance.now();
  const reps = 2;
  for (let i = 0; i < reps; i++) await probe.trainStep();
  const stepSec = (performance.now() - t0) / 1000 / reps;
  probe.dispose(); // the probe's captured step, weights and optimizer state
  // Five evaluations, each 2 × evalIters forward-only batches (≈ a third of a step each).
  const evalIters = Math.min(config.evalIters, 8);
  const evalSec = 5 * ((2 * evalIters * stepSec) / 3);
  // 25% margin: the machine may be busier during the run than while timing.
  const usable = budgetMinutes * 60 * 0.75 - evalSec;
  const iters = Math.max(10, Math.min(config.maxIters, Math.floor(usable / stepSec)));
  const chosen: TrainConfig = {
    ...config,
    maxIters: iters,
    evalIters,
    evalInterval: Math.max(1, Math.ceil(iters / 5)),
    warmupIters: Math.min(config.warmupIters, Math.floor(iters / 10)),
    logInterval: Math.max(1, Math.min(config.logInterval, Math.ceil(iters / 50))),
  };
  const full = ((config.maxIters * stepSec) / 60).toFixed(0);
  console.log(
    `time budget ${budgetMinutes} min: one step takes ${stepSec.toFixed(2)} s here, so this run trains ${iters} iterations` +
      (iters < config.maxIters ? ` instead of ${config.maxIters} (which would take ~${full} min; pass --max-iters ${config.maxIters} to train them all)` : '') +
      `, evaluating every ${chosen.evalInterval} steps on ${evalIters} batches`,
  );
  return chosen;
}
