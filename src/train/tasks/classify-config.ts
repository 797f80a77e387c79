// The classify task's run config: the text classifier's fields (models/text-classifier.ts) less the
// vocabulary size and the class count, which the data decides, plus the data and its tokenizer.
// Defaults: a 2-layer encoder over the first 256 BPE tokens of each message, for SpamAssassin's
// ham-versus-spam in a few minutes on two cores.

import { z } from 'zod';
import { TOKENIZER_KINDS } from '../../data/tokenizer.ts';
import { ConfigError, configError } from '../../models/gpt-config.ts';
import { TextClassifierConfigFields, type TextClassifierConfig } from '../../models/text-classifier.ts';
import { headSplitProblem } from '../../nn/attention.ts';
import { designProblem } from '../../nn/design.ts';
import { scheduleWith } from './schedule.ts';

const posInt = z.number().int().positive();

export const ClassifyConfigSchema = TextClassifierConfigFields.omit({ vocabSize: true, classes: true })
  .extend({
    nLayer: posInt.default(2),
    nEmbd: posInt.default(64),
    /** A TSV of label<TAB>text lines; absent: the bundled SpamAssassin corpus (ham vs spam). */
    data: z.string().min(1).optional(),
    tokenizer: z.enum(TOKENIZER_KINDS).default('bpe'),
    bpeVocabSize: z.number().int().min(257).max(65536).default(1024),
    ...scheduleWith({ batchSize: 32, maxIters: 2000, lr: 1e-3, minLr: 1e-4, warmupIters: 100, weightDecay: 0.01, evalInterval: 400, evalIters: 10, diagInterval: 50 }),
  })
  .strict()
  .superRefine((c, ctx) => {
    const heads = headSplitProblem(c.nEmbd, c.nHead);
    if (heads) ctx.addIssue({ code: 'custom', path: ['nHead'], message: heads, input: c.nHead });
    const design = designProblem(c);
    if (design) ctx.addIssue({ code: 'custom', path: [], message: design, input: c.residual });
  });

export type ClassifyConfig = z.output<typeof ClassifyConfigSchema>;
export const CLASSIFY_CONFIG_FIELDS = Object.keys(ClassifyConfigSchema.shape) as (keyof ClassifyConfig)[];

export function parseClassifyConfig(raw: unknown, source = 'config'): ClassifyConfig {
  const r = ClassifyConfigSchema.safeParse(raw);
  if (!r.success) throw configError(source, raw, r.error, CLASSIFY_CONFIG_FIELDS);
  if (r.data.minLr > r.data.lr) throw new ConfigError(`${source}: minLr = ${r.data.minLr} exceeds lr = ${r.data.lr}`);
  return r.data;
}

/** The model a run builds; with 'cls' pooling the vocabulary gains one id, the class token. */
export function classifierConfigOf(c: ClassifyConfig, tokenizerVocab: number, classes: number): TextClassifierConfig {
  const fields = Object.keys(TextClassifierConfigFields.shape) as (keyof TextClassifierConfig)[];
  const all: Record<string, unknown> = { ...c, vocabSize: tokenizerVocab + (c.pooling === 'cls' ? 1 : 0), classes };
  return Object.fromEntries(fields.map((k) => [k, all[k]])) as TextClassifierConfig;
}
