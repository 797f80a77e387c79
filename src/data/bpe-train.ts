// Learns byte-level BPE merges from a text (Sennrich et al. 2016; GPT-2's byte-level variant).
// Efficient by construction: the text is pre-tokenized once into distinct words with counts, pair
// counts are kept and updated incrementally — only the words that contain the merged pair are
// touched — and a lazy max-heap finds the next pair, so each merge costs about what it changes.
//
// Tie-breaking, for reproducible vocabularies: the most frequent pair wins; among equals, the
// pair with the smaller left id, then the smaller right id (ids, not bytes: base ids follow
// GPT-2's byte order, see byte-unicode.ts). Nothing depends on Map iteration order or timing.

import { BYTE_TO_ID } from './byte-unicode.ts';
import { MAX_VOCAB, pairKey } from './bpe-merge.ts';
import { MinHeap } from './min-heap.ts';
import { pretokenize } from './pretokenize.ts';
import { TokenizerError } from './tokenizer-error.ts';

export interface BpeProgress {
  /** Merges learned so far, and the most that can be learned for the requested vocabulary. */
  merges: number;
  totalMerges: number;
  /** The pair just merged, its new id, and how many times it occurred in the corpus. */
  pair: readonly [number, number];
  id: number;
  count: number;
}

export interface BpeTrainOptions {
  /** Called after every merge; keep it cheap or throttle it yourself. */
  onProgress?: (p: BpeProgress) => void;
}

/**
 * Returns up to vocabSize − 256 merges, fewer if the corpus runs out of pairs (every word has
 * become a single token). Merge k creates token 256 + k.
 */
export function learnMerges(text: string, vocabSize: number, options: BpeTrainOptions = {}): [number, number][] {
  if (!Number.isInteger(vocabSize) || vocabSize < 256 || vocabSize > MAX_VOCAB) {
    throw new TokenizerError(`BPE vocab size ${vocabSize} is invalid: it must be an integer from 256 (the byte alphabet) to ${MAX_VOCAB}; pass e.g. --vocab-size 512`);
  }
  if (text.length === 0) throw new TokenizerError('BPE training text is empty; a tokenizer must be trained on some text');

  const { words, freqs } = countWords(text);
  const counts = new Map<number, number>(); // pairKey → occurrences in the corpus
  const where = new Map<number, Set<number>>(); // pairKey → indices of words that may contain it
  for (let w = 0; w < words.length; w++) {
    const word = words[w];
    for (let i = 0; i + 1 < word.length; i++) {
      const k = pairKey(word[i], word[i + 1]);
      counts.set(k, (counts.get(k) ?? 0) + freqs[w]);
      let set = where.get(k);
      if (!set) where.set(k, (set = new Set()));
      set.add(w);
    }
  }
  // Max-heap on count, then min on key. Entries go stale when a count changes; a fresh entry is
  // pushed for every change and stale ones are dropped when popped.
  const heap = new MinHeap<[number, number]>((x, y) => x[0] > y[0] || (x[0] === y[0] && x[1] < y[1]));
  for (const [k, c] of counts) heap.push([c, k]);

  const totalMerges = vocabSize - 256;
  const merges: [number, number][] = [];
  while (merges.length < totalMerges) {
    const best = popValid(heap, counts);
    if (best === undefined) break;
    const [count, key] = best;
    const a = Math.floor(key / 2097152);
    const b = key - a * 2097152;
    const id = 256 + merges.length;
    merges.push([a, b]);
    applyMerge(words, freqs, a, b, id, counts, where, heap);
    options.onProgress?.({ merges: merges.length, totalMerges, pair: [a, b], id, count });
  }
  return merges;
}

/** Distinct pre-tokenized words as base-id sequences, with how often each occurs. */
function countWords(text: string): { words: number[][]; freqs: number[] } {
  const seen = new Map<string, number>();
  for (const w of pretokenize(text)) seen.set(w, (seen.get(w) ?? 0) + 1);
  const encoder = new TextEncoder();
  const words: number[][] = [];
  const freqs: number[] = [];
  for (const [w, f] of seen) {
    words.push(Array.from(encoder.encode(w), (byte) => BYTE_TO_ID[byte]));
    freqs.push(f);
  }
  return { words, freqs };
}

function popValid(heap: MinHeap<[number, number]>, counts: Map<number, number>): [number, number] | undefined {
  for (let e = heap.pop(); e !== undefined; e = heap.pop()) {
    if (counts.get(e[1]) === e[0]) return e;
  }
  return undefined;
}

/** Rewrites every word containing (a, b) and folds the change of its pairs into the counts. */
function applyMerge(
  words: number[][],
  freqs: number[],
  a: number,
  b: number,
  id: number,
  counts: Map<number, number>,
  where: Map<number, Set<number>>,
  heap: MinHeap<[number, number]>,
): void {
  const merged = pairKey(a, b);
  const delta = new Map<number, number>();
  const bump = (k: number, d: number): void => void delta.set(k, (delta.get(k) ?? 0) + d);
  for (const w of where.get(merged) ?? []) {
    const old = words[w];
    const word: number[] = [];
    for (let i = 0; i < old.length; i++) {
      if (i + 1 < old.length && old[i] === a && old[i + 1] === b) {
        word.push(id);
        i++;
      } else word.push(old[i]);
    }
    if (word.length === old.length) continue; // a stale entry of `where`: the pair left this word earlier
    const f = freqs[w];
    for (let i = 0; i + 1 < old.length; i++) bump(pairKey(old[i], old[i + 1]), -f);
    for (let i = 0; i + 1 < word.length; i++) {
      const k = pairKey(word[i], word[i + 1]);
      bump(k, f);
      if (word[i] === id || word[i + 1] === id) {
        let set = where.get(k);
        if (!set) where.set(k, (set = new Set()));
        set.add(w);
      }
    }
    words[w] = word;
  }
  where.delete(merged);
  for (const [k, d] of delta) {
    if (d === 0) continue;
    const c = (counts.get(k) ?? 0) + d;
    if (c > 0) {
      counts.set(k, c);
      heap.push([c, k]);
    } else {
      counts.delete(k);
      where.delete(k);
    }
  }
}
