// One captured training step (TrainStep.runBatch, as `resnorm train` takes it) of a task model beside
// the same model on the same batch in PyTorch (bench/reference_models.py) at its best thread setting.
// The request carries resnorm's parameter count and the PyTorch side exits when its own differs, so a
// row is never a comparison of two different models; that failure stops the bench here.

import type { Backend } from '../src/backend/backend.ts';
import { createRefBackend } from '../src/backend/ref/ref-backend.ts';
import type { ParameterStore } from '../src/nn/parameter-store.ts';
import { AdamW } from '../src/optim/adamw.ts';
import { TrainStep, type HostInput, type LossFn } from '../src/train/step.ts';
import { describeTorch, findTorchPython, runTorchTimed, torchRefName, type TorchTimes } from './python-reference.ts';
import { timeMsAsync, type Row } from './report.ts';

/** A model on a backend, its task's loss and one batch from the task (the same batch every step, as PyTorch's). */
export interface ModelSetup {
  model: { readonly store: ParameterStore | null };
  loss: LossFn;
  batch: HostInput[];
  /** The model's whole config, as PyTorch's builder reads it (and checks its design fields). */
  config: object;
}

export interface ModelStepCase {
  name: string;
  /** bench/reference.py's request kind. */
  kind: string;
  batchSize: number;
  /** Timed steps (after two warm-ups: the first one captures), quick and full. */
  reps: { quick: number; full: number };
  /** Deterministic: the same seeds give the same model and batch on every backend. */
  setup(backend: Backend): ModelSetup;
  /** The batch as the request carries it; absent: PyTorch draws one of the same shapes (values do not change its work). */
  torchInputs?(batch: readonly HostInput[]): Record<string, number[]>;
}

/** PyTorch's step: the TorchTimes of every setting, and resnorm's parameter count that PyTorch's matched. */
export interface TorchModelStep {
  times: TorchTimes;
  params: number;
}

export function torchModelStep(c: ModelStepCase, threadCounts: readonly number[], reps: number): TorchModelStep | null {
  if (!findTorchPython()) return null;
  const { model, batch, config } = c.setup(createRefBackend());
  const params = model.store!.size;
  model.store!.release();
  const request = { kind: c.kind, config, batch: c.batchSize, params, inputs: c.torchInputs?.(batch) ?? null, reps, warmup: 2 };
  const times = runTorchTimed(request, threadCounts);
  if (!times) {
    throw new Error(`bench models: PyTorch's ${c.kind} for '${c.name}' failed (its message is above: a parameter count other than resnorm's ${params} means ` +
      'bench/reference_models.py no longer builds the same model; fix it there rather than drop the row)');
  }
  return { times, params };
}

export async function benchModelStep(backend: Backend, c: ModelStepCase, reps: number, torch: TorchModelStep | null, label: string): Promise<Row> {
  const { model, loss, batch } = c.setup(backend);
  const store = model.store!;
  const opt = new AdamW(store);
  const stepper = new TrainStep(model, opt, { loss });
  const ms = await timeMsAsync(() => stepper.runBatch(batch, { gradClip: 1 }), reps, 2);
  const how = stepper.describe().split(' (')[0]; // "captured once, then replayed" or "eager"
  stepper.release();
  for (const s of [opt.m, opt.v]) backend.free(s);
  const params = store.size;
  store.release();
  const counts = torch ? `${params} parameters = PyTorch's` : `${params} parameters`;
  return {
    section: 'models', bench: `train step ${label}`, case: c.name, value: ms, unit: 'ms/step', lowerIsBetter: true,
    ...(torch ? { reference: { name: torchRefName(torch.times), value: torch.times.best.ms } } : {}),
    note: [counts, how, torch ? describeTorch(torch.times) : null].filter(Boolean).join('; '),
  };
}
