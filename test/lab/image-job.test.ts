// An image job end to end, in process, on a tiny synthetic classification set: the arm's residual MLP
// trained through the Trainer on an ImageTask, its curve (losses and validation accuracy), accuracy
// metrics and gradient measures; deterministic per seed; measuring leaves training as it was
// (BatchNorm's running statistics are put back); a divergence recorded as a result; and the report
// of an image experiment, with its accuracy curves.

import { describe, expect, it } from 'vitest';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { loadWasmKernels } from '../../src/backend/wasm/index.ts';
import { aggregate, runMetric } from '../../src/lab/aggregate.ts';
import type { Arm, Experiment } from '../../src/lab/experiment.ts';
import { IMAGE_METRICS, imageJobData, runImageJob } from '../../src/lab/image-job.ts';
import type { JobResult } from '../../src/lab/job.ts';
import { definitionProblems, expandJobs, planProblems, type ImageJobSpec } from '../../src/lab/plan.ts';
import { renderReport } from '../../src/lab/report/report.ts';
import { Rng } from '../../src/tensor/rng.ts';
import type { LabelledSet } from '../../src/train/image-task.ts';

const be = await loadWasmKernels()
  .then((k) => k.createBackend())
  .catch(() => createRefBackend());

const SIZE = 12;
const K = 3;
/** Class k lights up inputs 4k … 4k + 3, over uniform noise: learnable in a few steps. */
function synthetic(n: number, seed: number): LabelledSet {
  const rng = new Rng(seed);
  const labels = Int32Array.from({ length: n }, () => rng.int(K));
  const inputs = new Float32Array(n * SIZE);
  labels.forEach((k, i) => {
    for (let j = 0; j < SIZE; j++) inputs[i * SIZE + j] = 0.5 * rng.uniform() + (Math.floor(j / 4) === k ? 1 : 0);
  });
  return { inputs, labels, size: SIZE };
}
const data = imageJobData({ train: synthetic(200, 1), val: synthetic(60, 2), test: synthetic(90, 3) }, K);

const BASE = { inputs: SIZE, classes: K, hidden: 16, batchSize: 8, maxIters: 20, warmupIters: 2, lr: 1e-2, minLr: 1e-3, evalInterval: 10, evalIters: 2, logInterval: 2, diagInterval: 0 };

function experiment(arms: Arm[]): Experiment {
  const plan = { base: BASE, arms, seeds: 3 };
  return { name: 'test', task: 'image', title: 't', finding: 'f', paper: { citation: 'c', found: 'f' }, differences: 'd', plans: { quick: plan, full: plan }, claims: [], columns: [], figures: [] };
}

function jobOf(arm: Arm, seed = 0): ImageJobSpec {
  const job = expandJobs(experiment([arm]), 'quick', seed + 1)[seed];
  if (job.task !== 'image') throw new Error('an image experiment expands to image jobs');
  return job;
}

const run = async (arm: Arm, seed = 0) => (await runImageJob(jobOf(arm, seed), data, {}, be)) as JobResult;
const deterministic = ({ timing, ...rest }: JobResult) => (void timing, rest);

const bn: Arm = { id: 'bn', label: 'residual + BN', config: { depth: 2, norm: 'batchnorm', placement: 'pre' }, measures: ['init-gradients', 'train-gradients'] };

describe('runImageJob', () => {
  it('trains the MLP and records its curve, accuracies and per-block gradients', async () => {
    const r = await run(bn);
    expect(r.curve.map((p) => p.step)).toEqual([10, 20]);
    for (const p of r.curve) expect(p.valAccuracy).toBeGreaterThanOrEqual(0);
    expect(r.finalValLoss).toBe(r.curve[1].valLoss);
    expect(r.steps).toBe(20);
    expect(r.maxIters).toBe(20);
    expect(r.diverged).toBe(false);
    expect(r.vocabSize).toBe(K);
    expect(r.uniformLoss).toBeCloseTo(Math.log(K), 12);
    expect(r.unigramLoss).toBeGreaterThan(1); // about ln 3 for balanced classes
    for (const k of IMAGE_METRICS) expect(r.metrics[k], k).toSatisfy((v: number | null) => v !== null && Number.isFinite(v));
    expect(r.metrics.finalAccuracy).toBeGreaterThan(0.6); // separable classes, chance is 1/3
    expect(r.metrics.finalValAccuracy).toBe(r.curve[1].valAccuracy);
    const reached = r.curve.find((p) => p.valAccuracy! >= 0.8);
    expect(r.metrics.reached80).toBe(reached ? 1 : 0);
    expect(r.metrics.stepsTo80).toBe(reached ? reached.step : 20); // never reached: the budget
    expect(r.series.initGrad).toHaveLength(2);
    expect(r.series.initGradFfn).toHaveLength(2);
    expect(r.series.trainGrad).toHaveLength(2);
    for (const k of ['initGradEarlyLate', 'trainGradEarlyLate', 'initLoss']) expect(r.metrics[k], k).toBeGreaterThan(0);
    expect(r.params).toBe(SIZE * 16 + 16 + 2 * (2 * (16 * 16 + 16) + 2 * 16) + 2 * 16 + 16 * K + K);
  });

  it('gives the same result for the same seed, another for another, and the same training whether it measures or not', async () => {
    const a = await run(bn);
    expect(deterministic(await run(bn))).toEqual(deterministic(a));
    expect((await run(bn, 1)).curve).not.toEqual(a.curve);
    // The gradient measures run training-mode passes between steps: BatchNorm's running statistics are restored.
    const quiet = await run({ ...bn, measures: [] });
    expect(quiet.curve).toEqual(a.curve);
    expect(quiet.metrics.finalAccuracy).toBe(a.metrics.finalAccuracy);
  });

  it('records a divergence as a result: failed, and scored as guessing', async () => {
    const hot: Arm = { id: 'hot', label: 'hot', config: { depth: 2, norm: 'none', lr: 1e6, minLr: 1e5, gradClip: 0, warmupIters: 0 } };
    const r = await run(hot);
    expect(r.diverged).toBe(true);
    expect(r.finalValLoss).toBeNull();
    expect(r.metrics.finalAccuracy).toBeCloseTo(1 / K, 12);
    const exp = experiment([hot]);
    expect(runMetric(exp, r, 'failed')).toBe(1);
    expect(runMetric(exp, r, 'finalValLoss')).toBeCloseTo(Math.log(K), 12);
  });

  it('refuses a model that does not fit the data, and arms with language-model fields or measures', async () => {
    await expect(runImageJob(jobOf({ id: 'wide', label: 'w', config: { inputs: 784 } }), data, {}, be)).rejects.toThrow(/takes 784 inputs into 3 classes, but the data has 12 floats per example/);
    const problems = planProblems(
      experiment([
        { id: 'gpt', label: 'g', config: { nLayer: 4 } },
        { id: 'lens', label: 'l', config: {}, measures: ['logit-lens'] },
        { id: 'ok', label: 'o', config: { depth: 3, residual: 'none' } },
      ]),
      'quick',
    );
    expect(problems.map((p) => p.arm)).toEqual(['gpt', 'lens']);
    expect(problems[0].message).toMatch(/'nLayer' is a field of the language model; an image arm trains the residual MLP, whose fields are .*depth/);
    expect(problems[1].message).toMatch(/logit-lens need a language model/);
    // Balanced classes' prior loss is about ln K: an image experiment names its failure threshold.
    expect(definitionProblems(experiment([]))).toEqual([expect.stringMatching(/an image experiment sets failAbove to a loss in nats/)]);
    expect(definitionProblems({ ...experiment([]), failAbove: 2 })).toEqual([]);
  });

  it('renders an image experiment\'s report with accuracy curves and its data', async () => {
    const arms: Arm[] = [bn, { id: 'plain', label: 'plain', config: { depth: 2, residual: 'none', norm: 'none' } }];
    const exp: Experiment = {
      ...experiment(arms),
      columns: [{ metric: 'finalAccuracy', label: 'test accuracy' }],
      figures: [{ kind: 'curves', title: 'Validation accuracy', metric: 'valAccuracy' }],
    };
    const results: JobResult[] = [];
    for (const j of expandJobs(exp, 'quick', 2)) results.push((await runImageJob(j as ImageJobSpec, data, {}, be)) as JobResult);
    const r = renderReport(aggregate(exp, 'quick', results), { seeds: 2, command: 'resnorm lab run test --quick', commit: 'abc1234' });
    expect(r.markdown).toContain('Data: Fashion-MNIST');
    expect(r.markdown).toContain('the class-prior loss');
    expect(r.markdown).toMatch(/\| residual \+ BN \| [\d.]+ ± [\d.]+ \| 0\/2 \| [\d.]+/);
    expect(r.figures).toHaveLength(1);
    expect(r.figures[0].svg).toContain('validation accuracy');
    expect(r.figures[0].svg).not.toMatch(/NaN|Infinity/);
  });
});
