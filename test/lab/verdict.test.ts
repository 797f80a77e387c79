// Verdicts from criteria: every condition kind passes, fails and is unclear where it should, a claim is
// the conjunction of its conditions, and the statistics behind them match hand computations.

import { describe, expect, it } from 'vitest';
import { mean, median, pooledSd, sd, slope, spearman } from '../../src/lab/stats.ts';
import { evaluateClaim, evaluateCondition, type Condition, type Evidence, type Ref } from '../../src/lab/verdict.ts';

function evidence(values: Record<string, number[]>): Evidence {
  return { values: (r: Ref) => values[`${r.arm}.${r.metric}`] ?? [], name: (r: Ref) => `${r.arm} ${r.metric}` };
}
const A = { arm: 'a', metric: 'loss' };
const B = { arm: 'b', metric: 'loss' };

describe('statistics', () => {
  it('match hand computations', () => {
    expect(mean([1, 2, 3, 6])).toBe(3);
    expect(sd([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(Math.sqrt(32 / 7), 12);
    // pooled: ((n1−1)s1² + (n2−1)s2²)/(n1+n2−2) = (2·1 + 2·4)/4 = 2.5
    expect(pooledSd([1, 2, 3], [2, 4, 6])).toBeCloseTo(Math.sqrt(2.5), 12);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [9, 4, 1, 0])).toBeCloseTo(-1, 12);
    expect(spearman([1, 2, 3], [1, 1, 1])).toBe(0);
    expect(slope([0, 1, 2], [1, 3, 5])).toBeCloseTo(2, 12);
  });
});

describe('conditions', () => {
  it("'less' passes beyond k pooled sd, fails on the opposite, is unclear in between", () => {
    const c: Condition = { kind: 'less', a: A, b: B, sd: 2 };
    // pooled sd 0.1; difference 0.5 → pass
    expect(evaluateCondition(c, evidence({ 'a.loss': [1.9, 2.0, 2.1], 'b.loss': [2.4, 2.5, 2.6] })).outcome).toBe('pass');
    expect(evaluateCondition(c, evidence({ 'a.loss': [2.4, 2.5, 2.6], 'b.loss': [1.9, 2.0, 2.1] })).outcome).toBe('fail');
    expect(evaluateCondition(c, evidence({ 'a.loss': [1.9, 2.0, 2.1], 'b.loss': [1.95, 2.1, 2.2] })).outcome).toBe('unclear');
    // minDiff raises the margin above a tiny spread
    const strict: Condition = { kind: 'less', a: A, b: B, sd: 2, minDiff: 1 };
    expect(evaluateCondition(strict, evidence({ 'a.loss': [2, 2, 2], 'b.loss': [2.5, 2.5, 2.5] })).outcome).toBe('unclear');
  });

  it("'similar' and 'atMost' use the tolerance, and fail only beyond the noise", () => {
    const sim: Condition = { kind: 'similar', a: A, b: B, tolerance: 0.05 };
    expect(evaluateCondition(sim, evidence({ 'a.loss': [2, 2.01, 2.02], 'b.loss': [2.03, 2.04, 2.05] })).outcome).toBe('pass');
    expect(evaluateCondition(sim, evidence({ 'a.loss': [2, 2.01, 2.02], 'b.loss': [2.3, 2.31, 2.32] })).outcome).toBe('fail');
    expect(evaluateCondition(sim, evidence({ 'a.loss': [1.8, 2.0, 2.2], 'b.loss': [2.0, 2.2, 2.4] })).outcome).toBe('unclear');
    const most: Condition = { kind: 'atMost', a: A, b: B, tolerance: 0.05 };
    expect(evaluateCondition(most, evidence({ 'a.loss': [1.5, 1.5, 1.5], 'b.loss': [2, 2, 2] })).outcome).toBe('pass'); // much better is fine
    expect(evaluateCondition(most, evidence({ 'a.loss': [2.5, 2.5, 2.51], 'b.loss': [2, 2, 2.01] })).outcome).toBe('fail');
  });

  it("'above', 'below' and 'ratio' have a pass band, a fail band and an unclear gap", () => {
    const up: Condition = { kind: 'above', ref: A, pass: 2, fail: 1 };
    expect(evaluateCondition(up, evidence({ 'a.loss': [2, 3] })).outcome).toBe('pass');
    expect(evaluateCondition(up, evidence({ 'a.loss': [0.5, 0.7] })).outcome).toBe('fail');
    expect(evaluateCondition(up, evidence({ 'a.loss': [1.4, 1.6] })).outcome).toBe('unclear');
    const down: Condition = { kind: 'below', ref: A, pass: 0, fail: 0.5 };
    expect(evaluateCondition(down, evidence({ 'a.loss': [0, 0, 0] })).outcome).toBe('pass');
    expect(evaluateCondition(down, evidence({ 'a.loss': [1, 1, 0] })).outcome).toBe('fail');
    expect(evaluateCondition(down, evidence({ 'a.loss': [1, 0, 0] })).outcome).toBe('unclear');
    const ratio: Condition = { kind: 'ratio', a: A, b: B, pass: [1.07, 1.64], fail: [1.03, 2] };
    expect(evaluateCondition(ratio, evidence({ 'a.loss': [11, 11], 'b.loss': [10, 10] })).outcome).toBe('pass');
    expect(evaluateCondition(ratio, evidence({ 'a.loss': [10, 10], 'b.loss': [10, 10] })).outcome).toBe('fail');
    expect(evaluateCondition(ratio, evidence({ 'a.loss': [10.5, 10.5], 'b.loss': [10, 10] })).outcome).toBe('unclear');
  });

  it("'any' passes when one passes and fails only when all fail", () => {
    const c: Condition = { kind: 'any', of: [{ kind: 'above', ref: A, pass: 5, fail: 4 }, { kind: 'above', ref: B, pass: 5, fail: 4 }] };
    expect(evaluateCondition(c, evidence({ 'a.loss': [1, 1], 'b.loss': [6, 6] })).outcome).toBe('pass');
    expect(evaluateCondition(c, evidence({ 'a.loss': [1, 1], 'b.loss': [1, 1] })).outcome).toBe('fail');
    expect(evaluateCondition(c, evidence({ 'a.loss': [1, 1], 'b.loss': [4.5, 4.5] })).outcome).toBe('unclear');
  });

  it('too few finite values make a condition unclear, and say so', () => {
    const r = evaluateCondition({ kind: 'less', a: A, b: B }, evidence({ 'a.loss': [1], 'b.loss': [2, 3] }));
    expect(r.outcome).toBe('unclear');
    expect(r.observed).toMatch(/too few finite values: a loss has 1/);
  });
});

describe('claims', () => {
  const pass: Condition = { kind: 'above', ref: A, pass: 0, fail: -1 };
  const fail: Condition = { kind: 'above', ref: A, pass: 10, fail: 5 };
  const unclear: Condition = { kind: 'above', ref: A, pass: 10, fail: 0 };
  const ev = evidence({ 'a.loss': [1, 2] });
  it('are reproduced when every condition passes, not reproduced when any fails, inconclusive otherwise', () => {
    expect(evaluateClaim([pass, pass], ev).verdict).toBe('reproduced');
    expect(evaluateClaim([pass, unclear], ev).verdict).toBe('inconclusive');
    expect(evaluateClaim([pass, unclear, fail], ev).verdict).toBe('not reproduced');
    expect(evaluateClaim([pass], ev).conditions[0].criterion).toMatch(/mean a loss ≥ 0; below -1 fails/);
  });
});
