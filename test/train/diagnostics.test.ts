// Diagnostics (src/train/diagnostics): the records of a replayed (captured) step equal an eager
// step's; turning them on changes no weight; every statistic equals an independent float64
// computation on the host from the tapped tensors and the parameter buffers; the taps sit where the
// records say (the stream leaving block i enters block i + 1); uniform attention has the analytic
// entropy; spikes are flagged at the step they happen and not on steady noise.

import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.ts';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { CharTokenizer } from '../../src/data/char-tokenizer.ts';
import { splitTrainVal } from '../../src/data/corpus.ts';
import { GPT } from '../../src/models/gpt.ts';
import type { Module } from '../../src/nn/module.ts';
import { withTaps, type TapSink } from '../../src/nn/taps.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { stepScope } from '../../src/tensor/arena.ts';
import { tensor, type Tensor } from '../../src/tensor/tensor.ts';
import { ActivationProbe } from '../../src/train/diagnostics/activation-probe.ts';
import type { DiagnosticsRecord, StepRecord } from '../../src/train/diagnostics/diagnostics.ts';
import { layerOf } from '../../src/train/diagnostics/param-stats.ts';
import { SpikeDetector } from '../../src/train/diagnostics/spikes.ts';
import { modelConfigOf, parseTrainConfig, type TrainConfig } from '../../src/train/config.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { BACKENDS } from '../helpers/backends.ts';

const text = 'the quick brown fox jumps over the lazy dog; '.repeat(60);
const tok = CharTokenizer.fromText(text);
const data = splitTrainVal(Int32Array.from(tok.encode(text)));
const base = { blockSize: 12, nLayer: 2, nHead: 2, nEmbd: 16, batchSize: 4, maxIters: 8, warmupIters: 2, lr: 1e-2, evalInterval: 4, evalIters: 1, diagInterval: 1, seed: 3 };

async function train(be: Backend, over: Record<string, unknown>, capture = true): Promise<{ records: DiagnosticsRecord[]; weights: Float32Array; trainer: Trainer }> {
  const config = parseTrainConfig({ ...base, ...over });
  const model = GPT.create(modelConfigOf(config, tok.vocabSize), { backend: be, seed: 5 });
  const trainer = new Trainer(model, config, data, { capture, decodeToken: (id) => tok.decode([id]) });
  const records: DiagnosticsRecord[] = [];
  await trainer.run(config.maxIters, { onDiagnostics: (r) => void records.push(...r) });
  const weights = Float32Array.from(await be.read(model.store!.data));
  return { records, weights, trainer };
}

const withoutClock = (rs: DiagnosticsRecord[]) => rs.map((r) => ({ ...r, wallTime: 0 }));

describe('diagnostics records', () => {
  const wasm = BACKENDS.find((b) => b.name.startsWith('wasm') && !b.name.includes('threads'))!;

  it('of replayed (captured) steps equal those of eager steps, and the steps stay captured', async () => {
    const captured = await train(wasm.make(), {});
    const eager = await train(wasm.make(), {}, false);
    expect(captured.trainer.stepper.describe()).toMatch(/^captured once, then replayed/);
    expect(eager.trainer.stepper.describe()).toMatch(/^eager/);
    expect(withoutClock(captured.records)).toEqual(withoutClock(eager.records));
    expect(captured.weights).toEqual(eager.weights);
    const kinds = captured.records.map((r) => r.kind);
    expect(kinds.filter((k) => k === 'step')).toHaveLength(8);
    expect(kinds.filter((k) => k === 'attention')).toHaveLength(2); // evaluations at steps 4 and 8
    expect(kinds[0]).toBe('probe');
  });

  for (const [name, make, over] of [
    ['wasm, captured', wasm.make, {}],
    ['ref, with dropout (eager steps, random masks)', createRefBackend, { dropout: 0.2 }],
  ] as const) {
    it(`change no weight when on (${name})`, async () => {
      const on = await train(make(), over);
      const off = await train(make(), { ...over, diagInterval: 0 });
      expect(off.records).toEqual([]);
      expect(on.records.length).toBeGreaterThan(8);
      expect(on.weights).toEqual(off.weights);
    });
  }

  it('name every parameter, layer, block, sub-layer, norm and attention layer in model order', async () => {
    const { records } = await train(createRefBackend(), { maxIters: 1 });
    const step = records.find((r): r is StepRecord => r.kind === 'step')!;
    expect(step.layers.map((l) => l.name)).toEqual(['wte', 'wpe', 'h.0', 'h.1', 'ln_f']);
    expect(step.blocks.map((b) => b.name)).toEqual(['h.0', 'h.1']);
    expect(step.sublayers.map((s) => s.name)).toEqual(['h.0.attn', 'h.0.mlp', 'h.1.attn', 'h.1.mlp']);
    expect(step.norms.map((n) => n.name)).toEqual(['h.0.ln_1', 'h.0.ln_2', 'h.1.ln_1', 'h.1.ln_2', 'ln_f']);
    expect(step.attention.map((a) => a.name)).toEqual(['h.0.attn', 'h.1.attn']);
    expect(step.attention[0].entropy).toHaveLength(2);
  });
});

describe('layerOf', () => {
  it('groups a parameter by its path up to the first index, else its first component', () => {
    expect(layerOf('h.3.attn.c_attn.weight')).toBe('h.3');
    expect(layerOf('encoder.layers.2.ffn.weight')).toBe('encoder.layers.2');
    expect(layerOf('wte.weight')).toBe('wte');
    expect(layerOf('ln_f.bias')).toBe('ln_f');
  });
});

/** Host copies of every tapped tensor, for an independent float64 computation of the statistics. */
class HostSink implements TapSink {
  readonly taps: { kind: string; module: Module; tensors: Float32Array[]; shape?: readonly number[]; nHead?: number }[] = [];
  private copy = (t: Tensor) => Float32Array.from(t.toArraySync());
  norm(m: Module, x: Tensor, y: Tensor, g: Tensor | null) {
    this.taps.push({ kind: 'norm', module: m, tensors: [x, y, ...(g ? [g] : [])].map(this.copy) });
  }
  residual(m: Module, s: Tensor, u: Tensor) {
    this.taps.push({ kind: 'residual', module: m, tensors: [s, u].map(this.copy) });
  }
  block(m: Module, x: Tensor, y: Tensor) {
    this.taps.push({ kind: 'block', module: m, tensors: [x, y].map(this.copy) });
  }
  attention(m: Module, qkv: Tensor, nHead: number) {
    this.taps.push({ kind: 'attention', module: m, tensors: [this.copy(qkv)], shape: qkv.shape, nHead });
  }
}

const rms = (a: Float32Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
const meanOf = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;

/** Causal attention entropy per head, from the packed projection, in float64. */
function hostEntropy(qkv: Float32Array, [B, T, C3]: readonly number[], H: number): number[] {
  const C = C3 / 3;
  const D = C / H;
  return Array.from({ length: H }, (_, h) => {
    let total = 0;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const s = Array.from({ length: t + 1 }, (_, j) => {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += qkv[(b * T + t) * C3 + h * D + d] * qkv[(b * T + j) * C3 + C + h * D + d];
          return dot / Math.sqrt(D);
        });
        const m = Math.max(...s);
        const z = s.reduce((a, v) => a + Math.exp(v - m), 0);
        total -= s.reduce((a, v) => a + (Math.exp(v - m) / z) * (v - m - Math.log(z)), 0);
      }
    }
    return total / (B * T);
  });
}

function probeBoth(model: GPT, ids: Int32Array, B: number, T: number) {
  const forward = () => model.forward(tensor(ids, [B, T], { backend: model.backend, dtype: 'int32' }));
  const probe = new ActivationProbe(model, 0);
  const values = stepScope(() => noGrad(() => withTaps(probe, () => (forward(), Float32Array.from(probe.collected().toArraySync())))));
  const host = new HostSink();
  stepScope(() => noGrad(() => withTaps(host, forward)));
  return { stats: probe.decode(values).stats, host };
}

describe('activation statistics of the probe pass', () => {
  for (const placement of ['pre', 'post'] as const) {
    it(`equal a float64 computation on the tapped tensors, and the taps are where they say (${placement}-LN)`, () => {
      const config = parseTrainConfig({ ...base, placement });
      const model = GPT.create(modelConfigOf(config, tok.vocabSize), { backend: createRefBackend(), seed: 9 }).eval();
      const [B, T] = [3, 12];
      const { stats, host } = probeBoth(model, data.val.slice(0, B * T), B, T);
      const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(b)));
      const of = (kind: string) => host.taps.filter((t) => t.kind === kind);
      of('block').forEach((t, i) => {
        close(stats.blocks[i].rmsIn, rms(t.tensors[0]));
        close(stats.blocks[i].rmsOut, rms(t.tensors[1]));
      });
      of('residual').forEach((t, i) => {
        close(stats.sublayers[i].rmsIn, rms(t.tensors[0]));
        close(stats.sublayers[i].rmsUpdate, rms(t.tensors[1]));
        close(stats.sublayers[i].ratio, rms(t.tensors[1]) / rms(t.tensors[0]));
      });
      of('norm').forEach((t, i) => {
        const [x, y, g] = t.tensors;
        const m = meanOf(x);
        close(stats.norms[i].inMean, m);
        close(stats.norms[i].inStd, Math.sqrt(meanOf(x.map((v) => (v - m) ** 2))));
        close(stats.norms[i].outRms, rms(y));
        close(stats.norms[i].gainMean!, meanOf(g));
        expect(stats.norms[i].gainMin).toBe(Math.min(...g));
        expect(stats.norms[i].gainMax).toBe(Math.max(...g));
      });
      of('attention').forEach((t, i) => hostEntropy(t.tensors[0], t.shape!, t.nHead!).forEach((e, h) => close(stats.attention[i].entropy[h], e)));
      // The stream leaving a block is the one entering the next.
      expect(stats.blocks[1].rmsIn).toBe(stats.blocks[0].rmsOut);
      // Pre-LN adds the attention branch to the block's input itself; post-LN too (before its norm).
      expect(stats.sublayers[0].rmsIn).toBe(stats.blocks[0].rmsIn);
      if (placement === 'pre') expect(stats.norms[0].inStd ** 2 + stats.norms[0].inMean ** 2).toBeCloseTo(stats.blocks[0].rmsIn ** 2, 6);
      if (placement === 'post') expect(stats.norms[1].outRms).toBe(stats.blocks[0].rmsOut); // ln_2 is the block's last op
    });
  }

  it('free each tap\'s temporaries at once: the pass peaks within one layer\'s T×T scores of the plain forward, not one set per layer', () => {
    const [B, T, nLayer, nHead] = [4, 48, 6, 2];
    const config = parseTrainConfig({ ...base, blockSize: T, nLayer, nHead, nEmbd: 8 });
    const ids = Int32Array.from({ length: B * T }, (_, i) => data.val[i % data.val.length]);
    const peakOf = (taps: boolean): number => {
      const be = createRefBackend();
      const model = GPT.create(modelConfigOf(config, tok.vocabSize), { backend: be, seed: 9 }).eval();
      const before = be.memoryStats().liveBytes;
      const forward = () => model.forward(tensor(ids, [B, T], { backend: be, dtype: 'int32' }));
      const probe = new ActivationProbe(model, 0);
      // The baseline watches with a sink that takes nothing: a watched forward keeps every block's
      // activations (the per-block scopes of an unwatched one are off), so only the taps' own work differs.
      const idle: TapSink = { norm() {}, residual() {}, block() {}, attention() {} };
      stepScope(() => noGrad(() => (taps ? withTaps(probe, () => (forward(), probe.collected())) : withTaps(idle, forward))));
      return be.memoryStats().peakBytes - before;
    };
    const scores = B * nHead * T * T * 4; // one layer's (B, H, T, T) float32 matrix
    const extra = peakOf(true) - peakOf(false);
    // A layer's tap holds about six such matrices (scores, masked scores, p, log p, p·log p, a sum) while it
    // runs; held to the pass's end, the six layers' would be ~36 above the plain forward.
    expect(extra).toBeGreaterThan(0);
    expect(extra).toBeLessThan(8 * scores);
  });

  it('give uniform attention its analytic entropy, mean over t of log(t + 1)', () => {
    const config = parseTrainConfig(base);
    const model = GPT.create(modelConfigOf(config, tok.vocabSize), { backend: createRefBackend(), seed: 9 }).eval();
    for (const [name] of model.namedParameters()) {
      if (name.endsWith('attn.c_attn.weight') || name.endsWith('attn.c_attn.bias')) model.backend.fill(model.store!.tensorOf(name).storage, 0); // q = k = 0
    }
    const T = 12;
    const { stats } = probeBoth(model, data.val.slice(0, 2 * T), 2, T);
    const expected = Array.from({ length: T }, (_, t) => Math.log(t + 1)).reduce((a, b) => a + b) / T;
    for (const a of stats.attention) for (const e of a.entropy) expect(e).toBeCloseTo(expected, 5);
  });
});

describe('parameter statistics', () => {
  it('equal ‖g‖ before clipping, ‖θ‖ after the update and ‖Δθ‖/‖θ‖, computed on the host', async () => {
    const be = createRefBackend();
    const config: TrainConfig = parseTrainConfig({ ...base, gradClip: 0.5, maxIters: 3 });
    const model = GPT.create(modelConfigOf(config, tok.vocabSize), { backend: be, seed: 5 });
    const trainer = new Trainer(model, config, data);
    await trainer.run(2, {}); // past the first step, so AdamW's moments are not zero
    const store = model.store!;
    const before = Float32Array.from(await be.read(store.data));
    const { diagnostics } = await trainer.trainStep({ diagnose: true });
    const step = diagnostics.find((r): r is StepRecord => r.kind === 'step')!;
    const after = Float32Array.from(await be.read(store.data));
    const grads = Float32Array.from(await be.read(store.grad)); // clipped in place: the pre-clip norm is ‖g‖ / coef
    const coef = Math.min(1, config.gradClip / (step.gradNorm + 1e-6));
    store.entries.forEach((e, i) => {
      const seg = (a: Float32Array) => a.subarray(e.offset, e.offset + e.size);
      const norm = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0));
      const delta = seg(after).map((v, j) => v - seg(before)[j]);
      const p = step.params[i];
      expect(p.name).toBe(e.name);
      expect(p.gradNorm).toBeCloseTo(norm(seg(grads)) / coef, 4);
      expect(p.norm).toBeCloseTo(norm(seg(after)), 4);
      expect(p.updateRatio / (norm(delta) / norm(seg(after)))).toBeCloseTo(1, 4);
    });
    const total = Math.sqrt(step.params.reduce((s, p) => s + p.gradNorm ** 2, 0));
    expect(total / step.gradNorm).toBeCloseTo(1, 4);
  });
});

describe('SpikeDetector', () => {
  /** A steady noisy loss falling slowly, seeded. */
  const noisy = (n: number) => {
    let s = 7;
    return Array.from({ length: n }, (_, i) => {
      s = (s * 1103515245 + 12345) % 2 ** 31;
      return 3 - i * 0.002 + (s / 2 ** 31 - 0.5) * 0.1;
    });
  };

  it('flags nothing on steady noise', () => {
    const d = new SpikeDetector();
    const spikes = noisy(500).flatMap((v, i) => d.observe(i + 1, v, 1 + (v - 3) * 0.5));
    expect(spikes).toEqual([]);
  });

  it('flags a loss spike and a gradient-norm spike at their steps, and the baseline recovers', () => {
    const d = new SpikeDetector();
    const losses = noisy(200);
    losses[120] *= 2;
    const grads = losses.map(() => 1);
    grads[150] = 10;
    const spikes = losses.flatMap((v, i) => d.observe(i + 1, v, grads[i]));
    expect(spikes.map((s) => [s.metric, s.step])).toEqual([
      ['loss', 121],
      ['gradNorm', 151],
    ]);
    expect(spikes[0].value).toBeGreaterThan(spikes[0].threshold);
    expect(spikes[0].baseline).toBeGreaterThan(2.5);
  });

  it('only warms up during the first 20 steps', () => {
    const d = new SpikeDetector();
    expect([1, 1, 50, 1].flatMap((v, i) => d.observe(i + 1, v, v))).toEqual([]);
  });
});
