// Loading the NLTK / scikit-learn fixtures of test/fixtures/metrics (made by scripts/make_metric_fixtures.py)
// and the scalar comparison the metric tests share.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

export function loadMetricFixture<T>(name: string): T {
  return JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'metrics', name), 'utf8')) as T;
}

/** |actual − expected| ≤ rel·|expected| (so an expected 0 must come out exactly 0). */
export function expectClose(actual: number, expected: number, what: string, rel = 1e-12): void {
  const err = Math.abs(actual - expected);
  expect(err <= rel * Math.abs(expected), `${what}: got ${actual}, expected ${expected} (relative ${err / Math.abs(expected)})`).toBe(true);
}

export function expectAllClose(actual: readonly number[], expected: readonly number[], what: string, rel = 1e-12): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  actual.forEach((a, i) => expectClose(a, expected[i], `${what}[${i}]`, rel));
}
