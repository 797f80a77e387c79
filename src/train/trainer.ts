// The training loop: random batches, forward, backward, clipping, AdamW with warmup + cosine decay,
// periodic evaluation. Pure of side effects: progress, files and signals are the caller's hooks, so the
// same loop runs under the CLI, in tests and in a browser worker.

import { GPT } from '../models/gpt.ts';
import { AdamW } from '../optim/adamw.ts';
import { learningRate, type LrSchedule } from '../optim/schedule.ts';
import { Rng, type RngState } from '../tensor/rng.ts';
import type { TrainConfig, TrainerConfig } from './config.ts';
import { Diagnostics, PROBE_SEQUENCES, type DiagnosticsRecord } from './diagnostics/diagnostics.ts';
import { LmTask, type LmData } from './lm-task.ts';
import { TrainStep } from './step.ts';
import type { TaskModel, TrainTask } from './task.ts';

export { NonFiniteLossError } from './step.ts';

export interface StepMetrics {
  step: number;
  trainLoss: number;
  lr: number;
  gradNorm: number;
  /** Milliseconds this step took (diagnostics included). */
  ms: number;
}

export interface TrainerOptions {
  /** Capture steps where the backend can (default true); false runs every step eagerly. */
  capture?: boolean;
  /** Text of one token, for the labels of the attention maps. */
  decodeToken?: (id: number) => string;
}

export interface EvalMetrics {
  step: number;
  trainLoss: number;
  valLoss: number;
  /** The task's own measures on the validation split (accuracy, BLEU, …); absent for the language model. */
  metrics?: Record<string, number>;
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
  /** Diagnostics records (docs/run-directory.md), in the order they belong in diagnostics.jsonl. */
  onDiagnostics?: (records: DiagnosticsRecord[]) => void | Promise<void>;
  /** Checked after each step: true stops the loop cleanly (the caller then saves). */
  shouldStop?: () => boolean;
}

/**
 * Trains a task's model: `new Trainer(task, config, opts)` for any task, or `new Trainer(gpt, config,
 * data, opts)` for the language model on token ids.
 */
export class Trainer<M extends TaskModel = GPT, C extends TrainerConfig = TrainConfig> {
  readonly task: TrainTask<M>;
  readonly model: M;
  readonly opt: AdamW;
  /** Takes the steps: captured and replayed where the backend can (see TrainStep). */
  readonly stepper: TrainStep;
  readonly dataRng: Rng;
  step = 0;
  bestValLoss: number | null = null;
  lastValLoss: number | null = null;
  readonly schedule: LrSchedule;
  /** Null when config.diagInterval is 0. */
  readonly diagnostics: Diagnostics | null;
  /** Seconds for the records' wallTime: since the trainer was made, unless the caller sets its own clock. */
  wallClock: () => number;
  private probeAnnounced = false;
  /** Whether the initialisation that needs data (Admin's profile) has run, or a resumed state made it moot. */
  private initialised = false;

  constructor(model: GPT, config: C, data: LmData, opts?: TrainerOptions);
  constructor(task: TrainTask<M>, config: C, opts?: TrainerOptions);
  constructor(
    taskOrModel: TrainTask<M> | GPT,
    readonly config: C,
    dataOrOpts?: LmData | TrainerOptions,
    lmOpts: TrainerOptions = {},
  ) {
    const lm = taskOrModel instanceof GPT;
    // The overloads tie M to GPT when a GPT is given.
    this.task = (lm ? new LmTask(taskOrModel, dataOrOpts as LmData) : taskOrModel) as TrainTask<M>;
    const opts = (lm ? lmOpts : (dataOrOpts as TrainerOptions | undefined)) ?? {};
    const model = this.task.model;
    this.model = model;
    this.opt = new AdamW(model.store!, { lr: config.lr, beta1: config.beta1, beta2: config.beta2, eps: 1e-8, weightDecay: config.weightDecay });
    this.stepper = new TrainStep(model, this.opt, { capture: opts.capture, loss: this.task.loss });
    const t0 = performance.now();
    this.wallClock = () => (performance.now() - t0) / 1000;
    this.dataRng = new Rng(config.seed ^ 0x2545f491);
    this.schedule = { maxLr: config.lr, minLr: config.minLr, warmupIters: config.warmupIters, decayIters: config.lrDecayIters ?? config.maxIters };
    this.diagnostics = config.diagInterval > 0 ? this.makeDiagnostics(opts) : null;
  }

  /** The probe: fixed validation inputs, the same for every diagnostics step; none when the task has no probe. */
  private makeDiagnostics(opts: TrainerOptions): Diagnostics | null {
    const p = this.task.probe?.(PROBE_SEQUENCES, this.config.seed + 3);
    if (!p) return null;
    return new Diagnostics({ store: this.model.store!, model: this.model, probe: p.probe, forward: p.forward, decodeToken: opts.decodeToken });
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
    this.initialised = true; // the checkpoint holds the weights the initialisation made
  }

  /** Before the first step of a new run: the task's initialisation that needs data, from a random stream of its own. */
  private async initialise(): Promise<void> {
    this.initialised = true;
    await this.task.initialise?.(new Rng(this.config.seed ^ 0x0ad3177), this.config.batchSize);
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

  /**
   * One optimisation step on a fresh random batch (one read from the backend, awaited). With
   * `diagnose` (and diagnostics on) the step is also inspected and the probe run: `diagnostics`
   * then holds its records, with the attention maps when `maps`. Spikes are checked at every step.
   */
  async trainStep(o: { diagnose?: boolean; maps?: boolean } = {}): Promise<StepMetrics & { diagnostics: DiagnosticsRecord[] }> {
    if (!this.initialised && this.step === 0) await this.initialise();
    const t0 = performance.now();
    const { batchSize: B, gradClip } = this.config;
    const lr = learningRate(this.step, this.schedule);
    const batch = this.task.trainBatch(this.dataRng, B);
    const diag = this.diagnostics;
    const inspection = o.diagnose && diag ? diag.inspect() : null;
    const records: DiagnosticsRecord[] = [];
    try {
      const { loss, gradNorm } = await this.stepper.runBatch(batch, { gradClip, lr, step: this.step, inspect: inspection ?? undefined });
      this.step++;
      if (diag) {
        if (inspection) {
          if (!this.probeAnnounced) records.push(diag.probeRecord(this.step));
          this.probeAnnounced = true;
          records.push(...(await diag.record(inspection, { step: this.step, wallTime: this.wallClock(), loss, gradNorm }, o.maps === true)));
        }
        records.push(...diag.observe(this.step, loss, gradNorm));
      }
      return { step: this.step, trainLoss: loss, lr, gradNorm, ms: performance.now() - t0, diagnostics: records };
    } finally {
      inspection?.dispose();
    }
  }

  /** Whether the step after `step` is one the loop evaluates at. */
  private evaluatesAt(step: number, maxIters: number): boolean {
    return step % this.config.evalInterval === 0 || step === maxIters;
  }

  /** Train and validation loss over fixed batches (evalIters of them). */
  async evaluate(): Promise<EvalMetrics> {
    const { batchSize, evalIters, seed } = this.config;
    const { trainLoss, valLoss, metrics } = await this.task.evaluate(batchSize, evalIters, seed);
    this.lastValLoss = valLoss;
    if (this.bestValLoss === null || valLoss < this.bestValLoss) this.bestValLoss = valLoss;
    return { step: this.step, trainLoss, valLoss, ...(metrics ? { metrics } : {}) };
  }

  /** Trains until `maxIters` (or shouldStop), evaluating every evalInterval steps and at the end. */
  async run(maxIters: number, hooks: TrainerHooks = {}): Promise<'done' | 'stopped'> {
    const every = this.config.diagInterval;
    while (this.step < maxIters) {
      const next = this.step + 1;
      const evaluates = this.evaluatesAt(next, maxIters);
      const m = await this.trainStep({ diagnose: every > 0 && (next % every === 0 || evaluates), maps: evaluates });
      await hooks.onStep?.(m);
      if (m.diagnostics.length > 0) await hooks.onDiagnostics?.(m.diagnostics);
      if (this.evaluatesAt(this.step, maxIters)) {
        const e = await this.evaluate(); // not inside `hooks.onEval?.(…)`: `?.` would skip evaluating it
        await hooks.onEval?.(e);
      }
      if (hooks.shouldStop?.()) return this.step < maxIters ? 'stopped' : 'done';
    }
    return 'done';
  }
}
