// Parallel sentence pairs from a TSV file, `source<TAB>target` per line: the format of the
// Tatoeba/ManyThings.org downloads (whose third column, an attribution, is read and ignored).
// Split by a hash of the source sentence, so all translations of one sentence share a split.

import { DatasetError, at } from './dataset-error.ts';
import { type SplitFractions, splitByKey } from './hash-split.ts';
import { tsvLines } from './text-lines.ts';
import { type Pair, type PairDataset, symbolInventory } from './types.ts';

export const PAIR_FRACTIONS: SplitFractions = { val: 0.05, test: 0.05 };

/** One line of the file, with its number for later messages. */
export interface TextPair {
  line: number;
  source: string;
  target: string;
}

export interface ParallelTsvOptions {
  fractions?: SplitFractions;
}

export interface ParallelDataset extends PairDataset {
  /** Non-blank lines read. */
  lines: number;
  /** Lines that repeated an earlier line's source and target exactly (kept once). */
  duplicates: number;
}

const SIDES = ['source', 'target'] as const;

/**
 * Parses the lines: 2 columns, or 3 where the third is ManyThings' attribution. Each side is
 * trimmed and must not be empty. Blank lines are skipped; there is no header line.
 */
export function parseParallelTsv(input: Uint8Array | string, source = 'the pairs file'): TextPair[] {
  const out: TextPair[] = [];
  for (const { line, text } of tsvLines(input, source)) {
    const cols = text.split('\t');
    if (cols.length < 2 || cols.length > 3) {
      throw new DatasetError(
        `${at(source, line)}: expected 2 tab-separated columns (source, target), found ${cols.length}; ` +
          (cols.length < 2 ? 'separate the two sides with one tab character' : 'a third column (ManyThings\' attribution) is allowed, no more'),
      );
    }
    const sides = [cols[0].trim(), cols[1].trim()];
    for (let k = 0; k < 2; k++) {
      if (sides[k].length === 0) throw new DatasetError(`${at(source, line)}: the ${SIDES[k]} (column ${k + 1}) is empty`);
    }
    out.push({ line, source: sides[0], target: sides[1] });
  }
  if (out.length === 0) throw new DatasetError(`${source} has no pairs: it is empty or only blank lines; expected source<TAB>target per line`);
  return out;
}

/** Character-level pairs, split 90/5/5 by the hash of the source sentence. */
export function parallelDataset(pairs: readonly TextPair[], options: ParallelTsvOptions = {}): ParallelDataset {
  const seen = new Set<string>();
  const unique: TextPair[] = [];
  for (const p of pairs) {
    const id = `${p.source}\t${p.target}`;
    if (seen.has(id)) continue;
    seen.add(id);
    unique.push(p);
  }
  const split = splitByKey(unique, (p) => p.source, options.fractions ?? PAIR_FRACTIONS);
  const toPair = (p: TextPair): Pair => ({ source: [...p.source], target: [...p.target] }); // code points
  const train = split.train.map(toPair);
  const val = split.val.map(toPair);
  const test = split.test.map(toPair);
  const all = [...train, ...val, ...test];
  return {
    train,
    val,
    test,
    sourceSymbols: symbolInventory(all.map((p) => p.source)),
    targetSymbols: symbolInventory(all.map((p) => p.target)),
    lines: pairs.length,
    duplicates: pairs.length - unique.length,
  };
}
