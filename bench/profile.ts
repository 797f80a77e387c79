// Where a training step's time goes: every Backend method of one backend wrapped in a timer, the
// default config trained a few steps, each kernel's ms per step and share of the step. This is the
// "why" beside an unmet goal; the wrapper adds a little overhead per call, so shares are approximate.

import type { Backend } from '../src/backend/backend.ts';
import { GPT } from '../src/models/gpt.ts';
import { AdamW } from '../src/optim/adamw.ts';
import { Rng } from '../src/tensor/index.ts';
import { optimizationStep } from '../src/train/step.ts';
import type { Row } from './report.ts';
import type { StepCase } from './train-step.ts';
import { timed } from './wasm/timed.ts';

export async function profileTrainStep(be: Backend, c: StepCase, steps: number, label: string, top = 8): Promise<Row[]> {
  const ms = new Map<string, number>();
  const model = GPT.create(c.config, { backend: timed(be, ms), seed: 0 });
  const opt = new AdamW(model.store!);
  const rng = new Rng(0);
  const T = c.config.blockSize;
  const ids = Int32Array.from({ length: c.batch * T }, () => rng.int(c.config.vocabSize));
  const step = () => optimizationStep(model, opt, ids, ids, c.batch, T, { gradClip: 1 });
  await step();
  ms.clear();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await step();
  const stepMs = (performance.now() - t0) / steps;
  const kernels = [...ms].map(([name, t]) => [name, t / steps] as const).sort((a, b) => b[1] - a[1]);
  const inKernels = kernels.reduce((a, [, t]) => a + t, 0);
  const row = (bench: string, value: number): Row => ({
    section: 'profile', bench, case: `${c.name}, ${label}`, value, unit: 'ms/step', note: `${((100 * value) / stepMs).toFixed(0)}% of the step`,
  });
  return [
    row('whole step (profiled)', stepMs),
    ...kernels.slice(0, top).map(([name, t]) => row(`  ${name}`, t)),
    row('  other kernels', kernels.slice(top).reduce((a, [, t]) => a + t, 0)),
    row('  outside kernels (JS: autograd, arena, ops)', stepMs - inKernels),
  ];
}
