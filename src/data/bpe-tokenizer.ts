// A byte-level BPE tokenizer that resnorm trains itself (GPT-2's scheme: GPT-2 pre-tokenization,
// a base vocabulary of the 256 bytes, learned merges), so any Unicode text encodes with no
// unknown tokens and decodes back exactly.
//
// Why train our own: the well-kept JavaScript BPE libraries (gpt-tokenizer, js-tiktoken,
// tiktoken's wasm build) only *apply* fixed OpenAI vocabularies; none trains a byte-level BPE on a
// user's corpus, and Hugging Face's trainer is Rust/Python. A 50k-token GPT-2 vocabulary would
// also dwarf the small models resnorm trains (V·C parameters in the embedding alone).
//
// Ids: 0–255 are the bytes in GPT-2's order (byte-unicode.ts) and merge k makes id 256 + k, so
// GPT-2's own merges give GPT-2's ids (checked against gpt-tokenizer in the tests). Special tokens
// (GPT-2's '<|endoftext|>', loaded with its vocabulary by gpt2-vocab.ts) follow the merges: they are
// cut out of the text before pre-tokenization, as Hugging Face's GPT-2 tokenizer does.

import { BASE_BYTES, BYTE_TO_CHAR, BYTE_TO_ID } from './byte-unicode.ts';
import { MAX_VOCAB, mergeWord, pairKey } from './bpe-merge.ts';
import { learnMerges, type BpeTrainOptions } from './bpe-train.ts';
import { pretokenize } from './pretokenize.ts';
import type { BpeTokenizerJSON, Tokenizer } from './tokenizer.ts';
import { TokenizerError, checkSavedTokenizer, preview } from './tokenizer-error.ts';

export type { BpeProgress, BpeTrainOptions } from './bpe-train.ts';

/** Caching bounds: enough for a book's distinct words, without growing forever on odd input. */
const CACHE_ENTRIES = 65536;
const CACHE_WORD_LENGTH = 64;
/**
 * The bytes all tokens may spell out together. A trained vocabulary stays far below (its tokens are
 * pieces of the training text's words), but merge k can join token 256 + k − 1 to itself, doubling
 * a length each step: forty such merges in a corrupt file would ask for a terabyte.
 */
const MAX_TOKEN_BYTES = 64 * 1024 * 1024;
/** Bounds on special tokens: a handful in practice; more, or longer, is a corrupt file. */
const MAX_SPECIALS = 4096;
const MAX_SPECIAL_LENGTH = 256;
const utf8 = new TextEncoder();

export class BpeTokenizer implements Tokenizer {
  readonly kind = 'bpe';
  readonly vocabSize: number;
  readonly merges: readonly (readonly [number, number])[];
  /** Special tokens, ids 256 + merges.length onwards: matched whole in the text, never merged. */
  readonly specials: readonly string[];
  private readonly specialIds = new Map<string, number>();
  /** Finds the specials in a text, longest first where one is a prefix of another; null without specials. */
  private readonly specialPattern: RegExp | null;
  private readonly ranks = new Map<number, number>(); // pairKey(a, b) → merge index
  private readonly bytesOf: Uint8Array[]; // id → the bytes it stands for
  private readonly cache = new Map<string, number[]>();

  /**
   * Merge k must join ids that exist before it (< 256 + k), and no pair may be merged twice. Specials
   * are distinct non-empty strings; special i gets id 256 + merges.length + i.
   */
  constructor(merges: readonly (readonly [number, number])[], specials: readonly string[] = []) {
    if (256 + merges.length + specials.length > MAX_VOCAB) throw new TokenizerError(`BPE tokenizer has ${merges.length} merges; at most ${MAX_VOCAB - 256} are supported`);
    this.bytesOf = BASE_BYTES.map((b) => Uint8Array.of(b));
    let totalBytes = 256;
    merges.forEach((m, k) => {
      const limit = 256 + k;
      if (!Array.isArray(m) || m.length !== 2 || !m.every((id) => Number.isInteger(id) && id >= 0 && id < limit)) {
        throw new TokenizerError(`BPE merge ${k} is ${preview(m)}; it must be a pair of existing token ids, each an integer in [0, ${limit})`);
      }
      const key = pairKey(m[0], m[1]);
      if (this.ranks.has(key)) {
        throw new TokenizerError(`BPE merge ${k} ${JSON.stringify(m)} repeats merge ${this.ranks.get(key)}; each pair may be merged once — the merges list is corrupt`);
      }
      this.ranks.set(key, k);
      const [a, b] = [this.bytesOf[m[0]], this.bytesOf[m[1]]];
      totalBytes += a.length + b.length;
      if (totalBytes > MAX_TOKEN_BYTES) {
        throw new TokenizerError(`BPE merge ${k} brings the bytes spelled by all tokens above ${MAX_TOKEN_BYTES}, far more than any trained vocabulary has; the merges list is corrupt`);
      }
      const joined = new Uint8Array(a.length + b.length);
      joined.set(a);
      joined.set(b, a.length);
      this.bytesOf.push(joined);
    });
    this.merges = merges.map(([a, b]) => [a, b] as const);
    if (specials.length > MAX_SPECIALS) throw new TokenizerError(`BPE tokenizer has ${specials.length} special tokens; at most ${MAX_SPECIALS} are supported`);
    specials.forEach((s, i) => {
      if (typeof s !== 'string' || s.length === 0 || s.length > MAX_SPECIAL_LENGTH) {
        throw new TokenizerError(`BPE special token ${i} is ${preview(s)}; it must be a non-empty string of at most ${MAX_SPECIAL_LENGTH} characters`);
      }
      if (this.specialIds.has(s)) throw new TokenizerError(`BPE special token ${i} ${JSON.stringify(s)} repeats special token ${this.specialIds.get(s)! - 256 - merges.length}`);
      this.specialIds.set(s, 256 + merges.length + i);
      this.bytesOf.push(utf8.encode(s));
    });
    this.specials = [...specials];
    this.specialPattern =
      specials.length === 0 ? null : new RegExp([...specials].sort((a, b) => b.length - a.length).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'gu');
    this.vocabSize = 256 + merges.length + specials.length;
  }

  static fromJSON(json: unknown): BpeTokenizer {
    const obj = checkSavedTokenizer(json, 'bpe');
    if (obj.pretokenizer !== 'gpt2') {
      throw new TokenizerError(`bpe tokenizer JSON has pretokenizer ${preview(obj.pretokenizer)}; only 'gpt2' is supported`);
    }
    if (!Array.isArray(obj.merges)) throw new TokenizerError(`bpe tokenizer JSON field 'merges' must be an array of [a, b] id pairs, found ${typeof obj.merges}`);
    if (obj.specials !== undefined && !Array.isArray(obj.specials)) throw new TokenizerError(`bpe tokenizer JSON field 'specials' must be an array of strings, found ${preview(obj.specials)}`);
    return new BpeTokenizer(obj.merges as [number, number][], (obj.specials as string[] | undefined) ?? []);
  }

  encode(text: string): number[] {
    const out: number[] = [];
    const ordinary = (part: string) => {
      for (const word of pretokenize(part)) {
        for (const id of this.encodeWord(word)) out.push(id);
      }
    };
    if (!this.specialPattern) {
      ordinary(text);
      return out;
    }
    let from = 0;
    for (const m of text.matchAll(this.specialPattern)) {
      ordinary(text.slice(from, m.index));
      out.push(this.specialIds.get(m[0])!);
      from = m.index + m[0].length;
    }
    ordinary(text.slice(from));
    return out;
  }

  /** Exact inverse of encode for any well-formed string; ids splitting a UTF-8 sequence decode to U+FFFD. */
  decode(ids: readonly number[]): string {
    return new TextDecoder().decode(this.decodeBytes(ids));
  }

  /** The raw bytes of the tokens, for callers that stream partial UTF-8 (e.g. during generation). */
  decodeBytes(ids: readonly number[]): Uint8Array {
    let n = 0;
    for (let i = 0; i < ids.length; i++) n += this.tokenBytes(ids[i], i).length;
    const out = new Uint8Array(n);
    let o = 0;
    for (let i = 0; i < ids.length; i++) {
      const b = this.tokenBytes(ids[i], i);
      out.set(b, o);
      o += b.length;
    }
    return out;
  }

  /** A token as GPT-2 prints it: its bytes through GPT-2's printable alphabet (' the' → 'Ġthe'); a special token as itself. */
  tokenString(id: number): string {
    const special = id - 256 - this.merges.length;
    if (Number.isInteger(special) && special >= 0 && special < this.specials.length) return this.specials[special];
    return Array.from(this.tokenBytes(id, 0), (b) => BYTE_TO_CHAR[b]).join('');
  }

  toJSON(): BpeTokenizerJSON {
    const json: BpeTokenizerJSON = { kind: 'bpe', version: 1, pretokenizer: 'gpt2', merges: this.merges.map(([a, b]) => [a, b]) };
    // Written only when there are some, so the files of tokenizers without them stay as they were.
    if (this.specials.length > 0) json.specials = [...this.specials];
    return json;
  }

  private encodeWord(word: string): number[] {
    const hit = this.cache.get(word);
    if (hit) return hit;
    // TextEncoder turns a lone surrogate into U+FFFD's bytes: such input encodes, it just cannot round-trip.
    const ids = mergeWord(Array.from(utf8.encode(word), (b) => BYTE_TO_ID[b]), this.ranks);
    if (word.length <= CACHE_WORD_LENGTH) {
      if (this.cache.size >= CACHE_ENTRIES) this.cache.clear();
      this.cache.set(word, ids);
    }
    return ids;
  }

  private tokenBytes(id: number, index: number): Uint8Array {
    const b = Number.isInteger(id) ? this.bytesOf[id] : undefined;
    if (b === undefined) {
      throw new TokenizerError(`token id ${id} at index ${index} is outside the BPE vocabulary [0, ${this.vocabSize}); were these ids made by a different tokenizer?`);
    }
    return b;
  }
}

/** Trains a BPE tokenizer of at most `vocabSize` tokens on `text` (see bpe-train.ts for tie-breaking). */
export function trainBpe(text: string, vocabSize: number, options: BpeTrainOptions = {}): BpeTokenizer {
  return new BpeTokenizer(learnMerges(text, vocabSize, options));
}
