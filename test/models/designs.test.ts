// Every residual and normalization design of docs/designs.md: which combinations are accepted and
// why the others are not; every accepted one builds, runs forward and backward; a design of each kind
// trains on the wasm backend with captured steps, bit-identical to eager steps; and each design's
// init does what its paper says (ReZero's blocks are the identity, hyper-connections start as a
// pre-LN network, DeepNorm's and LayerScale's constants). Numerics against PyTorch are in
// test/parity/designs.test.ts; finite differences in test/models/designs-gradcheck.test.ts.

import { describe, expect, it } from 'vitest';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { loadWasmKernels } from '../../src/backend/wasm/index.ts';
import { profileAdmin } from '../../src/models/admin.ts';
import { DEFAULT_GPT_CONFIG, GPT, type GPTConfig } from '../../src/models/gpt.ts';
import { checkGPTConfig } from '../../src/models/gpt-config.ts';
import { deepNormConstants, designProblem, layerScaleInit, PLACEMENTS, RESIDUALS, sublayerDesign } from '../../src/nn/design.ts';
import { NORM_KINDS } from '../../src/nn/norm.ts';
import type { HostTensor } from '../../src/nn/parameter-store.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { optimizationStep, TrainStep } from '../../src/train/step.ts';
import { modelConfigOf, parseTrainConfig } from '../../src/train/config.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { backward, noGrad, Rng, stepScope, tensor } from '../../src/tensor/index.ts';
import { relError } from '../helpers/compare.ts';
import { DESIGN_SAMPLES } from '../helpers/designs.ts';

const tiny: GPTConfig = { ...DEFAULT_GPT_CONFIG, vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8 };
const ids = (n: number, V: number, seed: number) => {
  const r = new Rng(seed);
  return Int32Array.from({ length: n }, () => r.int(V));
};

const ALL = NORM_KINDS.flatMap((norm) => PLACEMENTS.flatMap((placement) => RESIDUALS.map((residual) => ({ ...tiny, norm, placement, residual }))));

describe('design combinations', () => {
  it('rejects exactly the combinations docs/designs.md names, each with its reason', () => {
    const rejected = ALL.filter((c) => designProblem(c) !== null);
    // deepnorm, admin: post with a norm (4 of 30 each); rezero: placement none or norm none (10 of 30);
    // layerscale: not post or mix (20 of 30); hyper: pre, peri or sandwich (15 of 30).
    expect(rejected.length).toBe(26 + 26 + 20 + 10 + 15);
    for (const c of rejected) expect(() => checkGPTConfig(c)).toThrow(/residual/);
    expect(designProblem({ ...tiny, residual: 'deepnorm', placement: 'pre' })).toMatch(/DeepNorm.*needs --placement post, not 'pre'/);
    expect(designProblem({ ...tiny, residual: 'admin', placement: 'post', norm: 'none' })).toMatch(/Admin.*needs a norm/);
    expect(designProblem({ ...tiny, residual: 'rezero' })).toMatch(/ReZero's no-norm form.*--placement none/);
    expect(designProblem({ ...tiny, residual: 'layerscale', placement: 'post' })).toMatch(/un-normalized stream/);
    expect(designProblem({ ...tiny, residual: 'hyper', placement: 'mix' })).toMatch(/pre, peri or sandwich/);
    expect(designProblem({ ...tiny, qkNorm: true, norm: 'dyt' })).toMatch(/--qk-norm.*layernorm or rmsnorm, not 'dyt'/);
    expect(designProblem({ ...tiny, hyperStreams: 2 })).toMatch(/--hyper-streams 2 only applies to --residual hyper/);
    expect(designProblem({ ...tiny, mixRatio: 0.5 })).toMatch(/--mix-ratio 0.5 only applies to --placement mix/);
    expect(designProblem({ ...tiny, residual: 'hyper', hyperStreams: 2, qkNorm: true })).toBeNull();
  });

  it('builds every accepted combination, and its loss and gradients are finite', () => {
    const be = createRefBackend();
    const accepted = ALL.filter((c) => designProblem(c) === null);
    expect(accepted.length).toBe(143);
    for (const c of accepted) {
      const model = GPT.create(c, { backend: be, seed: 3 });
      stepScope(() => {
        const x = tensor(ids(16, 11, 1), [2, 8], { backend: be });
        const { loss } = model.forward(x, x);
        model.store!.zeroGrad();
        backward(loss!);
        const grad = be.readSync!(model.store!.grad);
        expect(Number.isFinite(loss!.item()), JSON.stringify(c)).toBe(true);
        expect(grad.every(Number.isFinite), JSON.stringify(c)).toBe(true);
      });
      model.store!.release();
    }
  });

  it('names the norms as GPT-2 does, and adds only the design’s own parameters', () => {
    const names = (c: Partial<GPTConfig>) => GPT.create({ ...tiny, ...c }, { backend: createRefBackend() }).store!.entries.map((e) => e.name).filter((n) => n.startsWith('h.0.') || !n.startsWith('h.'));
    const gpt2 = ['h.0.ln_1.weight', 'h.0.ln_1.bias', 'h.0.attn.c_attn.weight', 'h.0.attn.c_attn.bias', 'h.0.attn.c_proj.weight', 'h.0.attn.c_proj.bias',
      'h.0.ln_2.weight', 'h.0.ln_2.bias', 'h.0.mlp.c_fc.weight', 'h.0.mlp.c_fc.bias', 'h.0.mlp.c_proj.weight', 'h.0.mlp.c_proj.bias'];
    expect(names({}).sort()).toEqual([...gpt2, 'wte.weight', 'wpe.weight', 'ln_f.weight', 'ln_f.bias'].sort());
    expect(names({ placement: 'post' }).sort()).toEqual([...gpt2, 'wte.weight', 'wpe.weight'].sort());
    expect(names({ placement: 'peri' })).toEqual(expect.arrayContaining(['ln_e.weight', 'h.0.ln_1_out.weight', 'h.0.ln_2_out.bias', 'ln_f.weight']));
    expect(names({ placement: 'sandwich' })).not.toContain('ln_e.weight');
    expect(names({ placement: 'none', residual: 'rezero' }).filter((n) => n.includes('ln_'))).toEqual([]);
    expect(names({ placement: 'none', residual: 'rezero' })).toEqual(expect.arrayContaining(['h.0.alpha_1', 'h.0.alpha_2']));
    expect(names({ residual: 'layerscale' })).toEqual(expect.arrayContaining(['h.0.ls_1', 'h.0.ls_2']));
    expect(names({ residual: 'deepnorm', placement: 'post' }).sort()).toEqual([...gpt2, 'wte.weight', 'wpe.weight'].sort());
    expect(names({ residual: 'hyper' })).toEqual(expect.arrayContaining(['h.0.hc_1.static_alpha', 'h.0.hc_2.dynamic_beta_scale', 'h.0.hc_1.norm.weight']));
    expect(names({ qkNorm: true })).toEqual(expect.arrayContaining(['h.0.attn.q_norm.weight', 'h.0.attn.k_norm.bias']));
    const vr = GPT.create({ ...tiny, residual: 'value-residual' }, { backend: createRefBackend() }).store!.entries.map((e) => e.name);
    expect(vr.filter((n) => n.includes('lambda_v'))).toEqual(['h.1.attn.lambda_v']); // the first layer's values are the ones mixed in
  });

  it('Mix-LN: post-LN in the first ⌊ρ·L⌋ layers, pre-LN after, and a final norm only when a pre-LN layer ends the stack', () => {
    const mix = { ...tiny, nLayer: 5, placement: 'mix' as const, mixRatio: 0.5 };
    expect([0, 1, 2, 3, 4].map((i) => sublayerDesign(mix, i, 0).postNorm)).toEqual([true, true, false, false, false]);
    expect([0, 1, 2, 3, 4].map((i) => sublayerDesign(mix, i, 1).inNorm)).toEqual([false, false, true, true, true]);
    const hasFinal = (mixRatio: number) => GPT.create({ ...mix, mixRatio }, { backend: createRefBackend() }).ln_f !== null;
    expect([hasFinal(0), hasFinal(0.5), hasFinal(1)]).toEqual([true, true, false]);
  });
});

describe('design inits', () => {
  const be = createRefBackend();
  const logits = (model: GPT, skip?: Set<number>) =>
    noGrad(() => stepScope(() => model.forward(tensor(ids(16, 11, 2), [2, 8], { backend: be }), null, undefined, { skipBlocks: skip }).logits.toArraySync()));
  const copyShared = async (from: GPT, to: GPT) => {
    const src = await from.store!.stateDict();
    const dst = await to.store!.stateDict();
    for (const name of dst.keys()) if (src.has(name)) dst.set(name, src.get(name)!);
    to.store!.loadStateDict(dst);
  };

  it('ReZero: every α starts at 0, so every block is the identity at init', () => {
    const model = GPT.create({ ...tiny, placement: 'none', residual: 'rezero' }, { backend: be, seed: 4 });
    expect(model.store!.entries.filter((e) => e.name.includes('alpha_')).every((e) => Array.from(e.param.value.toArraySync()).every((v) => v === 0))).toBe(true);
    expect(logits(model)).toEqual(logits(model, new Set([0, 1])));
  });

  it('LayerScale: λ by depth as in CaiT', () => {
    expect([12, 18, 19, 24, 25].map(layerScaleInit)).toEqual([0.1, 0.1, 1e-5, 1e-5, 1e-6]);
    const model = GPT.create({ ...tiny, nLayer: 20, residual: 'layerscale' }, { backend: be });
    expect(Array.from(model.store!.tensorOf('h.3.ls_2').toArraySync()).every((v) => v === Math.fround(1e-5))).toBe(true);
  });

  it('DeepNorm: α = (2N)^¼ and Xavier-normal init with gain β = (8N)^−¼ on v, out and the feed-forward', () => {
    const N = 6;
    expect(deepNormConstants(N)).toEqual({ alpha: Math.pow(12, 0.25), beta: Math.pow(48, -0.25) });
    const C = 64;
    const model = GPT.create({ ...tiny, nLayer: N, nEmbd: C, nHead: 4, placement: 'post', residual: 'deepnorm' }, { backend: be, seed: 8 });
    const std = (name: string, from = 0, to?: number) => {
      const v = Array.from(model.store!.tensorOf(name).toArraySync().subarray(from, to));
      return Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
    };
    const { beta } = deepNormConstants(N);
    const near = (got: number, want: number) => expect(Math.abs(got / want - 1)).toBeLessThan(0.03);
    near(std('h.2.attn.c_attn.weight', 0, 2 * C * C), Math.sqrt(1 / C)); // q, k: gain 1
    near(std('h.2.attn.c_attn.weight', 2 * C * C), beta * Math.sqrt(1 / C)); // v: gain β
    near(std('h.2.attn.c_proj.weight'), beta * Math.sqrt(1 / C));
    near(std('h.2.mlp.c_fc.weight'), beta * Math.sqrt(2 / (5 * C)));
    near(std('h.2.mlp.c_proj.weight'), beta * Math.sqrt(2 / (5 * C)));
  });

  it('hyper-connections start as the pre-LN network with the same weights (n equal streams, summed, then ln_f)', async () => {
    const pre = GPT.create(tiny, { backend: be, seed: 6 });
    // One stream: H ← 1·u + H, exactly pre-LN's x ← x + u.
    const one = GPT.create({ ...tiny, residual: 'hyper', hyperStreams: 1 }, { backend: be, seed: 7 });
    await copyShared(pre, one);
    expect(relError(logits(one), logits(pre))).toBeLessThan(1e-6);
    // n streams: each is x + u after every sub-layer, and ln_f sees their sum n·x, which only LayerNorm's
    // ε tells from x. Large embeddings make ε negligible.
    const state = await pre.store!.stateDict();
    for (const name of ['wte.weight', 'wpe.weight']) state.get(name)!.data.forEach((v, i, a) => (a[i] = 50 * v));
    pre.store!.loadStateDict(state);
    const four = GPT.create({ ...tiny, residual: 'hyper' }, { backend: be, seed: 7 });
    await copyShared(pre, four);
    expect(relError(logits(four), logits(pre))).toBeLessThan(1e-5);
  });

  it('value residual: λ = [0.5, 0.5], so layer 2 attends to the mean of its values and layer 1’s', async () => {
    const vr = GPT.create({ ...tiny, residual: 'value-residual' }, { backend: be, seed: 6 });
    expect(Array.from(vr.store!.tensorOf('h.1.attn.lambda_v').toArraySync())).toEqual([0.5, 0.5]);
    // With λ = [1, 0] the model is the plain one.
    const plain = GPT.create(tiny, { backend: be, seed: 6 });
    const state = await vr.store!.stateDict();
    state.set('h.1.attn.lambda_v', { shape: [2], data: Float32Array.from([1, 0]) } as HostTensor);
    vr.store!.loadStateDict(state);
    expect(logits(vr)).toEqual(logits(plain));
  });

  it('skipBlocks leaves a block out: a 2-layer model without block 0 is the 1-layer model made of its block 1', async () => {
    const two = GPT.create(tiny, { backend: be, seed: 9 });
    const one = GPT.create({ ...tiny, nLayer: 1 }, { backend: be, seed: 1 });
    const src = await two.store!.stateDict();
    const dst = await one.store!.stateDict();
    for (const name of dst.keys()) dst.set(name, src.get(name.replace(/^h\.0\./, 'h.1.'))!);
    one.store!.loadStateDict(dst);
    expect(logits(two, new Set([0]))).toEqual(logits(one));
    expect(logits(two, new Set([0]))).not.toEqual(logits(two));
  });

  it('Admin: the profile sets ω in every channel of every sub-layer, 1 for the first (its stream is the embedding itself)', async () => {
    const model = GPT.create({ ...tiny, nLayer: 3, placement: 'post', residual: 'admin' }, { backend: be, seed: 2 });
    const profile = await profileAdmin(model, tensor(ids(16, 11, 5), [2, 8], { backend: be }));
    const values = [...profile.values()];
    expect([...profile.keys()]).toEqual(['h.0.omega_1', 'h.0.omega_2', 'h.1.omega_1', 'h.1.omega_2', 'h.2.omega_1', 'h.2.omega_2']);
    expect(values[0]).toBeCloseTo(1, 12); // the values themselves are checked against PyTorch in test/parity/designs.test.ts
    expect(values.every((v) => Number.isFinite(v) && v > 0)).toBe(true);
    for (const [name, v] of profile) expect(Array.from(model.store!.tensorOf(name).toArraySync()).every((x) => x === Math.fround(v))).toBe(true);
  });
});

describe('Admin in the trainer', () => {
  const data = { train: ids(4000, 11, 1), val: ids(1000, 11, 2) };
  const trainerOf = (residual: 'admin' | 'plain') => {
    const config = parseTrainConfig({ nLayer: 2, nHead: 2, nEmbd: 8, blockSize: 8, batchSize: 2, placement: 'post', residual, diagInterval: 0 });
    return new Trainer(GPT.create(modelConfigOf(config, 11), { backend: createRefBackend(), seed: 3 }), config, data);
  };
  const omega = (t: Trainer) => Array.from(t.model.store!.tensorOf('h.1.omega_2').toArraySync());

  it('profiles a new run before its first step, from a random stream of its own', async () => {
    const admin = trainerOf('admin');
    const plain = trainerOf('plain');
    await admin.trainStep();
    await plain.trainStep();
    expect(omega(admin)[0]).not.toBeCloseTo(1, 2); // profiled, then one small update
    expect(admin.dataRng.getState()).toEqual(plain.dataRng.getState()); // the same training batches
  });

  it('does not profile a resumed run again: ω comes from the checkpoint', async () => {
    const first = trainerOf('admin');
    await first.trainStep();
    const resumed = trainerOf('admin');
    resumed.model.store!.loadStateDict(await first.model.store!.stateDict());
    resumed.setState(first.getState());
    const state = await resumed.model.store!.stateDict();
    state.get('h.1.omega_2')!.data.fill(7);
    resumed.model.store!.loadStateDict(state);
    await resumed.trainStep();
    expect(Math.abs(omega(resumed)[0] - 7)).toBeLessThan(0.01);
  });
});

describe('every design trains on the wasm backend with captured steps', async () => {
  const kernels = await loadWasmKernels();
  const [B, T] = [4, 8];
  async function train(c: GPTConfig, captured: boolean) {
    const backend = kernels.createBackend();
    const model = GPT.create(c, { backend, seed: 5 });
    const opt = new AdamW(model.store!);
    const stepper = captured ? new TrainStep(model, opt) : null;
    const losses: number[] = [];
    for (let s = 0; s < 4; s++) {
      const x = ids(B * T, c.vocabSize, 10); // one batch, so the loss must fall
      const y = ids(B * T, c.vocabSize, 20);
      const o = { gradClip: 1, lr: 1e-2 };
      losses.push((await (stepper ? stepper.run(x, y, B, T, o) : optimizationStep(model, opt, x, y, B, T, o))).loss);
    }
    const buffers = model.store!.buffers ? Array.from(await backend.read(model.store!.buffers)) : [];
    return { losses, params: Array.from(await backend.read(model.store!.data)), buffers, eagerReason: stepper?.eagerReason ?? null };
  }

  it.each(DESIGN_SAMPLES.map((d) => [JSON.stringify(d), d] as const))('%s', async (_name, d) => {
    const c = { ...tiny, blockSize: 8, nEmbd: 16, ...d };
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
