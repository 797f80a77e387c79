// The GPT's settings, each defined once, here: its type, allowed values and default. The GPTConfig
// type, DEFAULT_GPT_CONFIG, GPT.create's check, the training config's schema (and so every CLI flag
// and its help) and the checkpoint reader's model check all derive from GPTConfigFields; the variants'
// names come from the nn/ modules that implement them.

import { z } from 'zod';
import { ACTIVATIONS } from '../nn/activation.ts';
import { headSplitProblem } from '../nn/attention.ts';
import { DEFAULT_HYPER_STREAMS, DEFAULT_MIX_RATIO, designProblem, PLACEMENTS, RESIDUALS, type DesignFields } from '../nn/design.ts';
import { NORM_KINDS } from '../nn/norm.ts';
import { POSITIONAL_KINDS } from '../nn/positional.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const posInt = z.number().int().positive();

/** Every field, without the check across fields (the training config extends these, so the check is added after). */
export const GPTConfigFields = z.object({
  vocabSize: posInt, // V: set by the tokenizer
  blockSize: posInt.default(64), // T: the longest context
  nLayer: posInt.default(4), // L
  nHead: posInt.default(4), // H
  nEmbd: posInt.default(128), // C
  dropout: z.number().min(0).lt(1).default(0),
  /** Biases in Linear layers and LayerNorms (GPT-2: true). */
  bias: z.boolean().default(true),
  norm: z.enum(NORM_KINDS).default('layernorm'),
  /** Where the norms sit around each sub-layer (docs/designs.md). */
  placement: z.enum(PLACEMENTS).default('pre'),
  /** How each sub-layer's output joins the residual stream (docs/designs.md). */
  residual: z.enum(RESIDUALS).default('plain'),
  /** Normalize each head's queries and keys (QK-norm). */
  qkNorm: z.boolean().default(false),
  /** Mix-LN's ρ: the first ⌊ρ·L⌋ layers are post-LN (placement 'mix'). */
  mixRatio: z.number().min(0).max(1).default(DEFAULT_MIX_RATIO),
  /** Hyper-connections' n: the number of residual streams (residual 'hyper'). */
  hyperStreams: posInt.max(16).default(DEFAULT_HYPER_STREAMS),
  positional: z.enum(POSITIONAL_KINDS).default('learned'),
  /** Share the token embedding with the output head (GPT-2: true). */
  tieWeights: z.boolean().default(true),
  /** 'gelu' = exact erf GELU (nanoGPT), 'gelu-tanh' = GPT-2's approximation. */
  activation: z.enum(ACTIVATIONS).default('gelu'),
});

export type GPTConfig = z.output<typeof GPTConfigFields>;

/**
 * The fields every Transformer of resnorm shares with the GPT — width, heads, activation, positions and
 * the design (docs/designs.md) — so the encoder-decoder and the text classifier take them, with their
 * values, defaults and messages, from this one definition.
 */
export const TransformerFields = GPTConfigFields.pick({
  nHead: true,
  nEmbd: true,
  dropout: true,
  bias: true,
  activation: true,
  positional: true,
  norm: true,
  placement: true,
  residual: true,
  qkNorm: true,
  mixRatio: true,
  hyperStreams: true,
});

/** The fields in declaration order, which is also their order in config.json. */
export const GPT_CONFIG_FIELDS = Object.keys(GPTConfigFields.shape) as (keyof GPTConfig)[];

/** The checks across fields, for every schema that holds the model's fields. */
export function checkAcrossFields<T extends { nEmbd: number; nHead: number } & Omit<DesignFields, 'nLayer'> & { nLayer: number }>(
  c: T,
  ctx: z.RefinementCtx<T>,
): void {
  const problem = headSplitProblem(c.nEmbd, c.nHead);
  if (problem) ctx.addIssue({ code: 'custom', path: ['nHead'], message: problem, input: c.nHead });
  const design = designProblem(c);
  if (design) ctx.addIssue({ code: 'custom', path: [], message: design, input: c.residual });
}

export const GPTConfigSchema = GPTConfigFields.strict().superRefine(checkAcrossFields);

export const DEFAULT_GPT_CONFIG: GPTConfig = GPTConfigSchema.parse({ vocabSize: 65 });

/** A ConfigError listing every issue zod found in `raw`, each with its field, its value and what is allowed. */
export function configError(source: string, raw: unknown, error: z.ZodError, knownFields: readonly string[]): ConfigError {
  const lines = error.issues.map((issue) => {
    const field = issue.path.join('.') || '(top level)';
    const value = issue.path.reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k as string] : undefined), raw);
    // A check across fields (a design that cannot be built) says in its message which flags clash.
    if (issue.code === 'custom' && issue.path.length === 0) return issue.message;
    if (issue.code === 'unrecognized_keys') {
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}; known fields: ${knownFields.join(', ')}`;
    }
    return `field '${field}' = ${JSON.stringify(value)}: ${issue.message}`;
  });
  return new ConfigError(`${source} is invalid:\n  - ${lines.join('\n  - ')}`);
}

/** Structural checks a model cannot work without, the same ones config files and flags get. */
export function checkGPTConfig(c: GPTConfig): void {
  const r = GPTConfigSchema.safeParse(c);
  if (!r.success) throw configError('GPT config', c, r.error, GPT_CONFIG_FIELDS);
}
