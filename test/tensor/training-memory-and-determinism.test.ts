// Engine-level guarantees: memory stays flat over training steps, one seed gives the same run bit for
// bit, released tensors fail loudly, shape errors name the op and both shapes, dropout is seeded.

import { describe, expect, it } from 'vitest';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { GPT, DEFAULT_GPT_CONFIG, type GPTConfig } from '../../src/models/gpt.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { optimizationStep } from '../../src/train/step.ts';
import * as F from '../../src/tensor/index.ts';
import { backward, Rng, stepScope, tensor } from '../../src/tensor/index.ts';

const tiny: GPTConfig = { ...DEFAULT_GPT_CONFIG, vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0.1 };

async function trainSteps(model: GPT, steps: number, seed: number, after?: (step: number) => void): Promise<number[]> {
  const opt = new AdamW(model.store!);
  const rng = new Rng(seed);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const ids = Int32Array.from({ length: 2 * 8 }, () => rng.int(11));
    const tg = Int32Array.from({ length: 2 * 8 }, () => rng.int(11));
    losses.push((await optimizationStep(model, opt, ids, tg, 2, 8, { gradClip: 1 })).loss);
    after?.(s);
  }
  return losses;
}

describe('the engine over training steps: memory, interleaving, determinism, scopes, dropout', () => {
  it('keeps live buffers and bytes flat over 200 training steps', async () => {
    const backend = createRefBackend();
    const model = GPT.create(tiny, { backend, seed: 1 });
    const seen: { liveBuffers: number; liveBytes: number }[] = [];
    await trainSteps(model, 200, 7, (s) => {
      if (s === 9 || s === 199) seen.push({ ...backend.memoryStats() });
    });
    expect(seen[1].liveBuffers).toBe(seen[0].liveBuffers);
    expect(seen[1].liveBytes).toBe(seen[0].liveBytes);
    // Only parameters, gradients and the two Adam moments (plus small constants) survive a step.
    expect(seen[1].liveBytes).toBeLessThan(4 * 4 * model.store!.size + 4096);
  });

  it('runs two models\' training steps interleaved at their awaits exactly as it runs them one after the other', async () => {
    const run = async (seed: number, steps: Promise<number[]>[] = []) => {
      const model = GPT.create(tiny, { seed });
      steps.push(trainSteps(model, 6, seed));
      return { model, losses: await steps[0] };
    };
    const alone = [await run(1), await run(2)];
    const together = await Promise.all([run(1), run(2)]); // each step's read lets the other model's step run
    for (const i of [0, 1]) {
      expect(together[i].losses).toEqual(alone[i].losses);
      const [a, b] = await Promise.all([alone[i], together[i]].map((r) => r.model.backend.read(r.model.store!.data)));
      expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
    }
  });

  it('gives the same run bit for bit from one seed, and a different one from another seed', async () => {
    const run = async (seed: number) => {
      const model = GPT.create(tiny, { seed });
      const losses = await trainSteps(model, 5, 3);
      return { losses, params: await F.getDefaultBackend().read(model.store!.data) };
    };
    const a = await run(42);
    const b = await run(42);
    const c = await run(43);
    expect(b.losses).toEqual(a.losses);
    expect(Buffer.from(b.params.buffer).equals(Buffer.from(a.params.buffer))).toBe(true);
    expect(c.losses).not.toEqual(a.losses);
  });

  it('throws a clear error when a tensor is used after its step scope', () => {
    const t = stepScope(() => F.ones([2, 3]));
    expect(() => t.toArraySync()).toThrow(/was released, at the end of its step scope/);
    const kept = stepScope(() => F.keep(F.ones([2])));
    expect(Array.from(kept.toArraySync())).toEqual([1, 1]);
  });

  it('names the op and both shapes in shape errors', () => {
    expect(() => F.add(F.ones([2, 3]), F.ones([4, 3]))).toThrow(/add: shapes \[2, 3\] and \[4, 3\] cannot be broadcast/);
    expect(() => F.matmul(F.ones([2, 3]), F.ones([4, 5]))).toThrow(/matmul: inner dimensions differ: \[2, 3\] @ \[4, 5\]/);
    expect(() => F.reshape(F.ones([2, 3]), [4, 2])).toThrow(/reshape: cannot reshape \[2, 3\] \(6 elements\) to \[4, 2\]/);
    expect(() => F.embedding(F.ones([4, 2]), tensor(Int32Array.of(1, 4), [2]))).toThrow(/Embedding id 4 at position 1 is outside \[0, 4\)/);
    expect(() => F.crossEntropy(F.ones([2, 3]), tensor(Int32Array.of(0, 3), [2]))).toThrow(/Cross-entropy target 3 at row 1 is outside \[0, 3\)/);
    expect(() => GPT.create({ ...tiny, nEmbd: 15 })).toThrow(/nEmbd = 15 is not divisible by nHead = 2/);
  });

  it('draws a seeded dropout mask: same seed same mask, scale 1/(1-p), gradient through the mask', () => {
    const x = F.ones([1000], { requiresGrad: true });
    const a = F.dropout(x, 0.25, 9);
    const b = F.dropout(x, 0.25, 9);
    const c = F.dropout(x, 0.25, 10);
    const av = a.toArraySync();
    expect(Array.from(b.toArraySync())).toEqual(Array.from(av));
    expect(Array.from(c.toArraySync())).not.toEqual(Array.from(av));
    const kept = av.filter((v) => v !== 0);
    expect(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6)).toBe(true);
    expect(kept.length).toBeGreaterThan(700);
    expect(kept.length).toBeLessThan(800);
    backward(F.sum(a));
    expect(Array.from(x.grad!.toArraySync())).toEqual(Array.from(av));
  });

  it('switches dropout off in eval mode', () => {
    const model = GPT.create(tiny, { seed: 5 });
    const ids = tensor(Int32Array.from({ length: 8 }, (_, i) => i % 11), [1, 8]);
    model.eval();
    const a = F.noGrad(() => model.forward(ids).logits.toArraySync());
    const b = F.noGrad(() => model.forward(ids).logits.toArraySync());
    expect(Array.from(b)).toEqual(Array.from(a));
  });
});
