// What one training step holds in wasm memory, beside what it must hold: the persistent state
// (parameters, their gradients and AdamW's two moments), the activations its forward leaves for
// backward, and the peak while the step runs. Every tensor the forward recorded is kept until backward
// passes it (backward's freeGraph frees it then), so "forward-held" is an upper bound on what backward
// needs: a peak close to persistent + forward-held means the step keeps nothing else alive.

import type { Backend } from '../src/backend/backend.ts';
import { AdamW } from '../src/optim/adamw.ts';
import { stepScope } from '../src/tensor/arena.ts';
import { backward } from '../src/tensor/autograd.ts';
import { inputTensor, TrainStep } from '../src/train/step.ts';
import type { ModelSetup } from './model-step.ts';
import { runPythonReference } from './python-reference.ts';
import type { Row } from './report.ts';
import type { StepCase } from './train-step.ts';

export interface StepMemory {
  /** Parameters, gradients and AdamW's m and v, bytes. */
  persistent: number;
  /** Live bytes the forward added (its inputs, every recorded tensor and the loss). */
  forwardHeld: number;
  /** The highest live bytes while one eager step ran, from a backend that had run nothing else. */
  peak: number;
  /** The same for the captured step (the program's replay), which is what `resnorm train` runs. */
  peakCaptured: number;
}

const liveBytes = (be: Backend) => be.memoryStats().liveBytes;

/**
 * Measures on `be`, which must be fresh (its peak so far is this function's): one eager forward and
 * backward first (the eager peak), then a captured step and two replays (the captured peak, the same
 * or higher: a capture holds its program's buffers).
 */
export async function measureStepMemory(be: Backend, setup: (be: Backend) => ModelSetup): Promise<StepMemory> {
  const { model, loss, batch } = setup(be);
  const store = model.store!;
  const opt = new AdamW(store);
  const before = liveBytes(be);
  let forwardHeld = 0;
  stepScope(() => {
    const l = loss(batch.map((b) => inputTensor(model, b)));
    forwardHeld = liveBytes(be) - before;
    store.zeroGrad();
    backward(l, undefined, { freeGraph: true });
  });
  // Parameters and gradients were allocated with the store, m and v with AdamW: all before `before`.
  const persistent = store.size * (2 * (store.data.dtype === 'float64' ? 8 : 4) + 2 * 4);
  const peak = be.memoryStats().peakBytes;
  const stepper = new TrainStep(model, opt, { loss });
  try {
    for (let i = 0; i < 3; i++) await stepper.runBatch(batch, { gradClip: 1 });
    return { persistent, forwardHeld, peak, peakCaptured: be.memoryStats().peakBytes };
  } finally {
    stepper.release();
    for (const s of [opt.m, opt.v]) be.free(s);
    store.release();
  }
}

const MiB = (b: number) => b / 2 ** 20;

/** What PyTorch's autograd saves for backward in one forward of the same GPT and batch (bench/reference.py); null without torch. */
export function torchSavedBytes(c: StepCase): number | null {
  return runPythonReference<{ savedBytes: number }>({ kind: 'saved_tensors', config: c.config, batch: c.batch })?.savedBytes ?? null;
}

/** The rows; `torchSaved` (bytes) is PyTorch's figure for what backward needs, the reference of the forward-held row. */
export function stepMemoryRows(m: StepMemory, at: string, torchSaved: number | null): Row[] {
  const row = { section: 'memory', case: at, unit: 'MiB', lowerIsBetter: true };
  const bound = m.persistent + m.forwardHeld;
  return [
    { ...row, bench: 'step memory: parameters, gradients, AdamW m and v', value: MiB(m.persistent) },
    { ...row, bench: 'step memory: held by the forward for backward', value: MiB(m.forwardHeld),
      ...(torchSaved ? { reference: { name: "pytorch autograd's saved tensors", value: MiB(torchSaved) } } : {}),
      note: 'every tensor the forward recorded: an upper bound on what backward needs' },
    { ...row, bench: 'peak live wasm memory, eager step', value: MiB(m.peak), reference: { name: 'persistent + forward-held', value: MiB(bound) },
      note: `${(m.peak / bound).toFixed(3)}× the bound: beyond it, the gradients in flight during backward` },
    { ...row, bench: 'peak live wasm memory, captured step', value: MiB(m.peakCaptured), reference: { name: 'persistent + forward-held', value: MiB(bound) },
      note: `${(m.peakCaptured / bound).toFixed(3)}× the bound` },
    ...(torchSaved ? [{ ...row, bench: 'peak live wasm memory, captured step', value: MiB(m.peakCaptured),
      reference: { name: 'persistent + pytorch-saved', value: MiB(m.persistent + torchSaved) },
      note: `${(m.peakCaptured / (m.persistent + torchSaved)).toFixed(3)}× parameters, gradients and AdamW state plus what PyTorch saves for backward` }] : []),
  ];
}
