// A Hugging Face GPT-2 model directory, as bytes, to what a resnorm run holds: the GPT's config, its
// weights as a state dict, and the tokenizer. Works on bytes the caller read (the CLI reads the
// directory), so it runs in a browser too; cli/gpt2-run.ts turns the result into a checkpoint.

import { gpt2TokenizerFromFiles, gpt2TokenizerFromTokenizerJson } from '../../data/gpt2-vocab.ts';
import type { BpeTokenizer } from '../../data/bpe-tokenizer.ts';
import type { GPTConfig } from '../../models/gpt-config.ts';
import type { HostTensor } from '../../nn/parameter-store.ts';
import { decodeSafetensors } from '../safetensors.ts';
import { gpt2ConfigToModel } from './gpt2-config.ts';
import { Gpt2FormatError } from './gpt2-error.ts';
import { gpt2ToState } from './gpt2-weights.ts';

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
  /** The names in the directory, for a message when a file is missing (a pytorch_model.bin, say). */
  present?: readonly string[];
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** `dir` names the directory in messages. */
export function importGpt2(files: Gpt2InputFiles, dir: string, opts: Gpt2ImportOptions = {}): ImportedGpt2 {
  const path = (f: string) => `${dir}/${f}`;
  const layout = 'a GPT-2 model directory holds config.json, model.safetensors, and vocab.json with merges.txt (or tokenizer.json)';
  const config = files['config.json'];
  if (!config) throw new Gpt2FormatError(`${dir} has no config.json; ${layout}`);
  let raw: unknown;
  try {
    raw = JSON.parse(text(config));
  } catch (e) {
    throw new Gpt2FormatError(`${path('config.json')} is not valid JSON (${(e as Error).message})`);
  }
  const { model, notes } = gpt2ConfigToModel(raw, path('config.json'), { dropout: opts.dropout });

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
    throw new Gpt2FormatError(`${dir} has ${half}; ${layout}`);
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
    throw new Gpt2FormatError(`${dir} has no model.safetensors${why}; ${layout}`);
  }
  const decoded = decodeSafetensors(weights, { source: path('model.safetensors') });
  const { state, dtypes } = gpt2ToState(decoded.tensors, model, path('model.safetensors'));
  return { model, state, tokenizer, tokenizerSource, dtypes, notes };
}
