// Every experiment definition is complete and consistent: unique kebab-case names, at least 3 seeds,
// arms this build can run, and claims, columns and figures that read metrics some measure of the arm
// actually produces.

import { describe, expect, it } from 'vitest';
import { BASE_METRICS } from '../../src/lab/aggregate.ts';
import { taskOf, type Experiment } from '../../src/lab/experiment.ts';
import { EXPERIMENTS, findExperiment } from '../../src/lab/experiments/index.ts';
import { IMAGE_METRICS } from '../../src/lab/image-job.ts';
import { MEASURE_OUTPUTS } from '../../src/lab/job.ts';
import { canonicalJson, definitionProblems, expandJobs, hashText, planProblems, RESULT_VERSION, seedOf } from '../../src/lab/plan.ts';
import { refsOf } from '../../src/lab/verdict.ts';

/** The metrics an arm of `exp` has in its results. */
function metricsOf(exp: Experiment, armId: string): Set<string> {
  const arm = exp.plans.quick.arms.find((a) => a.id === armId)!;
  const out = new Set(Object.keys(BASE_METRICS));
  if (taskOf(exp) === 'image') for (const k of IMAGE_METRICS) out.add(k);
  for (const m of arm.measures ?? []) {
    for (const k of MEASURE_OUTPUTS[m].metrics) out.add(k);
    if (exp.timing) for (const k of MEASURE_OUTPUTS[m].timingMetrics ?? []) out.add(k);
  }
  return out;
}

function seriesOf(exp: Experiment, armId: string): Set<string> {
  const arm = exp.plans.quick.arms.find((a) => a.id === armId)!;
  return new Set((arm.measures ?? []).flatMap((m) => [...MEASURE_OUTPUTS[m].series, ...(exp.timing ? (MEASURE_OUTPUTS[m].timingSeries ?? []) : [])]));
}

describe('experiment definitions', () => {
  it('are 14, with unique kebab-case names', () => {
    expect(EXPERIMENTS).toHaveLength(14);
    expect(new Set(EXPERIMENTS.map((e) => e.name)).size).toBe(14);
  });

  it('hash language-model jobs as they always have, so stored results stay valid', () => {
    for (const exp of EXPERIMENTS.filter((e) => taskOf(e) === 'lm')) {
      for (const j of expandJobs(exp, 'quick')) {
        expect(j.task).toBe('lm');
        expect(j.hash).toBe(hashText(canonicalJson({ v: RESULT_VERSION, config: j.config, measures: j.measures, train: j.train })));
      }
    }
  });

  it('mlp-depth: image jobs of 16 arms (4 designs × depths 2–16), every arm on the same seeds', () => {
    const exp = findExperiment('mlp-depth')!;
    for (const mode of ['quick', 'full'] as const) {
      const jobs = expandJobs(exp, mode);
      expect(jobs).toHaveLength(16 * 3);
      for (const j of jobs) {
        if (j.task !== 'image') throw new Error(`${j.id} is not an image job`);
        expect(j.config.seed).toBe(seedOf(j.seed));
        expect([2, 4, 8, 16]).toContain(j.model.depth);
        expect(j.model.hidden).toBe(mode === 'quick' ? 128 : 256);
      }
      const d16 = jobs.filter((j) => j.task === 'image' && j.model.depth === 16 && j.seed === 0);
      expect(d16.map((j) => (j.task === 'image' ? [j.model.residual, j.model.norm] : []))).toEqual([
        ['none', 'none'],
        ['plain', 'none'],
        ['plain', 'layernorm'],
        ['plain', 'batchnorm'],
      ]);
    }
  });

  for (const exp of EXPERIMENTS) {
    it(`${exp.name}: consistent, runnable in this build, every claim reading metrics its arms produce`, () => {
      expect(definitionProblems(exp)).toEqual([]);
      expect(planProblems(exp, 'quick')).toEqual([]);
      expect(planProblems(exp, 'full')).toEqual([]);
      expect(exp.claims.length).toBeGreaterThan(0);
      for (const claim of exp.claims) {
        for (const r of claim.conditions.flatMap(refsOf)) expect(metricsOf(exp, r.arm).has(r.metric), `${claim.id}: ${r.arm}.${r.metric}`).toBe(true);
      }
      const arms = exp.plans.quick.arms.map((a) => a.id);
      for (const c of exp.columns) expect(arms.some((a) => metricsOf(exp, a).has(c.metric)), `column ${c.metric}`).toBe(true);
      for (const f of exp.figures) {
        if (f.kind === 'series') expect((f.arms ?? arms).every((a) => seriesOf(exp, a).has(f.series)), `figure ${f.title}`).toBe(true);
        if (f.kind === 'bars' || f.kind === 'sweep') {
          const ids = f.kind === 'sweep' ? f.groups.flatMap((g) => g.arms) : (f.arms ?? arms);
          expect(ids.every((a) => metricsOf(exp, a).has(f.metric)), `figure ${f.title}`).toBe(true);
        }
      }
      // Jobs: every arm for every seed, with distinct hashes per arm config.
      const jobs = expandJobs(exp, 'quick');
      expect(jobs).toHaveLength(exp.plans.quick.arms.length * exp.plans.quick.seeds);
      expect(new Set(jobs.map((j) => j.id)).size).toBe(jobs.length);
      expect(new Set(jobs.map((j) => j.hash)).size).toBe(jobs.length);
      // Timing-based experiments are flagged, and only they have timing jobs.
      expect(jobs.some((j) => j.timing)).toBe(exp.timing === true);
    });
  }
});
