// One language-model job of an experiment (image jobs: image-job.ts): build the arm's GPT for one
// seed, measure it at initialisation, train it with the library's Trainer (writing a resnorm run
// directory through the run store, so a killed job resumes from its last checkpoint), then measure
// the trained model. Returns its result: losses, the loss curve, and each measure's metrics and
// per-layer series. Deterministic per seed; wall-clock numbers are kept apart, under `timing`. No
// Node imports: the CLI hands in the store and the data.

import type { Backend } from '../backend/backend.ts';
import { sampleBatch, type Batch } from '../data/corpus.ts';
import type { Tokenizer } from '../data/tokenizer.ts';
import { appendJsonl, repairJsonl } from '../io/jsonl-log.ts';
import { RUN_LOGS, type RunStore } from '../io/run-store.ts';
import { GPT } from '../models/gpt.ts';
import { modelConfigOf } from '../train/config.ts';
import type { StepRecord } from '../train/diagnostics/records.ts';
import { resumeTrainer, saveCheckpoint, type LoadedCheckpoint } from '../train/run-checkpoints.ts';
import { NonFiniteLossError } from '../train/step.ts';
import { Trainer } from '../train/trainer.ts';
import { getDefaultBackend } from '../tensor/backend-registry.ts';
import { Rng } from '../tensor/rng.ts';
import { batchStatistics } from './analysis/batch-stats.ts';
import { blockParamValues, blockValues, gradientNorms } from './analysis/gradients.ts';
import { NORM_KERNELS, profileTraining, shareOf } from './analysis/kernel-profile.ts';
import { batchesLoss, lesionDamage, lesionStudy } from './analysis/lesion.ts';
import { logitLens } from './analysis/logit-lens.ts';
import type { Measure } from './experiment.ts';
import type { LmJobSpec } from './plan.ts';
import { RESULT_VERSION } from './plan.ts';
import { mean, median, spearman } from './stats.ts';

export interface CurvePoint {
  step: number;
  trainLoss: number;
  valLoss: number;
  /** Image jobs: the evaluation's accuracy on the validation split. */
  valAccuracy?: number;
}

export interface JobResult {
  version: number;
  id: string;
  arm: string;
  seed: number;
  hash: string;
  params: number;
  /** Image jobs: the number of classes. */
  vocabSize: number;
  /** ln V: the loss of guessing uniformly. */
  uniformLoss: number;
  /** The training split's character (image jobs: class) frequencies, scored on the validation split. */
  unigramLoss: number;
  maxIters: number;
  /** Steps trained (where a diverged run stopped). */
  steps: number;
  /** A non-finite loss or gradient norm stopped training (the trainer's NonFiniteLossError). */
  diverged: boolean;
  divergedAt: number | null;
  /** The last evaluation's losses (null before any). */
  finalValLoss: number | null;
  finalTrainLoss: number | null;
  /** Mean logged training-batch loss over the last fifth of the steps, in training mode. */
  trainModeLoss: number | null;
  curve: CurvePoint[];
  /** Each measure's numbers; deterministic per seed. */
  metrics: Record<string, number | null>;
  series: Record<string, number[]>;
  /** Names of a series' points when they are not blocks (norm layers, kernels). */
  labels: Record<string, string[]>;
  /** Wall-clock numbers: only timing experiments report them. */
  timing: { wallSeconds: number; metrics: Record<string, number>; series: Record<string, number[]>; labels: Record<string, string[]> };
}

export interface JobData {
  train: Int32Array;
  val: Int32Array;
  tokenizer: Tokenizer;
  unigramLoss: number;
}

/** Where the job's run directory lives, when it has one: a store under the caller's lock. */
export interface JobPersistence {
  store: RunStore;
  /** The checkpoint to continue from (null: a new run). */
  resumeFrom: LoadedCheckpoint | null;
  /** Throws when the caller's lock on the directory was lost. */
  assertHeld?: () => void;
}

export interface JobHooks {
  onStep?: (step: number, of: number) => void;
  /** Checked after every step: true saves a checkpoint and returns 'stopped'. */
  shouldStop?: () => boolean;
}

/** What each measure writes into a result: metrics and series, and (under `timing`) wall-clock ones. */
export const MEASURE_OUTPUTS: Record<Measure, { metrics: string[]; series: string[]; timingMetrics?: string[]; timingSeries?: string[] }> = {
  'init-gradients': { metrics: ['initGradEarlyLate', 'initGradFfnEarlyLate', 'initGradFfnLast', 'initLoss'], series: ['initGrad', 'initGradFfn'] },
  'train-gradients': { metrics: ['trainGradEarlyLate'], series: ['trainGrad'] },
  'stream-rms': { metrics: ['streamGrowth', 'streamRmsLast'], series: ['streamRms'] },
  lesion: { metrics: ['lesionFullLoss', 'lesionDamageFirst', 'lesionDamageMedian', 'lesionDamageMax'], series: ['lesionLoss', 'lesionDamage'] },
  'logit-lens': { metrics: ['lensSpearman', 'lensFirst', 'lensLast', 'lensModelGap'], series: ['lensLoss'] },
  'batch-stats': { metrics: ['designEffect', 'batchMeanDev', 'batchVarDev', 'iidMeanDev', 'modeGap', 'modeGapAbs'], series: ['designEffect', 'batchMeanDev'] },
  'kernel-profile': {
    metrics: ['flopsPerStep', 'layernormFlopShare', 'rmsnormFlopShare', 'normFlopShare'],
    series: [],
    timingMetrics: ['profileStepMs', 'kernelMs', 'layernormMs', 'rmsnormMs', 'normMs', 'normTimeShare', 'layernormTimeShare', 'rmsnormTimeShare', 'normTimeOverFlopShare'],
    timingSeries: ['kernelMs', 'kernelFlops', 'kernelCalls'],
  },
  'step-time': { metrics: [], series: [], timingMetrics: ['stepMs'] },
};

/** Cross-entropy on `val` of the unigram distribution of `train` (add-½ smoothing for unseen ids). */
export function unigramLoss(train: Int32Array, val: Int32Array, V: number): number {
  const counts = new Float64Array(V);
  for (const id of train) counts[id]++;
  let nats = 0;
  for (const id of val) nats -= Math.log(Math.max(counts[id], 0.5) / train.length);
  return nats / val.length;
}

/** mean(first quarter of xs) / mean(last quarter): < 1 when values grow toward the output. */
export function earlyLate(xs: readonly number[]): number | null {
  if (xs.length < 2) return null;
  const q = Math.max(1, Math.floor(xs.length / 4));
  const late = mean(xs.slice(-q));
  return late > 0 ? mean(xs.slice(0, q)) / late : null;
}

/** Fixed batches of a split for the analyses: the same for every arm of a seed. */
function fixedBatches(data: Int32Array, n: number, B: number, T: number, seed: number): Batch[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => sampleBatch(data, B, T, rng, 'validation split'));
}

/** What the logs already hold when a run resumes: evaluations, logged steps and diagnostics up to `step`. */
interface History {
  curve: CurvePoint[];
  logged: { step: number; trainLoss: number }[];
  gradRecords: number[][];
  lastBlocks: { rmsIn: number; rmsOut: number }[] | null;
}

function emptyHistory(): History {
  return { curve: [], logged: [], gradRecords: [], lastBlocks: null };
}

function observeStepRecord(h: History, r: StepRecord): void {
  h.gradRecords.push(blockValues(r.layers.map((l) => ({ name: l.name, norm: l.gradNorm }))));
  h.lastBlocks = r.blocks.map((b) => ({ rmsIn: b.rmsIn, rmsOut: b.rmsOut }));
}

/** Repairs the run's logs to the checkpoint's step (as `resnorm train --resume` does) and reads them back. */
async function readHistory(store: RunStore, step: number): Promise<History> {
  const h = emptyHistory();
  for (const log of RUN_LOGS) await repairJsonl(store.fs, store.logPath(log), (r) => typeof r.step === 'number' && r.step <= step);
  const lines = async (log: (typeof RUN_LOGS)[number]) => {
    const bytes = await store.fs.readFile(store.logPath(log));
    if (!bytes) return [];
    return new TextDecoder()
      .decode(bytes)
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  };
  for (const r of await lines('metrics.jsonl')) {
    if (typeof r.valLoss === 'number') h.curve.push({ step: r.step as number, trainLoss: r.trainLoss as number, valLoss: r.valLoss });
    else if (typeof r.lr === 'number') h.logged.push({ step: r.step as number, trainLoss: r.trainLoss as number });
  }
  for (const r of await lines('diagnostics.jsonl')) if (r.kind === 'step') observeStepRecord(h, r as unknown as StepRecord);
  return h;
}

/** Runs the job; 'stopped' when hooks.shouldStop asked (a checkpoint is saved first when there is a store). */
export async function runJob(job: LmJobSpec, data: JobData, persist?: JobPersistence, hooks: JobHooks = {}, backend: Backend = getDefaultBackend()): Promise<JobResult | 'stopped'> {
  const t0 = performance.now();
  const config = job.config;
  const V = data.tokenizer.vocabSize;
  const T = config.blockSize;
  const B = config.batchSize;
  const model = GPT.create(modelConfigOf(config, V), { backend, seed: config.seed });
  const metrics: Record<string, number | null> = {};
  const series: Record<string, number[]> = {};
  const labels: Record<string, string[]> = {};
  const timing: JobResult['timing'] = { wallSeconds: 0, metrics: {}, series: {}, labels: {} };
  const has = (m: string) => job.measures.includes(m as LmJobSpec['measures'][number]);
  const uniformLoss = Math.log(V);

  // ---- at initialisation: before the trainer draws anything, from streams of their own --------------
  if (has('init-gradients')) {
    const { x, y } = sampleBatch(data.train, B, T, new Rng(config.seed ^ 0x9e3779b9), 'training split');
    const g = await gradientNorms(model, x, y, B, T);
    series.initGrad = blockValues(g.layers);
    series.initGradFfn = blockParamValues(g.params, 'mlp.c_proj.weight');
    metrics.initGradEarlyLate = earlyLate(series.initGrad);
    metrics.initGradFfnEarlyLate = earlyLate(series.initGradFfn);
    metrics.initGradFfnLast = series.initGradFfn.at(-1) ?? null;
    metrics.initLoss = g.loss;
  }
  if (has('kernel-profile')) {
    const batches = fixedBatches(data.train, 6, B, T, config.seed + 17);
    const p = await profileTraining({ config: model.config, backend, seed: config.seed, batches, B, T, lr: config.lr });
    const ln = shareOf(p, NORM_KERNELS.layernorm);
    const rms = shareOf(p, NORM_KERNELS.rmsnorm);
    metrics.flopsPerStep = p.flops;
    metrics.layernormFlopShare = ln.flopShare;
    metrics.rmsnormFlopShare = rms.flopShare;
    metrics.normFlopShare = ln.flopShare + rms.flopShare;
    Object.assign(timing.metrics, {
      profileStepMs: p.stepMs,
      kernelMs: p.kernelMs,
      layernormMs: ln.ms,
      rmsnormMs: rms.ms,
      normMs: ln.ms + rms.ms,
      normTimeShare: ln.timeShare + rms.timeShare,
      layernormTimeShare: ln.timeShare,
      rmsnormTimeShare: rms.timeShare,
      normTimeOverFlopShare: ln.flopShare + rms.flopShare > 0 ? (ln.timeShare + rms.timeShare) / (ln.flopShare + rms.flopShare) : 0,
    });
    timing.series.kernelMs = p.kernels.map((k) => k.ms);
    timing.series.kernelFlops = p.kernels.map((k) => k.flops);
    timing.series.kernelCalls = p.kernels.map((k) => k.calls);
    timing.labels.kernelMs = p.kernels.map((k) => k.name);
  }

  // ---- training ------------------------------------------------------------------------------------
  const trainer = new Trainer(model, config, { train: data.train, val: data.val }, { decodeToken: (id) => data.tokenizer.decode([id]) });
  let history = emptyHistory();
  let diverged: NonFiniteLossError | null = null;
  const stepMs: number[] = [];
  try {
    if (persist?.resumeFrom) {
      resumeTrainer(trainer, persist.resumeFrom);
      history = await readHistory(persist.store, trainer.step);
    }
    const store = persist?.store;
    const log = async (record: object, to: (typeof RUN_LOGS)[number] = 'metrics.jsonl') => {
      if (store) await appendJsonl(store.fs, store.logPath(to), record as Record<string, unknown>);
    };
    const save = async (valLoss: number | null) => {
      if (!store) return;
      persist.assertHeld?.();
      await saveCheckpoint(store, trainer, data.tokenizer, { valLoss, keep: { last: 1, best: false } });
    };
    let lastSaved = trainer.step;
    const diagEvery = config.diagInterval;
    let outcome: 'done' | 'stopped' = 'done';
    try {
      if (job.train) outcome = await trainer.run(config.maxIters, {
        onStep: async (m) => {
          hooks.onStep?.(m.step, config.maxIters);
          // Timing: steps that neither evaluate nor diagnose, after the capture and warm-up.
          const quiet = m.step % config.evalInterval !== 0 && (diagEvery === 0 || m.step % diagEvery !== 0) && m.step !== config.maxIters;
          if (m.step > 5 && quiet) stepMs.push(m.ms);
          if (m.step % config.logInterval === 0) {
            history.logged.push({ step: m.step, trainLoss: m.trainLoss });
            await log({ step: m.step, trainLoss: m.trainLoss, lr: m.lr, gradNorm: m.gradNorm, wallTime: trainer.wallClock() });
          }
        },
        onDiagnostics: async (records) => {
          for (const r of records) {
            if (r.kind === 'step') observeStepRecord(history, r);
            await log(r, 'diagnostics.jsonl');
          }
        },
        onEval: async (e) => {
          history.curve.push({ step: e.step, trainLoss: e.trainLoss, valLoss: e.valLoss });
          await log({ step: e.step, trainLoss: e.trainLoss, valLoss: e.valLoss, wallTime: trainer.wallClock() });
          await save(e.valLoss);
          lastSaved = trainer.step;
        },
        shouldStop: hooks.shouldStop,
      });
    } catch (e) {
      if (!(e instanceof NonFiniteLossError)) throw e;
      diverged = e; // a result, not a crash
    }
    if (outcome === 'stopped') {
      if (lastSaved !== trainer.step) await save(null);
      return 'stopped';
    }

    // ---- the trained model ---------------------------------------------------------------------------
    const trained = diverged === null;
    const analysisBatches = () => fixedBatches(data.val, config.evalIters, B, T, config.seed + 11);
    if (has('train-gradients')) {
      series.trainGrad = history.gradRecords.length > 0 ? history.gradRecords[0].map((_, i) => mean(history.gradRecords.map((r) => r[i]))) : [];
      metrics.trainGradEarlyLate = earlyLate(series.trainGrad);
    }
    if (has('stream-rms')) {
      const blocks = trained ? history.lastBlocks : null;
      series.streamRms = blocks ? blocks.map((b) => b.rmsOut) : [];
      metrics.streamGrowth = blocks && blocks.length > 0 ? blocks[blocks.length - 1].rmsOut / blocks[0].rmsOut : null;
      metrics.streamRmsLast = blocks && blocks.length > 0 ? blocks[blocks.length - 1].rmsOut : null;
    }
    if (has('lesion')) {
      if (trained) {
        const r = await lesionStudy(model, analysisBatches(), B, T);
        const damage = lesionDamage(r, uniformLoss);
        series.lesionLoss = r.lesioned;
        series.lesionDamage = damage;
        metrics.lesionFullLoss = r.full;
        metrics.lesionDamageFirst = damage[0];
        metrics.lesionDamageMedian = damage.length > 1 ? median(damage.slice(1)) : null;
        metrics.lesionDamageMax = damage.length > 1 ? Math.max(...damage.slice(1)) : null;
      } else Object.assign(metrics, { lesionFullLoss: null, lesionDamageFirst: null, lesionDamageMedian: null, lesionDamageMax: null });
    }
    if (has('logit-lens')) {
      if (trained) {
        const r = await logitLens(model, analysisBatches(), B, T);
        series.lensLoss = r.perBlock;
        metrics.lensSpearman = r.perBlock.length > 1 ? spearman(r.perBlock.map((_, i) => i), r.perBlock) : null;
        metrics.lensFirst = r.perBlock[0];
        metrics.lensLast = r.perBlock[r.perBlock.length - 1];
        metrics.lensModelGap = r.perBlock[r.perBlock.length - 1] - r.model;
      } else Object.assign(metrics, { lensSpearman: null, lensFirst: null, lensLast: null, lensModelGap: null });
    }
    if (has('batch-stats')) {
      if (trained) {
        const s = await batchStatistics(model, fixedBatches(data.val, 8, B, T, config.seed + 13), B, T);
        series.designEffect = s.layers.map((l) => l.designEffect);
        series.batchMeanDev = s.layers.map((l) => l.batchMeanDev);
        labels.designEffect = s.layers.map((l) => l.name);
        labels.batchMeanDev = labels.designEffect;
        Object.assign(metrics, { designEffect: s.designEffect, batchMeanDev: s.batchMeanDev, batchVarDev: s.batchVarDev, iidMeanDev: s.iidMeanDev });
        // Last, since a training-mode pass moves BatchNorm's running statistics: the same batches in
        // both modes (dropout is 0 in the lab), so only statistics from the batch vs the running ones differ.
        const fixed = analysisBatches();
        const evalLoss = await batchesLoss(model, fixed, B, T);
        const trainLoss = await batchesLoss(model, fixed, B, T, undefined, 'train');
        Object.assign(metrics, { modeGap: evalLoss - trainLoss, modeGapAbs: Math.abs(evalLoss - trainLoss) });
      } else Object.assign(metrics, { designEffect: null, batchMeanDev: null, batchVarDev: null, iidMeanDev: null, modeGap: null, modeGapAbs: null });
    }
    if (has('step-time') && stepMs.length > 0) timing.metrics.stepMs = median(stepMs);

    const lastEval = history.curve.at(-1) ?? null;
    const tail = history.logged.filter((r) => r.step > 0.8 * config.maxIters && (diverged === null || r.step < diverged.step));
    timing.wallSeconds = (performance.now() - t0) / 1000;
    return {
      version: RESULT_VERSION,
      id: job.id,
      arm: job.arm,
      seed: job.seed,
      hash: job.hash,
      params: model.numParameters(),
      vocabSize: V,
      uniformLoss,
      unigramLoss: data.unigramLoss,
      maxIters: job.train ? config.maxIters : 0,
      steps: diverged ? diverged.step : trainer.step,
      diverged: diverged !== null,
      divergedAt: diverged?.step ?? null,
      finalValLoss: diverged ? null : (lastEval?.valLoss ?? null),
      finalTrainLoss: diverged ? null : (lastEval?.trainLoss ?? null),
      trainModeLoss: tail.length > 0 ? mean(tail.map((r) => r.trainLoss)) : null,
      curve: history.curve,
      metrics,
      series,
      labels,
      timing,
    };
  } finally {
    trainer.dispose();
  }
}
