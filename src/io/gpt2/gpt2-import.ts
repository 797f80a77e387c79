// A Hugging Face GPT-2 model directory, as bytes, to what a resnorm run holds: the GPT's config, its
// weights as a state dict, and the tokenizer. Works on bytes the caller read (the CLI reads the
// directory), so it runs in a browser too; cli/gpt2-run.ts turns the result into a checkpoint.

import { gpt2TokenizerFromFiles, gpt2TokenizerFromTokenizerJson } from '../../data/gpt2-vocab.ts';
import type { BpeTokenizer } from '../../data/bpe-tokenizer.ts';
import type { GPTConfig } from '../../models/gpt-config.ts';
import type { HostTensor } from '../../nn/parameter-store.ts';
import { decodeSafetensors } from '../safetensors.ts';
import { gpt2ConfigToModel, type Gpt2ConfigImport } from './gpt2-config.ts';
import { Gpt2FormatError } from './gpt2-error.ts';
import { gpt2ParameterCount, gpt2ToState } from './gpt2-weights.ts';

/** The files of a GPT-2 directory that resnorm reads; absent ones are undefined. */
export const GPT2_INPUT_FILES = ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt', 'tokenizer.json'] as const;
export type Gpt2InputFile = (typeof GPT2_INPUT_FILES)[number];
export type Gpt2InputFiles = Partial<Record<Gpt2InputFile, Uint8Array>>;

export interface ImportedGpt2 {
  model: GPTConfig;
  /** By resnorm's parameter names, in resnorm's layout (Linear weights (out, in)). */
  state: Map<string, HostTensor>;
  tokenizer: BpeTokenizer;
  /** The tokenizer's files: 'vocab.json + merges.txt' or 'tokenizer.json'. */
  tokenizerSource: string;
  /** The weights' dtypes in the file, e.g. ['F32'] (the mask buffers left aside). */
  dtypes: string[];
  /** What the mapping dropped or changed (attention dropout, …), for the user. */
  notes: string[];
}

export interface Gpt2ImportOptions {
  /** Overrides config.json's resid_pdrop as the run's dropout. */
  dropout?: number;
  /** Refuses a config.json of more parameters, before the weights are decoded. */
  maxParameters?: number;
  /** The names in the directory, for a message when a file is missing (a pytorch_model.bin, say). */
  present?: readonly string[];
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

const LAYOUT = 'a GPT-2 model directory holds config.json, model.safetensors, and vocab.json with merges.txt (or tokenizer.json)';

/**
 * The GPT config.json describes (and what the mapping left out), refused when it has more than
 * `maxParameters`: a caller can ask this before it reads the weights.
 */
export function importGpt2Config(files: Pick<Gpt2InputFiles, 'config.json'>, dir: string, opts: Gpt2ImportOptions = {}): Gpt2ConfigImport {
  const where = `${dir}/config.json`;
  const config = files['config.json'];
  if (!config) throw new Gpt2FormatError(`${dir} has no config.json; ${LAYOUT}`);
  let raw: unknown;
  try {
    raw = JSON.parse(text(config));
  } catch (e) {
    throw new Gpt2FormatError(`${where} is not valid JSON (${(e as Error).message})`);
  }
  const imported = gpt2ConfigToModel(raw, where, { dropout: opts.dropout });
  const n = gpt2ParameterCount(imported.model);
  if (opts.maxParameters !== undefined && n > opts.maxParameters) {
    throw new Gpt2FormatError(
      `${where} describes a GPT-2 of ${n.toLocaleString('en-US')} parameters; a resnorm run holds at most ${opts.maxParameters.toLocaleString('en-US')} (its weights, gradients and AdamW's two moments must fit in half of wasm32's 4 GiB): GPT-2 small (124M) fits, GPT-2 medium (355M) and larger do not`,
    );
  }
  return imported;
}

/** `dir` names the directory in messages. */
export function importGpt2(files: Gpt2InputFiles, dir: string, opts: Gpt2ImportOptions = {}): ImportedGpt2 {
  const path = (f: string) => `${dir}/${f}`;
  const { model, notes } = importGpt2Config(files, dir, opts);

  let tokenizer: BpeTokenizer;
  let tokenizerSource: string;
  const { 'vocab.json': vocab, 'merges.txt': merges, 'tokenizer.json': tokJson } = files;
  if (vocab && merges) {
    tokenizer = gpt2TokenizerFromFiles(text(vocab), text(merges), { vocab: path('vocab.json'), merges: path('merges.txt') });
    tokenizerSource = 'vocab.json + merges.txt';
  } else if (tokJson) {
    tokenizer = gpt2TokenizerFromTokenizerJson(text(tokJson), path('tokenizer.json'));
    tokenizerSource = 'tokenizer.json';
  } else {
    const half = vocab ? 'vocab.json without merges.txt' : merges ? 'merges.txt without vocab.json' : 'no tokenizer files';
    throw new Gpt2FormatError(`${dir} has ${half}; ${LAYOUT}`);
  }
  if (tokenizer.vocabSize !== model.vocabSize) {
    throw new Gpt2FormatError(
      `${path('config.json')} has vocab_size = ${model.vocabSize}, but the tokenizer (${tokenizerSource}) has ${tokenizer.vocabSize} tokens; a resnorm run needs the two equal, one embedding row per token`,
    );
  }

  const weights = files['model.safetensors'];
  if (!weights) {
    const other = (opts.present ?? []).find((n) => /^(pytorch_model\.bin|model\.safetensors\.index\.json|tf_model\.h5|flax_model\.msgpack)$/.test(n));
    const why = other ? `; it has ${other}, which resnorm does not read: save the model as one model.safetensors (save_pretrained(dir, safe_serialization=True, max_shard_size="10GB"))` : '';
    throw new Gpt2FormatError(`${dir} has no model.safetensors${why}; ${LAYOUT}`);
  }
  const decoded = decodeSafetensors(weights, { source: path('model.safetensors') });
  const { state, dtypes } = gpt2ToState(decoded.tensors, model, path('model.safetensors'));
  return { model, state, tokenizer, tokenizerSource, dtypes, notes };
}
