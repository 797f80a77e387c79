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
});
