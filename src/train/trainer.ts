// The training loop: random batches, forward, backward, clipping, AdamW with warmup + cosine decay,
// periodic evaluation. Pure of side effects: progress, files and signals are the caller's hooks, so the
// same loop runs under the CLI, in tests and in a browser worker.

import { sampleBatch } from '../data/corpus.ts';
import type { GPT } from '../models/gpt.ts';
import { AdamW } from '../optim/adamw.ts';
import { learningRate, type LrSchedule } from '../optim/schedule.ts';
import { Rng, type RngState } from '../tensor/rng.ts';
import type { TrainConfig } from './config.ts';
import { estimateLoss } from './evaluate.ts';
import { TrainStep } from './step.ts';

export { NonFiniteLossError } from './step.ts';

export interface StepMetrics {
  step: number;
  trainLoss: number;
  lr: number;
  gradNorm: number;
  /** Milliseconds this step took. */
  ms: number;
}

export interface EvalMetrics {
  step: number;
  trainLoss: number;
  valLoss: number;
}

/** Everything besides weights and optimizer moments that a resumed run needs to continue exactly. */
export interface TrainerState {
  step: number;
  dataRng: RngState;
  dropoutRng: RngState;
  bestValLoss: number | null;
  lastValLoss: number | null;
}

export interface TrainerHooks {
  /** After every step; may return a promise (the CLI yields to the event loop here to see Ctrl-C). */
  onStep?: (m: StepMetrics) => void | Promise<void>;
  onEval?: (m: EvalMetrics) => void | Promise<void>;
  /** Checked after each step: true stops the loop cleanly (the caller then saves). */
  shouldStop?: () => boolean;
}

export class Trainer {
  readonly opt: AdamW;
  /** Takes the steps: captured and replayed where the backend can (see TrainStep). */
  readonly stepper: TrainStep;
  readonly dataRng: Rng;
  step = 0;
  bestValLoss: number | null = null;
  lastValLoss: number | null = null;
  readonly schedule: LrSchedule;

  constructor(
    readonly model: GPT,
    readonly config: TrainConfig,
    readonly data: { train: Int32Array; val: Int32Array },
  ) {
    this.opt = new AdamW(model.store!, { lr: config.lr, beta1: config.beta1, beta2: config.beta2, eps: 1e-8, weightDecay: config.weightDecay });
    this.stepper = new TrainStep(model, this.opt);
    this.dataRng = new Rng(config.seed ^ 0x2545f491);
    this.schedule = { maxLr: config.lr, minLr: config.minLr, warmupIters: config.warmupIters, decayIters: config.lrDecayIters ?? config.maxIters };
    // Fail now, with the data's own message, rather than at the first batch or evaluation.
    sampleBatch(data.train, 1, model.config.blockSize, () => 0, 'training split');
    sampleBatch(data.val, 1, model.config.blockSize, () => 0, 'validation split');
  }

  getState(): TrainerState {
    return { step: this.step, dataRng: this.dataRng.getState(), dropoutRng: this.model.dropoutRng.getState(), bestValLoss: this.bestValLoss, lastValLoss: this.lastValLoss };
  }

  setState(s: TrainerState): void {
    this.step = s.step;
    this.opt.step = s.step;
    this.dataRng.setState(s.dataRng);
    this.model.dropoutRng.setState(s.dropoutRng);
    this.bestValLoss = s.bestValLoss;
    this.lastValLoss = s.lastValLoss;
  }

  /**
   * Frees what training holds in the backend: the captured step, the weights, gradients and AdamW
   * moments. The trainer and its model are unusable afterwards.
   */
  dispose(): void {
    this.stepper.release();
    this.model.store!.release(); // weights, gradients and buffers
    for (const s of [this.opt.m, this.opt.v]) this.model.backend.free(s);
  }

  /** One optimisation step on a fresh random batch (one read from the backend, awaited). */
  async trainStep(): Promise<StepMetrics> {
    const t0 = performance.now();
    const { batchSize: B, gradClip } = this.config;
    const T = this.model.config.blockSize;
    const lr = learningRate(this.step, this.schedule);
    const { x, y } = sampleBatch(this.data.train, B, T, this.dataRng, 'training split');
    const { loss, gradNorm } = await this.stepper.run(x, y, B, T, { gradClip, lr, step: this.step });
    this.step++;
    return { step: this.step, trainLoss: loss, lr, gradNorm, ms: performance.now() - t0 };
  }

  /** Train and validation loss over fixed batches (evalIters of them). */
  async evaluate(): Promise<EvalMetrics> {
    const { batchSize, evalIters, seed } = this.config;
    const trainLoss = await estimateLoss(this.model, this.data.train, batchSize, evalIters, seed + 1);
    const valLoss = await estimateLoss(this.model, this.data.val, batchSize, evalIters, seed + 2);
    this.lastValLoss = valLoss;
    if (this.bestValLoss === null || valLoss < this.bestValLoss) this.bestValLoss = valLoss;
    return { step: this.step, trainLoss, valLoss };
  }

  /** Trains until `maxIters` (or shouldStop), evaluating every evalInterval steps and at the end. */
  async run(maxIters: number, hooks: TrainerHooks = {}): Promise<'done' | 'stopped'> {
    while (this.step < maxIters) {
      const m = await this.trainStep();
      await hooks.onStep?.(m);
      if (this.step % this.config.evalInterval === 0 || this.step === maxIters) {
        const e = await this.evaluate(); // not inside `hooks.onEval?.(…)`: `?.` would skip evaluating it
        await hooks.onEval?.(e);
      }
      if (hooks.shouldStop?.()) return this.step < maxIters ? 'stopped' : 'done';
    }
    return 'done';
  }
}
