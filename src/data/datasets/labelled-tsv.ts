// Labelled texts from a TSV file, `label<TAB>text` per line, for text classification. The label set
// is every label of the training file; evaluation on another file refuses labels outside it.

import { DatasetError, at, quote } from './dataset-error.ts';
import { type SplitFractions, splitByKey } from './hash-split.ts';
import { tsvLines } from './text-lines.ts';
import { type LabelledText, type TextClassificationDataset, byCodePoint, countLabels } from './types.ts';

/** Classification sets are small (thousands of texts): 10% each keeps the held-out estimates usable. */
export const CLASSIFICATION_FRACTIONS: SplitFractions = { val: 0.1, test: 0.1 };

export interface LabelledRow {
  line: number;
  label: string;
  text: string;
}

/**
 * Parses the lines. The label is everything before the first tab; the text, everything after it
 * (tabs inside the text are kept). Both are trimmed and must not be empty. Blank lines are skipped;
 * there is no header line.
 */
export function parseLabelledTsv(input: Uint8Array | string, source = 'the labelled file'): LabelledRow[] {
  const out: LabelledRow[] = [];
  for (const { line, text } of tsvLines(input, source)) {
    const tab = text.indexOf('\t');
    if (tab < 0) throw new DatasetError(`${at(source, line)}: expected 2 tab-separated columns (label, text), found 1; put a tab between the label and the text`);
    const label = text.slice(0, tab).trim();
    const body = text.slice(tab + 1).trim();
    if (label.length === 0) throw new DatasetError(`${at(source, line)}: the label (column 1) is empty`);
    if (body.length === 0) throw new DatasetError(`${at(source, line)}: the text (column 2) is empty`);
    out.push({ line, label, text: body });
  }
  if (out.length === 0) throw new DatasetError(`${source} has no examples: it is empty or only blank lines; expected label<TAB>text per line`);
  return out;
}

/** The distinct labels, in numeric order when all are integers (0, 1, 2, 10), else in code-point order. */
export function labelSet(rows: readonly { label: string }[]): string[] {
  const labels = [...new Set(rows.map((r) => r.label))];
  return labels.every((l) => /^-?\d+$/.test(l)) ? labels.sort((a, b) => Number(a) - Number(b)) : labels.sort(byCodePoint);
}

function listLabels(labels: readonly string[], max = 20): string {
  const shown = labels.slice(0, max).map((l) => quote(l)).join(', ');
  return labels.length > max ? `${shown}, … and ${labels.length - max} more` : shown;
}

/** Rows → examples with label indices into `labels` (a trained model's); an unknown label is an error naming it. */
export function encodeLabelled(rows: readonly LabelledRow[], labels: readonly string[], source = 'the labelled file'): LabelledText[] {
  const index = new Map(labels.map((l, i) => [l, i]));
  return rows.map((r) => {
    const label = index.get(r.label);
    if (label === undefined) {
      throw new DatasetError(
        `${at(source, r.line)}: label ${quote(r.label)} is not one of the ${labels.length} labels the model was trained on: ${listLabels(labels)}`,
      );
    }
    return { id: `line ${r.line}`, text: r.text, label };
  });
}

export interface LabelledTsvOptions {
  fractions?: SplitFractions;
  /** The labels of a trained model (evaluation); default: every label in `rows` (training). */
  labels?: readonly string[];
  source?: string;
}

/** Splits 80/10/10 by a hash of the text, so that copies of one text never straddle train and test. */
export function labelledDataset(rows: readonly LabelledRow[], options: LabelledTsvOptions = {}): TextClassificationDataset {
  const labels = options.labels ? [...options.labels] : labelSet(rows);
  const examples = encodeLabelled(rows, labels, options.source);
  const split = splitByKey(examples, (e) => e.text, options.fractions ?? CLASSIFICATION_FRACTIONS);
  return {
    ...split,
    labels,
    counts: {
      train: countLabels(split.train, labels.length),
      val: countLabels(split.val, labels.length),
      test: countLabels(split.test, labels.length),
    },
  };
}
