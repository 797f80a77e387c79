// GPT-2's tokenizer files, read into and written from a BpeTokenizer: vocab.json (token string → id)
// with merges.txt (one merge per line, in rank order), or Hugging Face's tokenizer.json (the same
// vocabulary and merges inside a `model` object). Tokens are strings in GPT-2's printable byte
// alphabet ('Ġthe' is " the"); BpeTokenizer works on ids, with bytes 0–255 in GPT-2's order, merge k
// making id 256 + k and special tokens after the merges, which is exactly GPT-2's own numbering. A
// vocabulary numbered otherwise is refused rather than renumbered, since the model's embedding rows
// are indexed by these ids.

import { BpeTokenizer } from './bpe-tokenizer.ts';
import { BASE_BYTES, BYTE_TO_CHAR, CHAR_TO_BYTE } from './byte-unicode.ts';
import { MAX_VOCAB } from './bpe-merge.ts';
import { TokenizerError } from './tokenizer-error.ts';

/** GPT-2's end-of-text token, id 50256 in its vocabulary (the only special token it has). */
export const GPT2_END_OF_TEXT = '<|endoftext|>';

/** The header line of GPT-2's merges.txt. */
const MERGES_HEADER = '#version: 0.2';

/** Whether every character of `s` is one of GPT-2's 256 byte characters. */
function isByteText(s: string): boolean {
  for (const ch of s) if (!CHAR_TO_BYTE.has(ch)) return false;
  return s.length > 0;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

/**
 * Builds the tokenizer from a vocabulary and merges (each merge as its two token strings), checking
 * that the vocabulary is numbered as BpeTokenizer numbers it. `where` names the files in messages;
 * `extraSpecials` are added tokens that may be absent from the vocabulary (tokenizer.json's).
 */
export function gpt2TokenizerFrom(vocab: ReadonlyMap<string, number>, merges: readonly (readonly [string, string])[], where: string, extraSpecials: ReadonlyMap<string, number> = new Map()): BpeTokenizer {
  const fail = (msg: string): never => {
    throw new TokenizerError(`${where}: ${msg}`);
  };
  const layout = "resnorm's byte-level BPE numbers the 256 bytes 0–255 in GPT-2's order, merge k (the k-th line of the merges) 256 + k, and special tokens after the merges, as GPT-2's own files do";
  for (let id = 0; id < 256; id++) {
    const s = BYTE_TO_CHAR[BASE_BYTES[id]];
    const got = vocab.get(s);
    if (got !== id) fail(`byte token ${JSON.stringify(s)} has id ${got === undefined ? '(none: missing)' : got}, expected ${id}; ${layout}`);
  }
  const pairs: [number, number][] = [];
  merges.forEach(([a, b], k) => {
    const ia = vocab.get(a);
    const ib = vocab.get(b);
    if (ia === undefined || ib === undefined) fail(`merge ${k} (${show(`${a} ${b}`)}) uses ${show(ia === undefined ? a : b)}, which is not in the vocabulary`);
    const joined = vocab.get(a + b);
    if (joined !== 256 + k) fail(`merge ${k} (${show(`${a} ${b}`)}) makes ${show(a + b)}, whose id is ${joined ?? '(none: missing from the vocabulary)'}, expected ${256 + k}; ${layout}`);
    pairs.push([ia!, ib!]);
  });
  // Ids are distinct (vocabMap checks), so each id below `first` is the byte or merge checked above;
  // every other token is a special one, and they must follow the merges with no gap.
  const specials = new Map<number, string>();
  const first = 256 + merges.length;
  for (const [s, id] of [...vocab, ...extraSpecials]) {
    if (id < first) {
      if (vocab.get(s) === id) continue;
      fail(`added token ${show(s)} has id ${id}, inside the ids of the bytes and merges [0, ${first})`);
    }
    if (specials.has(id) && specials.get(id) !== s) fail(`id ${id} names both ${show(specials.get(id))} and ${show(s)}`);
    specials.set(id, s);
  }
  const ids = [...specials.keys()].sort((x, y) => x - y);
  ids.forEach((id, i) => {
    if (id !== first + i) fail(`the special tokens after the ${merges.length} merges must have ids ${first}, ${first + 1}, …; ${show(specials.get(id))} has ${id}, but id ${first + i} is unused`);
  });
  return new BpeTokenizer(pairs, ids.map((id) => specials.get(id)!));
}

/** vocab.json's object: every key a token, every value its id. */
function vocabMap(raw: unknown, where: string): Map<string, number> {
  if (!isRecord(raw)) throw new TokenizerError(`${where} must be a JSON object mapping each token to its id, found ${Array.isArray(raw) ? 'an array' : raw === null ? 'null' : typeof raw}`);
  const entries = Object.entries(raw);
  if (entries.length > MAX_VOCAB) throw new TokenizerError(`${where} has ${entries.length} tokens; at most ${MAX_VOCAB} are supported`);
  const map = new Map<string, number>();
  const seen = new Map<number, string>();
  for (const [s, id] of entries) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0 || id >= MAX_VOCAB) throw new TokenizerError(`${where}: token ${show(s)} has id ${show(id)}; an id is an integer in [0, ${MAX_VOCAB})`);
    if (seen.has(id)) throw new TokenizerError(`${where}: tokens ${show(seen.get(id))} and ${show(s)} both have id ${id}`);
    seen.set(id, s);
    map.set(s, id);
  }
  return map;
}

function parseJSONText(text: string, where: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new TokenizerError(`${where} is not valid JSON (${(e as Error).message})`);
  }
}

/** merges.txt: an optional '#version' line, then 'a b' per line (tokens never contain a space). */
export function parseMergesText(text: string, where: string): [string, string][] {
  const merges: [string, string][] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || (i === 0 && line.startsWith('#version'))) return;
    const parts = line.split(' ');
    if (parts.length !== 2 || !isByteText(parts[0]) || !isByteText(parts[1])) {
      throw new TokenizerError(`${where} line ${i + 1} is ${show(line)}; each line after the '#version' header is two tokens in GPT-2's byte alphabet separated by one space`);
    }
    merges.push([parts[0], parts[1]]);
  });
  return merges;
}

/** The tokenizer of vocab.json and merges.txt (their text); `names` name the two files in messages. */
export function gpt2TokenizerFromFiles(vocabJson: string, mergesTxt: string, names = { vocab: 'vocab.json', merges: 'merges.txt' }): BpeTokenizer {
  const vocab = vocabMap(parseJSONText(vocabJson, names.vocab), names.vocab);
  return gpt2TokenizerFrom(vocab, parseMergesText(mergesTxt, names.merges), `${names.vocab} with ${names.merges}`);
}

/**
 * The tokenizer of Hugging Face's tokenizer.json: a byte-level BPE model (GPT-2's pre-tokenizer and
 * decoder, no normalizer), its vocabulary and merges, and its added tokens as special tokens.
 */
export function gpt2TokenizerFromTokenizerJson(text: string, where = 'tokenizer.json'): BpeTokenizer {
  const raw = parseJSONText(text, where);
  if (!isRecord(raw) || !isRecord(raw.model)) throw new TokenizerError(`${where} has no 'model' object; it is not a Hugging Face tokenizer.json`);
  const model = raw.model;
  const refuse = (what: string): never => {
    throw new TokenizerError(`${where}: ${what}; resnorm reads GPT-2's byte-level BPE tokenizer (use vocab.json and merges.txt, or convert the tokenizer)`);
  };
  if (model.type !== undefined && model.type !== 'BPE') refuse(`model.type is ${show(model.type)}, not "BPE"`);
  if (raw.normalizer !== undefined && raw.normalizer !== null) refuse(`it has a normalizer (${show(raw.normalizer)}), which GPT-2's tokenizer does not`);
  const pre = raw.pre_tokenizer;
  if (!isRecord(pre) || pre.type !== 'ByteLevel') refuse(`its pre_tokenizer is ${show(pre)}, not GPT-2's {"type": "ByteLevel"}`);
  const preTokenizer = pre as Record<string, unknown>;
  if (preTokenizer.add_prefix_space === true) refuse('its ByteLevel pre-tokenizer adds a prefix space (add_prefix_space: true), which GPT-2 does not');
  if (preTokenizer.use_regex === false) refuse("its ByteLevel pre-tokenizer does not split with GPT-2's pattern (use_regex: false)");
  for (const key of ['continuing_subword_prefix', 'end_of_word_suffix'] as const) {
    if (model[key] !== undefined && model[key] !== null && model[key] !== '') refuse(`model.${key} is ${show(model[key])}, which GPT-2's BPE does not have`);
  }
  if (model.byte_fallback === true) refuse('model.byte_fallback is true, which GPT-2 (byte-level already) does not use');
  if (model.ignore_merges === true) refuse('model.ignore_merges is true: whole words of the vocabulary skip the merges, which GPT-2 never does');
  if (model.dropout !== undefined && model.dropout !== null && model.dropout !== 0) refuse(`model.dropout is ${show(model.dropout)} (BPE-dropout), which is for training tokenizers, not GPT-2`);
  const vocab = vocabMap(model.vocab, `${where} model.vocab`);
  if (!Array.isArray(model.merges)) refuse(`model.merges is ${show(model.merges)}, not a list`);
  const merges = (model.merges as unknown[]).map((m, k): [string, string] => {
    // Older files write "a b", newer ones ["a", "b"].
    const parts = typeof m === 'string' ? m.split(' ') : m;
    if (!Array.isArray(parts) || parts.length !== 2 || !parts.every((p) => typeof p === 'string' && isByteText(p))) {
      throw new TokenizerError(`${where}: model.merges[${k}] is ${show(m)}; a merge is "a b" or ["a", "b"], two tokens in GPT-2's byte alphabet`);
    }
    return [parts[0] as string, parts[1] as string];
  });
  const added = new Map<string, number>();
  if (raw.added_tokens !== undefined) {
    if (!Array.isArray(raw.added_tokens)) refuse(`added_tokens is ${show(raw.added_tokens)}, not a list`);
    (raw.added_tokens as unknown[]).forEach((t, i) => {
      if (!isRecord(t) || typeof t.content !== 'string' || typeof t.id !== 'number' || !Number.isSafeInteger(t.id) || t.id < 0 || t.id >= MAX_VOCAB) {
        throw new TokenizerError(`${where}: added_tokens[${i}] is ${show(t)}; each needs a string 'content' and an integer 'id'`);
      }
      added.set(t.content, t.id);
    });
  }
  return gpt2TokenizerFrom(vocab, merges, where, added);
}

/**
 * vocab.json and merges.txt of a tokenizer, as GPT-2 ships them (the inverse of
 * gpt2TokenizerFromFiles). Refuses a tokenizer two of whose tokens spell the same string, which
 * vocab.json (a map from strings) cannot hold.
 */
export function gpt2TokenizerFiles(tok: BpeTokenizer): { 'vocab.json': string; 'merges.txt': string } {
  const idOf = new Map<string, number>();
  const entries: string[] = [];
  for (let id = 0; id < tok.vocabSize; id++) {
    const s = tok.tokenString(id);
    if (idOf.has(s)) throw new TokenizerError(`tokens ${idOf.get(s)} and ${id} both spell ${show(s)}; vocab.json maps each string to one id, so it cannot hold this tokenizer`);
    idOf.set(s, id);
    entries.push(`${JSON.stringify(s)}:${id}`);
  }
  // Written by hand, in id order: JSON.stringify of an object would move integer-like keys ("0", "1") first.
  const lines = tok.merges.map(([a, b]) => `${tok.tokenString(a)} ${tok.tokenString(b)}`);
  return { 'vocab.json': `{${entries.join(',')}}\n`, 'merges.txt': [MERGES_HEADER, ...lines].join('\n') + '\n' };
}
