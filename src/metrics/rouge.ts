// ROUGE-N and ROUGE-L (Lin 2004) as Google's rouge-score package computes them without stemming
// (rouge_scorer.RougeScorer(['rouge1', 'rouge2', 'rougeL'], use_stemmer=False)).

import { lcsLength } from './edit-distance.ts';
import { TokenIds, clippedOverlap, ngramCounts, totalCount } from './ngrams.ts';

export interface RougeScore {
  precision: number;
  recall: number;
  /** F1 = 2PR / (P + R), 0 when P + R = 0 (rouge-score's scoring.fmeasure). */
  fmeasure: number;
}

export interface RougeScores {
  rouge1: RougeScore;
  rouge2: RougeScore;
  rougeL: RougeScore;
}

/**
 * rouge-score's tokenizer without stemming: lowercase, replace every run of characters outside
 * [a-z0-9] by a space, split on whitespace, keep the non-empty tokens. So punctuation and any
 * non-ASCII letter separate words and are dropped ("Don't" → ["don", "t"]).
 */
export function rougeTokenize(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .split(/\s+/)
    .filter((t) => t.length > 0);
}

function score(overlap: number, predictionCount: number, targetCount: number): RougeScore {
  const precision = overlap / Math.max(predictionCount, 1);
  const recall = overlap / Math.max(targetCount, 1);
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

function fmeasure(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

/**
 * ROUGE-N of token lists: overlap = Σ_g min(count_pred(g), count_ref(g)) over n-grams g; precision =
 * overlap / max(1, #pred n-grams), recall = overlap / max(1, #ref n-grams) (rouge-score's _score_ngrams).
 */
export function rougeN(prediction: readonly string[], reference: readonly string[], n: number): RougeScore {
  if (!Number.isInteger(n) || n < 1) throw new Error(`ROUGE-N needs a positive integer n, got ${n}.`);
  const ids = new TokenIds();
  const pred = ngramCounts(ids.of(prediction), n);
  const ref = ngramCounts(ids.of(reference), n);
  return score(clippedOverlap(ref, pred), totalCount(pred), totalCount(ref));
}

/**
 * Sentence-level ROUGE-L of token lists (Lin 2004 §3.1, β = 1; rouge-score's `rougeL`, which ignores
 * newlines): precision = LCS / |pred|, recall = LCS / |ref|; all 0 when either is empty.
 */
export function rougeL(prediction: readonly string[], reference: readonly string[]): RougeScore {
  if (prediction.length === 0 || reference.length === 0) return { precision: 0, recall: 0, fmeasure: 0 };
  const lcs = lcsLength(reference, prediction);
  return score(lcs, prediction.length, reference.length);
}

/**
 * ROUGE-1, ROUGE-2 and ROUGE-L of a predicted text against its reference text, tokenised by
 * `rougeTokenize`. Note the order: rouge-score's RougeScorer.score takes (target, prediction).
 */
export function rougeScores(prediction: string, reference: string): RougeScores {
  const p = rougeTokenize(prediction);
  const r = rougeTokenize(reference);
  return { rouge1: rougeN(p, r, 1), rouge2: rougeN(p, r, 2), rougeL: rougeL(p, r) };
}

/**
 * The mean of each per-pair score over a corpus (macro average), the usual way ROUGE is reported.
 * rouge-score's BootstrapAggregator reports as `mid` a bootstrap estimate of this same mean.
 */
export function meanRougeScores(predictions: readonly string[], references: readonly string[]): RougeScores {
  if (predictions.length !== references.length || predictions.length === 0) {
    throw new Error(`Mean ROUGE needs as many references as predictions, at least one; got ${predictions.length} and ${references.length}.`);
  }
  const sum: RougeScores = { rouge1: zero(), rouge2: zero(), rougeL: zero() };
  for (let i = 0; i < predictions.length; i++) {
    const s = rougeScores(predictions[i], references[i]);
    for (const k of ['rouge1', 'rouge2', 'rougeL'] as const) {
      sum[k].precision += s[k].precision;
      sum[k].recall += s[k].recall;
      sum[k].fmeasure += s[k].fmeasure;
    }
  }
  const n = predictions.length;
  for (const k of ['rouge1', 'rouge2', 'rougeL'] as const) {
    sum[k] = { precision: sum[k].precision / n, recall: sum[k].recall / n, fmeasure: sum[k].fmeasure / n };
  }
  return sum;
}

function zero(): RougeScore {
  return { precision: 0, recall: 0, fmeasure: 0 };
}
