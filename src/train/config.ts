// The training run's configuration: one typed object (model shape + schedule + data), validated with
// a zod schema at the edge (CLI flags, config files, checkpoints) so every error names the field,
// the bad value and what is allowed. Defaults are nanoGPT's character-level CPU configuration.

import { z } from 'zod';
import { ConfigError, type GPTConfig } from '../models/gpt.ts';

const posInt = z.number().int().positive();

export const TrainConfigSchema = z
  .object({
    // model
    blockSize: posInt.default(64),
    nLayer: posInt.default(4),
    nHead: posInt.default(4),
    nEmbd: posInt.default(128),
    dropout: z.number().min(0).lt(1).default(0),
    bias: z.boolean().default(true),
    norm: z.enum(['layernorm', 'rmsnorm']).default('layernorm'),
    placement: z.enum(['pre', 'post']).default('pre'),
    positional: z.enum(['learned', 'sinusoidal']).default('learned'),
    tieWeights: z.boolean().default(true),
    activation: z.enum(['none', 'tanh']).default('none'),
    // data: a UTF-8 file or a directory of .txt files; absent means the bundled Moby-Dick
    data: z.string().min(1).optional(),
    tokenizer: z.enum(['char', 'bpe']).default('char'),
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
    sampleLength: z.number().int().nonnegative().default(200),
    seed: z.number().int().nonnegative().max(4294967295).default(1337),
    // checkpoints: the last keepCheckpoints by step are kept, and with keepBest the best by validation loss
    keepCheckpoints: posInt.default(3),
    keepBest: z.boolean().default(false),
  })
  .strict();

export type TrainConfig = z.infer<typeof TrainConfigSchema>;

export const TRAIN_CONFIG_FIELDS = Object.keys(TrainConfigSchema.shape) as (keyof TrainConfig)[];

/** Validates raw input (a parsed JSON file merged with flags); `source` names it in errors. */
export function parseTrainConfig(raw: unknown, source = 'config'): TrainConfig {
  const r = TrainConfigSchema.safeParse(raw);
  if (r.success) {
    if (r.data.nEmbd % r.data.nHead !== 0) {
      throw new ConfigError(`${source}: nEmbd = ${r.data.nEmbd} is not divisible by nHead = ${r.data.nHead}; each head needs nEmbd / nHead channels`);
    }
    if (r.data.minLr > r.data.lr) throw new ConfigError(`${source}: minLr = ${r.data.minLr} exceeds lr = ${r.data.lr}`);
    return r.data;
  }
  const lines = r.error.issues.map((issue) => {
    const field = issue.path.join('.') || '(top level)';
    const value = issue.path.reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k as string] : undefined), raw);
    if (issue.code === 'unrecognized_keys') {
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}; known fields: ${TRAIN_CONFIG_FIELDS.join(', ')}`;
    }
    return `field '${field}' = ${JSON.stringify(value)}: ${issue.message}`;
  });
  throw new ConfigError(`${source} is invalid:\n  - ${lines.join('\n  - ')}`);
}

export function modelConfigOf(c: TrainConfig, vocabSize: number): GPTConfig {
  return {
    vocabSize,
    blockSize: c.blockSize,
    nLayer: c.nLayer,
    nHead: c.nHead,
    nEmbd: c.nEmbd,
    dropout: c.dropout,
    bias: c.bias,
    norm: c.norm,
    placement: c.placement,
    positional: c.positional,
    tieWeights: c.tieWeights,
    activation: c.activation,
  };
}
