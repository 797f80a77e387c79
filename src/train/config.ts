// The training run's configuration: one typed object (model shape + schedule + data), validated with
// a zod schema at the edge (CLI flags, config files, checkpoints) so every error names the field,
// the bad value and what is allowed. The model's fields are GPTConfig's (models/gpt-config.ts), less
// vocabSize. Defaults are nanoGPT's character-level CPU configuration.

import { z } from 'zod';
import { checkAcrossFields, ConfigError, configError, GPT_CONFIG_FIELDS, GPTConfigFields, type GPTConfig } from '../models/gpt-config.ts';
import { TOKENIZER_KINDS } from '../data/tokenizer.ts';

const posInt = z.number().int().positive();

/** The model's fields that a run chooses: all but vocabSize, which comes from the tokenizer. */
const MODEL_FIELDS = GPT_CONFIG_FIELDS.filter((k): k is Exclude<keyof GPTConfig, 'vocabSize'> => k !== 'vocabSize');

/** The fields, without the checks across them (other tasks pick the schedule from here). */
export const TrainConfigFields = GPTConfigFields.omit({ vocabSize: true })
  .extend({
    // data: a UTF-8 file or a directory of .txt files; absent means the bundled Moby-Dick
    data: z.string().min(1).optional(),
    tokenizer: z.enum(TOKENIZER_KINDS).default('char'),
    bpeVocabSize: z.number().int().min(257).max(65536).default(512),
    valFraction: z.number().gt(0).lt(1).default(0.1),
    // optimisation
    batchSize: posInt.default(12),
    maxIters: posInt.default(2000),
    lr: z.number().positive().default(1e-3),
    minLr: z.number().nonnegative().default(1e-4),
    warmupIters: z.number().int().nonnegative().default(100),
    /** Iterations over which the cosine decays; defaults to maxIters. */
    lrDecayIters: posInt.optional(),
    weightDecay: z.number().nonnegative().default(0.1),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.99),
    gradClip: z.number().nonnegative().default(1.0),
    // bookkeeping
    evalInterval: posInt.default(250),
    evalIters: posInt.default(20),
    logInterval: posInt.default(10),
    // diagnostics.jsonl every diagInterval steps and at evaluations (docs/run-directory.md); 0 = off
    diagInterval: z.number().int().nonnegative().default(25),
    sampleLength: z.number().int().nonnegative().default(200),
    seed: z.number().int().nonnegative().max(4294967295).default(1337),
    // checkpoints: the last keepCheckpoints by step are kept, and with keepBest the best by validation loss
    keepCheckpoints: posInt.default(3),
    keepBest: z.boolean().default(false),
  });

export const TrainConfigSchema = TrainConfigFields.strict().superRefine(checkAcrossFields);

export type TrainConfig = z.infer<typeof TrainConfigSchema>;

/**
 * The optimisation and bookkeeping fields, which every task's run config shares (the other tasks'
 * schemas, src/train/tasks/, pick them from here and set their own defaults).
 */
export const SCHEDULE_FIELDS = [
  'batchSize', 'maxIters', 'lr', 'minLr', 'warmupIters', 'lrDecayIters', 'weightDecay', 'beta1', 'beta2', 'gradClip',
  'evalInterval', 'evalIters', 'logInterval', 'diagInterval', 'seed', 'keepCheckpoints', 'keepBest',
] as const satisfies readonly (keyof TrainConfig)[];
export type ScheduleField = (typeof SCHEDULE_FIELDS)[number];

export const ScheduleFields = TrainConfigFields.pick(Object.fromEntries(SCHEDULE_FIELDS.map((k) => [k, true])) as { [K in ScheduleField]: true });

/** What the Trainer reads of a run's config: the schedule, whatever the task. */
export type TrainerConfig = Pick<TrainConfig, ScheduleField>;

export const TRAIN_CONFIG_FIELDS = Object.keys(TrainConfigSchema.shape) as (keyof TrainConfig)[];

/** Validates raw input (a parsed JSON file merged with flags); `source` names it in errors. */
export function parseTrainConfig(raw: unknown, source = 'config'): TrainConfig {
  const r = TrainConfigSchema.safeParse(raw);
  if (!r.success) throw configError(source, raw, r.error, TRAIN_CONFIG_FIELDS);
  if (r.data.minLr > r.data.lr) throw new ConfigError(`${source}: minLr = ${r.data.minLr} exceeds lr = ${r.data.lr}`);
  return r.data;
}

/** The model a run builds: its model fields, and the tokenizer's vocabulary size. */
export function modelConfigOf(c: TrainConfig, vocabSize: number): GPTConfig {
  return { vocabSize, ...Object.fromEntries(MODEL_FIELDS.map((k) => [k, c[k]])) } as GPTConfig;
}
