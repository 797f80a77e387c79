// The encoder-decoder against an independent PyTorch reference (scripts/make_fixtures.py,
// make_seq2seq; test/fixtures/seq2seq/): a tiny model per case on padded batches, every norm and rule
// parameter drawn away from its init. On every backend: parameter names, logits, the label-smoothed
// loss and every gradient of one pass; for pre-LN and post-LN a 5-step AdamW + clipping trajectory
// (loss and gradient norm per step, final parameters); DeepNorm's encoder-decoder constants with one
// shared embedding; and Admin's two-stack profile (ω from one batch).

import { describe, expect, it } from 'vitest';
import { profileSeq2SeqAdmin } from '../../src/models/admin.ts';
import { Seq2Seq, seq2seqBatch, seq2seqLoss, type Seq2SeqConfig } from '../../src/models/seq2seq.ts';
import { DEFAULT_SEQ2SEQ_CONFIG } from '../../src/models/seq2seq-config.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { backward, stepScope, tensor } from '../../src/tensor/index.ts';
import { optimizationStepOn } from '../../src/train/step.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { relError } from '../helpers/compare.ts';
import { get, listFixtures, loadFixture, tensorsOf, type Fixture } from '../helpers/fixtures.ts';

const CASES = ['admin', 'deepnorm', 'post_ln', 'pre_ln'];

/** make_seq2seq's config (snake_case JSON in the metadata) as a Seq2SeqConfig; activation 'gelu' is torch.nn.GELU(). */
function configOf(f: Fixture): Seq2SeqConfig {
  const c = JSON.parse(f.metadata.config) as Record<string, never>;
  return {
    ...DEFAULT_SEQ2SEQ_CONFIG,
    sourceVocab: c.source_vocab, targetVocab: c.target_vocab, maxSource: c.max_source, maxTarget: c.max_target,
    encoderLayers: c.encoder_layers, decoderLayers: c.decoder_layers, nHead: c.n_head, nEmbd: c.n_embd, dropout: c.dropout,
    bias: c.bias, norm: c.norm, placement: c.placement, residual: c.residual, mixRatio: c.mix_ratio, positional: c.pos,
    tieTargetEmbedding: c.tie, shareEmbeddings: c.share, labelSmoothing: c.label_smoothing, activation: 'gelu',
  };
}

const fixtures = new Map(CASES.map((c) => [c, loadFixture('seq2seq', `${c}.safetensors`)]));
const fx = (name: string): Fixture => fixtures.get(name)!;
const f32 = (f: Fixture, name: string) => get(f, name).data as Float32Array;
const i32 = (f: Fixture, name: string) => get(f, name).data as Int32Array;

it('the fixture set holds exactly the seq2seq cases', () => {
  expect(listFixtures('seq2seq').map((f) => f.replace(/\.safetensors$/, ''))).toEqual(CASES);
});

describe.each(BACKENDS)('seq2seq against PyTorch on $name', ({ make }) => {
  const backend = make();

  const build = (f: Fixture): Seq2Seq => {
    const model = Seq2Seq.create(configOf(f), { backend });
    model.store!.loadStateDict(tensorsOf(f, 'param.'), f.name);
    return model;
  };
  const inputs = (f: Fixture, prefix: string) => {
    const [B, S] = get(f, `${prefix}src`).shape;
    const T = get(f, `${prefix}tgt_in`).shape[1];
    return {
      src: tensor(i32(f, `${prefix}src`), [B, S], { backend }),
      srcMask: tensor(f32(f, `${prefix}src_mask`), [B, S], { backend }),
      tgtIn: tensor(i32(f, `${prefix}tgt_in`), [B, T], { backend }),
    };
  };

  it.each(CASES)('%s: names, logits, label-smoothed loss and every gradient', (name) => {
    const f = fx(name);
    const model = build(f);
    expect(model.store!.entries.map((e) => e.name).sort(), 'parameter names').toEqual([...tensorsOf(f, 'param.').keys()].sort());
    stepScope(() => {
      const x = inputs(f, '');
      const tgtOut = tensor(i32(f, 'tgt_out'), get(f, 'tgt_out').shape, { backend });
      const { logits, loss } = model.forward(x.src, x.srcMask, x.tgtIn, tgtOut);
      expect(relError(logits.toArraySync(), f32(f, 'logits')), 'logits').toBeLessThanOrEqual(1e-5);
      expect(relError([loss!.item()], f32(f, 'loss')), 'loss').toBeLessThanOrEqual(1e-5);
      model.store!.zeroGrad();
      backward(loss!);
    });
    for (const e of model.store!.entries) {
      expect(relError(e.param.value.grad!.toArraySync(), f32(f, `grad.${e.name}`)), `grad.${e.name}`).toBeLessThanOrEqual(1e-4);
    }
  });

  it.each(['pre_ln', 'post_ln'])('%s: 5-step AdamW trajectory with clipping, on padded batches', async (name) => {
    const f = fx(name);
    const traj = JSON.parse(f.metadata.traj) as { steps: number; lr: number; betas: [number, number]; eps: number; weight_decay: number; clip_grad_norm: number };
    const model = build(f);
    const opt = new AdamW(model.store!, { lr: traj.lr, beta1: traj.betas[0], beta2: traj.betas[1], eps: traj.eps, weightDecay: traj.weight_decay });
    const [steps, B, S] = get(f, 'traj.src').shape;
    const T = get(f, 'traj.tgt_in').shape[2];
    expect(steps).toBe(traj.steps);
    for (let step = 0; step < steps; step++) {
      const at = <A extends Int32Array | Float32Array>(a: A, n: number) => a.subarray(step * n, (step + 1) * n) as A;
      const batch = seq2seqBatch({
        src: at(i32(f, 'traj.src'), B * S), srcMask: at(f32(f, 'traj.src_mask'), B * S),
        tgtIn: at(i32(f, 'traj.tgt_in'), B * T), tgtOut: at(i32(f, 'traj.tgt_out'), B * T), B, S, T,
      });
      const r = await optimizationStepOn(model, opt, seq2seqLoss(model), batch, { gradClip: traj.clip_grad_norm });
      expect(relError([r.loss], [f32(f, 'traj.loss')[step]]), `loss at step ${step}`).toBeLessThanOrEqual(1e-4);
      expect(relError([r.gradNorm], [f32(f, 'traj.grad_norm')[step]]), `grad norm at step ${step}`).toBeLessThanOrEqual(1e-4);
    }
    const final = await model.store!.stateDict();
    for (const [pname, t] of tensorsOf(f, 'traj.param.')) expect(relError(final.get(pname)!.data, t.data), `final ${pname}`).toBeLessThanOrEqual(1e-4);
  });

  it('admin: the profiling pass gives the reference ω in both stacks', async () => {
    const f = fx('admin');
    const model = build(f);
    const state = tensorsOf(f, 'param.');
    const omegaNames = [...state.keys()].filter((k) => /\.omega_\d$/.test(k));
    const c = configOf(f);
    expect(omegaNames.length).toBe(2 * c.encoderLayers + 3 * c.decoderLayers);
    for (const k of omegaNames) state.set(k, { shape: state.get(k)!.shape, data: new Float32Array(state.get(k)!.data.length).fill(1) });
    model.store!.loadStateDict(state, 'admin, ω = 1');
    const x = inputs(f, 'admin.');
    const profile = await profileSeq2SeqAdmin(model, x.src, x.srcMask, x.tgtIn);
    const after = await model.store!.stateDict();
    const expected = tensorsOf(f, 'admin.omega.');
    expect([...profile.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [pname, t] of expected) {
      expect(relError(after.get(pname)!.data, t.data), pname).toBeLessThanOrEqual(1e-5);
      expect(relError([profile.get(pname)!], [t.data[0]]), `${pname} returned`).toBeLessThanOrEqual(1e-5);
    }
    for (const [pname, t] of state) if (!omegaNames.includes(pname)) expect(after.get(pname)!.data, pname).toEqual(t.data);
  });
});
