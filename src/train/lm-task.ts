// The language-model task: next-token prediction on a token stream (nanoGPT's random windows),
// with the GPT's loss, its loss estimate, Admin's profile and a probe of validation windows.

import { sampleBatch } from '../data/corpus.ts';
import { profileAdmin } from '../models/admin.ts';
import type { GPT } from '../models/gpt.ts';
import type { Rng } from '../tensor/rng.ts';
import { Rng as Generator } from '../tensor/rng.ts';
import { tensor } from '../tensor/tensor.ts';
import { estimateLoss } from './evaluate.ts';
import { lmLoss, type HostInput } from './step.ts';
import type { TaskEvaluation, TaskProbe, TrainTask } from './task.ts';

/** Token ids of the two splits. */
export interface LmData {
  train: Int32Array;
  val: Int32Array;
}

export class LmTask implements TrainTask<GPT> {
  readonly loss;

  constructor(
    readonly model: GPT,
    readonly data: LmData,
  ) {
    this.loss = lmLoss(model);
    // Fail now, with the data's own message, rather than at the first batch or evaluation.
    sampleBatch(data.train, 1, model.config.blockSize, () => 0, 'training split');
    sampleBatch(data.val, 1, model.config.blockSize, () => 0, 'validation split');
  }

  trainBatch(rng: Rng, B: number): HostInput[] {
    const T = this.model.config.blockSize;
    const { x, y } = sampleBatch(this.data.train, B, T, rng, 'training split');
    return [
      { data: x, shape: [B, T] },
      { data: y, shape: [B, T] },
    ];
  }

  async evaluate(batchSize: number, iters: number, seed: number): Promise<TaskEvaluation> {
    const trainLoss = await estimateLoss(this.model, this.data.train, batchSize, iters, seed + 1);
    const valLoss = await estimateLoss(this.model, this.data.val, batchSize, iters, seed + 2);
    return { trainLoss, valLoss };
  }

  async initialise(rng: Rng, B: number): Promise<void> {
    if (this.model.config.residual !== 'admin') return;
    const T = this.model.config.blockSize;
    const { x } = sampleBatch(this.data.train, B, T, rng, 'training split');
    await profileAdmin(this.model, tensor(x, [B, T], { backend: this.model.backend, dtype: 'int32' }));
  }

  probe(sequences: number, seed: number): TaskProbe {
    const T = this.model.config.blockSize;
    const { x } = sampleBatch(this.data.val, sequences, T, new Generator(seed), 'validation split');
    const probe = { ids: x, sequences, length: T, source: 'validation split', seed };
    return { probe, forward: () => this.model.forward(tensor(probe.ids, [sequences, T], { backend: this.model.backend, dtype: 'int32' })) };
  }
}
