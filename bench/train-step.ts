// Time of one full training step (forward, backward, clipping, AdamW) of a GPT, and tokens/s, beside
// the same model and batch in PyTorch (bench/reference.py) at its best thread setting: the fastest over
// torch threads × OpenBLAS threads, each in its own process (bench/python-reference.ts).

import type { Backend } from '../src/backend/backend.ts';
import { GPT, DEFAULT_GPT_CONFIG, type GPTConfig } from '../src/models/gpt.ts';
import { AdamW } from '../src/optim/adamw.ts';
import { lmInputs, lmLoss, TrainStep } from '../src/train/step.ts';
import type { ModelSetup } from './model-step.ts';
import { Rng } from '../src/tensor/index.ts';
import { describeTorch, runTorchTimed, torchRefName, type TorchTimes } from './python-reference.ts';
import { timeMsAsync, type Row } from './report.ts';

export interface StepCase {
  name: string;
  config: GPTConfig;
  batch: number;
}

export const DEFAULT_STEP_CASE: StepCase = { name: 'default (L4 C128 T64 B12)', config: { ...DEFAULT_GPT_CONFIG, vocabSize: 65 }, batch: 12 };
export const LARGE_STEP_CASE: StepCase = {
  name: 'large (L6 H6 C384 T256 B8)',
  config: { ...DEFAULT_GPT_CONFIG, vocabSize: 65, nLayer: 6, nHead: 6, nEmbd: 384, blockSize: 256 },
  batch: 8,
};

/** The GPT of a case, its loss and one batch of random tokens (the same ids as inputs and targets). */
export function gptSetup(backend: Backend, c: StepCase): ModelSetup {
  const model = GPT.create(c.config, { backend, seed: 0 });
  const rng = new Rng(0);
  const T = c.config.blockSize;
  const ids = Int32Array.from({ length: c.batch * T }, () => rng.int(c.config.vocabSize));
  return { model, loss: lmLoss(model), batch: lmInputs(ids, ids, c.batch, T), config: c.config };
}

/** PyTorch's step at every (torch threads, OpenBLAS threads) pair from `threadCounts` (the bench: 1..cores). */
export function torchTrainStep(c: StepCase, threadCounts: readonly number[], reps: number, warmup: number): TorchTimes | null {
  return runTorchTimed({ kind: 'train_step', config: c.config, batch: c.batch, reps, warmup }, threadCounts);
}

/**
 * `captured` (what `resnorm train` runs): TrainStep, which replays a recorded forward and backward where
 * the backend can; false: optimizationStep, every op issued from JavaScript each step.
 */
export async function benchTrainStep(backend: Backend, c: StepCase, reps: number, torch: TorchTimes | null, label: string, captured = true): Promise<Row[]> {
  const model = GPT.create(c.config, { backend, seed: 0 });
  const opt = new AdamW(model.store!);
  const rng = new Rng(0);
  const T = c.config.blockSize;
  const ids = Int32Array.from({ length: c.batch * T }, () => rng.int(c.config.vocabSize));
  const stepper = new TrainStep(model, opt, { capture: captured });
  const step = () => stepper.run(ids, ids, c.batch, T, { gradClip: 1 });
  const ms = await timeMsAsync(step, reps, 2);
  stepper.release();
  const tokens = c.batch * T;
  const ref = (value: number) => (torch ? { reference: { name: torchRefName(torch), value } } : {});
  const note = torch ? describeTorch(torch) : undefined;
  return [
    { section: 'train step', bench: `train step ${label}`, case: c.name, value: ms, unit: 'ms/step', lowerIsBetter: true, ...ref(torch?.best.ms ?? 0), note },
    { section: 'train step', bench: `train step ${label}`, case: c.name, value: (tokens * 1000) / ms, unit: 'tokens/s', ...ref((tokens * 1000) / (torch?.best.ms ?? 1)) },
  ];
}
