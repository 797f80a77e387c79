// GPT-2's tokenizer files into BpeTokenizer: real GPT-2 vocab.json + merges.txt (rebuilt from the rank
// table gpt-tokenizer ships, written to a temporary directory) and tokenizer.json encode exactly as
// gpt-tokenizer's GPT-2 encoder, '<|endoftext|>' included; the fixture's small tokenizer gives the ids
// scripts/make_gpt2_fixture.py's Python encoder (GPT-2's encoder.py) gave; bad files are refused.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import r50k from 'gpt-tokenizer/bpeRanks/r50k_base';
import { encode as gpt2Encode, decode as gpt2Decode } from 'gpt-tokenizer/encoding/gpt2';
import { BpeTokenizer } from '../../src/data/bpe-tokenizer.ts';
import { BYTE_TO_CHAR, BYTE_TO_ID } from '../../src/data/byte-unicode.ts';
import { mergesFromRanks } from '../../src/data/gpt2-ranks.ts';
import { GPT2_END_OF_TEXT, gpt2TokenizerFiles, gpt2TokenizerFromFiles, gpt2TokenizerFromTokenizerJson, parseMergesText } from '../../src/data/gpt2-vocab.ts';
import { tokenizerFromJSON, TokenizerError } from '../../src/data/tokenizer.ts';
import { FIXTURES } from '../helpers/fixtures.ts';

const GPT2_DIR = join(FIXTURES, 'gpt2');
const tmp = mkdtempSync(join(tmpdir(), 'resnorm-gpt2-tok-'));

const TEXTS = [
  'Hello world',
  "The quick brown fox jumps over the lazy dog. It's 2024, isn't it?",
  'First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n',
  '    indented code();\n\tif (x <= 42) { return "ok"; }\r\n',
  'Emoji 😀👍🏽 👩‍👩‍👧, CJK 漢字かな, accents café naïve e\u0301, Ελληνικά, русский',
  'numbers 3.14159 1,000,000 and  multiple   spaces   ',
  "we'll they've I'd you're HE'S",
  'one document<|endoftext|>the next one<|endoftext|><|endoftext|>',
  '<|endoftext|> begins, and <|endoftext ends not',
  '',
];

/** GPT-2's vocab.json and merges.txt as OpenAI published them, rebuilt from r50k's ranks (and '<|endoftext|>' = 50256). */
function writeRealGpt2Files(): { vocab: string; merges: string } {
  // Written here by hand, not by gpt2TokenizerFiles (the writer under test): each token's string is its
  // bytes through GPT-2's printable alphabet, the merges in rank order.
  const utf8 = new TextEncoder();
  const str = (entry: string | readonly number[]) => Array.from(typeof entry === 'string' ? utf8.encode(entry) : entry, (b) => BYTE_TO_CHAR[b]).join('');
  const strings = r50k.map(str);
  const vocab: Record<string, number> = {};
  strings.forEach((s, id) => (vocab[s] = id));
  vocab[GPT2_END_OF_TEXT] = 50256;
  const merges = mergesFromRanks(r50k);
  const lines = merges.map(([a, b]) => `${strings[a]} ${strings[b]}`);
  const vocabPath = join(tmp, 'vocab.json');
  const mergesPath = join(tmp, 'merges.txt');
  writeFileSync(vocabPath, JSON.stringify(vocab));
  writeFileSync(mergesPath, ['#version: 0.2', ...lines].join('\n') + '\n');
  return { vocab: vocabPath, merges: mergesPath };
}

let files: { vocab: string; merges: string };
let gpt2: BpeTokenizer;
beforeAll(() => {
  files = writeRealGpt2Files();
  gpt2 = gpt2TokenizerFromFiles(readFileSync(files.vocab, 'utf8'), readFileSync(files.merges, 'utf8'));
});

/**
 * GPT-2's ids for a text, '<|endoftext|>' anywhere in it being the special token (Hugging Face's GPT-2
 * tokenizer and tiktoken's allowed_special): the text between them encoded by gpt-tokenizer, joined
 * by 50256. gpt-tokenizer 4.0's own allowedSpecial finds a special token only where the text starts
 * or where the previous one ended (it searches with a sticky regex), so it cannot be the reference here.
 */
function gpt2Reference(text: string): number[] {
  return text.split(GPT2_END_OF_TEXT).flatMap((part, i) => [...(i > 0 ? [50256] : []), ...gpt2Encode(part)]);
}

describe("GPT-2's tokenizer from vocab.json + merges.txt", () => {
  it('has 50,000 merges and <|endoftext|> as id 50256', () => {
    expect(gpt2.vocabSize).toBe(50257);
    expect(gpt2.merges.length).toBe(50000);
    expect(gpt2.specials).toEqual([GPT2_END_OF_TEXT]);
    expect(gpt2.encode(GPT2_END_OF_TEXT)).toEqual([50256]);
    // Where gpt-tokenizer does find it, at the start, it agrees.
    expect(gpt2.encode(TEXTS[8])).toEqual(gpt2Encode(TEXTS[8], { allowedSpecial: new Set([GPT2_END_OF_TEXT]) }));
    expect(gpt2.encode(TEXTS[8])[0]).toBe(50256);
    expect(gpt2.decode([50256])).toBe(GPT2_END_OF_TEXT);
  });

  it("encodes exactly as gpt-tokenizer's GPT-2 encoder and decodes back", () => {
    for (const t of TEXTS) {
      const ours = gpt2.encode(t);
      expect(ours, t).toEqual(gpt2Reference(t));
      expect(gpt2.decode(ours), t).toBe(t);
      expect(gpt2Decode(ours)).toBe(t);
    }
    // A long run of one letter goes through the heap merge path.
    const long = 'a'.repeat(300) + ' ' + 'ab'.repeat(200);
    expect(gpt2.encode(long)).toEqual(gpt2Encode(long));
  });

  it('writes its files back as they were read, and survives a checkpoint', () => {
    const back = gpt2TokenizerFiles(gpt2);
    expect(JSON.parse(back['vocab.json'])).toEqual(JSON.parse(readFileSync(files.vocab, 'utf8')));
    expect(back['merges.txt']).toBe(readFileSync(files.merges, 'utf8'));
    // A run's tokenizer.json keeps the special token.
    const again = tokenizerFromJSON(JSON.parse(JSON.stringify(gpt2.toJSON())));
    expect(again.vocabSize).toBe(50257);
    expect(again.encode(TEXTS[7])).toEqual(gpt2.encode(TEXTS[7]));
  });
});

describe("GPT-2's tokenizer from Hugging Face's tokenizer.json", () => {
  it('reads merges as "a b" strings and as pairs, with <|endoftext|> an added token', () => {
    const vocab = JSON.parse(readFileSync(files.vocab, 'utf8')) as Record<string, number>;
    const merges = parseMergesText(readFileSync(files.merges, 'utf8'), 'merges.txt');
    const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
    const added = [{ id: 50256, content: GPT2_END_OF_TEXT, special: true }];
    for (const form of ['strings', 'pairs'] as const) {
      const json = {
        added_tokens: added,
        normalizer: null,
        pre_tokenizer: byteLevel,
        decoder: byteLevel,
        model: { type: 'BPE', dropout: null, continuing_subword_prefix: '', end_of_word_suffix: '', vocab, merges: form === 'strings' ? merges.map((m) => m.join(' ')) : merges },
      };
      const tok = gpt2TokenizerFromTokenizerJson(JSON.stringify(json));
      expect(tok.vocabSize).toBe(50257);
      for (const t of TEXTS) expect(tok.encode(t), `${form}: ${t}`).toEqual(gpt2Reference(t));
    }
    // The special token may be an added token only, absent from model.vocab.
    const { [GPT2_END_OF_TEXT]: _, ...withoutEot } = vocab;
    const json = { added_tokens: added, normalizer: null, pre_tokenizer: byteLevel, model: { type: 'BPE', vocab: withoutEot, merges } };
    expect(gpt2TokenizerFromTokenizerJson(JSON.stringify(json)).encode(TEXTS[7])).toEqual(gpt2Reference(TEXTS[7]));
  });
});

describe("the fixture's tokenizer", () => {
  const expected = JSON.parse(readFileSync(join(GPT2_DIR, 'expected.json'), 'utf8')) as { texts: { text: string; ids: number[] }[] };

  it("gives the ids of the Python encoder (GPT-2's encoder.py) from both file forms", () => {
    const fromFiles = gpt2TokenizerFromFiles(readFileSync(join(GPT2_DIR, 'tiny', 'vocab.json'), 'utf8'), readFileSync(join(GPT2_DIR, 'tiny', 'merges.txt'), 'utf8'));
    const fromJson = gpt2TokenizerFromTokenizerJson(readFileSync(join(GPT2_DIR, 'tiny-hf', 'tokenizer.json'), 'utf8'));
    expect(expected.texts.length).toBeGreaterThan(0);
    for (const { text, ids } of expected.texts) {
      expect(fromFiles.encode(text), text).toEqual(ids);
      expect(fromJson.encode(text), text).toEqual(ids);
      expect(fromFiles.decode(ids)).toBe(text);
    }
  });
});

describe('special tokens in BpeTokenizer', () => {
  it('are matched longest first and saved only when present', () => {
    const t = new BpeTokenizer([], ['<a>', '<a><b>']);
    expect(t.vocabSize).toBe(258);
    expect(t.encode('x<a><b>y<a>')).toEqual([BYTE_TO_ID[0x78], 257, BYTE_TO_ID[0x79], 256]);
    expect(t.toJSON().specials).toEqual(['<a>', '<a><b>']);
    expect('specials' in new BpeTokenizer([]).toJSON()).toBe(false);
    expect(() => new BpeTokenizer([], ['<a>', '<a>'])).toThrow(/repeats special token 0/);
    expect(() => new BpeTokenizer([], [''])).toThrow(/non-empty string/);
    expect(() => tokenizerFromJSON({ kind: 'bpe', version: 1, pretokenizer: 'gpt2', merges: [], specials: 'x' })).toThrow(/'specials' must be an array/);
    expect(() => tokenizerFromJSON({ kind: 'bpe', version: 1, pretokenizer: 'gpt2', merges: [], specials: [7] })).toThrow(TokenizerError);
  });
});

describe('bad tokenizer files', () => {
  const vocabText = () => readFileSync(join(GPT2_DIR, 'tiny', 'vocab.json'), 'utf8');
  const mergesText = () => readFileSync(join(GPT2_DIR, 'tiny', 'merges.txt'), 'utf8');
  const vocabWith = (edit: (v: Record<string, number>) => void) => {
    const v = JSON.parse(vocabText()) as Record<string, number>;
    edit(v);
    return JSON.stringify(v);
  };
  const refuse = (vocab: string, merges: string, pattern: RegExp) => {
    expect(() => gpt2TokenizerFromFiles(vocab, merges)).toThrow(TokenizerError);
    expect(() => gpt2TokenizerFromFiles(vocab, merges)).toThrow(pattern);
  };

  it('names the file and what is wrong', () => {
    refuse('{"a": 1', mergesText(), /vocab\.json is not valid JSON/);
    refuse('[1, 2]', mergesText(), /vocab\.json must be a JSON object mapping each token to its id/);
    refuse(vocabWith((v) => (v['!'] = 1.5)), mergesText(), /token "!" has id 1\.5/);
    // Two bytes swapped: the ids are not GPT-2's numbering.
    refuse(vocabWith((v) => ([v['!'], v['"']] = [v['"'], v['!']])), mergesText(), /byte token "!" has id 1, expected 0; resnorm's byte-level BPE numbers the 256 bytes/);
    refuse(vocabText(), mergesText() + 'Ġ q\n', /merge 16 \("Ġ q"\) makes "Ġq", whose id is \(none: missing from the vocabulary\), expected 272/);
    refuse(vocabText(), mergesText() + 'Ġ\n', /merges\.txt line 18 is "Ġ"; each line after the '#version' header is two tokens/);
    refuse(vocabText(), mergesText() + 'a b c\n', /line 18 is "a b c"/);
    refuse(vocabWith((v) => (v[GPT2_END_OF_TEXT] = 300)), mergesText(), /special tokens after the 16 merges must have ids 272, 273, …; "<\|endoftext\|>" has 300/);
    refuse(vocabWith((v) => (v['<pad>'] = 0)), mergesText(), /tokens "!" and "<pad>" both have id 0/);
  });

  it("refuses a tokenizer.json that is not GPT-2's byte-level BPE", () => {
    const base = JSON.parse(readFileSync(join(GPT2_DIR, 'tiny-hf', 'tokenizer.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    const edit = (f: (j: Record<string, Record<string, unknown>>) => void) => {
      const j = structuredClone(base);
      f(j);
      return JSON.stringify(j);
    };
    const cases: [string, RegExp][] = [
      [edit((j) => (j.model.type = 'WordPiece')), /model\.type is "WordPiece", not "BPE"/],
      [edit((j) => (j.pre_tokenizer.add_prefix_space = true)), /adds a prefix space \(add_prefix_space: true\)/],
      [edit((j) => (j.pre_tokenizer = { type: 'Whitespace' })), /pre_tokenizer is \{"type":"Whitespace"\}, not GPT-2's/],
      [edit((j) => (j.normalizer = { type: 'NFC' })), /it has a normalizer/],
      [edit((j) => (j.model.ignore_merges = true)), /ignore_merges is true/],
      [edit((j) => ((j.model.merges as unknown[])[3] = ['a'])), /model\.merges\[3\] is \["a"\]/],
      [edit((j) => delete (j as Record<string, unknown>).model), /has no 'model' object/],
      [edit((j) => ((j as Record<string, unknown>).added_tokens = [{ id: 3, content: '<x>' }])), /added token "<x>" has id 3, inside the ids of the bytes and merges \[0, 272\)/],
    ];
    for (const [json, pattern] of cases) expect(() => gpt2TokenizerFromTokenizerJson(json), String(pattern)).toThrow(pattern);
  });

  it('refuses to write a tokenizer two of whose tokens spell the same bytes', () => {
    const [t, h, e] = [0x74, 0x68, 0x65].map((b) => BYTE_TO_ID[b]);
    // "the" made twice: t + he, and th + e.
    const tok = new BpeTokenizer([[h, e], [t, 256], [t, h], [258, e]]);
    expect(() => gpt2TokenizerFiles(tok)).toThrow(/tokens 257 and 259 both spell "the"; vocab\.json maps each string to one id/);
  });
});
