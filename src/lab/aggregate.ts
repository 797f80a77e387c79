// From an experiment's job results to what its report shows: each run's metrics by name (losses with
// failures counted, the measures' numbers), their mean ± sd per arm, and every claim's verdict.

import type { Arm, Experiment, LabMode } from './experiment.ts';
import type { JobResult } from './job.ts';
import { mean, meanSeries, sd } from './stats.ts';
import { evaluateClaim, type ClaimResult, type Evidence, type Ref } from './verdict.ts';

/** Metrics every run has, besides its measures'. */
export const BASE_METRICS: Record<string, string> = {
  finalValLoss: 'final val loss',
  failed: 'share of runs failed',
  diverged: 'share of runs diverged',
  params: 'parameters',
  trainEvalGap: 'train loss in eval mode − in training mode',
};

/** The failure threshold of an experiment, in nats. */
export function failThreshold(exp: Experiment, r: Pick<JobResult, 'unigramLoss'>): number {
  const f = exp.failAbove ?? 'unigram';
  return f === 'unigram' ? r.unigramLoss : f;
}

/** One run's metric by name; null when the run does not have it (a diverged run's lens, say). */
export function runMetric(exp: Experiment, r: JobResult, metric: string): number | null {
  const trained = r.maxIters > 0;
  if (!trained && (metric === 'finalValLoss' || metric === 'diverged' || metric === 'failed' || metric === 'trainEvalGap')) return null;
  const capped = r.diverged || r.finalValLoss === null || !Number.isFinite(r.finalValLoss) ? r.uniformLoss : Math.min(r.finalValLoss, r.uniformLoss);
  switch (metric) {
    case 'finalValLoss':
      return capped;
    case 'diverged':
      return r.diverged ? 1 : 0;
    case 'failed':
      return r.diverged || capped > failThreshold(exp, r) ? 1 : 0;
    case 'params':
      return r.params;
    case 'trainEvalGap':
      return r.finalTrainLoss !== null && r.trainModeLoss !== null ? r.finalTrainLoss - r.trainModeLoss : null;
    default: {
      if (metric in r.metrics) return r.metrics[metric];
      if (exp.timing && metric in r.timing.metrics) return r.timing.metrics[metric];
      return null;
    }
  }
}

export interface ArmSummary {
  arm: Arm;
  runs: JobResult[];
  /** metric → per-seed finite values. */
  values: (metric: string) => number[];
  mean: (metric: string) => number;
  sd: (metric: string) => number;
  /** A series, mean over seeds (timing series only in timing experiments). */
  series: (name: string) => number[];
  labels: (name: string) => string[] | null;
  curve: { step: number; valLoss: number; lo: number; hi: number; trainLoss: number }[];
  /** Image tasks: the validation accuracy at each evaluated step, mean and band as `curve`'s. */
  accuracyCurve: { step: number; mean: number; lo: number; hi: number }[];
}

export interface Aggregate {
  experiment: Experiment;
  mode: LabMode;
  arms: ArmSummary[];
  claims: { claim: Experiment['claims'][number]; result: ClaimResult }[];
}

function summarize(exp: Experiment, arm: Arm, runs: JobResult[]): ArmSummary {
  const values = (metric: string) => runs.map((r) => runMetric(exp, r, metric)).filter((v): v is number => v !== null && Number.isFinite(v));
  const seriesOf = (r: JobResult, name: string) => r.series[name] ?? (exp.timing ? r.timing.series[name] : undefined);
  // Curves: mean over the runs that reached each evaluated step; the band is their min and max.
  const steps = [...new Set(runs.flatMap((r) => r.curve.map((p) => p.step)))].sort((a, b) => a - b);
  const curve = steps.flatMap((step) => {
    const pts = runs.map((r) => r.curve.find((p) => p.step === step)).filter((p): p is JobResult['curve'][number] => p !== undefined && Number.isFinite(p.valLoss));
    if (pts.length === 0) return [];
    const v = pts.map((p) => p.valLoss);
    return [{ step, valLoss: mean(v), lo: Math.min(...v), hi: Math.max(...v), trainLoss: mean(pts.map((p) => p.trainLoss)) }];
  });
  const accuracyCurve = steps.flatMap((step) => {
    const v = runs.map((r) => r.curve.find((p) => p.step === step)?.valAccuracy).filter((a): a is number => a !== undefined && Number.isFinite(a));
    return v.length === 0 ? [] : [{ step, mean: mean(v), lo: Math.min(...v), hi: Math.max(...v) }];
  });
  return {
    arm,
    runs,
    values,
    mean: (m) => mean(values(m)),
    sd: (m) => sd(values(m)),
    series: (name) => meanSeries(runs.map((r) => seriesOf(r, name)).filter((s): s is number[] => s !== undefined && s.length > 0)),
    labels: (name) => runs.map((r) => r.labels[name] ?? (exp.timing ? r.timing.labels[name] : undefined)).find((l) => l !== undefined) ?? null,
    curve,
    accuracyCurve,
  };
}

/** A metric's label: the experiment's column label, else the base metric's description, else its name. */
export function metricLabel(exp: Experiment, metric: string): string {
  return exp.columns.find((c) => c.metric === metric)?.label ?? BASE_METRICS[metric] ?? metric;
}

export function aggregate(exp: Experiment, mode: LabMode, results: readonly JobResult[]): Aggregate {
  const plan = exp.plans[mode];
  const arms = plan.arms.map((arm) => summarize(exp, arm, results.filter((r) => r.arm === arm.id).sort((a, b) => a.seed - b.seed)));
  const byId = new Map(arms.map((a) => [a.arm.id, a]));
  const ev: Evidence = {
    values: (ref: Ref) => byId.get(ref.arm)?.values(ref.metric) ?? [],
    name: (ref: Ref) => `${byId.get(ref.arm)?.arm.label ?? ref.arm}: ${metricLabel(exp, ref.metric)}`,
  };
  const claims = exp.claims.map((claim) => ({ claim, result: evaluateClaim(claim.conditions, ev) }));
  return { experiment: exp, mode, arms, claims };
}
