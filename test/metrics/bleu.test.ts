// Corpus and sentence BLEU against NLTK 3.8's corpus_bleu / sentence_bleu (no smoothing and
// SmoothingFunction().method1) on the seeded cases of test/fixtures/metrics/bleu.json.

import { describe, expect, it } from 'vitest';
import { bleuBrevityPenalty, closestRefLength, corpusBleu, sentenceBleu } from '../../src/metrics/index.ts';
import { expectClose, loadMetricFixture } from './fixture.ts';

interface BleuCase {
  name: string;
  max_order: number;
  hypotheses: string[][];
  references: string[][][];
  matches: number[];
  totals: number[];
  hyp_length: number;
  ref_length: number;
  brevity_penalty: number;
  zero_order: boolean;
  bleu: number;
  bleu_method1: number;
  sentence_bleu: number[];
  sentence_bleu_method1: number[];
}

const { cases } = loadMetricFixture<{ cases: BleuCase[] }>('bleu.json');

const FLOAT_MIN = 2.2250738585072014e-308; // Python's sys.float_info.min

/**
 * NLTK's unsmoothed value, except where an order has no match: there NLTK's stand-in p_n = sys.float_info.min
 * leaves at most FLOAT_MIN^(1/N) (the other factors are ≤ 1), which means 0, and we return 0.
 */
function expectedUnsmoothed(nltk: number, zeroOrder: boolean, N: number): number {
  if (!zeroOrder) return nltk;
  expect(nltk).toBeLessThanOrEqual(Math.exp(Math.log(FLOAT_MIN) / N) * (1 + 1e-9));
  return 0;
}

describe('corpus BLEU = NLTK corpus_bleu', () => {
  it('covers the cases the brief asks for', () => {
    expect(cases.length).toBeGreaterThan(40);
    expect(cases.some((c) => c.hypotheses.some((h) => h.length === 0))).toBe(true);
    expect(cases.some((c) => c.references.some((r) => r.length > 1))).toBe(true);
    expect(cases.some((c) => c.hyp_length > c.ref_length) && cases.some((c) => c.hyp_length < c.ref_length)).toBe(true);
    expect(cases.filter((c) => c.zero_order).length).toBeGreaterThan(3);
    expect(cases.filter((c) => !c.zero_order).length).toBeGreaterThan(20);
  });

  it.each(cases)('$name: statistics, unsmoothed and method1 scores', (c) => {
    const opts = { maxOrder: c.max_order };
    const r = corpusBleu(c.hypotheses, c.references, opts);
    expect(r.matches).toEqual(c.matches);
    expect(r.totals).toEqual(c.totals);
    expect(r.hypLength).toBe(c.hyp_length);
    expect(r.refLength).toBe(c.ref_length);
    expectClose(r.brevityPenalty, c.brevity_penalty, 'brevity penalty');
    expectClose(r.bleu, expectedUnsmoothed(c.bleu, c.zero_order, c.max_order), 'BLEU');
    expectClose(corpusBleu(c.hypotheses, c.references, { ...opts, smoothing: 'epsilon' }).bleu, c.bleu_method1, 'BLEU method1');
  });

  it.each(cases)('$name: sentence BLEU of each pair', (c) => {
    c.hypotheses.forEach((h, s) => {
      const single = corpusBleu([h], [c.references[s]], { maxOrder: c.max_order });
      const zeroOrder = single.matches.some((m) => m === 0);
      expectClose(sentenceBleu(h, c.references[s], { maxOrder: c.max_order }).bleu, expectedUnsmoothed(c.sentence_bleu[s], zeroOrder, c.max_order), `sentence ${s}`);
      const m1 = sentenceBleu(h, c.references[s], { maxOrder: c.max_order, smoothing: 'epsilon' }).bleu;
      expectClose(m1, c.sentence_bleu_method1[s], `sentence ${s} method1`);
    });
  });

  it('a corpus score is not the mean of sentence scores (micro-averaged precisions)', () => {
    const c = cases.find((x) => x.name === 'nltk doctest corpus')!;
    const mean = c.sentence_bleu.reduce((a, b) => a + b, 0) / c.sentence_bleu.length;
    expect(Math.abs(corpusBleu(c.hypotheses, c.references).bleu - mean)).toBeGreaterThan(0.01);
  });

  it('method1 epsilon is configurable and only touches orders without matches', () => {
    const h = ['a', 'b', 'x', 'c'];
    const refs = [['a', 'b', 'y', 'c']];
    const r = corpusBleu([h], [refs], { smoothing: 'epsilon', epsilon: 0.5 });
    // p = 3/4, 1/3, ε/2, ε/1 with ε = 0.5; BP = 1.
    expectClose(r.bleu, Math.exp((Math.log(3 / 4) + Math.log(1 / 3) + Math.log(0.25) + Math.log(0.5)) / 4), 'BLEU');
  });

  it('closest reference length and brevity penalty', () => {
    expect(closestRefLength([12, 15, 17], 12)).toBe(12);
    expect(closestRefLength([13, 2], 12)).toBe(13);
    expect(closestRefLength([10, 14], 12)).toBe(10);
    expect(closestRefLength([14, 10], 12)).toBe(10);
    expect(bleuBrevityPenalty(5, 6)).toBe(1);
    expect(bleuBrevityPenalty(5, 5)).toBe(1);
    expect(bleuBrevityPenalty(5, 0)).toBe(0);
  });

  it('refuses what NLTK cannot score, saying why', () => {
    expect(() => corpusBleu([], [])).toThrow(/empty corpus/);
    expect(() => corpusBleu([['a']], [])).toThrow(/1 hypotheses but 0 reference lists/);
    expect(() => corpusBleu([['a']], [[]])).toThrow(/hypothesis 0 has no reference/);
    expect(() => corpusBleu([['a']], [[['a']]], { maxOrder: 0 })).toThrow(/maxOrder/);
  });
});
