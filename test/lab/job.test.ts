// One job of an experiment, in process: deterministic per seed, resumable from its run directory's
// checkpoint to the same result as an uninterrupted run, divergence recorded as a result, and every
// measure filling the metrics and series it declares.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { loadWasmKernels } from '../../src/backend/wasm/index.ts';
import { nodeRunFs } from '../../src/cli/node-run-fs.ts';
import { CharTokenizer } from '../../src/data/char-tokenizer.ts';
import { splitTrainVal } from '../../src/data/corpus.ts';
import { RunStore } from '../../src/io/run-store.ts';
import { runMetric } from '../../src/lab/aggregate.ts';
import type { Arm, Experiment } from '../../src/lab/experiment.ts';
import { MEASURE_OUTPUTS, runJob, unigramLoss, type JobData, type JobResult } from '../../src/lab/job.ts';
import { expandJobs, type LmJobSpec } from '../../src/lab/plan.ts';
import { loadCheckpoint } from '../../src/train/run-checkpoints.ts';

// The wasm backend for speed; the reference one where this build's kernels cannot load.
const be = await loadWasmKernels()
  .then((k) => k.createBackend())
  .catch(() => createRefBackend());
const text = 'Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse. '.repeat(60);
const tokenizer = CharTokenizer.fromText(text);
const split = splitTrainVal(Int32Array.from(tokenizer.encode(text)), 0.1);
const data: JobData = { ...split, tokenizer, unigramLoss: unigramLoss(split.train, split.val, tokenizer.vocabSize) };
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const BASE = { nLayer: 2, nHead: 2, nEmbd: 16, blockSize: 16, batchSize: 4, maxIters: 20, warmupIters: 2, evalInterval: 10, evalIters: 2, logInterval: 2, diagInterval: 5, sampleLength: 0 };

function experiment(arms: Arm[]): Experiment {
  const plan = { base: BASE, arms, seeds: 3 };
  return { name: 'test', title: 't', finding: 'f', paper: { citation: 'c', found: 'f' }, differences: 'd', plans: { quick: plan, full: plan }, claims: [], columns: [], figures: [] };
}

function jobOf(arm: Arm, seed = 0): LmJobSpec {
  const job = expandJobs(experiment([arm]), 'quick', seed + 1)[seed];
  if (job.task !== 'lm') throw new Error('a language-model experiment expands to language-model jobs');
  return job;
}

/** Everything but the wall-clock numbers. */
function deterministic(r: JobResult): Omit<JobResult, 'timing'> {
  const { timing, ...rest } = r;
  void timing;
  return rest;
}

async function freshStore(): Promise<RunStore> {
  const d = mkdtempSync(join(tmpdir(), 'lab-job-'));
  dirs.push(d);
  return RunStore.create(nodeRunFs, join(d, 'run'), 'gpt');
}

const plain: Arm = { id: 'plain', label: 'plain', config: {}, measures: ['train-gradients', 'stream-rms'] };

describe('runJob', () => {
  it('gives the same result for the same seed, and another for another seed', async () => {
    const a = (await runJob(jobOf(plain), data, undefined, {}, be)) as JobResult;
    const b = (await runJob(jobOf(plain), data, undefined, {}, be)) as JobResult;
    expect(deterministic(b)).toEqual(deterministic(a));
    expect(a.curve.map((p) => p.step)).toEqual([10, 20]);
    expect(a.finalValLoss).toBe(a.curve[1].valLoss);
    const other = (await runJob(jobOf(plain, 1), data, undefined, {}, be)) as JobResult;
    expect(other.finalValLoss).not.toBe(a.finalValLoss);
  });

  it('resumes a stopped run from its checkpoint to the result of an uninterrupted one', async () => {
    const job = jobOf(plain);
    const straight = (await runJob(job, data, { store: await freshStore(), resumeFrom: null }, {}, be)) as JobResult;
    const store = await freshStore();
    let steps = 0;
    const stopped = await runJob(job, data, { store, resumeFrom: null }, { onStep: () => steps++, shouldStop: () => steps >= 13 }, be);
    expect(stopped).toBe('stopped');
    const ckpt = await loadCheckpoint(store, 'latest', { forTraining: true });
    expect(ckpt.state.step).toBe(13);
    const resumed = (await runJob(job, data, { store, resumeFrom: ckpt }, {}, be)) as JobResult;
    expect(deterministic(resumed)).toEqual(deterministic(straight));
  });

  it('records a divergence as a result: non-finite loss, counted as ln V and as failed', async () => {
    const arm: Arm = { id: 'hot', label: 'hot', config: { lr: 1e6, minLr: 1e5, gradClip: 0, warmupIters: 0 } };
    const r = (await runJob(jobOf(arm), data, undefined, {}, be)) as JobResult;
    expect(r.diverged).toBe(true);
    expect(r.divergedAt).not.toBeNull();
    expect(r.finalValLoss).toBeNull();
    const exp = experiment([arm]);
    expect(runMetric(exp, r, 'finalValLoss')).toBeCloseTo(Math.log(tokenizer.vocabSize), 12);
    expect(runMetric(exp, r, 'failed')).toBe(1);
    expect(runMetric(exp, r, 'diverged')).toBe(1);
  });

  it('fills the metrics and series every measure declares; wall-clock ones only under timing', async () => {
    const all: Arm = { id: 'all', label: 'all', config: {}, measures: ['init-gradients', 'train-gradients', 'stream-rms', 'lesion', 'logit-lens', 'batch-stats', 'kernel-profile', 'step-time'] };
    const r = (await runJob(jobOf(all), data, undefined, {}, be)) as JobResult;
    for (const [m, out] of Object.entries(MEASURE_OUTPUTS)) {
      for (const k of out.metrics) expect(r.metrics[k], `${m}: ${k}`).toSatisfy((v: number | null) => v === null || Number.isFinite(v));
      for (const k of out.metrics) expect(k in r.metrics, `${m}: ${k}`).toBe(true);
      for (const k of out.series) expect(r.series[k]?.length, `${m}: ${k}`).toBeGreaterThan(0);
      for (const k of out.timingMetrics ?? []) expect(r.timing.metrics[k], `${m}: ${k}`).toBeGreaterThanOrEqual(0);
    }
    for (const k of ['stepMs', 'profileStepMs', 'layernormMs', 'normTimeOverFlopShare']) expect(r.timing.metrics[k], k).toBeGreaterThan(0);
    for (const [m, out] of Object.entries(MEASURE_OUTPUTS)) {
      for (const k of out.timingSeries ?? []) expect(r.timing.series[k]?.length, `${m}: ${k}`).toBeGreaterThan(0);
    }
    expect(Object.keys(r.metrics).some((k) => /Ms$|TimeShare/.test(k))).toBe(false);
    expect(r.series.initGrad).toHaveLength(2);
    expect(r.series.lensLoss).toHaveLength(2);
    expect(r.metrics.lensModelGap).toBeCloseTo(0, 4);
    expect(r.metrics.modeGap).toBe(0); // LayerNorm, no dropout: training mode computes the same
    const untrained = (await runJob({ ...jobOf({ ...all, measures: ['init-gradients'], train: false }) }, data, undefined, {}, be)) as JobResult;
    expect(untrained.steps).toBe(0);
    expect(untrained.maxIters).toBe(0);
    expect(untrained.curve).toEqual([]);
    expect(untrained.series.initGrad).toEqual(r.series.initGrad);
  });
});
