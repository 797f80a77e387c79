// Lesion study (Veit et al. 2016, §4): the trained model's validation loss with one block left out —
// the stream passes that block unchanged (GPT.forward's skipBlocks) — for every block in turn, on
// fixed batches. In a residual stack each block adds to a stream the others also read, so removing
// one should hurt a little; without shortcuts every later block loses its input.

import type { GPT } from '../../models/gpt.ts';
import { noGrad } from '../../tensor/autograd.ts';
import { readAfterScope } from '../../tensor/arena.ts';
import { tensor } from '../../tensor/tensor.ts';
import type { Batch } from '../../data/corpus.ts';

export interface LesionResult {
  /** Mean loss of the whole model on the batches. */
  full: number;
  /** lesioned[i]: mean loss with block i left out. */
  lesioned: number[];
}

/**
 * Mean loss over the batches (each (B, T)), with `skip` blocks left out; in evaluation mode unless
 * `mode` is 'train' (BatchNorm then uses each batch's statistics, and updates its running ones).
 */
export async function batchesLoss(model: GPT, batches: readonly Batch[], B: number, T: number, skip?: ReadonlySet<number>, mode: 'eval' | 'train' = 'eval'): Promise<number> {
  const be = model.backend;
  const wasTraining = model.training;
  model.train(mode === 'train');
  let sum = 0;
  try {
    for (const { x, y } of batches) {
      const opts = { backend: be, dtype: 'int32' } as const;
      const v = await readAfterScope(() => noGrad(() => model.forward(tensor(x, [B, T], opts), tensor(y, [B, T], opts), undefined, skip ? { skipBlocks: skip } : {}).loss!));
      sum += v[0];
    }
  } finally {
    model.train(wasTraining);
  }
  return sum / batches.length;
}

export async function lesionStudy(model: GPT, batches: readonly Batch[], B: number, T: number): Promise<LesionResult> {
  const full = await batchesLoss(model, batches, B, T);
  const lesioned: number[] = [];
  for (let i = 0; i < model.config.nLayer; i++) lesioned.push(await batchesLoss(model, batches, B, T, new Set([i])));
  return { full, lesioned };
}

/**
 * How much of what the model learned a lesion undoes: (L_lesioned − L_full)/(L_uniform − L_full),
 * 0 = no harm, 1 = back to guessing uniformly (L_uniform = ln V).
 */
export function lesionDamage(r: LesionResult, uniformLoss: number): number[] {
  const learned = uniformLoss - r.full;
  return r.lesioned.map((l) => (learned > 0 ? (l - r.full) / learned : Number.NaN));
}
