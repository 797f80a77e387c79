// Loss estimates: nanoGPT's estimate over a fixed set of random batches (cheap, comparable across
// evaluations), and an exact pass over a whole text (every position) for perplexity and bits/char.

import type { GPT } from '../models/gpt.ts';
import { sampleBatch } from '../data/corpus.ts';
import { noGrad } from '../tensor/autograd.ts';
import { readAfterScope } from '../tensor/arena.ts';
import { Rng } from '../tensor/rng.ts';
import { tensor } from '../tensor/tensor.ts';

/** The mean loss of one batch, computed in its own scope (without gradients) and then read. */
async function batchLoss(model: GPT, x: Int32Array, y: Int32Array, B: number, T: number): Promise<number> {
  const be = model.backend;
  return (await readAfterScope(() => noGrad(() => model.forward(tensor(x, [B, T], { backend: be }), tensor(y, [B, T], { backend: be })).loss!)))[0];
}

/** Mean loss over `iters` batches drawn from a generator seeded with `seed` (the same batches each call). */
export async function estimateLoss(model: GPT, data: Int32Array, B: number, iters: number, seed: number): Promise<number> {
  const rng = new Rng(seed);
  const T = model.config.blockSize;
  return model.inEvalMode(async () => {
    let sum = 0;
    for (let i = 0; i < iters; i++) {
      const { x, y } = sampleBatch(data, B, T, rng, 'validation split');
      sum += await batchLoss(model, x, y, B, T);
    }
    return sum / iters;
  });
}

export interface TextEvaluation {
  /** Mean cross-entropy in nats per predicted token. */
  loss: number;
  perplexity: number;
  /** Bits per token (= bits per character for a character tokenizer). */
  bitsPerToken: number;
  tokens: number;
}

/**
 * Cross-entropy over every position of `ids` but the first: the text is cut into consecutive windows
 * of blockSize + 1 tokens overlapping by one, so each token after the first is predicted exactly once.
 */
export async function evaluateText(model: GPT, ids: Int32Array, batchSize: number, onProgress?: (done: number, total: number) => void): Promise<TextEvaluation> {
  const T = model.config.blockSize;
  if (ids.length < 2) throw new RangeError(`evaluation needs at least 2 tokens, the text has ${ids.length}`);
  const starts: number[] = [];
  for (let s = 0; s + 1 < ids.length; s += T) starts.push(s);
  let nats = 0;
  let count = 0;
  await model.inEvalMode(async () => {
    {
      for (let i = 0; i < starts.length; i += batchSize) {
        // Windows of equal length go in one batch; the last, shorter window goes alone.
        const group = starts.slice(i, i + batchSize);
        const full = group.filter((s) => s + T + 1 <= ids.length);
        const parts = full.length > 0 ? [full, group.filter((s) => s + T + 1 > ids.length)] : [group];
        for (const g of parts) {
          if (g.length === 0) continue;
          const len = Math.min(T, ids.length - 1 - g[0]);
          const x = new Int32Array(g.length * len);
          const y = new Int32Array(g.length * len);
          g.forEach((s, b) => {
            x.set(ids.subarray(s, s + len), b * len);
            y.set(ids.subarray(s + 1, s + 1 + len), b * len);
          });
          const loss = await batchLoss(model, x, y, g.length, len);
          nats += loss * g.length * len;
          count += g.length * len;
        }
        onProgress?.(Math.min(i + batchSize, starts.length), starts.length);
      }
    }
  });
  const loss = nats / count;
  return { loss, perplexity: Math.exp(loss), bitsPerToken: loss / Math.LN2, tokens: count };
}
