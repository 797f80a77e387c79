// GPT.create({ initialise: false }) for a model whose weights are loaded next (checkpoints, GPT-2 and
// PyTorch imports): every value starts at zero, and once the state is loaded it computes exactly what
// the initialised model given the same state computes; a state missing a tensor is refused, so a
// zero can never be left in use.
import { describe, expect, it } from 'vitest';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { DEFAULT_GPT_CONFIG, GPT } from '../../src/models/gpt.ts';
import { noGrad, tensor } from '../../src/tensor/index.ts';

const config = { ...DEFAULT_GPT_CONFIG, vocabSize: 17, nLayer: 2, nHead: 2, nEmbd: 16, blockSize: 8, norm: 'batchnorm' as const, bias: false };

describe('GPT.create without initialisation', () => {
  it('starts at zero and, given a state, computes what the initialised model computes', async () => {
    const backend = createRefBackend();
    const source = GPT.create(config, { backend, seed: 3 });
    const state = await source.store!.stateDict();
    const blank = GPT.create(config, { backend, initialise: false });
    const zeros = await blank.store!.stateDict();
    for (const [name, t] of zeros) expect(t.data.every((v) => v === 0), name).toBe(true);
    blank.store!.loadStateDict(state, 'the source model');
    const idx = tensor(Int32Array.from({ length: 16 }, (_, i) => (i * 5) % 17), [2, 8], { backend, dtype: 'int32' });
    const logits = (m: GPT) => noGrad(() => m.forward(idx).logits.toArraySync());
    expect(logits(blank)).toEqual(logits(source));
  });

  it('refuses a state that lacks a tensor', async () => {
    const backend = createRefBackend();
    const state = await GPT.create(config, { backend }).store!.stateDict();
    state.delete('h.1.mlp.c_fc.weight');
    expect(() => GPT.create(config, { backend, initialise: false }).store!.loadStateDict(state, 'partial')).toThrow(/lacks tensors the model needs: h\.1\.mlp\.c_fc\.weight/);
  });
});
