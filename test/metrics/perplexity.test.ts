// Perplexity and bits per token against scikit-learn's log_loss (the mean cross-entropy in nats) on the
// seeded distributions of test/fixtures/metrics/perplexity.json.

import { describe, expect, it } from 'vitest';
import { bitsPerToken, meanCrossEntropy, perplexity } from '../../src/metrics/index.ts';
import { expectClose, loadMetricFixture } from './fixture.ts';

interface PerplexityCase {
  probs: number[][];
  targets: number[];
  mean_nats: number;
  perplexity: number;
  bits_per_token: number;
}

const { cases } = loadMetricFixture<{ cases: PerplexityCase[] }>('perplexity.json');

describe('perplexity = exp(sklearn log_loss)', () => {
  it.each(cases.map((c, i) => ({ i, ...c })))('case $i ($targets.length tokens)', (c) => {
    const nats = meanCrossEntropy(c.targets.map((y, t) => -Math.log(c.probs[t][y])));
    // sklearn renormalises each row by its sum (1 ± an ulp), hence 1e-12 on a value near 1.
    expectClose(nats, c.mean_nats, 'mean cross-entropy');
    expectClose(perplexity(nats), c.perplexity, 'perplexity');
    expectClose(bitsPerToken(nats), c.bits_per_token, 'bits per token');
  });

  it('a uniform guess over V classes has perplexity V and log2 V bits', () => {
    expectClose(perplexity(Math.log(50257)), 50257, 'perplexity');
    expectClose(bitsPerToken(Math.log(256)), 8, 'bits');
    expect(() => meanCrossEntropy([])).toThrow(/no tokens/);
  });
});
