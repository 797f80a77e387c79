// Corpus BLEU (Papineni et al. 2002) with the semantics of NLTK's nltk.translate.bleu_score.corpus_bleu
// (checked against NLTK 3.8 in test/metrics/bleu.test.ts), and its sentence-level form.

import { TokenIds, ngramCounts, totalCount } from './ngrams.ts';

/**
 * How a zero n-gram precision is treated.
 * - `none`: NLTK's default (`SmoothingFunction().method0`): BLEU is 0 as soon as one order has no match.
 * - `epsilon`: NLTK's `SmoothingFunction().method1` (Chen & Cherry 2014, smoothing 1): an order with no
 *   match gets precision ε / (its n-gram count) instead of 0, so short texts get a non-zero score.
 */
export const BLEU_SMOOTHINGS = ['none', 'epsilon'] as const;
export type BleuSmoothing = (typeof BLEU_SMOOTHINGS)[number];

export interface BleuOptions {
  /** The highest n-gram order N (weights are uniform, 1/N each): 4 is BLEU-4, NLTK's default. */
  maxOrder?: number;
  smoothing?: BleuSmoothing;
  /** ε of the `epsilon` smoothing; NLTK's default is 0.1. */
  epsilon?: number;
}

export interface BleuResult {
  /** The score in [0, 1] (NLTK's scale; multiply by 100 for the usual reporting). */
  bleu: number;
  /** Per order n = 1..N: clipped n-gram matches summed over the corpus. */
  matches: number[];
  /** Per order: hypothesis n-grams summed over the corpus, each sentence counting at least 1 (as NLTK). */
  totals: number[];
  /** Per order: matches / totals, before any smoothing. */
  precisions: number[];
  brevityPenalty: number;
  /** c: Σ hypothesis lengths. */
  hypLength: number;
  /** r: Σ over sentences of the reference length closest to the hypothesis length. */
  refLength: number;
}

/**
 * Corpus BLEU of tokenised `hypotheses` against their `references` (one or more per hypothesis; note the
 * order: hypotheses first, unlike NLTK's corpus_bleu(list_of_references, hypotheses)).
 *
 * The definition, exactly NLTK's corpus_bleu with uniform weights:
 * - modified precision p_n = Σ_s Σ_g min(count_hyp(g), max_ref count_ref(g)) / Σ_s max(1, #n-grams of hyp_s):
 *   counts are clipped by the largest count in any one reference, and summed over the corpus before
 *   dividing (micro average). The max(1, ·) is NLTK's guard: a hypothesis shorter than n still adds 1.
 * - brevity penalty BP = 1 if c > r, 0 if c = 0, else exp(1 − r/c), where c = Σ hypothesis lengths and
 *   r = Σ closest reference lengths (closest to the hypothesis length, the shorter one on a tie).
 * - BLEU = 0 when no unigram matches at all (so all-empty hypotheses give 0, whatever the smoothing),
 *   else BP · exp(Σ_n (1/N) log p_n). An empty corpus is refused (NLTK divides 0 by 0).
 * - Without smoothing, an order with p_n = 0 makes BLEU exactly 0. NLTK 3.8 warns that the score "evaluates
 *   to 0" but substitutes sys.float_info.min (2.2e-308) for p_n, which leaves at most 2.2e-308^(1/N)
 *   (about 1e-77 for BLEU-4) rather than 0; we return the 0 it means.
 */
export function corpusBleu(
  hypotheses: readonly (readonly string[])[],
  references: readonly (readonly (readonly string[])[])[],
  options: BleuOptions = {},
): BleuResult {
  const N = options.maxOrder ?? 4;
  const smoothing = options.smoothing ?? 'none';
  const epsilon = options.epsilon ?? 0.1;
  if (!Number.isInteger(N) || N < 1) throw new Error(`BLEU maxOrder must be a positive integer, got ${N}.`);
  if (hypotheses.length !== references.length) {
    throw new Error(`BLEU got ${hypotheses.length} hypotheses but ${references.length} reference lists; pass one list of references per hypothesis.`);
  }
  if (hypotheses.length === 0) throw new Error('BLEU of an empty corpus is undefined (NLTK raises ZeroDivisionError); pass at least one hypothesis.');
  const matches = new Array<number>(N).fill(0);
  const totals = new Array<number>(N).fill(0);
  let hypLength = 0;
  let refLength = 0;
  for (let s = 0; s < hypotheses.length; s++) {
    if (references[s].length === 0) throw new Error(`BLEU: hypothesis ${s} has no reference; each needs at least one.`);
    const ids = new TokenIds();
    const hyp = ids.of(hypotheses[s]);
    const refs = references[s].map((r) => ids.of(r));
    for (let n = 1; n <= N; n++) {
      const counts = ngramCounts(hyp, n);
      const maxRef = new Map<string, number>();
      for (const ref of refs) {
        const rc = ngramCounts(ref, n);
        for (const g of counts.keys()) maxRef.set(g, Math.max(maxRef.get(g) ?? 0, rc.get(g) ?? 0));
      }
      let clipped = 0;
      for (const [g, c] of counts) clipped += Math.min(c, maxRef.get(g)!);
      matches[n - 1] += clipped;
      totals[n - 1] += Math.max(1, totalCount(counts));
    }
    hypLength += hyp.length;
    refLength += closestRefLength(refs.map((r) => r.length), hyp.length);
  }
  const brevityPenalty = bleuBrevityPenalty(refLength, hypLength);
  const precisions = matches.map((m, i) => m / totals[i]);
  const result = { bleu: 0, matches, totals, precisions, brevityPenalty, hypLength, refLength };
  if (matches[0] === 0) return result;
  let logSum = 0;
  for (let i = 0; i < N; i++) {
    let p = precisions[i];
    if (matches[i] === 0) {
      switch (smoothing) {
        case 'none':
          return result;
        case 'epsilon':
          p = epsilon / totals[i];
          break;
        default: {
          const never: never = smoothing;
          throw new Error(`Unknown BLEU smoothing '${String(never)}'; expected one of ${BLEU_SMOOTHINGS.join(', ')}.`);
        }
      }
    }
    logSum += (1 / N) * Math.log(p);
  }
  result.bleu = brevityPenalty * Math.exp(logSum);
  return result;
}

/** BLEU of one hypothesis against its references: corpus BLEU of a one-sentence corpus (as NLTK's sentence_bleu). */
export function sentenceBleu(hypothesis: readonly string[], references: readonly (readonly string[])[], options: BleuOptions = {}): BleuResult {
  return corpusBleu([hypothesis], [references], options);
}

/** The reference length closest to the hypothesis length; the shorter of two equally close (NLTK, mteval-v13a). */
export function closestRefLength(refLengths: readonly number[], hypLength: number): number {
  let best = refLengths[0];
  for (const r of refLengths) {
    const d = Math.abs(r - hypLength);
    const bd = Math.abs(best - hypLength);
    if (d < bd || (d === bd && r < best)) best = r;
  }
  return best;
}

/** BP = 1 if c > r, 0 if c = 0 (an empty output scores 0), else exp(1 − r/c) (Papineni et al. 2002, §2.2.2). */
export function bleuBrevityPenalty(refLength: number, hypLength: number): number {
  if (hypLength > refLength) return 1;
  if (hypLength === 0) return 0;
  return Math.exp(1 - refLength / hypLength);
}
