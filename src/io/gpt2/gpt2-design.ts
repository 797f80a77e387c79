// Which runs GPT-2's format can hold: a check of every field of GPTConfig, and of the tokenizer's
// kind, each by an exhaustive switch over its values. A new GPTConfig field, norm, placement,
// residual rule, positional encoding, activation or tokenizer kind does not compile until it is
// given an answer here, so no design is ever exported as GPT-2 by omission.

import type { GPTConfig } from '../../models/gpt-config.ts';
import type { TokenizerKind } from '../../data/tokenizer.ts';

/** GPT-2's design, for the message that lists the refusals. */
export const GPT2_DESIGN = "GPT-2's design is pre-LN LayerNorm with biases (x + F(LN(x)), a final LayerNorm), GELU with the tanh approximation, learned positions and a plain residual, with a byte-level BPE tokenizer";

type FieldCheck<K extends keyof GPTConfig> = (value: GPTConfig[K], c: GPTConfig) => string | null;

function unknown(field: string, v: never): never {
  throw new Error(`unknown ${field} '${String(v)}'`);
}

/**
 * One answer per field: null when GPT-2 holds any value of it, else a function of the value. The
 * type requires every key of GPTConfig.
 */
const FIELD_CHECKS: { [K in keyof GPTConfig]: FieldCheck<K> } = {
  // Sizes: GPT-2's config gives each (vocab_size, n_positions, n_layer, n_head, n_embd).
  vocabSize: () => null,
  blockSize: () => null,
  nLayer: () => null,
  nHead: () => null,
  nEmbd: () => null,
  // resid_pdrop and embd_pdrop; resnorm has no attention dropout, written as attn_pdrop 0.
  dropout: () => null,
  bias: (v) => (v ? null : "bias = false (Linear layers and LayerNorms without biases): GPT-2's all have them"),
  norm: (v) => {
    switch (v) {
      case 'layernorm':
        return null;
      case 'rmsnorm':
        return "norm = 'rmsnorm' (RMSNorm, x/rms(x)·γ, no mean and no bias): GPT-2 normalizes with LayerNorm";
      case 'dyt':
        return "norm = 'dyt' (Dynamic Tanh, γ·tanh(αx) + β): GPT-2 normalizes with LayerNorm";
      case 'batchnorm':
        return "norm = 'batchnorm' (BatchNorm over batch and time, with running statistics): GPT-2 normalizes with LayerNorm";
      case 'none':
        return "norm = 'none' (no normalization): GPT-2 has a LayerNorm before each sub-layer and a final one";
      default:
        return unknown('norm', v);
    }
  },
  placement: (v, c) => {
    switch (v) {
      case 'pre':
        return null;
      case 'post':
        return "placement = 'post' (Post-LN, LN(x + F(x)), the norm after each residual add): GPT-2 is pre-LN, x + F(LN(x))";
      case 'peri':
        return "placement = 'peri' (Peri-LN: norms on each sub-layer's input and output, and on the embeddings): GPT-2 normalizes only each sub-layer's input";
      case 'sandwich':
        return "placement = 'sandwich' (Sandwich-LN: norms on each sub-layer's input and output): GPT-2 normalizes only each sub-layer's input";
      case 'mix':
        return `placement = 'mix' (Mix-LN, the first ${Math.floor(c.mixRatio * c.nLayer)} of ${c.nLayer} layers post-LN): GPT-2 is pre-LN in every layer`;
      case 'none':
        return "placement = 'none' (no norms in the blocks): GPT-2 has a LayerNorm before each sub-layer";
      default:
        return unknown('placement', v);
    }
  },
  residual: (v, c) => {
    switch (v) {
      case 'plain':
        return null;
      case 'deepnorm':
        return "residual = 'deepnorm' (DeepNorm, LN(α·x + F(x))): GPT-2's residual is a plain x + F(·)";
      case 'rezero':
        return "residual = 'rezero' (ReZero, x + α·F(x) with a learned α): GPT-2's residual is a plain x + F(·)";
      case 'layerscale':
        return "residual = 'layerscale' (LayerScale, x + λ⊙F(·) with learned per-channel λ): GPT-2's residual is a plain x + F(·)";
      case 'admin':
        return "residual = 'admin' (Admin, LN(ω⊙x + F(x)) with profiled ω): GPT-2's residual is a plain x + F(·)";
      case 'hyper':
        return `residual = 'hyper' (hyper-connections, ${c.hyperStreams} residual streams with learned mixing): GPT-2 has one stream and a plain x + F(·)`;
      case 'value-residual':
        return "residual = 'value-residual' (each layer's values mixed with the first layer's by learned λ): GPT-2's attention has no such weights";
      case 'none':
        return "residual = 'none' (no shortcut, the branch alone): GPT-2 adds every sub-layer to its input, x + F(·)";
      default:
        return unknown('residual', v);
    }
  },
  qkNorm: (v) => (v ? 'qkNorm = true (queries and keys normalized per head): GPT-2 has no QK-norm' : null),
  // Only read by placement 'mix' and residual 'hyper', which are refused above (and a value other than
  // the default without them is refused when the config is made, nn/design.ts).
  mixRatio: () => null,
  hyperStreams: () => null,
  positional: (v) => {
    switch (v) {
      case 'learned':
        return null;
      case 'sinusoidal':
        return "positional = 'sinusoidal' (the fixed sin/cos table of Vaswani et al.): GPT-2 learns its position embeddings (wpe)";
      default:
        return unknown('positional', v);
    }
  },
  // tie_word_embeddings: false holds an untied head (lm_head.weight), as Hugging Face's GPT-2 reads it.
  tieWeights: () => null,
  activation: (v) => {
    switch (v) {
      case 'gelu-tanh':
        return null;
      case 'gelu':
        return "activation = 'gelu' (the exact, erf GELU): GPT-2 uses the tanh approximation (activation_function \"gelu_new\"); train with --activation gelu-tanh";
      default:
        return unknown('activation', v);
    }
  },
};

/** What GPT-2's tokenizer files can hold: a byte-level BPE vocabulary (vocab.json + merges.txt). */
export function gpt2TokenizerProblem(kind: TokenizerKind): string | null {
  switch (kind) {
    case 'bpe':
      return null;
    case 'char':
      return "tokenizer = 'char' (one token per character of the training text): GPT-2's files hold a byte-level BPE vocabulary (vocab.json + merges.txt); train with --tokenizer bpe";
    default: {
      const never: never = kind;
      throw new Error(`unknown tokenizer kind '${String(never)}'`);
    }
  }
}

function checkField<K extends keyof GPTConfig>(key: K, c: GPTConfig): string | null {
  return FIELD_CHECKS[key](c[key], c);
}

/** Every field of the model GPT-2's format cannot hold, each with what it is and what GPT-2 has instead. */
export function gpt2DesignProblems(c: GPTConfig): string[] {
  return (Object.keys(FIELD_CHECKS) as (keyof GPTConfig)[]).map((k) => checkField(k, c)).filter((p): p is string => p !== null);
}
