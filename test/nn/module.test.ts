// Modules: GPT-2 parameter names, flat storage with decayed tensors first, tying, state dicts.

import { describe, expect, it } from 'vitest';
import { DEFAULT_GPT_CONFIG, GPT } from '../../src/models/gpt.ts';
import { StateDictError } from '../../src/nn/parameter-store.ts';

const cfg = { ...DEFAULT_GPT_CONFIG, vocabSize: 10, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8 };

describe('Module and ParameterStore', () => {
  it('names parameters as GPT-2 does and counts them', () => {
    const m = GPT.create(cfg);
    const names = m.uniqueParameters().map(([n]) => n);
    expect(names.slice(0, 4)).toEqual(['wte.weight', 'wpe.weight', 'h.0.ln_1.weight', 'h.0.ln_1.bias']);
    expect(names).toContain('h.1.attn.c_attn.weight');
    expect(names).toContain('h.1.mlp.c_proj.bias');
    expect(names).toContain('ln_f.weight');
    expect(names).not.toContain('lm_head.weight'); // tied to wte
    const C = 8;
    const perBlock = 2 * 2 * C + (3 * C * C + 3 * C) + (C * C + C) + (4 * C * C + 4 * C) + (4 * C * C + C);
    expect(m.numParameters()).toBe(10 * C + 8 * C + 2 * perBlock + 2 * C);
    expect(GPT.create({ ...cfg, tieWeights: false, placement: 'post', positional: 'sinusoidal' }).uniqueParameters().map(([n]) => n)).toEqual(
      expect.arrayContaining(['lm_head.weight']),
    );
  });

  it('lays out weight-decayed (≥ 2-D) tensors first in the flat buffer', () => {
    const store = GPT.create(cfg).store!;
    const firstNoDecay = store.entries.findIndex((e) => !e.param.decay);
    expect(store.entries.slice(0, firstNoDecay).every((e) => e.param.shape.length >= 2)).toBe(true);
    expect(store.entries.slice(firstNoDecay).every((e) => e.param.shape.length < 2)).toBe(true);
    expect(store.decaySize).toBe(store.entries.slice(0, firstNoDecay).reduce((n, e) => n + e.size, 0));
  });

  it('round-trips a state dict and refuses missing, extra or misshapen tensors without changing the model', async () => {
    const a = GPT.create(cfg, { seed: 1 });
    const b = GPT.create(cfg, { seed: 2 });
    const state = await a.store!.stateDict();
    b.store!.loadStateDict(state);
    expect(Array.from(await b.backend.read(b.store!.data))).toEqual(Array.from(await a.backend.read(a.store!.data)));

    const before = Array.from(await b.backend.read(b.store!.data));
    const missing = new Map(state);
    missing.delete('ln_f.bias');
    expect(() => b.store!.loadStateDict(missing)).toThrow(/lacks tensors the model needs: ln_f.bias/);
    const extra = new Map(state).set('h.9.mlp.c_fc.weight', state.get('wte.weight')!);
    expect(() => b.store!.loadStateDict(extra)).toThrow(/tensors the model does not: h.9.mlp.c_fc.weight/);
    const bad = new Map(state).set('wte.weight', { shape: [10, 9], data: new Float32Array(90) });
    expect(() => b.store!.loadStateDict(bad, 'ckpt')).toThrow(StateDictError);
    expect(() => b.store!.loadStateDict(bad, 'ckpt')).toThrow(/ckpt: 'wte.weight' has shape \[10, 9\] but the model expects \[10, 8\]/);
    expect(Array.from(await b.backend.read(b.store!.data))).toEqual(before);
  });

  it('switches train and eval mode through the whole tree', () => {
    const m = GPT.create(cfg).eval();
    expect(m.h.items[1].attn.c_attn.training).toBe(false);
    m.train();
    expect(m.h.items[1].mlp.training).toBe(true);
  });

  it('inEvalMode runs in evaluation mode and restores the mode it found, also when the pass throws', async () => {
    const m = GPT.create({ ...DEFAULT_GPT_CONFIG, vocabSize: 5, nLayer: 1, nHead: 1, nEmbd: 4, blockSize: 4 });
    expect(await m.inEvalMode(() => m.h.items[0].mlp.training)).toBe(false);
    expect(m.h.items[0].mlp.training).toBe(true);
    await expect(m.inEvalMode(async () => {
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect(m.training).toBe(true);
    m.eval();
    await m.inEvalMode(() => 0);
    expect(m.training).toBe(false); // it restores, it does not switch training on
  });
});
