// tokenizerFromJSON: dispatch on kind and clear errors for anything that is not a saved tokenizer.
import { describe, expect, it } from 'vitest';
import { BpeTokenizer, trainBpe } from '../../src/data/bpe-tokenizer.ts';
import { CharTokenizer } from '../../src/data/char-tokenizer.ts';
import { TokenizerError, tokenizerFromJSON } from '../../src/data/tokenizer.ts';

describe('tokenizerFromJSON', () => {
  it('rebuilds each kind from its JSON', () => {
    expect(tokenizerFromJSON(CharTokenizer.fromText('abc').toJSON())).toBeInstanceOf(CharTokenizer);
    expect(tokenizerFromJSON(trainBpe('aaab aaab', 258).toJSON())).toBeInstanceOf(BpeTokenizer);
  });
  it('rejects non-objects and unknown kinds with a TokenizerError', () => {
    for (const bad of [null, 3, 'char', [], {}, { kind: 'wordpiece' }]) {
      expect(() => tokenizerFromJSON(bad)).toThrow(TokenizerError);
    }
    expect(() => tokenizerFromJSON({ kind: 'wordpiece' })).toThrow(`tokenizer JSON has kind "wordpiece"; expected 'char' or 'bpe'`);
    expect(() => tokenizerFromJSON([])).toThrow(/found an array/);
  });
  it('quotes a deeply nested or huge field briefly instead of overflowing the stack', () => {
    // Found by test/io/fuzz-readers.test.ts: JSON.stringify of a 20,000-deep nest threw a RangeError.
    const deep = JSON.parse('['.repeat(20000) + ']'.repeat(20000));
    expect(() => tokenizerFromJSON({ kind: 'char', version: deep, chars: ['a'] })).toThrow(`char tokenizer JSON has version [[[…]]]; this resnorm reads version 1`);
    expect(() => tokenizerFromJSON({ kind: 'char', version: 1, chars: ['a', deep] })).toThrow('character tokenizer entry 1 is [[[…]]], not a single Unicode code point');
    expect(() => tokenizerFromJSON({ kind: 'bpe', version: 1, pretokenizer: 'gpt2', merges: [deep] })).toThrow(/BPE merge 0 is \[\[\[…\]\]\]; it must be/);
    expect(() => tokenizerFromJSON({ kind: 'x'.repeat(1e6) })).toThrow(/kind "x{40}…"; expected/);
  });
});
