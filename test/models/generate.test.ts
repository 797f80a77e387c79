// Generation: KV-cached logits equal uncached ones (ref and wasm), sampling filters behave, runs are seeded.

import { describe, expect, it } from 'vitest';
import { loadWasmKernels } from '../../src/backend/wasm/index.ts';
import { DEFAULT_GPT_CONFIG, GPT, type GPTConfig } from '../../src/models/gpt.ts';
import { generate, sampleFromLogits } from '../../src/models/generate.ts';
import { KVCache } from '../../src/nn/kv-cache.ts';
import { noGrad, Rng, stepScope, tensor } from '../../src/tensor/index.ts';
import { relError } from '../helpers/compare.ts';
import { DESIGN_SAMPLES } from '../helpers/designs.ts';

const cfg: GPTConfig = { ...DEFAULT_GPT_CONFIG, vocabSize: 13, blockSize: 12, nLayer: 2, nHead: 2, nEmbd: 16 };

const wasm = Object.assign((await loadWasmKernels()).createBackend(), { poisonUninit: true });

describe('generation', () => {
  it.each([
    ['learned', 'ref'],
    ['sinusoidal', 'ref'],
    ['learned', 'wasm'],
  ] as const)('KV-cached logits match a full forward pass (%s positions, %s backend, every kind of design)', (positional, backendName) => {
    const backend = backendName === 'wasm' ? wasm : undefined;
    for (const design of [{}, ...DESIGN_SAMPLES]) {
      const model = GPT.create({ ...cfg, positional, ...design }, { seed: 3, backend }).eval();
      const ids = [1, 5, 2, 7, 7, 0, 12, 3, 4];
      const full = noGrad(() => stepScope(() => model.forward(tensor(Int32Array.from(ids), [1, ids.length], { backend: model.backend })).logits.toArraySync()));
      const cache = new KVCache(model.backend, cfg.nLayer, 1, cfg.nHead, cfg.blockSize, cfg.nEmbd / cfg.nHead);
      const prefix = 4;
      const parts: number[] = [];
      noGrad(() => {
        // The prompt, single tokens, and a chunk of two after the prompt.
        for (const chunk of [ids.slice(0, prefix), [ids[4]], ids.slice(5, 7), [ids[7]], [ids[8]]]) {
          stepScope(() => {
            const l = model.forward(tensor(Int32Array.from(chunk), [1, chunk.length], { backend: model.backend }), null, cache).logits.toArraySync();
            cache.length += chunk.length;
            parts.push(...l);
          });
        }
      });
      cache.dispose();
      expect(relError(parts, full), JSON.stringify(design)).toBeLessThanOrEqual(1e-5);
    }
  });

  it('is reproducible from a seed, greedy at temperature 0, and runs past the block size', async () => {
    const model = GPT.create(cfg, { seed: 9 });
    const a = await generate(model, [1, 2, 3], { maxNewTokens: 30, seed: 4 });
    const b = await generate(model, [1, 2, 3], { maxNewTokens: 30, seed: 4 });
    const c = await generate(model, [1, 2, 3], { maxNewTokens: 30, seed: 5 });
    expect(a).toHaveLength(30);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    const streamed: number[] = [];
    const g = await generate(model, [1, 2, 3], { maxNewTokens: 5, temperature: 0, onToken: (id) => streamed.push(id) });
    expect(streamed).toEqual(g);
  });

  it('filters with top-k and top-p', () => {
    const logits = [0, 3, 1, 2.9, -5];
    const rng = new Rng(1);
    const draws = (o: { topK?: number; topP?: number }) => new Set(Array.from({ length: 300 }, () => sampleFromLogits(logits, o, rng)));
    expect(sampleFromLogits(logits, { temperature: 0 }, rng)).toBe(1);
    expect(draws({ topK: 2 })).toEqual(new Set([1, 3]));
    // p(1) ≈ 0.46, p(3) ≈ 0.42: the nucleus at 0.5 holds both, at 0.3 only the most likely.
    expect(draws({ topP: 0.5 })).toEqual(new Set([1, 3]));
    expect(draws({ topP: 0.3 })).toEqual(new Set([1]));
  });
});
