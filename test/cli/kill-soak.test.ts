// A short kill-9 soak (npm run soak runs the long one): a real `resnorm train` SIGKILLed at random
// instants and resumed each time ends with the same weights and metric log as an uninterrupted run.

import { describe, expect, it } from 'vitest';
import { killSoak } from '../../scripts/kill-soak.ts';

describe('kill -9 soak', () => {
  it('5 random SIGKILLs, each resumed: final weights and metrics identical to a run never interrupted', async () => {
    const report = await killSoak({ trials: 5, seed: 7, maxIters: 500 });
    expect(report.mismatch).toBeUndefined();
    expect(report.identical).toBe(true);
    expect(report.killed).toBeGreaterThanOrEqual(3);
    expect(report.resumedFrom.length).toBeGreaterThanOrEqual(3);
  });
});
