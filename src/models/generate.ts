// Autoregressive sampling from a GPT with a KV cache: temperature, top-k and nucleus (top-p)
// filtering, seeded. When the cache fills the block, the context is cut to its last half block and
// re-encoded, so long generations cost one full forward pass per blockSize/2 tokens.

import { KVCache } from '../nn/kv-cache.ts';
import { noGrad } from '../tensor/autograd.ts';
import type { HostArray } from '../backend/backend.ts';
import { readAfterScope } from '../tensor/arena.ts';
import { Rng } from '../tensor/rng.ts';
import { tensor } from '../tensor/tensor.ts';
import type { GPT } from './gpt.ts';

export interface SampleOptions {
  maxNewTokens: number;
  /** 0 means greedy (argmax). */
  temperature?: number;
  /** Keep only the k most likely tokens (0 or undefined: all). */
  topK?: number;
  /** Keep the smallest set of tokens whose probability sums to at least p (1: all). */
  topP?: number;
  seed?: number;
  /** Called with each new token id as soon as it is drawn (streaming). */
  onToken?: (id: number) => void;
}

export class SampleError extends Error {
  override name = 'SampleError';
}

/** Draws one id from logits after temperature, top-k and top-p filtering. */
export function sampleFromLogits(logits: ArrayLike<number>, opts: Pick<SampleOptions, 'temperature' | 'topK' | 'topP'>, rng: Rng): number {
  const temperature = opts.temperature ?? 1;
  const V = logits.length;
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  const k = opts.topK && opts.topK > 0 ? Math.min(opts.topK, V) : V;
  const top = order.slice(0, k);
  const maxLogit = logits[top[0]];
  const probs = top.map((i) => Math.exp((logits[i] - maxLogit) / temperature));
  const total = probs.reduce((a, b) => a + b, 0);
  let kept = top.length;
  const p = opts.topP ?? 1;
  if (p < 1) {
    let acc = 0;
    for (let j = 0; j < top.length; j++) {
      acc += probs[j] / total;
      if (acc >= p) {
        kept = j + 1;
        break;
      }
    }
  }
  const keptTotal = probs.slice(0, kept).reduce((a, b) => a + b, 0);
  let u = rng.uniform() * keptTotal;
  for (let j = 0; j < kept; j++) {
    u -= probs[j];
    if (u < 0) return top[j];
  }
  return top[kept - 1];
}

export function checkSampleOptions(o: SampleOptions): void {
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 0) throw new SampleError(`tokens must be a non-negative integer, got ${o.maxNewTokens}`);
  if (o.temperature !== undefined && !(o.temperature >= 0)) throw new SampleError(`temperature must be >= 0, got ${o.temperature}`);
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 0)) throw new SampleError(`top-k must be a non-negative integer, got ${o.topK}`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) throw new SampleError(`top-p must be in (0, 1], got ${o.topP}`);
}

/** Continues `prompt` (at least one token) by maxNewTokens tokens; returns only the new ids. */
export async function generate(model: GPT, prompt: readonly number[], opts: SampleOptions): Promise<number[]> {
  checkSampleOptions(opts);
  if (prompt.length === 0) throw new SampleError('generate: the prompt must contain at least one token');
  const { blockSize, nLayer, nHead, nEmbd, vocabSize } = model.config;
  const rng = new Rng(opts.seed ?? 1337);
  const wasTraining = model.training;
  model.eval();
  const cache = new KVCache(model.backend, nLayer, 1, nHead, blockSize, nEmbd / nHead);
  const context = [...prompt];
  const out: number[] = [];
  // Feeds `ids` after the cached positions and reads the logits of the last one (each token's one read).
  const feed = async (ids: readonly number[]): Promise<HostArray> => {
    const all = await readAfterScope(() =>
      noGrad(() => {
        const { logits } = model.forward(tensor(Int32Array.from(ids), [1, ids.length], { backend: model.backend }), null, cache);
        cache.length += ids.length;
        return logits;
      }),
    );
    return all.subarray(all.length - vocabSize);
  };
  try {
    let last = await feed(context.slice(-blockSize));
    for (let i = 0; i < opts.maxNewTokens; i++) {
      const id = sampleFromLogits(last, opts, rng);
      out.push(id);
      context.push(id);
      opts.onToken?.(id);
      if (i === opts.maxNewTokens - 1) break;
      if (cache.length >= blockSize) {
        cache.reset();
        last = await feed(context.slice(-Math.max(1, Math.floor(blockSize / 2))));
      } else {
        last = await feed([id]);
      }
    }
  } finally {
    cache.dispose();
    model.train(wasTraining);
  }
  return out;
}
