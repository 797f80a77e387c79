// A text classifier: a Transformer encoder (bidirectional self-attention over the real tokens, padded
// ones masked, in any design of docs/designs.md) → pooling → a linear head over the classes. Pooling is
// the mean of the real positions' outputs, or the output at position 0 where the caller puts a class
// token (BERT's [CLS], Devlin et al. 2019). The encoder is the encoder-decoder's (seq2seq-stack.ts).

import { z } from 'zod';
import type { Backend } from '../backend/backend.ts';
import { headSplitProblem } from '../nn/attention.ts';
import { Block } from '../nn/block.ts';
import { designProblem, type DesignFields } from '../nn/design.ts';
import { Linear } from '../nn/linear.ts';
import { Module } from '../nn/module.ts';
import { getDefaultBackend } from '../tensor/backend-registry.ts';
import { div, mul } from '../tensor/ops/elementwise.ts';
import { reshape, slice } from '../tensor/ops/layout.ts';
import { sum } from '../tensor/ops/reduce.ts';
import { Rng } from '../tensor/rng.ts';
import { fmt } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { ConfigError, configError, GPTConfigFields, TransformerFields } from './gpt-config.ts';
import { Stack } from './seq2seq-stack.ts';

export const POOLINGS = ['mean', 'cls'] as const;
export type Pooling = (typeof POOLINGS)[number];

const posInt = z.number().int().positive();

/** The fields, without the checks across them (the classify task's run config picks from here). */
export const TextClassifierConfigFields = z.object({
  vocabSize: posInt,
  /** The longest text, in tokens (the class token included). */
  maxLen: posInt.default(256),
  classes: posInt.min(2),
  nLayer: GPTConfigFields.shape.nLayer,
  ...TransformerFields.shape,
  pooling: z.enum(POOLINGS).default('mean'),
});

export const TextClassifierConfigSchema = TextClassifierConfigFields
  .strict()
  .superRefine((c, ctx) => {
    const heads = headSplitProblem(c.nEmbd, c.nHead);
    if (heads) ctx.addIssue({ code: 'custom', path: ['nHead'], message: heads, input: c.nHead });
    const design = designProblem(c);
    if (design) ctx.addIssue({ code: 'custom', path: [], message: design, input: c.residual });
  });

export type TextClassifierConfig = z.output<typeof TextClassifierConfigSchema>;

export class TextClassifier extends Module {
  readonly encoder: Stack<Block>;
  readonly head: Linear;
  readonly dropoutRng: Rng;

  private constructor(readonly config: TextClassifierConfig, seed: number) {
    super();
    const c = config;
    this.dropoutRng = new Rng(seed ^ 0x5bd1e995);
    const design: DesignFields = c;
    const projInit = { kind: 'normal', std: 0.02 / Math.sqrt(2 * c.nLayer) } as const;
    this.encoder = this.child('encoder', new Stack<Block>(
      { vocab: c.vocabSize, maxLen: c.maxLen, maxLenField: 'maxLen', C: c.nEmbd, bias: c.bias, dropout: c.dropout, positional: c.positional, design, rng: this.dropoutRng, sharedEmbedding: null },
      (layer) => new Block({ C: c.nEmbd, nHead: c.nHead, bias: c.bias, activation: c.activation, dropout: c.dropout, projInit, rng: this.dropoutRng, design, layer, causal: false }),
    ));
    this.head = this.child('head', new Linear(c.nEmbd, c.classes, { bias: c.bias }));
  }

  static create(config: Partial<TextClassifierConfig> & Pick<TextClassifierConfig, 'vocabSize' | 'classes'>, opts: { backend?: Backend; seed?: number; dtype?: 'float32' | 'float64' } = {}): TextClassifier {
    const r = TextClassifierConfigSchema.safeParse(config);
    if (!r.success) throw configError('text classifier config', config, r.error, Object.keys(TextClassifierConfigSchema.shape));
    const seed = opts.seed ?? 1337;
    const backend = opts.backend ?? getDefaultBackend();
    const dtype = opts.dtype ?? 'float32';
    const model = new TextClassifier(r.data, seed);
    model.materialize(backend, new Rng(seed), dtype);
    model.encoder.materializePositions(backend, dtype);
    return model;
  }

  get backend(): Backend {
    return this.store!.backend;
  }

  /** ids int32 (B, T) and their mask float (B, T) (1 real token, 0 padding; every text has a real token) → logits (B, classes). */
  logits(ids: Tensor, mask: Tensor): Tensor {
    const [B, T] = ids.shape;
    if (ids.rank !== 2 || ids.dtype !== 'int32') throw new ConfigError(`TextClassifier: ids must be int32 (B, T), got ${ids.dtype} ${fmt(ids.shape)}`);
    if (mask.rank !== 2 || mask.shape[0] !== B || mask.shape[1] !== T || mask.dtype === 'int32') {
      throw new ConfigError(`TextClassifier: the mask must be float (B, T) like ids ${fmt(ids.shape)}, got ${mask.dtype} ${fmt(mask.shape)}`);
    }
    const x = this.encoder.encode(ids, mask, 'text'); // (B, T, C)
    const C = this.config.nEmbd;
    const pooled = this.config.pooling === 'cls'
      ? reshape(slice(x, 1, 0, 1), [B, C])
      : div(sum(mul(x, reshape(mask, [B, T, 1])), [1]), reshape(sum(mask, [1]), [B, 1])); // the mean over real positions
    return this.head.forward(pooled);
  }
}
