// Time of one full training step (forward, backward, clipping, AdamW) of a GPT, and tokens/s.

import type { Backend } from '../src/backend/backend.ts';
import { GPT, DEFAULT_GPT_CONFIG, type GPTConfig } from '../src/models/gpt.ts';
import { AdamW } from '../src/optim/adamw.ts';
import { optimizationStep } from '../src/train/step.ts';
import { Rng } from '../src/tensor/index.ts';
import { timeMs, type Row } from './report.ts';

export interface StepCase {
  name: string;
  config: GPTConfig;
  batch: number;
}

export const DEFAULT_STEP_CASE: StepCase = { name: 'default (L4 C128 T64 B12)', config: { ...DEFAULT_GPT_CONFIG, vocabSize: 65 }, batch: 12 };

export function benchTrainStep(backend: Backend, c: StepCase, reps: number, referenceMs: number | null, label = backend.name): Row[] {
  const model = GPT.create(c.config, { backend, seed: 0 });
  const opt = new AdamW(model.store!);
  const rng = new Rng(0);
  const T = c.config.blockSize;
  const ids = Int32Array.from({ length: c.batch * T }, () => rng.int(c.config.vocabSize));
  const step = () => optimizationStep(model, opt, ids, ids, c.batch, T, { gradClip: 1 });
  const ms = timeMs(step, reps, 1);
  const tokens = c.batch * T;
  const ref = referenceMs !== null ? { reference: { name: 'pytorch', value: (tokens * 1000) / referenceMs } } : {};
  return [
    { bench: `train step ${label}`, case: c.name, value: ms, unit: 'ms/step', ...(referenceMs !== null ? { reference: { name: 'pytorch', value: referenceMs } } : {}) },
    { bench: `train step ${label}`, case: c.name, value: (tokens * 1000) / ms, unit: 'tokens/s', ...ref },
  ];
}
