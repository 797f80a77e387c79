// Hugging Face's GPT-2 config.json (GPT2Config's keys) to and from resnorm's GPTConfig. GPT-2 is one
// design of resnorm's: pre-LN, LayerNorm with bias (ε = 1e-5), GELU with the tanh approximation,
// learned positions, a plain residual and, unless the config unties it, the head tied to the token
// embedding. Keys that would build another model (other widths of the MLP, cross-attention, other
// attention scalings) are refused, naming the key; keys of no effect on the model (token ids, task
// parameters, generation settings) are ignored, as they are by GPT-2 itself.

import { DEFAULT_GPT_CONFIG, type GPTConfig } from '../../models/gpt-config.ts';
import { Gpt2FormatError } from './gpt2-error.ts';

/** resnorm's LayerNorm ε (src/nn/norm.ts), which is GPT-2's. */
export const GPT2_LAYER_NORM_EPS = 1e-5;

/** Hugging Face's names of GPT-2's GELU (the tanh approximation), and of the exact one. */
const TANH_GELUS = ['gelu_new', 'gelu_pytorch_tanh'] as const;

/** The parts of config.json resnorm reads, besides what it maps into GPTConfig. */
export interface Gpt2ConfigImport {
  model: GPTConfig;
  /** What the mapping dropped or changed, for the user to read (attention dropout, …). */
  notes: string[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Maps a parsed config.json to the GPT it describes. Sizes are required; the other keys take GPT2Config's
 * defaults when absent, as Hugging Face does. `dropout` overrides the config's resid_pdrop.
 */
export function gpt2ConfigToModel(raw: unknown, where = 'config.json', opts: { dropout?: number } = {}): Gpt2ConfigImport {
  if (!isRecord(raw)) throw new Gpt2FormatError(`${where} must be a JSON object of GPT-2 settings (n_embd, n_layer, …)`);
  const fail = (msg: string): never => {
    throw new Gpt2FormatError(`${where}: ${msg}`);
  };
  const value = (key: string) => JSON.stringify(raw[key]) ?? 'undefined';
  const size = (key: string, fallback?: string): number => {
    const v = raw[key] ?? (fallback !== undefined ? raw[fallback] : undefined);
    if (v === undefined) fail(`'${key}' is missing; a GPT-2 config gives vocab_size, n_positions, n_embd, n_layer and n_head`);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) fail(`'${key}' = ${value(key)}; it must be a positive integer`);
    return v as number;
  };
  const flag = (key: string, expected: boolean, why: string) => {
    const v = raw[key];
    if (v === undefined || v === null) return;
    if (typeof v !== 'boolean') fail(`'${key}' = ${value(key)}; it must be true or false`);
    if (v !== expected) fail(`'${key}' = ${v}: ${why}`);
  };
  const probability = (key: string): number => {
    const v = raw[key] ?? 0.1; // GPT2Config's default
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) fail(`'${key}' = ${value(key)}; a dropout probability is a number in [0, 1)`);
    return v as number;
  };
  if (raw.model_type !== undefined && raw.model_type !== 'gpt2') fail(`model_type is ${value('model_type')}, not "gpt2"; resnorm imports GPT-2 models only`);
  const vocabSize = size('vocab_size');
  const blockSize = size('n_positions', 'n_ctx');
  const nEmbd = size('n_embd');
  const nLayer = size('n_layer');
  const nHead = size('n_head');
  if (nEmbd % nHead !== 0) fail(`n_embd = ${nEmbd} is not divisible by n_head = ${nHead}`);
  const inner = raw.n_inner;
  if (inner !== undefined && inner !== null && inner !== 4 * nEmbd) {
    fail(`n_inner = ${value('n_inner')}: resnorm's MLP is 4·n_embd = ${4 * nEmbd} wide, as GPT-2's is when n_inner is null`);
  }
  const eps = raw.layer_norm_epsilon ?? GPT2_LAYER_NORM_EPS;
  if (eps !== GPT2_LAYER_NORM_EPS) fail(`layer_norm_epsilon = ${value('layer_norm_epsilon')}: resnorm's LayerNorm uses ε = 1e-5, GPT-2's value`);
  const notes: string[] = [];
  const act = raw.activation_function ?? 'gelu_new';
  let activation: GPTConfig['activation'];
  if ((TANH_GELUS as readonly unknown[]).includes(act)) activation = 'gelu-tanh';
  else if (act === 'gelu') {
    activation = 'gelu';
    notes.push('activation_function "gelu" is the exact (erf) GELU, not GPT-2\'s tanh approximation; resnorm runs it as given, but export-gpt2 writes GPT-2\'s design only, so this run cannot be exported back');
  }
  else fail(`activation_function = ${value('activation_function')}: resnorm has GPT-2's GELU (${TANH_GELUS.map((a) => `"${a}"`).join(', ')}) and the exact one ("gelu")`);
  flag('scale_attn_weights', true, 'resnorm scales attention scores by 1/sqrt(head size), as GPT-2 does');
  flag('scale_attn_by_inverse_layer_idx', false, "resnorm does not scale attention by the layer's index");
  flag('add_cross_attention', false, 'resnorm imports decoder-only GPT-2 models, without cross-attention');
  const tie = raw.tie_word_embeddings ?? true;
  if (typeof tie !== 'boolean') fail(`'tie_word_embeddings' = ${value('tie_word_embeddings')}; it must be true or false`);
  const resid = probability('resid_pdrop');
  const embd = probability('embd_pdrop');
  const attn = probability('attn_pdrop');
  const dropout = opts.dropout ?? resid;
  if (opts.dropout === undefined && embd !== resid) notes.push(`embd_pdrop = ${embd} and resid_pdrop = ${resid} differ; resnorm has one dropout rate, for the embeddings and the residual branches alike, so it takes resid_pdrop (--dropout sets another)`);
  if (attn > 0) notes.push(`attn_pdrop = ${attn}: resnorm does not drop attention probabilities, so training here drops out only the embeddings and residual branches`);
  const model: GPTConfig = {
    ...DEFAULT_GPT_CONFIG,
    vocabSize,
    blockSize,
    nLayer,
    nHead,
    nEmbd,
    dropout,
    bias: true,
    norm: 'layernorm',
    placement: 'pre',
    residual: 'plain',
    qkNorm: false,
    positional: 'learned',
    tieWeights: tie as boolean,
    activation: activation!,
  };
  return { model, notes };
}

/** Hugging Face's activation_function for GPT-2's GELU; export's check refuses the exact one before this is asked. */
function hfActivation(a: GPTConfig['activation']): string {
  switch (a) {
    case 'gelu-tanh':
      return 'gelu_new';
    case 'gelu':
      throw new Error("modelToGpt2Config: the exact GELU is not GPT-2's; gpt2DesignProblems refuses it first");
    default: {
      const never: never = a;
      throw new Error(`unknown activation '${String(never)}'`);
    }
  }
}

/**
 * config.json for a GPT that GPT-2 can hold (export's check has passed). `endOfText` is the id of
 * '<|endoftext|>' when the tokenizer has it (GPT-2's bos and eos), `torchDtype` the weights' dtype.
 */
export function modelToGpt2Config(m: GPTConfig, o: { endOfText: number | null; torchDtype: string }): Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: m.vocabSize,
    n_positions: m.blockSize,
    n_embd: m.nEmbd,
    n_layer: m.nLayer,
    n_head: m.nHead,
    n_inner: null,
    activation_function: hfActivation(m.activation),
    resid_pdrop: m.dropout,
    embd_pdrop: m.dropout,
    // resnorm's attention has no dropout of its own.
    attn_pdrop: 0,
    layer_norm_epsilon: GPT2_LAYER_NORM_EPS,
    initializer_range: 0.02,
    scale_attn_weights: true,
    scale_attn_by_inverse_layer_idx: false,
    reorder_and_upcast_attn: false,
    tie_word_embeddings: m.tieWeights,
    use_cache: true,
    ...(o.endOfText !== null ? { bos_token_id: o.endOfText, eos_token_id: o.endOfText } : {}),
    torch_dtype: o.torchDtype,
  };
}
