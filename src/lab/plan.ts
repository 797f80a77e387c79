// An experiment's plan for one mode, expanded into jobs: every arm for every seed, each with its full
// training config and a hash of everything that decides its numbers, so a result on disk is reused
// only when it was made by the same job. Configs are checked with the training config's own schema
// (image arms: the residual MLP's and the schedule's), so an arm that needs a design this build lacks
// is named with the schema's message.

import { ConfigError, configError, GPT_CONFIG_FIELDS } from '../models/gpt-config.ts';
import { ResidualMLPConfigSchema, type ResidualMLPConfig } from '../models/residual-mlp.ts';
import { parseTrainConfig, type TrainConfig } from '../train/config.ts';
import { armConfig, IMAGE_MEASURES, taskOf, TIMING_MEASURES, type Experiment, type LabMode, type Measure } from './experiment.ts';
import { refsOf } from './verdict.ts';

interface JobCommon {
  /** `<arm>-s<seed>`: the job's name in the results and runs folders. */
  id: string;
  arm: string;
  /** 0 … seeds − 1; the training seed is seedOf(seed). */
  seed: number;
  /** The validated training config (defaults filled in); for an image job only its schedule fields are read. */
  config: TrainConfig;
  measures: Measure[];
  /** false: measured at initialisation only. */
  train: boolean;
  /** Its numbers are wall-clock times: it runs alone. */
  timing: boolean;
  /** A hash of config and measures: a stored result is reused only when it matches. */
  hash: string;
}

/** A character-level GPT on the corpus (job.ts). */
export interface LmJobSpec extends JobCommon {
  task: 'lm';
}

/** The residual MLP on an image classification set (image-job.ts). */
export interface ImageJobSpec extends JobCommon {
  task: 'image';
  /** The validated model config (defaults filled in). */
  model: ResidualMLPConfig;
}

export type JobSpec = LmJobSpec | ImageJobSpec;

const MLP_FIELDS: ReadonlySet<string> = new Set(Object.keys(ResidualMLPConfigSchema.shape));
/** The language model's fields that the MLP lacks: in an image arm they are mistakes, not settings. */
const LM_ONLY_FIELDS: ReadonlySet<string> = new Set(GPT_CONFIG_FIELDS.filter((k) => !MLP_FIELDS.has(k)));

/**
 * An image arm's config split into the MLP's fields (those ResidualMLPConfig has: depth, hidden, norm,
 * placement, residual, …) and the schedule's (the rest of TrainConfig: lr, batchSize, maxIters, …).
 */
export function parseImageArm(raw: Record<string, unknown>, source: string): { config: TrainConfig; model: ResidualMLPConfig } {
  const model: Record<string, unknown> = {};
  const schedule: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (LM_ONLY_FIELDS.has(k)) throw new ConfigError(`${source}: '${k}' is a field of the language model; an image arm trains the residual MLP, whose fields are ${[...MLP_FIELDS].join(', ')}`);
    (MLP_FIELDS.has(k) ? model : schedule)[k] = v;
  }
  const r = ResidualMLPConfigSchema.safeParse(model);
  if (!r.success) throw configError(`${source} (residual MLP)`, model, r.error, [...MLP_FIELDS]);
  return { config: parseTrainConfig(schedule, source), model: r.data };
}

/** The training seed of seed index s: far apart, so arms never share a stream by accident. */
export function seedOf(s: number): number {
  return 1000 + 7919 * s;
}

/** cyrb53 (a 53-bit string hash), in hex: identifies a job's inputs. */
export function hashText(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}

/** JSON with object keys sorted, so equal values hash equally. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Bumped when the job runner changes what a result holds: older results are then redone. */
export const RESULT_VERSION = 1;

export class LabPlanError extends Error {
  override name = 'LabPlanError';
}

/** What stops an arm from running in this build (a design not implemented yet), by arm id. */
export function planProblems(exp: Experiment, mode: LabMode): { arm: string; message: string }[] {
  const plan = exp.plans[mode];
  const out: { arm: string; message: string }[] = [];
  const task = taskOf(exp);
  for (const arm of plan.arms) {
    try {
      const raw = { ...armConfig(plan, arm), seed: seedOf(0) };
      switch (task) {
        case 'lm':
          parseTrainConfig(raw, `arm '${arm.id}'`);
          break;
        case 'image': {
          parseImageArm(raw, `arm '${arm.id}'`);
          const other = (arm.measures ?? []).filter((m) => !IMAGE_MEASURES.includes(m));
          if (other.length > 0) throw new ConfigError(`arm '${arm.id}': measure(s) ${other.join(', ')} need a language model; an image arm measures ${IMAGE_MEASURES.join(', ')}`);
          break;
        }
        default: {
          const never: never = task;
          throw new Error(`unknown task ${String(never)}`);
        }
      }
    } catch (e) {
      out.push({ arm: arm.id, message: (e as Error).message });
    }
  }
  return out;
}

/** Structural checks of a definition: unique arm ids, claims and figures that name existing arms. */
export function definitionProblems(exp: Experiment): string[] {
  const out: string[] = [];
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(exp.name)) out.push(`name '${exp.name}' is not kebab-case`);
  if (taskOf(exp) === 'image' && typeof exp.failAbove !== 'number') out.push(`an image experiment sets failAbove to a loss in nats (e.g. 2 for 10 classes, chance being ln 10 ≈ 2.30): the class-prior loss of balanced classes is about ln K, too close to chance to tell`);
  for (const mode of ['quick', 'full'] as const) {
    const plan = exp.plans[mode];
    const ids = plan.arms.map((a) => a.id);
    if (new Set(ids).size !== ids.length) out.push(`${mode}: arm ids repeat`);
    if (plan.seeds < 3) out.push(`${mode}: ${plan.seeds} seeds; results need at least 3`);
    for (const claim of exp.claims) {
      for (const ref of claim.conditions.flatMap(refsOf)) if (!ids.includes(ref.arm)) out.push(`${mode}: claim '${claim.id}' names arm '${ref.arm}', which the plan lacks`);
    }
    for (const f of exp.figures) for (const a of f.kind === 'sweep' ? f.groups.flatMap((g) => g.arms) : (f.arms ?? [])) if (!ids.includes(a)) out.push(`${mode}: figure '${f.title}' names arm '${a}', which the plan lacks`);
  }
  return out;
}

/** Every job of the mode with `seeds` seeds (default: the plan's), in arm order, seeds interleaved. */
export function expandJobs(exp: Experiment, mode: LabMode, seeds?: number): JobSpec[] {
  const plan = exp.plans[mode];
  const K = seeds ?? plan.seeds;
  if (!Number.isInteger(K) || K < 1) throw new LabPlanError(`--seeds must be a positive integer, got ${K}`);
  const problems = planProblems(exp, mode);
  if (problems.length > 0) {
    throw new LabPlanError(`${exp.name} cannot run in this build: ${problems.map((p) => p.message).join('\n')}`);
  }
  const task = taskOf(exp);
  const jobs: JobSpec[] = [];
  // Seed-major order: A0 B0 A1 B1 …, so timing jobs alternate between arms and drift cancels.
  for (let s = 0; s < K; s++) {
    for (const arm of plan.arms) {
      const raw = { ...armConfig(plan, arm), seed: seedOf(s) };
      const source = `arm '${arm.id}'`;
      const measures = [...(arm.measures ?? [])];
      const timing = measures.some((m) => TIMING_MEASURES.includes(m));
      const train = arm.train ?? true;
      const common = { id: `${arm.id}-s${s}`, arm: arm.id, seed: s, measures, train, timing };
      switch (task) {
        case 'lm': {
          const config = parseTrainConfig(raw, source);
          // The hashed object is the one language-model jobs have always hashed: stored results stay valid.
          jobs.push({ ...common, task, config, hash: hashText(canonicalJson({ v: RESULT_VERSION, config, measures, train })) });
          break;
        }
        case 'image': {
          const { config, model } = parseImageArm(raw, source);
          jobs.push({ ...common, task, config, model, hash: hashText(canonicalJson({ v: RESULT_VERSION, task, config, model, measures, train })) });
          break;
        }
        default: {
          const never: never = task;
          throw new Error(`unknown task ${String(never)}`);
        }
      }
    }
  }
  return jobs;
}
