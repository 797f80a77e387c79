// What the trainer needs of a task, and nothing more: batches, a loss, an evaluation, the
// initialisation that needs data, and the diagnostics probe. The language model is one task
// (lm-task.ts); translation, classification and images are others, trained by the same loop with the
// same checkpoints, captured steps and diagnostics.

import type { Backend } from '../backend/backend.ts';
import type { Module } from '../nn/module.ts';
import type { Rng } from '../tensor/rng.ts';
import type { ProbeBatch } from './diagnostics/diagnostics.ts';
import type { HostInput, LossFn } from './step.ts';

/** A model the trainer can train: a materialised Module whose dropout draws from a generator it saves. */
export interface TaskModel extends Module {
  readonly backend: Backend;
  /** Draws dropout seeds; saved in checkpoints so a resumed run continues exactly. */
  readonly dropoutRng: Rng;
}

export interface TaskEvaluation {
  trainLoss: number;
  valLoss: number;
  /** The task's own measures on the validation split (accuracy, BLEU, …), by name. */
  metrics?: Record<string, number>;
}

/** The diagnostics probe: fixed inputs, and the forward pass over them that the taps observe. */
export interface TaskProbe {
  probe: ProbeBatch;
  forward: () => unknown;
}

export interface TrainTask<M extends TaskModel = TaskModel> {
  readonly model: M;
  /** The loss of a batch, from the tensors of trainBatch's inputs in their order. */
  readonly loss: LossFn;
  /** A training batch of `batchSize` examples drawn with `rng` (the trainer's data stream). */
  trainBatch(rng: Rng, batchSize: number): HostInput[];
  /** Train and validation loss over fixed batches (the same on every call for a seed). */
  evaluate(batchSize: number, iters: number, seed: number): Promise<TaskEvaluation>;
  /**
   * Before the first step of a new run: initialisation that needs data (Admin's profiling pass).
   * `rng` is a stream of its own, so the training batches do not change.
   */
  initialise?(rng: Rng, batchSize: number): Promise<void>;
  /** The probe for the diagnostics, from validation data (`seed` picks it); absent: no activation statistics. */
  probe?(sequences: number, seed: number): TaskProbe;
}
