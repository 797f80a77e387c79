// Error rates of sequence predictions: grapheme-to-phoneme's WER and PER (Yolchuyeva et al. 2019) and
// the speech-recognition WER. All are fractions (multiply by 100 for the papers' percentages).

import { editDistance } from './edit-distance.ts';

function checkPairs(what: string, predictions: readonly unknown[], references: readonly unknown[]): void {
  if (predictions.length !== references.length) {
    throw new Error(`${what}: ${predictions.length} predictions but ${references.length} references; pass one reference per prediction.`);
  }
}

/**
 * Grapheme-to-phoneme word error rate, as G2P papers define it (Yolchuyeva et al. 2019):
 * the fraction of words whose predicted phoneme sequence is not exactly the reference, i.e. the words
 * with at least one phoneme error: #{i : pred_i ≠ ref_i} / #words. An exact-match error, equal to
 * scikit-learn's zero_one_loss over whole pronunciations. Not the ASR WER below.
 */
export function g2pWordErrorRate<T>(predictions: readonly (readonly T[])[], references: readonly (readonly T[])[]): number {
  checkPairs('G2P word error rate', predictions, references);
  if (references.length === 0) throw new Error('G2P word error rate of no words is undefined; pass at least one word.');
  let wrong = 0;
  for (let i = 0; i < references.length; i++) {
    const p = predictions[i];
    const r = references[i];
    if (p.length !== r.length || p.some((t, k) => t !== r[k])) wrong++;
  }
  return wrong / references.length;
}

/**
 * Σ_i editDistance(pred_i, ref_i) / Σ_i |ref_i|: the corpus-level token error rate (edits are pooled
 * over the corpus, not averaged per sequence). Can exceed 1 when predictions are longer than references.
 */
export function tokenErrorRate<T>(predictions: readonly (readonly T[])[], references: readonly (readonly T[])[]): number {
  checkPairs('Token error rate', predictions, references);
  let edits = 0;
  let refTokens = 0;
  for (let i = 0; i < references.length; i++) {
    edits += editDistance(predictions[i], references[i]);
    refTokens += references[i].length;
  }
  if (refTokens === 0) throw new Error('Error rate over references with no tokens at all is undefined (Σ |ref| = 0); pass non-empty references.');
  return edits / refTokens;
}

/**
 * Phoneme error rate (G2P): Σ phoneme edit distance / Σ reference phonemes, over the whole test set
 * (Yolchuyeva et al. 2019). `tokenErrorRate` over phoneme sequences.
 */
export function phonemeErrorRate<T>(predictions: readonly (readonly T[])[], references: readonly (readonly T[])[]): number {
  return tokenErrorRate(predictions, references);
}

/**
 * Speech-recognition word error rate over word tokens: (S + D + I) / N = Σ word edit distance / Σ reference
 * words (NIST sclite, jiwer's corpus WER). `tokenErrorRate` over word sequences.
 */
export function asrWordErrorRate(predictions: readonly (readonly string[])[], references: readonly (readonly string[])[]): number {
  return tokenErrorRate(predictions, references);
}
