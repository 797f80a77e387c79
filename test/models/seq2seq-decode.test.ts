// Decoding with the encoder-decoder: greedy decoding with the encoder run once, cross-attention keys
// and values projected once and a KV cache equals greedy decoding by full forward passes; beam search
// of width 1 is greedy; every hypothesis' log-probability is the model's (a teacher-forced forward)
// and its score that over GNMT's length penalty; decoding leaks no buffer and restores train mode.

import { describe, expect, it } from 'vitest';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { loadWasmKernels } from '../../src/backend/wasm/index.ts';
import type { Backend } from '../../src/backend/backend.ts';
import { Seq2Seq, type Seq2SeqConfig } from '../../src/models/seq2seq.ts';
import { beamSearch, greedyDecode, lengthPenalty } from '../../src/models/seq2seq-decode.ts';
import type { HostTensor } from '../../src/nn/parameter-store.ts';
import { noGrad, Rng, stepScope, tensor } from '../../src/tensor/index.ts';
import { tinySeq2Seq } from './seq2seq-common.ts';

const config: Seq2SeqConfig = { ...tinySeq2Seq, maxTarget: 8, targetVocab: 9 };
const BOS = 0;
const EOS = 1;

/** A model whose weights are far from init (noise on every parameter), so its argmaxes have clear margins. */
async function noisyModel(c: Seq2SeqConfig, backend: Backend, seed: number): Promise<Seq2Seq> {
  const model = Seq2Seq.create(c, { backend, seed });
  const r = new Rng(seed + 1);
  const state = new Map<string, HostTensor>();
  for (const [k, t] of await model.store!.stateDict()) {
    state.set(k, { shape: t.shape, data: /running_/.test(k) ? t.data : Float32Array.from(t.data, (v) => v + 0.3 * r.normal()) });
  }
  model.store!.loadStateDict(state);
  return model;
}

/** Greedy decoding by a full forward pass of the whole prefix at every step. */
function greedyByFullForward(model: Seq2Seq, src: Int32Array, mask: Float32Array, B: number, S: number, maxLen: number): number[][] {
  const V = model.config.targetVocab;
  const out: number[][] = Array.from({ length: B }, () => []);
  model.eval();
  for (let t = 0; t < maxLen; t++) {
    const tgtIn = new Int32Array(B * (t + 1));
    for (let b = 0; b < B; b++) {
      tgtIn[b * (t + 1)] = BOS;
      for (let j = 0; j < t; j++) tgtIn[b * (t + 1) + j + 1] = out[b][j] ?? EOS;
    }
    const logits = noGrad(() => stepScope(() => {
      const be = model.backend;
      return model.forward(tensor(src, [B, S], { backend: be }), tensor(mask, [B, S], { backend: be }), tensor(tgtIn, [B, t + 1], { backend: be })).logits.toArraySync();
    }));
    for (let b = 0; b < B; b++) {
      if (out[b].at(-1) === EOS) continue;
      const row = logits.subarray((b * (t + 1) + t) * V, (b * (t + 1) + t + 1) * V);
      out[b].push(row.indexOf(Math.max(...row)));
    }
  }
  model.train();
  return out;
}

/** log P(tokens | src) by one teacher-forced forward pass, log-softmax in float64 on the host. */
function logProbOf(model: Seq2Seq, src: readonly number[], tokens: readonly number[]): number {
  const V = model.config.targetVocab;
  const T = tokens.length;
  const be = model.backend;
  model.eval();
  const logits = noGrad(() => stepScope(() =>
    model.forward(tensor(Int32Array.from(src), [1, src.length], { backend: be }), tensor(new Float32Array(src.length).fill(1), [1, src.length], { backend: be }),
      tensor(Int32Array.from([BOS, ...tokens.slice(0, -1)]), [1, T], { backend: be })).logits.toArraySync()));
  model.train();
  let total = 0;
  for (let t = 0; t < T; t++) {
    const row = Array.from(logits.subarray(t * V, (t + 1) * V));
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    total += row[tokens[t]] - lse;
  }
  return total;
}

const DESIGNS: Partial<Seq2SeqConfig>[] = [
  {}, { placement: 'post' }, { placement: 'peri' }, { placement: 'mix', mixRatio: 0.5 }, { norm: 'rmsnorm', qkNorm: true },
  { norm: 'batchnorm' }, { residual: 'hyper', hyperStreams: 2 }, { residual: 'value-residual' }, { placement: 'post', residual: 'deepnorm' },
  { placement: 'none', residual: 'rezero' }, { positional: 'sinusoidal', tieTargetEmbedding: false },
];

describe('greedy decoding', () => {
  const backend = createRefBackend();
  // Three sources, two padded; row 2's padding holds ids that would change its result if attended to.
  const B = 3;
  const S = 6;
  const src = Int32Array.from([2, 5, 3, 1, 6, 4, 3, 3, 0, 6, 6, 6, 1, 2, 4, 5, 0, 0]);
  const mask = Float32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 0]);

  it.each(DESIGNS.map((d) => [JSON.stringify(d), d] as const))('cached (encoder once, cross keys/values once, KV cache) = full forward passes: %s', async (_n, d) => {
    const model = await noisyModel({ ...config, ...d }, backend, 21);
    const want = greedyByFullForward(model, src, mask, B, S, 8);
    const live = backend.memoryStats().liveBuffers;
    const got = await greedyDecode(model, src, mask, B, S, { bos: BOS, eos: EOS, maxLen: 8 });
    expect(got).toEqual(want);
    expect(backend.memoryStats().liveBuffers).toBe(live); // encoder memory and caches released
    expect(model.training).toBe(true);
    expect(got.some((g) => g.length > 1)).toBe(true);
  });

  it('stops each sequence at its EOS, which it keeps', async () => {
    const model = await noisyModel(config, backend, 4);
    const all = await greedyDecode(model, src, mask, B, S, { bos: BOS, eos: EOS, maxLen: 8 });
    for (const g of all) {
      expect(g.indexOf(EOS) === -1 || g.indexOf(EOS) === g.length - 1).toBe(true);
      expect(g.length).toBeLessThanOrEqual(8);
    }
  });

  it('refuses options the model cannot decode', async () => {
    const model = Seq2Seq.create(config, { backend });
    await expect(greedyDecode(model, src, mask, B, S, { bos: BOS, eos: 9, maxLen: 4 })).rejects.toThrow(/eos = 9 is not a target token id/);
    await expect(greedyDecode(model, src, mask, B, S, { bos: BOS, eos: EOS, maxLen: 9 })).rejects.toThrow(/maxLen must be an integer in 1 … maxTarget = 8/);
    await expect(beamSearch(model, [1, 2], { bos: BOS, eos: EOS, maxLen: 4, beamWidth: 0 })).rejects.toThrow(/beamWidth/);
  });
});

describe('beam search', () => {
  const backend = createRefBackend();
  const sources = [[2, 5, 3, 1, 6, 4], [3, 3, 0], [1, 2, 4, 5, 0]];

  it.each(DESIGNS.slice(0, 8).map((d) => [JSON.stringify(d), d] as const))('width 1 is greedy decoding: %s', async (_n, d) => {
    const model = await noisyModel({ ...config, ...d }, backend, 21);
    for (const s of sources) {
      const [greedy] = await greedyDecode(model, Int32Array.from(s), new Float32Array(s.length).fill(1), 1, s.length, { bos: BOS, eos: EOS, maxLen: 8 });
      const beams = await beamSearch(model, s, { bos: BOS, eos: EOS, maxLen: 8, beamWidth: 1 });
      expect(beams).toHaveLength(1);
      expect(beams[0].tokens).toEqual(greedy);
    }
  });

  it.each([0, 0.6, 1.2])('every hypothesis: logProb is the model’s log-probability of its tokens, score = logProb / ((5 + |Y|)/6)^α (α = %s)', async (alpha) => {
    const model = await noisyModel(config, backend, 33);
    for (const s of sources) {
      const live = backend.memoryStats().liveBuffers;
      const beams = await beamSearch(model, s, { bos: BOS, eos: EOS, maxLen: 6, beamWidth: 4, lengthPenalty: alpha });
      expect(backend.memoryStats().liveBuffers).toBe(live);
      expect(beams).toHaveLength(4);
      expect(new Set(beams.map((b) => b.tokens.join(','))).size).toBe(4);
      for (let i = 0; i < beams.length; i++) {
        const h = beams[i];
        expect(h.logProb).toBeCloseTo(logProbOf(model, s, h.tokens), 4);
        expect(h.score).toBeCloseTo(h.logProb / lengthPenalty(h.tokens.length, alpha), 12);
        expect(h.finished).toBe(h.tokens.at(-1) === EOS);
        if (!h.finished) expect(h.tokens).toHaveLength(6);
        if (i > 0) expect(h.score).toBeLessThanOrEqual(beams[i - 1].score);
      }
    }
  });

  it('with a beam as wide as every sequence of length 2, finds the most probable one exactly', async () => {
    const V = 4;
    const c = { ...config, targetVocab: V, maxTarget: 2 };
    const model = await noisyModel(c, backend, 8);
    const s = [2, 5, 3];
    // Every length-2 sequence, or length-1 ending in EOS; the best by log-probability (α = 0).
    const all = [[EOS], ...[0, 2, 3].flatMap((a) => Array.from({ length: V }, (_, b) => [a, b]))];
    const best = all.map((t) => ({ t, lp: logProbOf(model, s, t) })).sort((a, b) => b.lp - a.lp)[0];
    const [top] = await beamSearch(model, s, { bos: BOS, eos: EOS, maxLen: 2, beamWidth: all.length, lengthPenalty: 0 });
    expect(top.tokens).toEqual(best.t);
    expect(top.logProb).toBeCloseTo(best.lp, 4);
  });

  it('decodes on the wasm backend as on the reference one', async () => {
    const wasm = (await loadWasmKernels()).createBackend();
    const ref = await noisyModel(config, backend, 21);
    const onWasm = Seq2Seq.create(config, { backend: wasm });
    onWasm.store!.loadStateDict(await ref.store!.stateDict());
    const o = { bos: BOS, eos: EOS, maxLen: 8, beamWidth: 3 };
    const [a, b] = [await beamSearch(ref, sources[0], o), await beamSearch(onWasm, sources[0], o)];
    expect(b.map((h) => h.tokens)).toEqual(a.map((h) => h.tokens));
    for (let i = 0; i < a.length; i++) expect(b[i].logProb).toBeCloseTo(a[i].logProb, 4);
  });
});
