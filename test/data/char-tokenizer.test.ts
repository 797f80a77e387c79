// CharTokenizer: code-point vocabulary, exact round trips, and errors that say what to do.
import { describe, expect, it } from 'vitest';
import { CharTokenizer } from '../../src/data/char-tokenizer.ts';
import { TokenizerError, tokenizerFromJSON } from '../../src/data/tokenizer.ts';

describe('CharTokenizer', () => {
  it('builds the sorted set of code points, not UTF-16 units', () => {
    const tok = CharTokenizer.fromText('ba😀ab\u{FFFD}');
    // U+FFFD sorts before U+1F600 by code point (UTF-16 order would put the surrogate pair first).
    expect(tok.chars).toEqual(['a', 'b', '\u{FFFD}', '😀']);
    expect(tok.vocabSize).toBe(4);
    expect(tok.kind).toBe('char');
  });

  it('round-trips any text made of its characters', () => {
    const text = 'First Citizen:\nBefore we proceed any further, hear me speak.\n😀 e\u0301 漢字';
    const tok = CharTokenizer.fromText(text);
    const ids = tok.encode(text);
    expect(ids.length).toBe([...text].length);
    expect(tok.decode(ids)).toBe(text);
    expect(tok.encode('')).toEqual([]);
    expect(tok.decode([])).toBe('');
    expect(tok.encode('ee')).toEqual([tok.chars.indexOf('e'), tok.chars.indexOf('e')]);
  });

  it('names an unknown character, its code point and position', () => {
    const tok = CharTokenizer.fromText('hello');
    expect(() => tok.encode('hel😀lo')).toThrow(TokenizerError);
    expect(() => tok.encode('hel😀lo')).toThrow(
      /the character "😀" \(U\+1F600\) at position 3 \(counting code points from 0\) is not in the vocabulary: a character tokenizer only knows the 4 distinct characters of its training text/,
    );
    expect(() => tok.encode('he\nl')).toThrow(/"\\n" \(U\+000A\) at position 2/);
  });

  it('rejects empty training text and out-of-range ids', () => {
    expect(() => CharTokenizer.fromText('')).toThrow(/the training text is empty/);
    const tok = CharTokenizer.fromText('ab');
    expect(() => tok.decode([0, 2])).toThrow(/token id 2 at index 1 is outside the character vocabulary \[0, 2\)/);
    expect(() => tok.decode([-1])).toThrow(TokenizerError);
    expect(() => tok.decode([0.5])).toThrow(TokenizerError);
  });

  it('saves to JSON and loads back, validating the saved form', () => {
    const tok = CharTokenizer.fromText('hello, world 🌍');
    const json = JSON.parse(JSON.stringify(tok.toJSON()));
    const back = tokenizerFromJSON(json);
    expect(back).toBeInstanceOf(CharTokenizer);
    expect(back.encode('world 🌍')).toEqual(tok.encode('world 🌍'));
    expect(() => CharTokenizer.fromJSON({ ...json, chars: ['b', 'a'] })).toThrow(/not in increasing code-point order/);
    expect(() => CharTokenizer.fromJSON({ ...json, chars: ['a', 'a'] })).toThrow(/not in increasing/);
    expect(() => CharTokenizer.fromJSON({ ...json, chars: ['ab'] })).toThrow(/entry 0 is "ab", not a single Unicode code point/);
    expect(() => CharTokenizer.fromJSON({ ...json, chars: [] })).toThrow(/at least one character/);
    expect(() => CharTokenizer.fromJSON({ ...json, chars: 'abc' })).toThrow(/'chars' must be an array/);
    expect(() => CharTokenizer.fromJSON({ ...json, version: 2 })).toThrow(/version 2; this resnorm reads version 1/);
  });
});
