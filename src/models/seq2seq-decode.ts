// Decoding with the encoder-decoder: greedy and beam search. The encoder runs once per source, each
// decoder layer projects the encoder's output to its cross-attention keys and values once, and the
// decoder's self-attention keeps a KV cache (nn/kv-cache.ts), so a step costs one position's work.
//
// Beam search (as fairseq and Hugging Face do it): k live hypotheses; each step takes the 2k best
// continuations by total log-probability; one that ends with EOS and ranks in the first k is
// finished, the best k others live on. It stops when k hypotheses have finished (or at maxLen, when
// the live ones join them). Finished hypotheses are ranked by GNMT's length-normalised score
// (Wu et al. 2016, eq. 14, without the coverage term): log P(Y|X) / lp(Y), lp(Y) = ((5 + |Y|)/6)^α,
// |Y| the generated tokens, EOS included; α = 0 ranks by log-probability alone.

import type { HostArray } from '../backend/backend.ts';
import type { CrossMemory } from '../nn/decoder-block.ts';
import { KVCache } from '../nn/kv-cache.ts';
import { readAfterScope, stepScope } from '../tensor/arena.ts';
import { noGrad } from '../tensor/autograd.ts';
import { expand } from '../tensor/ops/layout.ts';
import { keep, tensor, type Tensor } from '../tensor/tensor.ts';
import { ConfigError } from './gpt-config.ts';
import type { Seq2Seq } from './seq2seq.ts';

export interface DecodeOptions {
  /** The decoder's start token, its first input. */
  bos: number;
  /** The end token: a hypothesis that emits it is finished. */
  eos: number;
  /** The most tokens generated per sequence (EOS included); at most the model's maxTarget. */
  maxLen: number;
}

export interface BeamOptions extends DecodeOptions {
  /** k, the number of live hypotheses. */
  beamWidth: number;
  /** α of GNMT's length penalty ((5 + |Y|)/6)^α; default 0.6. */
  lengthPenalty?: number;
}

export interface Hypothesis {
  /** The generated tokens (no start token), ending with EOS when finished. */
  tokens: number[];
  /** log P(tokens | source) = Σ log p of each generated token, EOS included. */
  logProb: number;
  /** logProb / ((5 + |tokens|)/6)^α: what beams are ranked by. */
  score: number;
  /** Whether it ended with EOS (false: cut at maxLen). */
  finished: boolean;
}

/** GNMT's length penalty lp(Y) = ((5 + |Y|)/6)^α. */
export function lengthPenalty(length: number, alpha: number): number {
  return Math.pow((5 + length) / 6, alpha);
}

/**
 * Greedy decoding of B sources at once: src int32 (B, S) as a flat array, srcMask (B, S) 1 real / 0
 * padding. Each sequence stops at its EOS (included) or at maxLen.
 */
export async function greedyDecode(model: Seq2Seq, src: Int32Array, srcMask: Float32Array, B: number, S: number, o: DecodeOptions): Promise<number[][]> {
  checkOptions(model, o);
  const out: number[][] = Array.from({ length: B }, () => []);
  const done = new Array<boolean>(B).fill(false);
  const V = model.config.targetVocab;
  await withDecoder(model, src, srcMask, B, S, 1, async (step) => {
    let last = new Int32Array(B).fill(o.bos);
    for (let t = 0; t < o.maxLen && !done.every(Boolean); t++) {
      const logits = await step(last);
      last = new Int32Array(B);
      for (let b = 0; b < B; b++) {
        if (done[b]) {
          last[b] = o.eos; // fed but never read
          continue;
        }
        const id = argmax(logits, b * V, V);
        out[b].push(id);
        last[b] = id;
        if (id === o.eos) done[b] = true;
      }
    }
  });
  return out;
}

/** Beam search for one source sequence (no padding). Returns up to k hypotheses, best score first. */
export async function beamSearch(model: Seq2Seq, src: readonly number[], o: BeamOptions): Promise<Hypothesis[]> {
  checkOptions(model, o);
  const k = o.beamWidth;
  if (!(Number.isInteger(k) && k >= 1)) throw new ConfigError(`beamSearch: beamWidth must be a positive integer, got ${k}`);
  const alpha = o.lengthPenalty ?? 0.6;
  if (!(alpha >= 0)) throw new ConfigError(`beamSearch: lengthPenalty α must be >= 0, got ${alpha}`);
  const V = model.config.targetVocab;
  const S = src.length;
  const finished: Hypothesis[] = [];
  let beams = [{ tokens: [] as number[], logProb: 0 }];
  await withDecoder(model, Int32Array.from(src), new Float32Array(S).fill(1), 1, S, k, async (step, reorder) => {
    let last = new Int32Array(k).fill(o.bos);
    for (let t = 0; t < o.maxLen; t++) {
      const logits = await step(last);
      // Continuations of every live beam (the padding rows of the first step have none), best first.
      const candidates = topContinuations(logits, beams.map((b) => b.logProb), V, 2 * k);
      const next: { tokens: number[]; logProb: number; parent: number }[] = [];
      for (let rank = 0; rank < candidates.length && next.length < k; rank++) {
        const c = candidates[rank];
        const tokens = [...beams[c.beam].tokens, c.token];
        if (c.token === o.eos) {
          // fairseq's rule: an EOS outside the first k would take the place of a better live beam.
          if (rank < k) finished.push({ tokens, logProb: c.logProb, score: c.logProb / lengthPenalty(tokens.length, alpha), finished: true });
        } else {
          next.push({ tokens, logProb: c.logProb, parent: c.beam });
        }
      }
      if (finished.length >= k || next.length === 0) {
        beams = [];
        break;
      }
      beams = next;
      const parents = Array.from({ length: k }, (_, j) => next[Math.min(j, next.length - 1)].parent);
      reorder(parents);
      last = Int32Array.from(parents, (_, j) => next[Math.min(j, next.length - 1)].tokens.at(-1)!);
    }
  });
  for (const b of beams) finished.push({ tokens: b.tokens, logProb: b.logProb, score: b.logProb / lengthPenalty(b.tokens.length, alpha), finished: false });
  return finished.sort((a, b) => b.score - a.score).slice(0, k);
}

/**
 * Runs the encoder once on src (B, S), replicated `copies` times per source (beams), computes every
 * layer's cross-attention memory once, and hands `body` a step function (the next input token of
 * each of the B·copies rows → their logits (B·copies, V)) and a reorder of the rows' KV caches.
 * Releases everything after, and restores the model's training mode.
 */
async function withDecoder(
  model: Seq2Seq,
  src: Int32Array,
  srcMask: Float32Array,
  B: number,
  S: number,
  copies: number,
  body: (step: (ids: Int32Array) => Promise<HostArray>, reorder: (parents: readonly number[]) => void) => Promise<void>,
): Promise<void> {
  const c = model.config;
  const backend = model.backend;
  const dtype = model.store!.data.dtype === 'float64' ? 'float64' : 'float32';
  const rows = B * copies;
  const wasTraining = model.training;
  model.eval();
  // The memory outlives the step scopes of the decoding steps: kept out of this scope, released below.
  const memory: CrossMemory[] = stepScope(() =>
    noGrad(() => {
      const mask = tensor(srcMask, [B, S], { backend, dtype });
      const encoded = model.encode(tensor(src, [B, S], { backend, dtype: 'int32' }), mask);
      const widen = (t: Tensor) => (copies === 1 ? t : expand(t, [rows, ...t.shape.slice(1)]));
      return model.memory(encoded, mask).map((m) => ({ kv: keep(widen(m.kv)), keyMask: keep(widen(m.keyMask)) }));
    }),
  );
  const cache = new KVCache(backend, c.decoderLayers, rows, c.nHead, c.maxTarget, c.nEmbd / c.nHead);
  const step = (ids: Int32Array) =>
    readAfterScope(() =>
      noGrad(() => {
        const logits = model.decode(tensor(ids, [rows, 1], { backend, dtype: 'int32' }), memory, cache);
        cache.length += 1;
        return logits;
      }),
    );
  const reorder = (parents: readonly number[]) => reorderRows(cache, c.decoderLayers, parents);
  try {
    await body(step, reorder);
  } finally {
    cache.dispose();
    for (const m of memory) for (const t of [m.kv, m.keyMask]) t.buf.release(); // a shared mask: released once
    model.train(wasTraining);
  }
}

/** Row j of every layer's cache becomes row parents[j] (over the filled positions): beams follow their parents. */
function reorderRows(cache: KVCache, nLayer: number, parents: readonly number[]): void {
  if (parents.every((p, j) => p === j)) return;
  const be = cache.backend;
  for (let i = 0; i < nLayer; i++) {
    const { k, v } = cache.layer(i);
    for (const t of [k, v]) {
      const [, H, maxT, D] = t.shape;
      const row = H * maxT * D;
      const strides = [row, maxT * D, D, 1];
      const before = be.alloc(t.storage.dtype, t.storage.length);
      try {
        be.cast(t.storage, before);
        parents.forEach((p, j) => be.stridedCopy(before, p * row, strides, t.storage, j * row, strides, [1, H, cache.length, D]));
      } finally {
        be.free(before);
      }
    }
  }
}

interface Continuation {
  beam: number;
  token: number;
  logProb: number;
}

/** The n best (beam, token) continuations by total log-probability; ties to the lower beam, then the lower token. */
function topContinuations(logits: HostArray, totals: readonly number[], V: number, n: number): Continuation[] {
  const best: Continuation[] = [];
  totals.forEach((total, beam) => {
    const lp = logSoftmax(logits, beam * V, V);
    for (let token = 0; token < V; token++) {
      const logProb = total + lp[token];
      if (best.length === n && !(logProb > best[n - 1].logProb)) continue;
      let at = best.length;
      while (at > 0 && logProb > best[at - 1].logProb) at--;
      best.splice(at, 0, { beam, token, logProb });
      if (best.length > n) best.pop();
    }
  });
  return best;
}

/** log-softmax of V logits at `offset`, in float64. */
function logSoftmax(a: HostArray, offset: number, V: number): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < V; i++) max = Math.max(max, a[offset + i]);
  let s = 0;
  for (let i = 0; i < V; i++) s += Math.exp(a[offset + i] - max);
  const lse = max + Math.log(s);
  return Float64Array.from({ length: V }, (_, i) => a[offset + i] - lse);
}

/** The first index of the largest of V values at `offset`. */
function argmax(a: HostArray, offset: number, V: number): number {
  let best = 0;
  for (let i = 1; i < V; i++) if (a[offset + i] > a[offset + best]) best = i;
  return best;
}

function checkOptions(model: Seq2Seq, o: DecodeOptions): void {
  const { targetVocab, maxTarget } = model.config;
  for (const [name, id] of [['bos', o.bos], ['eos', o.eos]] as const) {
    if (!(Number.isInteger(id) && id >= 0 && id < targetVocab)) throw new ConfigError(`decode: ${name} = ${id} is not a target token id (0 … ${targetVocab - 1})`);
  }
  if (!(Number.isInteger(o.maxLen) && o.maxLen >= 1 && o.maxLen <= maxTarget)) {
    throw new ConfigError(`decode: maxLen must be an integer in 1 … maxTarget = ${maxTarget}, got ${o.maxLen}`);
  }
}
