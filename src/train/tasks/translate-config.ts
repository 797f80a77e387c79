// The translate task's run config: the encoder-decoder's fields (models/seq2seq-config.ts) less the
// vocabulary sizes, which the data decides, plus the data, its vocabulary and the decoding behind
// the metrics. Defaults: the articles' 6 + 6 layers, narrow enough to train on CMUdict's
// grapheme-to-phoneme pairs in about ten minutes on two cores.

import { z } from 'zod';
import { headSplitProblem } from '../../nn/attention.ts';
import { designProblem } from '../../nn/design.ts';
import { ConfigError, configError } from '../../models/gpt-config.ts';
import { Seq2SeqConfigFields, stackDesign, type Seq2SeqConfig } from '../../models/seq2seq-config.ts';
import { scheduleWith } from './schedule.ts';

const posInt = z.number().int().positive();

/** How a side's text becomes symbols: CMUdict's letters and phonemes, or a TSV's characters; or byte-level BPE tokens. */
export const TRANSLATE_VOCABS = ['symbols', 'bpe'] as const;
export type TranslateVocabKind = (typeof TRANSLATE_VOCABS)[number];

export const TranslateConfigSchema = Seq2SeqConfigFields.omit({ sourceVocab: true, targetVocab: true })
  .extend({
    // CMUdict words are up to 34 letters, 99% at most 14: pairs longer than these are left out and counted.
    maxSource: posInt.default(24),
    maxTarget: posInt.default(24),
    nEmbd: posInt.default(64),
    /** A TSV of source<TAB>target lines; absent: grapheme-to-phoneme pairs of the bundled CMUdict. */
    data: z.string().min(1).optional(),
    vocab: z.enum(TRANSLATE_VOCABS).default('symbols'),
    bpeVocabSize: z.number().int().min(257).max(65536).default(1000),
    /** One BPE vocabulary for both sides (needed to share the embeddings); else one per side. */
    sharedVocab: z.boolean().default(false),
    /** Beam width of the decoding behind the evaluation metrics; 1 = greedy. */
    beam: z.number().int().min(1).max(64).default(1),
    /** Validation pairs decoded at each evaluation for exact match, error rates and BLEU. */
    decodePairs: posInt.default(500),
    ...scheduleWith({ batchSize: 64, maxIters: 3000, lr: 2e-3, minLr: 1e-4, warmupIters: 200, weightDecay: 0.01, beta2: 0.98, evalInterval: 500, evalIters: 10, diagInterval: 100 }),
  })
  .strict()
  .superRefine((c, ctx) => {
    const heads = headSplitProblem(c.nEmbd, c.nHead);
    if (heads) ctx.addIssue({ code: 'custom', path: ['nHead'], message: heads, input: c.nHead });
    const design = designProblem(stackDesign({ ...c, sourceVocab: 1, targetVocab: 1 }, 'encoder'));
    if (design) ctx.addIssue({ code: 'custom', path: [], message: design, input: c.residual });
    if (c.shareEmbeddings && !(c.vocab === 'bpe' && c.sharedVocab)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'shareEmbeddings needs one vocabulary for both sides: add --vocab bpe --shared-vocab, or drop --share-embeddings', input: c.shareEmbeddings });
    }
    if (c.sharedVocab && c.vocab !== 'bpe') {
      ctx.addIssue({ code: 'custom', path: [], message: "sharedVocab is a BPE setting: add --vocab bpe, or drop --shared-vocab", input: c.sharedVocab });
    }
    if (c.vocab === 'bpe' && c.data === undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: "CMUdict's sides are letters and phonemes, which BPE would not help: --vocab bpe needs --data pairs.tsv", input: c.vocab });
    }
  });

export type TranslateConfig = z.output<typeof TranslateConfigSchema>;
export const TRANSLATE_CONFIG_FIELDS = Object.keys(TranslateConfigSchema.shape) as (keyof TranslateConfig)[];

export function parseTranslateConfig(raw: unknown, source = 'config'): TranslateConfig {
  const r = TranslateConfigSchema.safeParse(raw);
  if (!r.success) throw configError(source, raw, r.error, TRANSLATE_CONFIG_FIELDS);
  if (r.data.minLr > r.data.lr) throw new ConfigError(`${source}: minLr = ${r.data.minLr} exceeds lr = ${r.data.lr}`);
  return r.data;
}

/** The model a run builds: its model fields, and the vocabularies' sizes. */
export function seq2seqConfigOf(c: TranslateConfig, sourceVocab: number, targetVocab: number): Seq2SeqConfig {
  const fields = Object.keys(Seq2SeqConfigFields.shape) as (keyof Seq2SeqConfig)[];
  const all: Record<string, unknown> = { ...c, sourceVocab, targetVocab };
  return Object.fromEntries(fields.map((k) => [k, all[k]])) as Seq2SeqConfig;
}
