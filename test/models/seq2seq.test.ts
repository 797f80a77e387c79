// The encoder-decoder Transformer: its config, parameter names, every design of docs/designs.md built
// in both stacks (forward and backward finite), the source mask and the decoder's causality, the
// label-smoothed loss against a host computation, DeepNorm's encoder-decoder constants and Admin's
// two-stack profile, and captured training steps on wasm bit-identical to eager ones with a new
// padding in every batch. Decoding is in seq2seq-decode.test.ts, finite differences in
// seq2seq-gradcheck.test.ts, PyTorch parity in seq2seq-parity.test.ts.

import { describe, expect, it } from 'vitest';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { loadWasmKernels } from '../../src/backend/wasm/index.ts';
import { profileSeq2SeqAdmin } from '../../src/models/admin.ts';
import { Seq2Seq, seq2seqBatch, seq2seqLoss, type Seq2SeqConfig } from '../../src/models/seq2seq.ts';
import { checkSeq2SeqConfig, Seq2SeqConfigSchema } from '../../src/models/seq2seq-config.ts';
import { labelSmoothedCrossEntropy } from '../../src/models/seq2seq-loss.ts';
import { deepNormEncoderDecoderConstants, designProblem, PLACEMENTS, RESIDUALS, sublayerDesign } from '../../src/nn/design.ts';
import { NORM_KINDS } from '../../src/nn/norm.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { optimizationStepOn, TrainStep } from '../../src/train/step.ts';
import { backward, noGrad, Rng, stepScope, tensor } from '../../src/tensor/index.ts';
import { DESIGN_SAMPLES } from '../helpers/designs.ts';
import { randomBatch, tinySeq2Seq, type Batch } from './seq2seq-common.ts';

function tensorsOf(model: Seq2Seq, b: Batch) {
  const backend = model.backend;
  const dtype = model.store!.data.dtype === 'float64' ? 'float64' : 'float32';
  return {
    src: tensor(b.src, [b.B, b.S], { backend }),
    srcMask: tensor(b.srcMask, [b.B, b.S], { backend, dtype }),
    tgtIn: tensor(b.tgtIn, [b.B, b.T], { backend }),
    tgtOut: tensor(b.tgtOut, [b.B, b.T], { backend }),
  };
}

const names = (c: Partial<Seq2SeqConfig>) => Seq2Seq.create({ ...tinySeq2Seq, ...c }, { backend: createRefBackend() }).store!.entries.map((e) => e.name);

describe('seq2seq config', () => {
  it('has the defaults of the brief and the GPT’s design fields', () => {
    const c = Seq2SeqConfigSchema.parse({ sourceVocab: 10, targetVocab: 12 });
    expect(c).toMatchObject({ encoderLayers: 6, decoderLayers: 6, tieTargetEmbedding: true, shareEmbeddings: false, labelSmoothing: 0.1, placement: 'pre', residual: 'plain', norm: 'layernorm' });
  });

  it('refuses what no model can be, naming the field', () => {
    expect(() => checkSeq2SeqConfig({ ...tinySeq2Seq, shareEmbeddings: true })).toThrow(/shareEmbeddings.*sourceVocab = 7 and targetVocab = 9/);
    expect(() => checkSeq2SeqConfig({ ...tinySeq2Seq, nHead: 3 })).toThrow(/nHead.*not divisible/);
    expect(() => checkSeq2SeqConfig({ ...tinySeq2Seq, residual: 'deepnorm' })).toThrow(/residual.*needs --placement post/);
    expect(() => checkSeq2SeqConfig({ ...tinySeq2Seq, labelSmoothing: 1 })).toThrow(/labelSmoothing/);
    expect(() => Seq2SeqConfigSchema.parse({ sourceVocab: 3, targetVocab: 3, nLayer: 2 })).toThrow(/nLayer/);
  });
});

describe('seq2seq parameter names', () => {
  const layer = (stack: string, parts: string[]) => parts.flatMap((p) => [`${stack}.h.0.${p}.weight`, `${stack}.h.0.${p}.bias`]);
  const enc = layer('encoder', ['ln_1', 'attn.c_attn', 'attn.c_proj', 'ln_2', 'mlp.c_fc', 'mlp.c_proj']);
  const dec = layer('decoder', ['ln_1', 'attn.c_attn', 'attn.c_proj', 'ln_2', 'cross.c_q', 'cross.c_kv', 'cross.c_proj', 'ln_3', 'mlp.c_fc', 'mlp.c_proj']);
  const layer0 = (n: string[]) => n.filter((x) => !/\.h\.[1-9]/.test(x));

  it('are the GPT’s under encoder. and decoder., with cross-attention and ln_3 in the decoder', () => {
    const finals = ['encoder.ln_f.weight', 'encoder.ln_f.bias', 'decoder.ln_f.weight', 'decoder.ln_f.bias'];
    expect(layer0(names({})).sort()).toEqual(['encoder.wte.weight', 'encoder.wpe.weight', ...enc, ...finals, 'decoder.wte.weight', 'decoder.wpe.weight', ...dec].sort());
    expect(layer0(names({ placement: 'post', positional: 'sinusoidal' })).sort()).toEqual(['encoder.wte.weight', ...enc, 'decoder.wte.weight', ...dec].sort());
  });

  it('tie the head to the decoder embedding, or to the one shared embedding, or give it its own', () => {
    expect(names({ tieTargetEmbedding: false })).toContain('lm_head.weight');
    const shared = Seq2Seq.create({ ...tinySeq2Seq, targetVocab: 7, shareEmbeddings: true }, { backend: createRefBackend() });
    const n = shared.store!.entries.map((e) => e.name);
    expect(n).toContain('encoder.wte.weight');
    expect(n.filter((x) => x.endsWith('wte.weight') || x.startsWith('lm_head'))).toEqual(['encoder.wte.weight']);
    expect(shared.headWeight).toBe(shared.encoder.wte.weight);
  });

  it('give each rule its parameters per sub-layer, three in a decoder layer', () => {
    expect(names({ placement: 'none', residual: 'rezero' })).toEqual(expect.arrayContaining(['encoder.h.1.alpha_2', 'decoder.h.1.alpha_3']));
    expect(names({ placement: 'post', residual: 'admin' })).toEqual(expect.arrayContaining(['encoder.h.0.omega_2', 'decoder.h.0.omega_3']));
    expect(names({ residual: 'hyper' })).toEqual(expect.arrayContaining(['decoder.h.1.hc_3.static_alpha', 'encoder.h.1.hc_2.norm.weight']));
    expect(names({ placement: 'peri' })).toEqual(expect.arrayContaining(['encoder.ln_e.weight', 'decoder.ln_e.weight', 'decoder.h.0.ln_2_out.weight', 'decoder.h.0.ln_3_out.bias']));
    expect(names({ qkNorm: true })).toEqual(expect.arrayContaining(['encoder.h.0.attn.q_norm.weight', 'decoder.h.0.cross.q_norm.weight', 'decoder.h.0.cross.k_norm.bias']));
    expect(names({ residual: 'value-residual' }).filter((x) => x.includes('lambda_v'))).toEqual(['encoder.h.1.attn.lambda_v', 'decoder.h.1.attn.lambda_v']);
  });

  it('index the hyper-connections by the sub-layer’s place in its own stack: 2i + k − 1, 3i + k − 1', async () => {
    const m = Seq2Seq.create({ ...tinySeq2Seq, residual: 'hyper', hyperStreams: 4 }, { backend: createRefBackend() });
    const column0 = (name: string) => {
      const a = m.store!.tensorOf(name).toArraySync();
      return Array.from({ length: 4 }, (_, s) => a[s * 5]).indexOf(1);
    };
    expect([column0('encoder.h.1.hc_1.static_alpha'), column0('encoder.h.1.hc_2.static_alpha')]).toEqual([2, 3]);
    expect([column0('decoder.h.1.hc_1.static_alpha'), column0('decoder.h.1.hc_2.static_alpha'), column0('decoder.h.1.hc_3.static_alpha')]).toEqual([3, 0, 1]);
    expect(sublayerDesign({ ...tinySeq2Seq, nLayer: 2, residual: 'hyper' }, 1, 2, 3).rule).toEqual({ kind: 'hyper', streams: 4, index: 5 });
    expect(() => sublayerDesign({ ...tinySeq2Seq, nLayer: 2 }, 0, 2)).toThrow(/sub-layer 2 does not exist/);
  });
});

const ALL = NORM_KINDS.flatMap((norm) => PLACEMENTS.flatMap((placement) => RESIDUALS.map((residual) => ({ ...tinySeq2Seq, norm, placement, residual }))));

describe('every design in both stacks', () => {
  it('builds every accepted combination; loss and gradients are finite, every parameter gets a gradient path', () => {
    const be = createRefBackend();
    const accepted = ALL.filter((c) => designProblem({ ...c, nLayer: c.encoderLayers }) === null);
    expect(accepted.length).toBe(143);
    const batch = randomBatch(tinySeq2Seq, 3, 6, 5, 1);
    for (const c of accepted) {
      const model = Seq2Seq.create(c, { backend: be, seed: 3 });
      stepScope(() => {
        const t = tensorsOf(model, batch);
        const { loss } = model.forward(t.src, t.srcMask, t.tgtIn, t.tgtOut);
        model.store!.zeroGrad();
        backward(loss!);
        const grad = be.readSync!(model.store!.grad);
        expect(Number.isFinite(loss!.item()), JSON.stringify(c)).toBe(true);
        expect(grad.every(Number.isFinite), JSON.stringify(c)).toBe(true);
      });
      model.store!.release();
    }
  });
});

describe('masks', () => {
  const be = createRefBackend();
  const logitsOf = (model: Seq2Seq, b: Batch) =>
    noGrad(() => stepScope(() => {
      const t = tensorsOf(model, b);
      return model.forward(t.src, t.srcMask, t.tgtIn).logits.toArraySync();
    }));

  it.each([{}, { placement: 'post' as const }, { qkNorm: true }, { residual: 'hyper' as const, hyperStreams: 2 }])('padded source positions change nothing: %j', (d) => {
    const model = Seq2Seq.create({ ...tinySeq2Seq, ...d }, { backend: be, seed: 5 });
    const short = { src: Int32Array.from([3, 1, 4]), srcMask: new Float32Array(3).fill(1), tgtIn: Int32Array.from([2, 7, 1, 8]), tgtOut: new Int32Array(4), B: 1, S: 3, T: 4 };
    const padded = (fill: number) => ({ ...short, src: Int32Array.from([3, 1, 4, fill, fill, fill]), srcMask: Float32Array.from([1, 1, 1, 0, 0, 0]), S: 6 });
    const want = logitsOf(model, short);
    const got = logitsOf(model, padded(5));
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 5);
    expect(logitsOf(model, padded(2))).toEqual(got);
  });

  it('the decoder is causal: a later target input changes no earlier position', () => {
    const model = Seq2Seq.create(tinySeq2Seq, { backend: be, seed: 5 });
    const b = randomBatch(tinySeq2Seq, 2, 6, 5, 3);
    const a = logitsOf(model, b);
    const changed = { ...b, tgtIn: Int32Array.from(b.tgtIn, (v, i) => (i % 5 === 4 ? (v + 1) % 9 : v)) };
    const c = logitsOf(model, changed);
    const V = 9;
    for (let row = 0; row < 2; row++) {
      expect(c.slice(row * 5 * V, (row * 5 + 4) * V)).toEqual(a.slice(row * 5 * V, (row * 5 + 4) * V));
      expect(c.slice((row * 5 + 4) * V, (row * 5 + 5) * V)).not.toEqual(a.slice((row * 5 + 4) * V, (row * 5 + 5) * V));
    }
  });
});

describe('label-smoothed cross-entropy', () => {
  const be = createRefBackend();
  const N = 6;
  const V = 5;
  const r = new Rng(4);
  const logits = Float64Array.from({ length: N * V }, () => 2 * r.normal());
  const targets = Int32Array.from([0, 4, -100, 2, -100, 3]);
  /** torch.nn.CrossEntropyLoss(label_smoothing=ε, ignore_index=−100), in float64 on the host. */
  const reference = (eps: number) => {
    let total = 0;
    let count = 0;
    for (let n = 0; n < N; n++) {
      if (targets[n] === -100) continue;
      const row = logits.subarray(n * V, (n + 1) * V);
      const lse = Math.log(row.reduce((s, x) => s + Math.exp(x), 0));
      const logp = Array.from(row, (x) => x - lse);
      total += (1 - eps) * -logp[targets[n]] + eps * -logp.reduce((s, x) => s + x, 0) / V;
      count++;
    }
    return total / count;
  };

  it.each([0, 0.1, 0.3])('ε = %s equals torch’s formula, ignoring −100', (eps) => {
    const got = stepScope(() => labelSmoothedCrossEntropy(tensor(logits, [2, 3, V], { backend: be }), tensor(targets, [2, 3], { backend: be }), eps).item());
    expect(got).toBeCloseTo(reference(eps), 12);
  });

  it('gradients: (1−ε)·(p − onehot) + ε·(p − 1/V), over the counted rows', () => {
    const eps = 0.1;
    const x = tensor(logits, [N, V], { backend: be, requiresGrad: true });
    const g = stepScope(() => {
      backward(labelSmoothedCrossEntropy(x, tensor(targets, [N], { backend: be }), eps));
      return x.grad!.toArraySync();
    });
    for (let n = 0; n < N; n++) {
      const row = logits.subarray(n * V, (n + 1) * V);
      const z = row.reduce((s, v) => s + Math.exp(v), 0);
      for (let v = 0; v < V; v++) {
        const want = targets[n] === -100 ? 0 : (Math.exp(row[v]) / z - (1 - eps) * (v === targets[n] ? 1 : 0) - eps / V) / 4;
        expect(g[n * V + v]).toBeCloseTo(want, 12);
      }
    }
  });

  it('is 0 when every target is ignored', () => {
    const none = stepScope(() => labelSmoothedCrossEntropy(tensor(logits, [N, V], { backend: be }), tensor(new Int32Array(N).fill(-100), [N], { backend: be }), 0.1).item());
    expect(none).toBe(0);
  });
});

describe('design constants per stack', () => {
  const be = createRefBackend();

  it('DeepNorm: encoder α = 0.81·(N⁴M)^(1/16), β = 0.87·(N⁴M)^(−1/16); decoder α = (3M)^¼, β = (12M)^(−¼)', () => {
    const { encoder, decoder } = deepNormEncoderDecoderConstants(6, 6);
    expect(encoder.alpha).toBeCloseTo(0.81 * Math.pow(6 ** 5, 1 / 16), 14);
    expect(encoder.beta).toBeCloseTo(0.87 * Math.pow(6 ** 5, -1 / 16), 14);
    expect(decoder).toEqual({ alpha: Math.pow(18, 0.25), beta: Math.pow(72, -0.25) });
    const c = { ...tinySeq2Seq, placement: 'post' as const, residual: 'deepnorm' as const, encoderLayers: 3, decoderLayers: 2 };
    expect(sublayerDesign({ ...c, nLayer: 3, stack: { role: 'encoder', encoderLayers: 3, decoderLayers: 2 } }, 0, 1).rule).toEqual({ kind: 'scaled-stream', alpha: deepNormEncoderDecoderConstants(3, 2).encoder.alpha });
    expect(sublayerDesign({ ...c, nLayer: 2, stack: { role: 'decoder', encoderLayers: 3, decoderLayers: 2 } }, 1, 2, 3).rule).toEqual({ kind: 'scaled-stream', alpha: Math.pow(6, 0.25) });
  });

  it('DeepNorm: Xavier-normal with the stack’s β on values, outputs and feed-forward, cross-attention included', () => {
    const C = 64;
    const N = 3;
    const M = 2;
    const model = Seq2Seq.create({ ...tinySeq2Seq, nEmbd: C, nHead: 4, encoderLayers: N, decoderLayers: M, placement: 'post', residual: 'deepnorm' }, { backend: be, seed: 8 });
    const std = (name: string, from = 0, to?: number) => {
      const v = Array.from(model.store!.tensorOf(name).toArraySync().subarray(from, to));
      return Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
    };
    const near = (got: number, want: number) => expect(Math.abs(got / want - 1)).toBeLessThan(0.04);
    const { encoder, decoder } = deepNormEncoderDecoderConstants(N, M);
    const xc = Math.sqrt(1 / C);
    near(std('encoder.h.1.attn.c_attn.weight', 0, 2 * C * C), xc);
    near(std('encoder.h.1.attn.c_attn.weight', 2 * C * C), encoder.beta * xc);
    near(std('encoder.h.1.mlp.c_fc.weight'), encoder.beta * Math.sqrt(2 / (5 * C)));
    near(std('decoder.h.1.attn.c_proj.weight'), decoder.beta * xc);
    near(std('decoder.h.1.cross.c_q.weight'), xc);
    near(std('decoder.h.1.cross.c_kv.weight', 0, C * C), xc);
    near(std('decoder.h.1.cross.c_kv.weight', C * C), decoder.beta * xc);
    near(std('decoder.h.1.cross.c_proj.weight'), decoder.beta * xc);
    near(std('decoder.h.0.mlp.c_proj.weight'), decoder.beta * Math.sqrt(2 / (5 * C)));
  });

  it('Admin: every ω of both stacks profiled, each stack restarting from its own embedding (first ω = 1)', async () => {
    const c = { ...tinySeq2Seq, encoderLayers: 2, decoderLayers: 2, placement: 'post' as const, residual: 'admin' as const };
    const model = Seq2Seq.create(c, { backend: be, seed: 2 });
    const b = randomBatch(c, 2, 6, 5, 9);
    const t = tensorsOf(model, b);
    const profile = await profileSeq2SeqAdmin(model, t.src, t.srcMask, t.tgtIn);
    expect([...profile.keys()]).toEqual([
      'encoder.h.0.omega_1', 'encoder.h.0.omega_2', 'encoder.h.1.omega_1', 'encoder.h.1.omega_2',
      'decoder.h.0.omega_1', 'decoder.h.0.omega_2', 'decoder.h.0.omega_3', 'decoder.h.1.omega_1', 'decoder.h.1.omega_2', 'decoder.h.1.omega_3',
    ]);
    expect(profile.get('encoder.h.0.omega_1')).toBeCloseTo(1, 12);
    expect(profile.get('decoder.h.0.omega_1')).toBeCloseTo(1, 12);
    expect([...profile.values()].every((v) => Number.isFinite(v) && v > 0)).toBe(true);
    // Later sub-layers read a LayerNorm's output (variance ~1), and GPT-2's init keeps the accumulated variance small: ω < 1.
    expect(profile.get('decoder.h.1.omega_3')!).toBeLessThan(1);
    for (const [name, v] of profile) expect(Array.from(model.store!.tensorOf(name).toArraySync()).every((x) => x === Math.fround(v))).toBe(true);
  });
});

describe('seq2seq trains on the wasm backend with captured steps, a new padding every batch', async () => {
  const kernels = await loadWasmKernels();
  const [B, S, T] = [4, 6, 5];
  async function train(c: Seq2SeqConfig, captured: boolean) {
    const backend = kernels.createBackend();
    const model = Seq2Seq.create(c, { backend, seed: 5 });
    const opt = new AdamW(model.store!);
    const loss = seq2seqLoss(model);
    const stepper = captured ? new TrainStep(model, opt, { loss }) : null;
    const losses: number[] = [];
    for (let s = 0; s < 4; s++) {
      const batch = seq2seqBatch(randomBatch(c, B, S, T, s === 1 ? 101 : 100)); // batches A, B, A, A: the loss of A must fall
      const o = { gradClip: 1, lr: 1e-2 };
      losses.push((await (stepper ? stepper.runBatch(batch, o) : optimizationStepOn(model, opt, loss, batch, o))).loss);
    }
    const buffers = model.store!.buffers ? Array.from(await backend.read(model.store!.buffers)) : [];
    return { losses, params: Array.from(await backend.read(model.store!.data)), buffers, eagerReason: stepper?.eagerReason ?? null };
  }

  it.each([{}, ...DESIGN_SAMPLES].map((d) => [JSON.stringify(d), d] as const))('%s', async (_name, d) => {
    const c = { ...tinySeq2Seq, nEmbd: 16, ...d } as Seq2SeqConfig;
    const eager = await train(c, false);
    const captured = await train(c, true);
    expect(captured.eagerReason).toBeNull();
    expect(captured.losses.every(Number.isFinite)).toBe(true);
    expect(captured.losses).toEqual(eager.losses);
    expect(captured.params).toEqual(eager.params);
    expect(captured.buffers).toEqual(eager.buffers);
    expect(captured.losses[3]).toBeLessThan(captured.losses[0]);
  });
});
