// Applies learned BPE merges to one pre-tokenized word. Merge k turns the adjacent pair
// (a, b) into token 256 + k; at each step the pair with the lowest k wins, leftmost first —
// exactly GPT-2's rule (encoder.py `bpe`), so GPT-2's merges reproduce GPT-2's tokens.

import { MinHeap } from './min-heap.ts';

/** Packs a pair of token ids (< 2^21 each) into one map key. */
export function pairKey(a: number, b: number): number {
  return a * 2097152 + b;
}

export const MAX_VOCAB = 2097152;

/** Above this length the quadratic scan gives way to the heap (a long run of letters can be one word). */
const SHORT_WORD = 48;

/** `ranks` maps pairKey(a, b) → merge index k. Returns the merged ids. */
export function mergeWord(ids: readonly number[], ranks: ReadonlyMap<number, number>): number[] {
  return ids.length <= SHORT_WORD ? mergeByScan(ids, ranks) : mergeByHeap(ids, ranks);
}

/** GPT-2's own loop: find the lowest-ranked pair, merge its occurrences left to right, repeat. O(n²). */
export function mergeByScan(ids: readonly number[], ranks: ReadonlyMap<number, number>): number[] {
  let word = ids.slice();
  for (;;) {
    let best = -1;
    for (let i = 0; i + 1 < word.length; i++) {
      const r = ranks.get(pairKey(word[i], word[i + 1]));
      if (r !== undefined && (best < 0 || r < best)) best = r;
    }
    if (best < 0) return word;
    const next: number[] = [];
    for (let i = 0; i < word.length; i++) {
      if (i + 1 < word.length && ranks.get(pairKey(word[i], word[i + 1])) === best) {
        next.push(256 + best);
        i++;
      } else next.push(word[i]);
    }
    word = next;
  }
}

/**
 * The same result in O(n log n): a linked list of tokens and a heap of candidate pairs keyed by
 * (rank, left position). Stale candidates (a neighbour already merged away) are skipped on pop.
 */
export function mergeByHeap(ids: readonly number[], ranks: ReadonlyMap<number, number>): number[] {
  const n = ids.length;
  if (n === 0) return [];
  const tok = Int32Array.from(ids);
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  const alive = new Uint8Array(n).fill(1);
  // rank · 2^32 + position stays below 2^53, so one number orders by rank, then position.
  const heap = new MinHeap<number>((x, y) => x < y);
  const offer = (i: number): void => {
    const j = next[i];
    if (i < 0 || j < 0) return;
    const r = ranks.get(pairKey(tok[i], tok[j]));
    if (r !== undefined) heap.push(r * 4294967296 + i);
  };
  for (let i = 0; i + 1 < n; i++) offer(i);
  for (let item = heap.pop(); item !== undefined; item = heap.pop()) {
    const r = Math.floor(item / 4294967296);
    const i = item - r * 4294967296;
    const j = next[i];
    if (!alive[i] || j < 0 || ranks.get(pairKey(tok[i], tok[j])) !== r) continue;
    tok[i] = 256 + r;
    alive[j] = 0;
    next[i] = next[j];
    if (next[j] >= 0) prev[next[j]] = i;
    offer(prev[i]);
    offer(i);
  }
  const out: number[] = [];
  for (let i = 0; i >= 0; i = next[i]) out.push(tok[i]);
  return out;
}
