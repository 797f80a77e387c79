// Edit distance and LCS against NLTK 3.8's edit_distance; G2P WER against scikit-learn's zero_one_loss;
// PER and ASR WER against Σ NLTK edit distances / Σ reference lengths (test/fixtures/metrics/edit-distance.json).

import { describe, expect, it } from 'vitest';
import { asrWordErrorRate, editDistance, g2pWordErrorRate, lcsLength, phonemeErrorRate, tokenErrorRate } from '../../src/metrics/index.ts';
import { expectClose, loadMetricFixture } from './fixture.ts';

interface Corpus {
  predictions: string[][];
  references: string[][];
}
interface EditFixture {
  pairs: { a: string[]; b: string[]; distance: number; indel_distance: number }[];
  g2p: (Corpus & { g2p_wer: number; per: number })[];
  asr: (Corpus & { wer: number })[];
}

const fx = loadMetricFixture<EditFixture>('edit-distance.json');

describe('edit distance and LCS = NLTK edit_distance', () => {
  it(`Levenshtein distance of ${fx.pairs.length} token sequences, both ways round`, () => {
    for (const { a, b, distance } of fx.pairs) {
      expect(editDistance(a, b), `${a.join(' ')} → ${b.join(' ')}`).toBe(distance);
      expect(editDistance(b, a)).toBe(distance);
    }
  });

  it('LCS from the insert/delete-only distance: |a| + |b| − 2·LCS = edit_distance(a, b, substitution_cost=2)', () => {
    for (const { a, b, indel_distance } of fx.pairs) {
      expect(a.length + b.length - 2 * lcsLength(a, b), `${a.join(' ')} / ${b.join(' ')}`).toBe(indel_distance);
      expect(lcsLength(b, a)).toBe(lcsLength(a, b));
    }
  });

  it('works on strings (UTF-16 units) as on arrays', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(lcsLength('ABCBDAB', 'BDCABA')).toBe(4);
  });
});

describe('error rates', () => {
  it.each(fx.g2p.map((c, i) => ({ i, ...c })))('G2P corpus $i: WER = sklearn zero_one_loss, PER = Σ edits / Σ phonemes', (c) => {
    expectClose(g2pWordErrorRate(c.predictions, c.references), c.g2p_wer, 'G2P WER');
    expectClose(phonemeErrorRate(c.predictions, c.references), c.per, 'PER');
  });

  it('the G2P corpora cover no errors, every word wrong and an empty prediction', () => {
    expect(fx.g2p.some((c) => c.g2p_wer === 0)).toBe(true);
    expect(fx.g2p.some((c) => c.g2p_wer === 1)).toBe(true);
    expect(fx.g2p.some((c) => c.predictions.some((p) => p.length === 0))).toBe(true);
  });

  it.each(fx.asr.map((c, i) => ({ i, ...c })))('ASR corpus $i: WER = Σ word edits / Σ reference words', (c) => {
    expectClose(asrWordErrorRate(c.predictions, c.references), c.wer, 'ASR WER');
  });

  it('G2P WER counts words, PER counts phonemes: one wrong phoneme in one of two words', () => {
    const refs = [['K', 'AE', 'T'], ['D', 'AO', 'G']];
    const preds = [['K', 'AE', 'T'], ['D', 'AA', 'G']];
    expect(g2pWordErrorRate(preds, refs)).toBe(1 / 2);
    expect(phonemeErrorRate(preds, refs)).toBe(1 / 6);
  });

  it('a longer prediction can push the token error rate above 1', () => {
    expect(tokenErrorRate([['a', 'b', 'c']], [['x']])).toBe(3);
  });

  it('refuses undefined rates, saying why', () => {
    expect(() => g2pWordErrorRate([], [])).toThrow(/no words/);
    expect(() => phonemeErrorRate([['a']], [[]])).toThrow(/Σ \|ref\| = 0/);
    expect(() => asrWordErrorRate([['a']], [])).toThrow(/1 predictions but 0 references/);
  });
});
