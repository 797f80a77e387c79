// Checks our BPE encoder against real GPT-2: GPT-2's 50,000 merges are recovered from the rank
// table that the gpt-tokenizer package ships (r50k_base) by src/data/gpt2-ranks.ts, loaded into a BpeTokenizer, and its ids
// compared with gpt-tokenizer's own GPT-2 encoder. Same ids means same pre-tokenizer, same byte
// order and same merge rule.
import { describe, expect, it } from 'vitest';
import r50k from 'gpt-tokenizer/bpeRanks/r50k_base';
import { encode as gpt2Encode } from 'gpt-tokenizer/encoding/gpt2';
import { BpeTokenizer } from '../../src/data/bpe-tokenizer.ts';
import { mergesFromRanks } from '../../src/data/gpt2-ranks.ts';

describe('BpeTokenizer with GPT-2 merges', () => {
  it('encodes exactly like GPT-2', () => {
    const merges = mergesFromRanks(r50k); // throws on a table that is not GPT-2's byte order or not BPE ranks
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
