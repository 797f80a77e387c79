// The plain, typed data every dataset loader returns: no tensors, no tokenizer, so a model of any
// kind (encoder-decoder, classifier, convolutional net) builds its own inputs from it.

/** One sequence-to-sequence example as symbol sequences: letters → phonemes, characters → characters. */
export interface Pair {
  source: string[];
  target: string[];
}

export interface PairDataset {
  train: Pair[];
  val: Pair[];
  test: Pair[];
  /** Every symbol of the source side, over all splits, in increasing code-point order. */
  sourceSymbols: string[];
  /** The same for the target side. */
  targetSymbols: string[];
}

/** One text to classify; `label` indexes the dataset's `labels`. */
export interface LabelledText {
  /** Where it came from: `spam-2/00006`, or `line 12` of a TSV file. */
  id: string;
  text: string;
  label: number;
}

/** Examples per label index, for each split. */
export interface ClassCounts {
  train: number[];
  val: number[];
  test: number[];
}

export interface TextClassificationDataset {
  train: LabelledText[];
  val: LabelledText[];
  test: LabelledText[];
  /** Label names; index i is label i. */
  labels: string[];
  counts: ClassCounts;
}

/** N greyscale images, row-major, one byte per pixel (0 = background for MNIST and Fashion-MNIST). */
export interface ImageSet {
  count: number;
  rows: number;
  cols: number;
  /** (N, rows, cols) */
  pixels: Uint8Array;
  /** (N) */
  labels: Uint8Array;
}

export interface ImageDataset {
  train: ImageSet;
  val: ImageSet;
  test: ImageSet;
  /** Class names; index i is label i. */
  classNames: string[];
}

/** The sorted set of symbols of some sequences, in increasing code-point order. */
export function symbolInventory(seqs: Iterable<readonly string[]>): string[] {
  const set = new Set<string>();
  for (const s of seqs) for (const x of s) set.add(x);
  return [...set].sort(byCodePoint);
}

/**
 * Code-point order, as CharTokenizer sorts. Not localeCompare (it depends on the runtime's locale),
 * and not `<` (UTF-16 units put an emoji, a surrogate pair, before U+E000..U+FFFF).
 */
export function byCodePoint(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(j)!;
    if (x !== y) return x - y;
    i += x > 0xffff ? 2 : 1;
    j += y > 0xffff ? 2 : 1;
  }
  return (a.length - i) - (b.length - j);
}

export function countLabels(examples: readonly { label: number }[], nLabels: number): number[] {
  const c = new Array<number>(nLabels).fill(0);
  for (const e of examples) c[e.label]++;
  return c;
}
