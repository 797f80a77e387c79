// The encoder-decoder's settings, each defined once, here. The width, heads, activation, positions and
// every design field (norm, placement, residual, …) are the GPT's own field definitions (gpt-config.ts),
// so their values, defaults and messages cannot drift apart; the checks across fields ask the same
// headSplitProblem and designProblem.

import { z } from 'zod';
import { headSplitProblem } from '../nn/attention.ts';
import { designProblem, type DesignFields } from '../nn/design.ts';
import { configError, TransformerFields } from './gpt-config.ts';

export { ConfigError } from './gpt-config.ts';

const posInt = z.number().int().positive();

export const Seq2SeqConfigFields = z.object({
  /** V of the source side and of the target side. */
  sourceVocab: posInt,
  targetVocab: posInt,
  /** The longest source sequence S and target sequence T (the positions' tables). */
  maxSource: posInt.default(64),
  maxTarget: posInt.default(64),
  /** N and M (Vaswani et al. 2017: 6 and 6). */
  encoderLayers: posInt.default(6),
  decoderLayers: posInt.default(6),
  ...TransformerFields.shape,
  /** The decoder's input embedding is the output head (Press & Wolf 2017; Vaswani et al. 2017, §3.4). */
  tieTargetEmbedding: z.boolean().default(true),
  /** One embedding for both sides (a joint vocabulary): needs sourceVocab = targetVocab. */
  shareEmbeddings: z.boolean().default(false),
  /** ε of label smoothing (Szegedy et al. 2016; Vaswani et al. 2017, §5.4: 0.1). */
  labelSmoothing: z.number().min(0).lt(1).default(0.1),
});

export type Seq2SeqConfig = z.output<typeof Seq2SeqConfigFields>;

export const SEQ2SEQ_CONFIG_FIELDS = Object.keys(Seq2SeqConfigFields.shape) as (keyof Seq2SeqConfig)[];

export const Seq2SeqConfigSchema = Seq2SeqConfigFields.strict().superRefine((c, ctx) => {
  const heads = headSplitProblem(c.nEmbd, c.nHead);
  if (heads) ctx.addIssue({ code: 'custom', path: ['nHead'], message: heads, input: c.nHead });
  // The combination rules do not depend on the depth, so one question covers both stacks.
  const design = designProblem(stackDesign(c, 'encoder'));
  if (design) ctx.addIssue({ code: 'custom', path: [], message: design, input: c.residual });
  if (c.shareEmbeddings && c.sourceVocab !== c.targetVocab) {
    ctx.addIssue({
      code: 'custom',
      path: ['shareEmbeddings'],
      message: `one embedding for both sides needs one vocabulary, but sourceVocab = ${c.sourceVocab} and targetVocab = ${c.targetVocab}; use a joint vocabulary or shareEmbeddings: false`,
      input: c.shareEmbeddings,
    });
  }
});

export const DEFAULT_SEQ2SEQ_CONFIG: Seq2SeqConfig = Seq2SeqConfigSchema.parse({ sourceVocab: 64, targetVocab: 64 });

/** Structural checks a model cannot work without, each issue with its field, its value and what is allowed. */
export function checkSeq2SeqConfig(c: Seq2SeqConfig): void {
  const r = Seq2SeqConfigSchema.safeParse(c);
  if (!r.success) throw configError('Seq2Seq config', c, r.error, SEQ2SEQ_CONFIG_FIELDS);
}

/** The design of one stack: its own depth (Mix-LN's ⌊ρ·L⌋, LayerScale's init) and its role (DeepNorm's constants). */
export function stackDesign(c: Seq2SeqConfig, role: 'encoder' | 'decoder'): DesignFields {
  return {
    nLayer: role === 'encoder' ? c.encoderLayers : c.decoderLayers,
    norm: c.norm,
    placement: c.placement,
    residual: c.residual,
    qkNorm: c.qkNorm,
    mixRatio: c.mixRatio,
    hyperStreams: c.hyperStreams,
    stack: { role, encoderLayers: c.encoderLayers, decoderLayers: c.decoderLayers },
  };
}
