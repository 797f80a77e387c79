// One job of an image experiment: the arm's residual MLP trained by the library's Trainer on an
// ImageTask (Fashion-MNIST unless the config's `data` names another MNIST-format directory), evaluated
// every evalInterval steps (loss and accuracy on fixed validation batches), then scored on the whole
// test split. Returns the JobResult a language-model job returns, with accuracy metrics. No run
// directory: a killed image job starts over (a quick one takes seconds). Deterministic per seed; no
// Node imports: the worker hands in the data.

import type { Backend } from '../backend/backend.ts';
import { ResidualMLP } from '../models/residual-mlp.ts';
import { ImageTask, type LabelledSet } from '../train/image-task.ts';
import type { HostInput } from '../train/step.ts';
import type { TaskEvaluation } from '../train/task.ts';
import { NonFiniteLossError, Trainer } from '../train/trainer.ts';
import { getDefaultBackend } from '../tensor/backend-registry.ts';
import { Rng } from '../tensor/rng.ts';
import { tensor } from '../tensor/tensor.ts';
import { blockParamValues, blockValues, lossGradientNorms, type GradientNorms } from './analysis/gradients.ts';
import type { Measure } from './experiment.ts';
import { earlyLate, unigramLoss, type CurvePoint, type JobHooks, type JobResult } from './job.ts';
import { RESULT_VERSION, type ImageJobSpec } from './plan.ts';
import { mean } from './stats.ts';

/** The validation accuracy whose first crossing is "how fast" a run trains (stepsTo80). */
export const ACCURACY_TARGET = 0.8;

/** What every trained image job adds to `metrics`, besides its measures' (see MEASURE_OUTPUTS). */
export const IMAGE_METRICS = ['finalAccuracy', 'testLoss', 'finalValAccuracy', 'stepsTo80', 'reached80'] as const;

export interface ImageJobData {
  train: LabelledSet;
  val: LabelledSet;
  /** The held-out test split: scored once, after training. */
  test: LabelledSet;
  classes: number;
  /** The training split's class frequencies scored on the validation split: what a model blind to the pixels gets. */
  priorLoss: number;
}

export function imageJobData(sets: { train: LabelledSet; val: LabelledSet; test: LabelledSet }, classes: number): ImageJobData {
  return { ...sets, classes, priorLoss: unigramLoss(sets.train.labels, sets.val.labels, classes) };
}

/** The task, keeping its last evaluation's metrics: the trainer's onEval hands on only the losses. */
class RecordingImageTask extends ImageTask<ResidualMLP> {
  last: TaskEvaluation | null = null;
  override async evaluate(batchSize: number, iters: number, seed: number): Promise<TaskEvaluation> {
    this.last = await super.evaluate(batchSize, iters, seed);
    return this.last;
  }
}

/**
 * Per-parameter gradient norms on one batch, leaving the model as it was: a training-mode forward
 * moves BatchNorm's running statistics (and dropout draws seeds), so both are put back, and a run
 * that measures trains exactly as one that does not (test/lab/image-job.test.ts).
 */
async function gradientsOn(task: RecordingImageTask, batch: readonly HostInput[]): Promise<GradientNorms> {
  const model = task.model;
  const be = model.backend;
  const buffers = model.store!.buffers;
  const saved = buffers ? await be.read(buffers) : null;
  const rng = model.dropoutRng.getState();
  try {
    return await lossGradientNorms(model, () => task.loss(batch.map((h) => tensor(h.data, h.shape, { backend: be }))));
  } finally {
    if (buffers && saved) be.write(buffers, saved);
    model.dropoutRng.setState(rng);
  }
}

/** Trains and scores one image job; 'stopped' when hooks.shouldStop asked (nothing is saved). */
export async function runImageJob(job: ImageJobSpec, data: ImageJobData, hooks: JobHooks = {}, backend: Backend = getDefaultBackend()): Promise<JobResult | 'stopped'> {
  const t0 = performance.now();
  const config = job.config;
  const B = config.batchSize;
  const K = data.classes;
  if (job.model.inputs !== data.train.size || job.model.classes !== K) {
    throw new RangeError(`arm '${job.arm}': the MLP takes ${job.model.inputs} inputs into ${job.model.classes} classes, but the data has ${data.train.size} floats per example and ${K} classes; set inputs and classes in the arm's config`);
  }
  const has = (m: Measure) => job.measures.includes(m);
  const model = ResidualMLP.create(job.model, { backend, seed: config.seed });
  const task = new RecordingImageTask(model, { train: data.train, val: data.val });
  const metrics: Record<string, number | null> = {};
  const series: Record<string, number[]> = {};
  // The gradient measures' batch: drawn from a stream of its own, so the trainer's batches do not change.
  const gradBatch = task.trainBatch(new Rng(config.seed ^ 0x9e3779b9), B);
  const trainer = new Trainer(task, config);
  try {
    if (has('init-gradients')) {
      const g = await gradientsOn(task, gradBatch);
      series.initGrad = blockValues(g.layers);
      series.initGradFfn = blockParamValues(g.params, 'fc2.weight'); // the block's second linear: Xiong's W² of an FFN
      metrics.initGradEarlyLate = earlyLate(series.initGrad);
      metrics.initGradFfnEarlyLate = earlyLate(series.initGradFfn);
      metrics.initGradFfnLast = series.initGradFfn.at(-1) ?? null;
      metrics.initLoss = g.loss;
    }
    const curve: CurvePoint[] = [];
    const logged: { step: number; trainLoss: number }[] = [];
    const gradRecords: number[][] = [];
    let diverged: NonFiniteLossError | null = null;
    try {
      if (job.train) {
        const outcome = await trainer.run(config.maxIters, {
          onStep: (m) => {
            hooks.onStep?.(m.step, config.maxIters);
            if (m.step % config.logInterval === 0) logged.push({ step: m.step, trainLoss: m.trainLoss });
          },
          onEval: async (e) => {
            const acc = task.last?.metrics?.accuracy;
            curve.push({ step: e.step, trainLoss: e.trainLoss, valLoss: e.valLoss, ...(acc !== undefined ? { valAccuracy: acc } : {}) });
            if (has('train-gradients')) gradRecords.push(blockValues((await gradientsOn(task, gradBatch)).layers));
          },
          shouldStop: hooks.shouldStop,
        });
        if (outcome === 'stopped') return 'stopped';
      }
    } catch (e) {
      if (!(e instanceof NonFiniteLossError)) throw e;
      diverged = e; // a result, not a crash
    }

    if (has('train-gradients')) {
      series.trainGrad = gradRecords.length > 0 ? gradRecords[0].map((_, i) => mean(gradRecords.map((r) => r[i]))) : [];
      metrics.trainGradEarlyLate = earlyLate(series.trainGrad);
    }
    if (job.train) {
      // A diverged run scores as guessing (1/K), as its loss counts as ln K.
      const scored = diverged ? null : await task.predictSet(data.test, 1000); // the whole split, in order, as resnorm eval scores it
      const test = scored ? { loss: scored.loss, accuracy: scored.predicted.filter((p, k) => p === data.test.labels[k]).length / data.test.labels.length } : null;
      const reached = curve.find((p) => p.valAccuracy !== undefined && p.valAccuracy >= ACCURACY_TARGET);
      metrics.finalAccuracy = test ? test.accuracy : 1 / K;
      metrics.testLoss = test ? test.loss : null;
      metrics.finalValAccuracy = diverged ? 1 / K : (curve.at(-1)?.valAccuracy ?? null);
      // Never reached: the budget, a lower bound of the true number, so a "fewer steps" claim errs toward unclear.
      metrics.stepsTo80 = reached ? reached.step : config.maxIters;
      metrics.reached80 = reached ? 1 : 0;
    }

    const lastEval = curve.at(-1) ?? null;
    const tail = logged.filter((r) => r.step > 0.8 * config.maxIters && (diverged === null || r.step < diverged.step));
    return {
      version: RESULT_VERSION,
      id: job.id,
      arm: job.arm,
      seed: job.seed,
      hash: job.hash,
      params: model.numParameters(),
      vocabSize: K,
      uniformLoss: Math.log(K),
      unigramLoss: data.priorLoss,
      maxIters: job.train ? config.maxIters : 0,
      steps: diverged ? diverged.step : trainer.step,
      diverged: diverged !== null,
      divergedAt: diverged?.step ?? null,
      finalValLoss: diverged ? null : (lastEval?.valLoss ?? null),
      finalTrainLoss: diverged ? null : (lastEval?.trainLoss ?? null),
      trainModeLoss: tail.length > 0 ? mean(tail.map((r) => r.trainLoss)) : null,
      curve,
      metrics,
      series,
      labels: {},
      timing: { wallSeconds: (performance.now() - t0) / 1000, metrics: {}, series: {}, labels: {} },
    };
  } finally {
    trainer.dispose();
  }
}
