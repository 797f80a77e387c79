// Fixed, stable train/validation/test splits: an item's split depends only on its own key (a word,
// a source sentence, a message name, an image's pixels), never on the other items or their order,
// so adding or removing entries never moves anyone else (the identifier-hash test set of Géron's
// Hands-On Machine Learning, ch. 2). The hash: FNV-1a (32-bit), then MurmurHash3's fmix32 finalizer.

import { DatasetError } from './dataset-error.ts';
import { fmix32 } from '../../backend/counter-hash.ts';

export const SPLIT_NAMES = ['train', 'val', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

/** The held-out fractions; training gets the rest. */
export interface SplitFractions {
  val: number;
  test: number;
}

export interface Splits<T> {
  train: T[];
  val: T[];
  test: T[];
}

const utf8 = new TextEncoder();

/** FNV-1a over bytes, 32-bit (offset basis 0x811c9dc5, prime 0x01000193), unfinalized. */
export function fnv1a32(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}

// FNV-1a alone mixes poorly: bit 0 of its result is the XOR of bit 0 of every byte, and a one-letter
// key gets one multiplication. fmix32 (MurmurHash3's finalizer, the one dropout's hash uses) makes every
// output bit depend on every input bit, so the bucket below is uniform for short keys too.

/** The split hash of raw bytes (e.g. an image's pixels). */
export function hashBytes(bytes: Uint8Array): number {
  return fmix32(fnv1a32(bytes));
}

/** The split hash of a string: FNV-1a of its UTF-8 bytes, so the value is the same in every runtime. */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x80) return hashBytes(utf8.encode(key)); // rare here: keys are mostly ASCII words and names
    h = Math.imul(h ^ c, 0x01000193);
  }
  return fmix32(h >>> 0);
}

/** Checks the fractions once, where a loader receives them. */
export function checkFractions(f: SplitFractions): void {
  for (const name of ['val', 'test'] as const) {
    const v = f[name];
    if (!(Number.isFinite(v) && v >= 0 && v < 1)) {
      throw new DatasetError(`the ${name} fraction is ${v}; it must be in [0, 1), e.g. 0.05 to hold out 5% of the data`);
    }
  }
  if (!(f.val + f.test < 1)) {
    throw new DatasetError(`the val and test fractions add up to ${f.val + f.test}; together they must be below 1 so that training keeps some data`);
  }
}

/**
 * The split of a hash: u = h / 2³² in [0, 1); test is [0, test), val is [test, test + val), train the
 * rest. Test comes first so that changing the validation fraction never changes the test set.
 */
export function splitOfHash(h: number, f: SplitFractions): SplitName {
  const u = h / 4294967296;
  if (u < f.test) return 'test';
  if (u < f.test + f.val) return 'val';
  return 'train';
}

export function splitOfKey(key: string, f: SplitFractions): SplitName {
  return splitOfHash(hashKey(key), f);
}

/** Partitions `items` by the hash of `key(item)`, keeping their order within each split. */
export function splitByKey<T>(items: readonly T[], key: (item: T) => string, f: SplitFractions): Splits<T> {
  checkFractions(f);
  const out: Splits<T> = { train: [], val: [], test: [] };
  const memo = new Map<string, SplitName>(); // several items often share a key (a word's pronunciations)
  for (const item of items) {
    const k = key(item);
    let s = memo.get(k);
    if (s === undefined) memo.set(k, (s = splitOfKey(k, f)));
    out[s].push(item);
  }
  return out;
}
