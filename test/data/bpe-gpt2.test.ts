// Checks our BPE encoder against real GPT-2: GPT-2's 50,000 merges are recovered from the rank
// table that the gpt-tokenizer package ships (r50k_base), loaded into a BpeTokenizer, and its ids
// compared with gpt-tokenizer's own GPT-2 encoder. Same ids means same pre-tokenizer, same byte
// order and same merge rule.
import { describe, expect, it } from 'vitest';
import r50k from 'gpt-tokenizer/bpeRanks/r50k_base';
import { encode as gpt2Encode } from 'gpt-tokenizer/encoding/gpt2';
import { BpeTokenizer } from '../../src/data/bpe-tokenizer.ts';
import { mergeWord, pairKey } from '../../src/data/bpe-merge.ts';
import { BASE_BYTES, BYTE_TO_ID } from '../../src/data/byte-unicode.ts';

/**
 * tiktoken stores ranks, not merges: token r's bytes are what the merges before r turn into
 * exactly two tokens, and those two are merge r − 256 (tiktoken's educational `bpe_train` inverse).
 */
function gpt2Merges(): [number, number][] {
  const utf8 = new TextEncoder();
  const ranks = new Map<number, number>();
  const merges: [number, number][] = [];
  r50k.forEach((entry, r) => {
    const bytes = typeof entry === 'string' ? utf8.encode(entry) : Uint8Array.from(entry);
    if (r < 256) {
      expect(bytes).toEqual(Uint8Array.of(BASE_BYTES[r])); // GPT-2's base ids are our byte order
      return;
    }
    const parts = mergeWord(Array.from(bytes, (b) => BYTE_TO_ID[b]), ranks);
    expect(parts.length, `token ${r}`).toBe(2);
    merges.push([parts[0], parts[1]]);
    ranks.set(pairKey(parts[0], parts[1]), r - 256);
  });
  return merges;
}

describe('BpeTokenizer with GPT-2 merges', () => {
  it('encodes exactly like GPT-2', () => {
    const merges = gpt2Merges();
    expect(merges.length).toBe(50000);
    const tok = new BpeTokenizer(merges);
    expect(tok.vocabSize).toBe(50256);
    const texts = [
      'Hello world',
      "The quick brown fox jumps over the lazy dog. It's 2024, isn't it?",
      'First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n',
      '    indented code();\n\tif (x <= 42) { return "ok"; }\r\n',
      'Emoji 😀👍🏽 👩‍👩‍👧, CJK 漢字かな, accents café naïve e\u0301, Ελληνικά, русский',
      'numbers 3.14159 1,000,000 and  multiple   spaces   ',
      "we'll they've I'd you're HE'S",
      '',
    ];
    for (const t of texts) {
      const ours = tok.encode(t);
      expect(ours, t).toEqual(gpt2Encode(t));
      expect(tok.decode(ours)).toBe(t);
    }
    expect(tok.tokenString(tok.encode(' the')[0])).toBe('Ġthe');
  });
});
