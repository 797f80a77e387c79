// Language-model scores from cross-entropy in nats, as src/train/evaluate.ts reports them.

/** Mean of per-token cross-entropies (nats): −(1/T) Σ_t ln p(y_t). */
export function meanCrossEntropy(tokenNats: ArrayLike<number>): number {
  if (tokenNats.length === 0) throw new Error('Mean cross-entropy of no tokens is undefined; pass at least one.');
  let sum = 0;
  for (let i = 0; i < tokenNats.length; i++) sum += tokenNats[i];
  return sum / tokenNats.length;
}

/** Perplexity = exp(mean cross-entropy in nats). */
export function perplexity(meanNats: number): number {
  return Math.exp(meanNats);
}

/** Bits per token = mean cross-entropy in nats / ln 2 (= log2 perplexity; bits per character for a character tokenizer). */
export function bitsPerToken(meanNats: number): number {
  return meanNats / Math.LN2;
}
