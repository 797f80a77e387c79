// Every residual and normalization design of docs/designs.md against an independent PyTorch reference
// (scripts/make_fixtures.py, test/fixtures/designs/): a tiny GPT per design, every parameter (and
// BatchNorm's running statistics) drawn away from its init so each one matters. On every backend:
// the parameter names, logits, loss and every gradient of one training-mode pass; a 5-step AdamW +
// clipping trajectory (loss and gradient norm per step, final parameters and buffers, eval-mode
// logits after it); and Admin's profiling pass (ω from one batch).

import { describe, expect, it } from 'vitest';
import { profileAdmin } from '../../src/models/admin.ts';
import { GPT } from '../../src/models/gpt.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { backward, stepScope, tensor } from '../../src/tensor/index.ts';
import { optimizationStep } from '../../src/train/step.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { relError } from '../helpers/compare.ts';
import { get, gptConfigOf, listFixtures, loadFixture, modelStateOf, tensorsOf, type Fixture } from '../helpers/fixtures.ts';

/** DESIGN_CASES of scripts/make_fixtures.py: one per norm kind, placement and residual rule. */
const CASES = [
  'admin',
  'batchnorm',
  'deepnorm',
  'dyt',
  'dyt_nobias',
  'hyper',
  'hyper_peri',
  'layerscale',
  'ln_nobias',
  'mix',
  'norm_none',
  'peri',
  'placement_none',
  'qk_norm',
  'qk_norm_rms',
  'residual_none',
  'rezero',
  'sandwich',
  'value_residual',
];

const fixtures = new Map(CASES.map((c) => [c, loadFixture('designs', `${c}.safetensors`)]));
const fx = (name: string): Fixture => fixtures.get(name)!;
const f32 = (f: Fixture, name: string) => get(f, name).data as Float32Array;
const i32 = (f: Fixture, name: string) => get(f, name).data as Int32Array;

it('the fixture set holds exactly the design cases', () => {
  expect(listFixtures('designs').map((f) => f.replace(/\.safetensors$/, ''))).toEqual([...CASES].sort());
});

describe.each(BACKENDS)('designs against PyTorch on $name', ({ make }) => {
  const backend = make();

  const build = (f: Fixture): GPT => {
    const model = GPT.create(gptConfigOf(f), { backend });
    model.store!.loadStateDict(modelStateOf(f), f.name);
    return model;
  };

  it.each(CASES)('%s: names, logits, loss and every gradient', (name) => {
    const f = fx(name);
    const model = build(f);
    const params = model.store!.entries.map((e) => e.name).sort();
    expect(params, 'parameter names').toEqual([...tensorsOf(f, 'param.').keys()].sort());
    const buffers = model.store!.bufferEntries.map((e) => e.name).sort();
    expect(buffers, 'buffer names').toEqual([...tensorsOf(f, 'buffer.').keys()].filter((n) => n !== 'pe').sort());
    stepScope(() => {
      const idx = get(f, 'idx');
      const tgt = get(f, 'targets');
      const { logits, loss } = model.forward(tensor(i32(f, 'idx'), idx.shape, { backend }), tensor(i32(f, 'targets'), tgt.shape, { backend }));
      expect(relError(logits.toArraySync(), f32(f, 'logits')), 'logits').toBeLessThanOrEqual(1e-5);
      expect(relError([loss!.item()], f32(f, 'loss')), 'loss').toBeLessThanOrEqual(1e-5);
      model.store!.zeroGrad();
      backward(loss!);
    });
    for (const e of model.store!.entries) {
      expect(relError(e.param.value.grad!.toArraySync(), f32(f, `grad.${e.name}`)), `grad.${e.name}`).toBeLessThanOrEqual(1e-4);
    }
  });

  it.each(CASES)('%s: 5-step AdamW trajectory with clipping', async (name) => {
    const f = fx(name);
    const traj = JSON.parse(f.metadata.traj) as { steps: number; lr: number; betas: [number, number]; eps: number; weight_decay: number; clip_grad_norm: number };
    const model = build(f);
    const opt = new AdamW(model.store!, { lr: traj.lr, beta1: traj.betas[0], beta2: traj.betas[1], eps: traj.eps, weightDecay: traj.weight_decay });
    const idx = get(f, 'traj.idx');
    const [steps, B, T] = idx.shape;
    expect(steps).toBe(traj.steps);
    const n = B * T;
    for (let step = 0; step < steps; step++) {
      const x = i32(f, 'traj.idx').subarray(step * n, (step + 1) * n);
      const y = i32(f, 'traj.targets').subarray(step * n, (step + 1) * n);
      const r = await optimizationStep(model, opt, x, y, B, T, { gradClip: traj.clip_grad_norm });
      expect(relError([r.loss], [f32(f, 'traj.loss')[step]]), `loss at step ${step}`).toBeLessThanOrEqual(1e-4);
      expect(relError([r.gradNorm], [f32(f, 'traj.grad_norm')[step]]), `grad norm at step ${step}`).toBeLessThanOrEqual(1e-4);
    }
    const final = await model.store!.stateDict();
    for (const [pname, t] of tensorsOf(f, 'traj.param.')) expect(relError(final.get(pname)!.data, t.data), `final ${pname}`).toBeLessThanOrEqual(1e-4);
    for (const [bname, t] of tensorsOf(f, 'traj.buffer.')) expect(relError(final.get(bname)!.data, t.data), `final buffer ${bname}`).toBeLessThanOrEqual(1e-4);
    if (f.tensors.has('traj.eval_logits')) {
      model.eval();
      stepScope(() => {
        const { logits } = model.forward(tensor(i32(f, 'idx'), get(f, 'idx').shape, { backend }));
        expect(relError(logits.toArraySync(), f32(f, 'traj.eval_logits')), 'eval-mode logits after the trajectory').toBeLessThanOrEqual(1e-4);
      });
      model.train();
    }
  });

  it('admin: the profiling pass gives the reference ω', async () => {
    const f = fx('admin');
    const model = build(f);
    // Every ω at 1 before profiling, as at a new run's initialisation (the fixture's ω are noise).
    const state = modelStateOf(f);
    const omegaNames = [...state.keys()].filter((k) => /\.omega_\d$/.test(k));
    expect(omegaNames.length).toBe(2 * gptConfigOf(f).nLayer);
    for (const k of omegaNames) state.set(k, { shape: state.get(k)!.shape, data: new Float32Array(state.get(k)!.data.length).fill(1) });
    model.store!.loadStateDict(state, 'admin, ω = 1');
    const idx = get(f, 'admin.idx');
    const profile = await profileAdmin(model, tensor(i32(f, 'admin.idx'), idx.shape, { backend }));
    const after = await model.store!.stateDict();
    const expected = tensorsOf(f, 'admin.omega.');
    expect([...profile.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [pname, t] of expected) {
      expect(relError(after.get(pname)!.data, t.data), pname).toBeLessThanOrEqual(1e-5);
      expect(relError([profile.get(pname)!], [t.data[0]]), `${pname} returned`).toBeLessThanOrEqual(1e-5);
    }
    // Nothing but ω changes.
    for (const [pname, t] of state) if (!omegaNames.includes(pname)) expect(after.get(pname)!.data, pname).toEqual(t.data);
  });
});
