// Byte-level BPE: pre-tokenization, GPT-2's byte alphabet, training (against a naive trainer),
// the two merge strategies, exact round trips on awkward Unicode, and saved-form validation.
import { describe, expect, it } from 'vitest';
import { BpeTokenizer, trainBpe } from '../../src/data/bpe-tokenizer.ts';
import { learnMerges } from '../../src/data/bpe-train.ts';
import { mergeByHeap, mergeByScan, pairKey } from '../../src/data/bpe-merge.ts';
import { BASE_BYTES, BYTE_TO_CHAR, BYTE_TO_ID, CHAR_TO_BYTE } from '../../src/data/byte-unicode.ts';
import { pretokenize } from '../../src/data/pretokenize.ts';
import { TokenizerError } from '../../src/data/tokenizer.ts';

/** A deterministic LCG, so the synthetic corpora are the same on every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

/** English-like text with a skewed word distribution, plus some non-ASCII words. */
function syntheticText(chars: number, seed = 1): string {
  const rand = lcg(seed);
  const syll = ['th', 'e', 'an', 'in', 'er', 'on', 'st', 'ou', 'ing', 'ed', 're', 'a', 'o', 'is', 'ch', 'é', '字', '🙂'];
  const words = Array.from({ length: 300 }, () => Array.from({ length: 1 + Math.floor(rand() * 4) }, () => syll[Math.floor(rand() ** 2 * syll.length)]).join(''));
  const parts: string[] = [];
  let n = 0;
  while (n < chars) {
    const w = words[Math.floor(rand() ** 3 * words.length)];
    const sep = rand() < 0.08 ? (rand() < 0.5 ? '.\n' : ", ") : ' ';
    parts.push(w, sep);
    n += w.length + sep.length;
  }
  return parts.join('');
}

/** The obvious trainer: recount every pair from scratch each step. Same tie-break as learnMerges. */
function naiveMerges(text: string, vocabSize: number): [number, number][] {
  const freq = new Map<string, number>();
  for (const w of pretokenize(text)) freq.set(w, (freq.get(w) ?? 0) + 1);
  const words = [...freq].map(([w, f]) => ({ ids: Array.from(new TextEncoder().encode(w), (b) => BYTE_TO_ID[b]), f }));
  const merges: [number, number][] = [];
  while (256 + merges.length < vocabSize) {
    const counts = new Map<string, number>();
    for (const { ids, f } of words) for (let i = 0; i + 1 < ids.length; i++) counts.set(`${ids[i]},${ids[i + 1]}`, (counts.get(`${ids[i]},${ids[i + 1]}`) ?? 0) + f);
    let best: [number, number, number] | undefined;
    for (const [k, c] of counts) {
      const [a, b] = k.split(',').map(Number);
      if (!best || c > best[2] || (c === best[2] && (a < best[0] || (a === best[0] && b < best[1])))) best = [a, b, c];
    }
    if (!best) break;
    const [a, b] = best;
    const id = 256 + merges.length;
    merges.push([a, b]);
    for (const w of words) {
      const out: number[] = [];
      for (let i = 0; i < w.ids.length; i++) {
        if (w.ids[i] === a && w.ids[i + 1] === b) {
          out.push(id);
          i++;
        } else out.push(w.ids[i]);
      }
      w.ids = out;
    }
  }
  return merges;
}

describe('pretokenize (GPT-2 pattern)', () => {
  it('splits contractions, words with their leading space, numbers, punctuation and whitespace runs', () => {
    expect(pretokenize("I'm here  now, it's 2024!!\n\n")).toEqual(['I', "'m", ' here', ' ', ' now', ',', ' it', "'s", ' 2024', '!!', '\n\n']);
    expect(pretokenize('')).toEqual([]);
  });
  it('covers every character of any text', () => {
    for (const t of ['a\u0301 漢字  😀👩‍👩‍👧 \t\r\n x', '\ud800lone \udc00 surrogates', '   ', "''''s"]) {
      expect(pretokenize(t).join('')).toBe(t);
    }
  });
});

describe("GPT-2's byte alphabet", () => {
  it('orders printable bytes first and maps the rest above U+0100', () => {
    expect(new Set(BASE_BYTES).size).toBe(256);
    expect(BASE_BYTES[0]).toBe(0x21); // '!' is GPT-2 token 0
    expect(BYTE_TO_ID[0x20]).toBe(220); // ' ' is GPT-2 token 220
    expect(BYTE_TO_CHAR[0x20]).toBe('Ġ');
    expect(BYTE_TO_CHAR[0x0a]).toBe('Ċ');
    expect(BYTE_TO_CHAR[0x41]).toBe('A');
    for (let b = 0; b < 256; b++) expect(CHAR_TO_BYTE.get(BYTE_TO_CHAR[b])).toBe(b);
  });
});

describe('trainBpe', () => {
  it('merges the most frequent pair first and breaks ties by the smaller ids', () => {
    // Words: "ab" ×1, " ab" ×2, " cd" ×1. (a,b) occurs 3 times, then (Ġ,ab) twice; then (Ġ,c) and
    // (c,d) tie at 1 and (c,d) wins because id('c') = 66 < id('Ġ') = 220.
    const id = (c: string) => BYTE_TO_ID[c.charCodeAt(0)];
    expect(learnMerges('ab ab ab cd', 259)).toEqual([
      [id('a'), id('b')],
      [id(' '), 256],
      [id('c'), id('d')],
    ]);
  });

  it('learns exactly the merges of a naive from-scratch trainer', () => {
    for (const [text, V] of [
      [syntheticText(3000, 7), 400],
      ['aaaaaaaaaa aaaa aaa aa a\n\n\n   x', 270],
      ['🙂🙂🙂 字字字 e\u0301e\u0301', 300],
    ] as const) {
      expect(learnMerges(text, V)).toEqual(naiveMerges(text, V));
    }
  });

  it('is deterministic, reports progress, and stops early when the corpus runs out of pairs', () => {
    const text = syntheticText(20000, 3);
    expect(trainBpe(text, 300).merges).toEqual(trainBpe(text, 300).merges);
    const seen: number[] = [];
    trainBpe(text, 300, { onProgress: (p) => seen.push(p.merges) });
    expect(seen).toEqual(Array.from({ length: 44 }, (_, i) => i + 1));
    const tiny = trainBpe('ab', 1000);
    expect(tiny.vocabSize).toBe(257);
  });

  it('compresses and round-trips a larger corpus', () => {
    const text = syntheticText(300_000, 5);
    const tok = trainBpe(text, 512);
    expect(tok.vocabSize).toBe(512);
    const ids = tok.encode(text);
    expect(ids.length).toBeLessThan(new TextEncoder().encode(text).length / 2.5);
    expect(tok.decode(ids)).toBe(text);
  });

  it('rejects a bad vocab size or empty text', () => {
    expect(() => trainBpe('abc', 255)).toThrow(/vocab size 255 is invalid/);
    expect(() => trainBpe('abc', 300.5)).toThrow(TokenizerError);
    expect(() => trainBpe('', 300)).toThrow(/training text is empty/);
  });
});

describe('BpeTokenizer encode/decode', () => {
  const tok = trainBpe(syntheticText(50_000, 11) + ' 😀 漢字 ñ', 600);

  it('round-trips arbitrary Unicode exactly', () => {
    const texts = [
      '',
      ' ',
      'hello world',
      'emoji 😀👍🏽 👩‍👩‍👧 flags 🇫🇷',
      '漢字かなカナ한국어',
      'combining: e\u0301 a\u0308\u0323 Zalgo Z\u0351\u0352',
      'tabs\tand\r\nCRLF\n\n\n   trailing   ',
      'x'.repeat(100_000),
      ('word '.repeat(2000) + '\n').repeat(5),
      'ünïcödé 123 4567 ¡¿ «»',
    ];
    const rand = lcg(42);
    for (let k = 0; k < 20; k++) {
      let s = '';
      for (let i = 0; i < 50; i++) {
        const cp = Math.floor(rand() * 0x10ffff);
        if (cp < 0xd800 || cp > 0xdfff) s += String.fromCodePoint(cp);
      }
      texts.push(s);
    }
    for (const t of texts) expect(tok.decode(tok.encode(t))).toBe(t);
  });

  it('never produces an id outside the vocabulary, and gives the same ids from the cache', () => {
    const text = syntheticText(5000, 99);
    const a = tok.encode(text);
    expect(a.every((i) => Number.isInteger(i) && i >= 0 && i < tok.vocabSize)).toBe(true);
    expect(tok.encode(text)).toEqual(a);
  });

  it('encodes lone surrogates as U+FFFD instead of crashing', () => {
    expect(tok.decode(tok.encode('a\ud800b'))).toBe('a\ufffdb');
  });

  it('decodes ids that split a character to U+FFFD, and exposes the raw bytes', () => {
    const ids = tok.encode('😀').slice(0, 1);
    expect(tok.decodeBytes(ids).length).toBeGreaterThan(0);
    expect(tok.decode(ids)).toContain('\ufffd');
  });

  it('rejects ids outside the vocabulary', () => {
    expect(() => tok.decode([5, 600])).toThrow(/token id 600 at index 1 is outside the BPE vocabulary \[0, 600\)/);
    expect(() => tok.decode([-1])).toThrow(TokenizerError);
  });

  it('shows tokens in GPT-2 notation', () => {
    const t = new BpeTokenizer([[BYTE_TO_ID[32], BYTE_TO_ID[116]]]);
    expect(t.tokenString(256)).toBe('Ġt');
  });
});

describe('merge strategies', () => {
  it('the heap and GPT-2 scan agree, including on long words and overlapping runs', () => {
    const tok = trainBpe('aaaaaaab ' + syntheticText(20000, 4).replaceAll(' ', ''), 700);
    const ranks = new Map(tok.merges.map(([a, b], k) => [pairKey(a, b), k]));
    const rand = lcg(5);
    const words = [Array.from(new TextEncoder().encode('aaaaaaaaaaaaab'), (b) => BYTE_TO_ID[b])];
    for (let k = 0; k < 200; k++) {
      const src = syntheticText(20 + Math.floor(rand() * 400), k).replace(/\s/g, '');
      words.push(Array.from(new TextEncoder().encode(src), (b) => BYTE_TO_ID[b]));
    }
    for (const w of words) expect(mergeByHeap(w, ranks)).toEqual(mergeByScan(w, ranks));
    expect(mergeByHeap([], ranks)).toEqual([]);
  });
});

describe('saved form', () => {
  it('round-trips through JSON and validates merges', () => {
    const tok = trainBpe(syntheticText(5000, 2), 300);
    const json = JSON.parse(JSON.stringify(tok.toJSON()));
    expect(json.kind).toBe('bpe');
    const back = BpeTokenizer.fromJSON(json);
    expect(back.merges).toEqual(tok.merges);
    expect(back.encode('the rest')).toEqual(tok.encode('the rest'));
    expect(() => BpeTokenizer.fromJSON({ ...json, merges: [[0, 256]] })).toThrow(/merge 0 is \[0,256\]; it must be a pair of existing token ids, each an integer in \[0, 256\)/);
    expect(() => BpeTokenizer.fromJSON({ ...json, merges: [[1, 2], [1, 2]] })).toThrow(/merge 1 \[1,2\] repeats merge 0/);
    expect(() => BpeTokenizer.fromJSON({ ...json, merges: [[1]] })).toThrow(TokenizerError);
    expect(() => BpeTokenizer.fromJSON({ ...json, merges: {} })).toThrow(/'merges' must be an array/);
    expect(() => BpeTokenizer.fromJSON({ ...json, pretokenizer: 'llama' })).toThrow(/pretokenizer "llama"/);
    expect(() => BpeTokenizer.fromJSON({ ...json, kind: 'char' })).toThrow(/kind "char", expected 'bpe'/);
  });
  it('refuses merges that would spell out more bytes than any vocabulary, before allocating them', () => {
    // Found by test/io/fuzz-readers.test.ts: each merge doubling the last token asked for 2^33 bytes
    // (a RangeError); each merge growing it by one byte took 18 s and 2 GB.
    const doubling = [[0, 0], ...Array.from({ length: 39 }, (_, k) => [256 + k, 256 + k])];
    const growing = [[0, 0], ...Array.from({ length: 65000 }, (_, k) => [256 + k, 0])];
    for (const merges of [doubling, growing]) {
      expect(() => BpeTokenizer.fromJSON({ kind: 'bpe', version: 1, pretokenizer: 'gpt2', merges })).toThrow(/bytes spelled by all tokens above 67108864/);
    }
  });
});
