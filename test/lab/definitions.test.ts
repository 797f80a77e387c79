// Every experiment definition is complete and consistent: unique kebab-case names, at least 3 seeds,
// arms this build can run, and claims, columns and figures that read metrics some measure of the arm
// actually produces.

import { describe, expect, it } from 'vitest';
import { BASE_METRICS } from '../../src/lab/aggregate.ts';
import type { Experiment } from '../../src/lab/experiment.ts';
import { EXPERIMENTS } from '../../src/lab/experiments/index.ts';
import { MEASURE_OUTPUTS } from '../../src/lab/job.ts';
import { definitionProblems, expandJobs, planProblems } from '../../src/lab/plan.ts';
import { refsOf } from '../../src/lab/verdict.ts';

/** The metrics an arm of `exp` has in its results. */
function metricsOf(exp: Experiment, armId: string): Set<string> {
  const arm = exp.plans.quick.arms.find((a) => a.id === armId)!;
  const out = new Set(Object.keys(BASE_METRICS));
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
  it('are 13, with unique kebab-case names', () => {
    expect(EXPERIMENTS).toHaveLength(13);
    expect(new Set(EXPERIMENTS.map((e) => e.name)).size).toBe(13);
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
