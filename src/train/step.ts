// One optimisation step on one batch: forward, loss check, backward, gradient clipping, AdamW.
// The trainer, the benchmarks and the tests all take their steps through this one function.

import type { GPT } from '../models/gpt.ts';
import type { AdamW } from '../optim/adamw.ts';
import { clipGradNorm } from '../optim/clip.ts';
import { backward } from '../tensor/autograd.ts';
import { stepScope } from '../tensor/arena.ts';
import { tensor } from '../tensor/tensor.ts';

export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
  constructor(
    readonly step: number,
    readonly value: number,
  ) {
    super(`the training loss became ${value} at step ${step}; the last good checkpoint is kept. Try a lower --lr, --grad-clip 1, or --placement pre`);
  }
}

export interface StepOptions {
  /** Global-norm clipping threshold; 0 disables clipping (gradNorm is then NaN). */
  gradClip: number;
  /** Learning rate for this step (defaults to the optimizer's configured one). */
  lr?: number;
  /** Step number, for the message of a NonFiniteLossError. */
  step?: number;
}

/**
 * x, y: (B, T) int32 inputs and targets. Throws NonFiniteLossError before touching the weights when
 * the loss or the gradient norm is not finite. All activations are released on return.
 */
export function optimizationStep(model: GPT, opt: AdamW, x: Int32Array, y: Int32Array, B: number, T: number, o: StepOptions): { loss: number; gradNorm: number } {
  const backend = model.backend;
  return stepScope(() => {
    const out = model.forward(tensor(x, [B, T], { backend }), tensor(y, [B, T], { backend }));
    const loss = out.loss!.item();
    if (!Number.isFinite(loss)) throw new NonFiniteLossError(o.step ?? opt.step, loss);
    model.store!.zeroGrad();
    backward(out.loss!);
    const gradNorm = o.gradClip > 0 ? clipGradNorm(model.store!, o.gradClip) : Number.NaN;
    if (o.gradClip > 0 && !Number.isFinite(gradNorm)) throw new NonFiniteLossError(o.step ?? opt.step, gradNorm);
    opt.update(o.lr);
    return { loss, gradNorm };
  });
}
