// What an experiment of `resnorm lab` is, as data: the paper's finding, the arms (model and schedule
// settings) it trains or measures, and the claims it checks, each with the criterion that decides its
// verdict from the results. Definitions live in experiments/*.ts and are fixed before a run; the
// runner (job.ts), the verdicts (verdict.ts) and the report (report/*.ts) only read them.

import type { Condition } from './verdict.ts';

export const LAB_MODES = ['quick', 'full'] as const;
export type LabMode = (typeof LAB_MODES)[number];

/**
 * What an experiment's jobs train:
 * - lm: the character-level GPT on the corpus (arms hold TrainConfig fields; job.ts);
 * - image: the residual MLP classifier on Fashion-MNIST (arms hold ResidualMLP fields and the
 *   schedule's TrainConfig fields; image-job.ts). Its loss is the classes' cross-entropy.
 */
export const LAB_TASKS = ['lm', 'image'] as const;
export type LabTask = (typeof LAB_TASKS)[number];

/**
 * What a job measures besides its losses (each fills `metrics` and `series` of its result; see job.ts):
 * - init-gradients: one forward and backward at initialisation, the gradient norm of every layer;
 * - train-gradients: the mean per-layer gradient norm over the diagnostics steps of training;
 * - stream-rms: the residual stream's RMS leaving each block, on the probe batch, at the last step;
 * - lesion: the validation loss with each block left out in turn (Veit et al. 2016);
 * - logit-lens: the validation loss of each block's stream read through the final norm and the head;
 * - batch-stats: the spread of per-sequence and per-batch statistics at every norm's input;
 * - kernel-profile: time and FLOPs of every backend kernel over a few eager steps (timing);
 * - step-time: the median time of a captured training step (timing).
 */
export const MEASURES = ['init-gradients', 'train-gradients', 'stream-rms', 'lesion', 'logit-lens', 'batch-stats', 'kernel-profile', 'step-time'] as const;
export type Measure = (typeof MEASURES)[number];

/** What an image job can measure (the others read a language model's blocks, norms or kernels). */
export const IMAGE_MEASURES: readonly Measure[] = ['init-gradients', 'train-gradients'];

/** Measures whose numbers are wall-clock times: their jobs run alone, one at a time. */
export const TIMING_MEASURES: readonly Measure[] = ['kernel-profile', 'step-time'];

/** One condition of an experiment: a model and schedule (TrainConfig fields; image: ResidualMLP and schedule fields) and what to measure. */
export interface Arm {
  /** Kebab-case, unique in the experiment: names its jobs and run directories. */
  id: string;
  /** Shown in tables and legends. */
  label: string;
  /** TrainConfig fields over the plan's base. */
  config: Record<string, unknown>;
  measures?: Measure[];
  /** false: no training, only the measures at initialisation (default true). */
  train?: boolean;
}

/** What one mode of an experiment runs: every arm, for each seed. */
export interface Plan {
  /** TrainConfig fields shared by every arm (the arm's own override them). */
  base: Record<string, unknown>;
  arms: Arm[];
  /** Seeds when --seeds is not given (at least 3). */
  seeds: number;
}

/** A claim and the criterion that decides it: every condition must pass (see verdict.ts). */
export interface Claim {
  id: string;
  /** The claim in words, as the paper makes it. */
  text: string;
  conditions: Condition[];
  /** Shown under the verdict, by verdict: what the outcome means here. */
  notes?: Partial<Record<'reproduced' | 'not reproduced' | 'inconclusive', string>>;
}

/** A figure of the report. */
export type Figure =
  /** valAccuracy: image tasks only (their evaluations' accuracy on the validation split). */
  | { kind: 'curves'; title: string; arms?: string[]; metric?: 'valLoss' | 'trainLoss' | 'valAccuracy' }
  /** A per-layer (or per-kernel) series of the results, mean over seeds, one line per arm. */
  | { kind: 'series'; title: string; series: string; arms?: string[]; logY?: boolean; xLabel: string; yLabel: string }
  /** A metric's mean ± sd per arm, as bars. */
  | { kind: 'bars'; title: string; metric: string; arms?: string[]; yLabel: string }
  /** A sweep: one line per group, point i the mean metric of the group's arm i at x[i] (e.g. lr). */
  | { kind: 'sweep'; title: string; metric: string; x: number[]; logX?: boolean; groups: { label: string; arms: string[] }[]; xLabel: string; yLabel: string };

/** A column of the results table: a metric's mean ± sd for each arm. */
export interface Column {
  metric: string;
  label: string;
  digits?: number;
}

export interface Experiment {
  /** Kebab-case: `resnorm lab run NAME`. */
  name: string;
  title: string;
  /** The one-line finding, for `lab list` and the summary table. */
  finding: string;
  paper: {
    /** Authors, year, title, venue. */
    citation: string;
    /** What the paper found, with its numbers and the table or figure they come from. */
    found: string;
  };
  /** How our setup differs from the paper's (scale, data, steps): read before the verdicts. */
  differences: string;
  /** What its jobs train (default 'lm'). */
  task?: LabTask;
  /** Wall-clock numbers are the result (the report states the machine and thread count). */
  timing?: boolean;
  plans: Record<LabMode, Plan>;
  claims: Claim[];
  columns: Column[];
  figures: Figure[];
  /**
   * Final validation loss above which a finite run counts as failed (learned nothing): 'unigram' is
   * the cross-entropy of the training split's character frequencies on the validation split. Image
   * experiments give a number (plan.ts checks): with balanced classes the class frequencies score
   * about ln K, which a loss capped at ln K (as a diverged run's is) never exceeds, so a run stuck at
   * chance would not count as failed.
   */
  failAbove?: number | 'unigram';
}

/** The experiment's task: 'lm' unless it says otherwise. */
export function taskOf(exp: Pick<Experiment, 'task'>): LabTask {
  return exp.task ?? 'lm';
}

/** The arm's full TrainConfig input: the plan's base, then the arm's fields. */
export function armConfig(plan: Plan, arm: Arm): Record<string, unknown> {
  return { ...plan.base, ...arm.config };
}
