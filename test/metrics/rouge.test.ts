// ROUGE-1, ROUGE-2 and ROUGE-L against published values (rouge-score's own tests, whose ROUGE-1.5.5
// numbers come from the original Perl package, and the worked example of Lin 2004), then ROUGE-N and
// ROUGE-L against brute-force counts on seeded random texts. rouge-score itself is not installable here.

import { describe, expect, it } from 'vitest';
import { lcsLength, meanRougeScores, rougeL, rougeN, rougeScores, rougeTokenize } from '../../src/metrics/index.ts';
import type { RougeScore } from '../../src/metrics/index.ts';
import { expectClose } from './fixture.ts';

function expectScore(s: RougeScore, precision: number, recall: number, fmeasure: number, what: string, abs?: number): void {
  if (abs === undefined) {
    expectClose(s.precision, precision, `${what} precision`);
    expectClose(s.recall, recall, `${what} recall`);
    expectClose(s.fmeasure, fmeasure, `${what} F`);
  } else {
    expect(Math.abs(s.precision - precision), `${what} precision ${s.precision}`).toBeLessThan(abs);
    expect(Math.abs(s.recall - recall), `${what} recall ${s.recall}`).toBeLessThan(abs);
    expect(Math.abs(s.fmeasure - fmeasure), `${what} F ${s.fmeasure}`).toBeLessThan(abs);
  }
}

// Source: google-research/google-research, rouge/rouge_scorer_test.py (the rouge-score package's tests),
// commit 066e6a12a3817e45919458090102abfc0a09d287. rouge-score's score(target, prediction) takes the
// reference first; rougeScores takes the prediction first.
describe("rouge-score's published test values (use_stemmer=False)", () => {
  it('testRouge1: target "testing one two", prediction "testing": P 1, R 1/3, F 1/2', () => {
    expectScore(rougeScores('testing', 'testing one two').rouge1, 1, 1 / 3, 1 / 2, 'rouge1');
  });

  it('testRougeEmpty: an empty prediction scores 0 on every type', () => {
    const s = rougeScores('', 'testing one two');
    for (const k of ['rouge1', 'rouge2', 'rougeL'] as const) expectScore(s[k], 0, 0, 0, k);
  });

  it('testRouge2: "testing one two" / "testing one": P 1, R 1/2, F 2/3', () => {
    expectScore(rougeScores('testing one', 'testing one two').rouge2, 1, 1 / 2, 2 / 3, 'rouge2');
  });

  it('testRougeLConsecutive and testRougeLNonConsecutive: P 1, R 2/3, F 4/5', () => {
    expectScore(rougeScores('testing one', 'testing one two').rougeL, 1, 2 / 3, 4 / 5, 'consecutive');
    expectScore(rougeScores('testing two', 'testing one two').rougeL, 1, 2 / 3, 4 / 5, 'non-consecutive');
  });

  it('testMultipleRougeTypes: rouge1 and rougeL of "testing one two" / "testing one"', () => {
    const s = rougeScores('testing one', 'testing one two');
    expectScore(s.rouge1, 1, 2 / 3, 4 / 5, 'rouge1');
    expectScore(s.rougeL, 1, 2 / 3, 4 / 5, 'rougeL');
  });

  it('testLcsTable: LCS of [1, 2, 3, 4, 5] and [2, 5, 3, 4] is 3; of [1..5] and [8, 9] is 0', () => {
    expect(lcsLength([1, 2, 3, 4, 5], [2, 5, 3, 4])).toBe(3);
    expect(lcsLength([1, 2, 3, 4, 5], [8, 9])).toBe(0);
  });

  // rouge/testdata/target.txt and prediction.txt (commit 10bf941a5a0625bf27bb8443aa849e9b48fdd5f9): two
  // lines each of scrambled text; the expected values are ROUGE-1.5.5's, given to 5 places in the tests
  // testRouge1AgainstRouge155, testRouge2AgainstRouge155 and testRougeLAgainstRouge155.
  const TARGETS = [
    "ZfbCUIUuePaiLVUlCaUXxkpu XPeWing tUHfPMuZ',-Xd Y BrUgVJing M-HV.-DgdDaY.rFDJCRing Ht-LM EKBDXkME,yz'RBr q'wtion wIojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxer tKM L",
    "KsJdPByEtAor fE-Qg Dpdbring cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMtion psing sbKao Q m qiing LMmer HqqLFXe,XPY,J XsurkMer ,ed nB'wH'bWVHjWFEing tQ.saefZwJtKrTlixYpMMsJing UCAPwNHeYVjDing c T BUySKtion gMPfJpwGw p'NvxAoping eu pBwMBKV'I DNxqelhu,PHPxDEq,mtion SN",
  ];
  const PREDICTIONS = [
    "rFDJCRtion Ht-LM EKtDXkME,yz'RBr q'wer wrojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxi",
    "n cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMer pstion sbKao Q m qier LMmed HqqLFXe,XPY,J XsurkMeo ,ed nB'wH'bWVHjWFEer tQ.saefZwJtKrTlixYpMMNJtion UCAPwNHeYVjD",
  ];
  // [precision, recall, F] per line, as published (5 places: |error| < 5e-6, assertAlmostEqual's places=5).
  const ROUGE155 = {
    rouge1: [[0.6875, 0.40741, 0.51163], [0.65385, 0.40476, 0.5]],
    rouge2: [[0.53333, 0.30769, 0.39024], [0.48, 0.29268, 0.36364]],
    rougeL: [[0.6875, 0.40741, 0.51163], [0.65385, 0.40476, 0.5]],
  } as const;

  it.each([0, 1])('ROUGE-1.5.5 values of testdata line %i (rouge1, rouge2, rougeL)', (line) => {
    const s = rougeScores(PREDICTIONS[line], TARGETS[line]);
    for (const k of ['rouge1', 'rouge2', 'rougeL'] as const) {
      const [p, r, f] = ROUGE155[k][line];
      expectScore(s[k], p, r, f, `${k} line ${line}`, 5e-6);
    }
  });
});

// Lin 2004, "ROUGE: A Package for Automatic Evaluation of Summaries", §3.1 (ACL W04-1013): reference
// S1 "police killed the gunman"; S2 "police kill the gunman" and S3 "the gunman kill police" have the
// same ROUGE-2, but ROUGE-L (β = 1) gives S2 3/4 = 0.75 and S3 2/4 = 0.5.
describe('Lin 2004 §3.1 worked example', () => {
  const S1 = 'police killed the gunman';
  it('ROUGE-L: S2 0.75, S3 0.5; ROUGE-2: S2 = S3', () => {
    expect(rougeScores('police kill the gunman', S1).rougeL.fmeasure).toBe(0.75);
    expect(rougeScores('the gunman kill police', S1).rougeL.fmeasure).toBe(0.5);
    expect(rougeScores('police kill the gunman', S1).rouge2).toEqual(rougeScores('the gunman kill police', S1).rouge2);
  });
});

describe('tokenisation (rouge-score tokenize.py without a stemmer)', () => {
  it('lowercases, splits on every non-[a-z0-9] run, drops what is left empty', () => {
    expect(rougeTokenize("  Don't STOP-me now!! 42x\té ")).toEqual(['don', 't', 'stop', 'me', 'now', '42x']);
    expect(rougeTokenize('/')).toEqual([]);
    expect(rougeTokenize('')).toEqual([]);
    expect(rougeTokenize('naïve café')).toEqual(['na', 've', 'caf']);
  });
});

// ---------------------------------------------------------------------------- brute force

/** A small seeded generator (mulberry32), local so that the test depends on nothing else in src/. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Tokens the slow way: characters one by one, a token being a maximal run of a-z / 0-9 after lowercasing. */
function slowTokenize(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (const ch of text.toLowerCase()) {
    if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) cur += ch;
    else if (cur) {
      out.push(cur);
      cur = '';
    }
  }
  if (cur) out.push(cur);
  return out;
}

/** ROUGE-N by explicit n-gram lists compared element by element (no maps, no keys). */
function slowRougeN(pred: string[], ref: string[], n: number): RougeScore {
  const grams = (t: string[]) => Array.from({ length: Math.max(0, t.length - n + 1) }, (_, i) => t.slice(i, i + n));
  const same = (a: string[], b: string[]) => a.every((x, i) => x === b[i]);
  const P = grams(pred);
  const R = grams(ref);
  let overlap = 0;
  R.forEach((g, i) => {
    if (R.findIndex((h) => same(g, h)) !== i) return; // first occurrence of each distinct n-gram only
    overlap += Math.min(R.filter((h) => same(g, h)).length, P.filter((h) => same(g, h)).length);
  });
  const p = overlap / Math.max(P.length, 1);
  const r = overlap / Math.max(R.length, 1);
  return { precision: p, recall: r, fmeasure: p + r > 0 ? (2 * p * r) / (p + r) : 0 };
}

/** LCS by trying every subsequence of the shorter list (2^|short|, so short inputs only). */
function slowLcs(a: string[], b: string[]): number {
  const [s, l] = a.length <= b.length ? [a, b] : [b, a];
  let best = 0;
  for (let mask = 0; mask < 1 << s.length; mask++) {
    const sub = s.filter((_, i) => mask & (1 << i));
    if (sub.length <= best) continue;
    let j = 0;
    for (const t of l) if (j < sub.length && t === sub[j]) j++;
    if (j === sub.length) best = sub.length;
  }
  return best;
}

function randomText(next: () => number, words: string[], maxLen: number): string {
  const seps = [' ', ' ', ' ', ', ', '. ', '-', "'", ' (', ')\n', '  '];
  const n = Math.floor(next() * (maxLen + 1));
  let s = '';
  for (let i = 0; i < n; i++) {
    let w = words[Math.floor(next() * words.length)];
    if (next() < 0.2) w = w.toUpperCase();
    s += w + seps[Math.floor(next() * seps.length)];
  }
  return s;
}

describe('ROUGE against brute force on seeded random texts', () => {
  const next = rng(1234);
  const cases = Array.from({ length: 150 }, (_, i) => {
    const words = ['the', 'cat', 'sat', 'on', 'mat', 'a', 'dog', 'ran', '7', 'x2'].slice(0, 3 + (i % 8));
    return { pred: randomText(next, words, 12), ref: randomText(next, words, 12) };
  });

  it('tokenizer = the character-by-character tokenizer', () => {
    for (const { pred, ref } of cases) {
      expect(rougeTokenize(pred)).toEqual(slowTokenize(pred));
      expect(rougeTokenize(ref)).toEqual(slowTokenize(ref));
    }
  });

  it('ROUGE-1, ROUGE-2 and ROUGE-3 = explicit n-gram counting', () => {
    for (const { pred, ref } of cases) {
      const p = slowTokenize(pred);
      const r = slowTokenize(ref);
      for (const n of [1, 2, 3]) expect(rougeN(p, r, n), `n=${n}: ${pred} | ${ref}`).toEqual(slowRougeN(p, r, n));
    }
  });

  it('ROUGE-L = LCS by enumerating subsequences', () => {
    for (const { pred, ref } of cases) {
      const p = slowTokenize(pred);
      const r = slowTokenize(ref);
      const lcs = slowLcs(p, r);
      const s = rougeL(p, r);
      if (p.length === 0 || r.length === 0) expect(s).toEqual({ precision: 0, recall: 0, fmeasure: 0 });
      else expect(s).toEqual(slowRougeNFromLcs(lcs, p.length, r.length));
    }
  });

  it('the random texts are not trivial: some overlap, some do not, some are empty', () => {
    const f = cases.map(({ pred, ref }) => rougeScores(pred, ref).rouge2.fmeasure);
    expect(f.some((x) => x > 0) && f.some((x) => x === 0)).toBe(true);
    expect(cases.some(({ pred }) => slowTokenize(pred).length === 0)).toBe(true);
  });

  it('mean ROUGE is the mean of the per-pair scores', () => {
    const preds = cases.slice(0, 10).map((c) => c.pred);
    const refs = cases.slice(0, 10).map((c) => c.ref);
    const m = meanRougeScores(preds, refs);
    const f = preds.map((p, i) => rougeScores(p, refs[i]).rougeL.fmeasure);
    expectClose(m.rougeL.fmeasure, f.reduce((a, b) => a + b, 0) / f.length, 'mean rougeL F');
    expect(() => meanRougeScores([], [])).toThrow(/at least one/);
    expect(() => rougeN(['a'], ['a'], 0)).toThrow(/positive integer n/);
  });
});

function slowRougeNFromLcs(lcs: number, predLen: number, refLen: number): RougeScore {
  const p = lcs / predLen;
  const r = lcs / refLen;
  return { precision: p, recall: r, fmeasure: p + r > 0 ? (2 * p * r) / (p + r) : 0 };
}
