// Accuracy, per-class precision / recall / F1, their macro, micro and weighted averages and the confusion
// matrix against scikit-learn 1.2 (zero_division=0) on test/fixtures/metrics/classification.json.

import { describe, expect, it } from 'vitest';
import { accuracy, classificationReport, confusionMatrix } from '../../src/metrics/index.ts';
import { expectAllClose, expectClose, loadMetricFixture } from './fixture.ts';

interface Averaged {
  precision: number;
  recall: number;
  f1: number;
}
interface ClassCase {
  name: string;
  y_true: number[];
  y_pred: number[];
  labels?: number[];
  resolved_labels: number[];
  accuracy: number;
  confusion: number[][] | null;
  per_class: { precision: number[]; recall: number[]; f1: number[]; support: number[] };
  macro: Averaged;
  micro: Averaged;
  weighted: Averaged;
}

const { cases } = loadMetricFixture<{ cases: ClassCase[] }>('classification.json');

function expectAveraged(actual: Averaged, expected: Averaged, what: string): void {
  expectClose(actual.precision, expected.precision, `${what} precision`);
  expectClose(actual.recall, expected.recall, `${what} recall`);
  expectClose(actual.f1, expected.f1, `${what} F1`);
}

describe('classification metrics = scikit-learn', () => {
  it('the cases include classes missing from the predictions and from the truth', () => {
    const missingInPred = (c: ClassCase) => c.y_true.some((t) => !c.y_pred.includes(t));
    const missingInTrue = (c: ClassCase) => c.y_pred.some((p) => !c.y_true.includes(p));
    expect(cases.filter(missingInPred).length).toBeGreaterThan(5);
    expect(cases.filter(missingInTrue).length).toBeGreaterThan(1);
    expect(cases.filter((c) => c.labels !== undefined).length).toBeGreaterThan(3);
  });

  it.each(cases)('$name', (c) => {
    const r = classificationReport(c.y_true, c.y_pred, { labels: c.labels });
    expect(r.labels).toEqual(c.resolved_labels);
    expectClose(r.accuracy, c.accuracy, 'accuracy');
    expectClose(accuracy(c.y_true, c.y_pred), c.accuracy, 'accuracy()');
    expectAllClose(r.perClass.map((k) => k.precision), c.per_class.precision, 'precision');
    expectAllClose(r.perClass.map((k) => k.recall), c.per_class.recall, 'recall');
    expectAllClose(r.perClass.map((k) => k.f1), c.per_class.f1, 'F1');
    expect(r.perClass.map((k) => k.support)).toEqual(c.per_class.support);
    expectAveraged(r.macro, c.macro, 'macro');
    expectAveraged(r.micro, c.micro, 'micro');
    expectAveraged(r.weighted, c.weighted, 'weighted');
    if (c.confusion !== null) {
      expect(r.confusion).toEqual(c.confusion);
      expect(confusionMatrix(c.y_true, c.y_pred, c.labels)).toEqual(c.confusion);
    } else {
      // sklearn refuses a labels list none of which occurs in yTrue; we count nothing.
      expect(r.confusion.flat().every((v) => v === 0)).toBe(true);
    }
  });

  it('micro F1 equals accuracy when every class is scored', () => {
    for (const c of cases.filter((x) => x.labels === undefined)) expectClose(classificationReport(c.y_true, c.y_pred).micro.f1, c.accuracy, c.name);
  });

  it('refuses bad input, saying what to do', () => {
    expect(() => accuracy([0, 1], [0])).toThrow(/yTrue has 2 labels but yPred has 1/);
    expect(() => accuracy([], [])).toThrow(/no samples/);
    expect(() => accuracy([0.5], [0])).toThrow(/integers; found 0.5 at index 0/);
    expect(() => classificationReport([0], [0], { labels: [0, 0] })).toThrow(/repeated class/);
    expect(() => classificationReport([0], [0], { labels: [] })).toThrow(/labels is empty/);
  });
});
