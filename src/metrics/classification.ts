// Classification metrics from integer labels with scikit-learn's semantics (precision_recall_fscore_support,
// f1_score, confusion_matrix, accuracy_score with zero_division=0; checked against scikit-learn 1.2).

export interface ClassScores {
  label: number;
  /** tp / (tp + fp); 0 when the class is never predicted. */
  precision: number;
  /** tp / (tp + fn); 0 when the class never occurs in yTrue. */
  recall: number;
  /** 2PR / (P + R); 0 when P + R = 0. */
  f1: number;
  /** Occurrences of the class in yTrue. */
  support: number;
}

export interface AveragedScores {
  precision: number;
  recall: number;
  f1: number;
}

export interface ClassificationReport {
  /** The classes scored, ascending unless given in options.labels: the order of perClass and confusion's rows and columns. */
  labels: number[];
  perClass: ClassScores[];
  /** Unweighted mean of the per-class scores (the macro F1 is the mean of the per-class F1s, not F1 of the means). */
  macro: AveragedScores;
  /** Scores from tp, fp and fn pooled over the classes (for single-label data over every class: P = R = F1 = accuracy). */
  micro: AveragedScores;
  /** Per-class scores averaged with weights = support; all 0 when the classes have no support at all. */
  weighted: AveragedScores;
  /** Fraction of samples with yPred = yTrue, over every sample (whatever options.labels). */
  accuracy: number;
  /** (K, K) counts, rows = true class, columns = predicted class, in `labels` order (sklearn's confusion_matrix). */
  confusion: number[][];
}

export interface ClassificationOptions {
  /**
   * The classes to score (sklearn's `labels`): by default every label present in yTrue or yPred, sorted.
   * A class listed but absent scores 0 with support 0 and counts in the macro average; a class present but
   * not listed is left out of the per-class scores and averages, and its samples out of the confusion matrix.
   */
  labels?: readonly number[];
}

function checkLabels(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): void {
  if (yTrue.length !== yPred.length) throw new Error(`Classification metrics: yTrue has ${yTrue.length} labels but yPred has ${yPred.length}; pass one prediction per sample.`);
  if (yTrue.length === 0) throw new Error('Classification metrics of no samples are undefined; pass at least one.');
  for (const y of [yTrue, yPred]) {
    for (let i = 0; i < y.length; i++) {
      if (!Number.isInteger(y[i])) throw new Error(`Classification labels must be integers; found ${y[i]} at index ${i}.`);
    }
  }
}

/** Fraction of samples with yPred[i] = yTrue[i] (sklearn's accuracy_score). */
export function accuracy(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkLabels(yTrue, yPred);
  let right = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) right++;
  return right / yTrue.length;
}

function resolveLabels(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, labels: readonly number[] | undefined): number[] {
  if (labels !== undefined) {
    if (labels.length === 0) throw new Error('Classification options.labels is empty; list at least one class or omit it.');
    if (new Set(labels).size !== labels.length) throw new Error(`Classification options.labels has a repeated class: [${labels.join(', ')}].`);
    return [...labels];
  }
  const present = new Set<number>();
  for (let i = 0; i < yTrue.length; i++) present.add(yTrue[i]).add(yPred[i]);
  return [...present].sort((a, b) => a - b);
}

/** sklearn's confusion_matrix(yTrue, yPred, labels): rows = true class, columns = predicted, samples outside `labels` dropped. */
export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, labels?: readonly number[]): number[][] {
  checkLabels(yTrue, yPred);
  const ls = resolveLabels(yTrue, yPred, labels);
  const index = new Map(ls.map((l, k) => [l, k]));
  const m = ls.map(() => new Array<number>(ls.length).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = index.get(yTrue[i]);
    const p = index.get(yPred[i]);
    if (t !== undefined && p !== undefined) m[t][p]++;
  }
  return m;
}

function prf(tp: number, predicted: number, actual: number): AveragedScores {
  const precision = predicted === 0 ? 0 : tp / predicted;
  const recall = actual === 0 ? 0 : tp / actual;
  const d = precision + recall;
  return { precision, recall, f1: d === 0 ? 0 : (2 * precision * recall) / d };
}

/** Accuracy, per-class precision / recall / F1 / support, their macro, micro and weighted averages, and the confusion matrix. */
export function classificationReport(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, options: ClassificationOptions = {}): ClassificationReport {
  checkLabels(yTrue, yPred);
  const labels = resolveLabels(yTrue, yPred, options.labels);
  const index = new Map(labels.map((l, k) => [l, k]));
  const K = labels.length;
  // Counted over every sample, as sklearn's multilabel_confusion_matrix: a sample whose other side is an
  // unlisted class still counts as a false positive / false negative of the listed one.
  const tp = new Array<number>(K).fill(0);
  const predicted = new Array<number>(K).fill(0);
  const actual = new Array<number>(K).fill(0);
  for (let i = 0; i < yTrue.length; i++) {
    const t = index.get(yTrue[i]);
    const p = index.get(yPred[i]);
    if (t !== undefined) actual[t]++;
    if (p !== undefined) predicted[p]++;
    if (t !== undefined && yTrue[i] === yPred[i]) tp[t]++;
  }
  const perClass = labels.map((label, k) => ({ label, ...prf(tp[k], predicted[k], actual[k]), support: actual[k] }));
  const sum = (f: (c: ClassScores) => number): number => perClass.reduce((s, c) => s + f(c), 0);
  const macro = { precision: sum((c) => c.precision) / K, recall: sum((c) => c.recall) / K, f1: sum((c) => c.f1) / K };
  const total = (a: number[]): number => a.reduce((s, v) => s + v, 0);
  const micro = prf(total(tp), total(predicted), total(actual));
  const w = total(actual);
  const weighted =
    w === 0
      ? { precision: 0, recall: 0, f1: 0 }
      : { precision: sum((c) => c.precision * c.support) / w, recall: sum((c) => c.recall * c.support) / w, f1: sum((c) => c.f1 * c.support) / w };
  return { labels, perClass, macro, micro, weighted, accuracy: accuracy(yTrue, yPred), confusion: confusionMatrix(yTrue, yPred, labels) };
}
