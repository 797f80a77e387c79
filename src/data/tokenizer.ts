// The tokenizer interface every model and command sees, its saved JSON form, and the loader that
// validates such JSON (e.g. from a checkpoint) and rebuilds the right tokenizer.

import { BpeTokenizer } from './bpe-tokenizer.ts';
import { CharTokenizer } from './char-tokenizer.ts';
import { TokenizerError, preview } from './tokenizer-error.ts';

export { TokenizerError } from './tokenizer-error.ts';

/** The tokenizers a run can use; the config schema and the CLI help take their choices from here. */
export const TOKENIZER_KINDS = ['char', 'bpe'] as const;
export type TokenizerKind = (typeof TOKENIZER_KINDS)[number];

export interface Tokenizer {
  readonly kind: TokenizerKind;
  /** V: ids run from 0 to vocabSize − 1. */
  readonly vocabSize: number;
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  toJSON(): TokenizerJSON;
}

export interface CharTokenizerJSON {
  kind: 'char';
  version: 1;
  /** The vocabulary: one Unicode code point per entry, in increasing code-point order; id = index. */
  chars: string[];
}

export interface BpeTokenizerJSON {
  kind: 'bpe';
  version: 1;
  pretokenizer: 'gpt2';
  /** Merge k joins the pair of ids [a, b] into id 256 + k; ids below 256 are bytes in GPT-2's order. */
  merges: [number, number][];
  /** Special tokens (GPT-2's '<|endoftext|>'), ids 256 + merges.length onwards; absent when none. */
  specials?: string[];
}

export type TokenizerJSON = CharTokenizerJSON | BpeTokenizerJSON;

/** Rebuilds a tokenizer from its toJSON() output, throwing a TokenizerError naming the bad field. */
export function tokenizerFromJSON(json: unknown): Tokenizer {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new TokenizerError(`tokenizer JSON must be an object with a 'kind' field ('char' or 'bpe'), found ${json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json}`);
  }
  const kind = (json as { kind?: unknown }).kind;
  switch (kind) {
    case 'char':
      return CharTokenizer.fromJSON(json);
    case 'bpe':
      return BpeTokenizer.fromJSON(json);
    default:
      throw new TokenizerError(`tokenizer JSON has kind ${preview(kind)}; expected 'char' or 'bpe' — was this file written by resnorm?`);
  }
}

/** The start of samples: a newline, else a space, else the text's first character, else token 0. */
export function promptFor(tokenizer: Tokenizer, text: string): number[] {
  for (const p of ['\n', ' ', text[0]]) {
    if (!p) continue;
    try {
      const ids = tokenizer.encode(p);
      if (ids.length > 0) return ids;
    } catch {
      // Not in this vocabulary: try the next candidate.
    }
  }
  return [0];
}
