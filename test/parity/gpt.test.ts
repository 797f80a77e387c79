// A whole small GPT against PyTorch (pre-LN, post-LN, RMSNorm): logits, loss and every parameter's
// gradient from the same weights and batch; then a 10-step AdamW + clipping trajectory.

import { describe, expect, it } from 'vitest';
import { GPT } from '../../src/models/gpt.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { optimizationStep } from '../../src/train/step.ts';
import { backward, stepScope, tensor } from '../../src/tensor/index.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { relError } from '../helpers/compare.ts';
import { get, gptConfigOf, loadFixture, tensorsOf } from '../helpers/fixtures.ts';

const CASES = ['pre_ln', 'post_ln', 'pre_rms'];

describe.each(BACKENDS)('GPT parity with PyTorch on $name', ({ make }) => {
  const backend = make();

  it.each(CASES)('%s: logits, loss and every gradient', (name) => {
    const fx = loadFixture('gpt', `${name}.safetensors`);
    const model = GPT.create(gptConfigOf(fx), { backend });
    model.store!.loadStateDict(tensorsOf(fx, 'param.'), name);
    stepScope(() => {
      const idx = get(fx, 'idx');
      const tgt = get(fx, 'targets');
      const { logits, loss } = model.forward(
        tensor(idx.data as Int32Array, idx.shape, { backend }),
        tensor(tgt.data as Int32Array, tgt.shape, { backend }),
      );
      expect(relError(logits.toArraySync(), get(fx, 'logits').data as Float32Array)).toBeLessThanOrEqual(1e-5);
      expect(relError([loss!.item()], get(fx, 'loss').data as Float32Array)).toBeLessThanOrEqual(1e-5);
      model.store!.zeroGrad();
      backward(loss!);
    });
    const names = model.store!.entries.map((e) => e.name);
    expect(names.sort()).toEqual([...tensorsOf(fx, 'param.').keys()].sort());
    for (const e of model.store!.entries) {
      const err = relError(e.param.value.grad!.toArraySync(), get(fx, `grad.${e.name}`).data as Float32Array);
      expect(err, `grad.${e.name}`).toBeLessThanOrEqual(1e-4);
    }
  });

  it.each(['pre_ln', 'post_ln'])('%s: 10-step AdamW trajectory with clipping', async (name) => {
    const fx = loadFixture('gpt', `${name}.safetensors`);
    const traj = JSON.parse(fx.metadata.traj) as { steps: number; lr: number; betas: [number, number]; eps: number; weight_decay: number; clip_grad_norm: number };
    const model = GPT.create(gptConfigOf(fx), { backend });
    model.store!.loadStateDict(tensorsOf(fx, 'param.'), name);
    const opt = new AdamW(model.store!, { lr: traj.lr, beta1: traj.betas[0], beta2: traj.betas[1], eps: traj.eps, weightDecay: traj.weight_decay });
    const idx = get(fx, 'traj.idx');
    const tgt = get(fx, 'traj.targets');
    const [, B, T] = idx.shape;
    const expectedLoss = get(fx, 'traj.loss').data as Float32Array;
    const expectedNorm = get(fx, 'traj.grad_norm').data as Float32Array;
    for (let step = 0; step < traj.steps; step++) {
      const n = B * T;
      const x = (idx.data as Int32Array).subarray(step * n, (step + 1) * n);
      const y = (tgt.data as Int32Array).subarray(step * n, (step + 1) * n);
      const { loss: lossValue, gradNorm: norm } = await optimizationStep(model, opt, x, y, B, T, { gradClip: traj.clip_grad_norm });
      expect(relError([lossValue], [expectedLoss[step]]), `loss at step ${step}`).toBeLessThanOrEqual(1e-4);
      expect(relError([norm], [expectedNorm[step]]), `grad norm at step ${step}`).toBeLessThanOrEqual(1e-4);
    }
    const final = await model.store!.stateDict();
    for (const [pname, t] of tensorsOf(fx, 'traj.param.')) {
      expect(relError(final.get(pname)!.data, t.data), `final ${pname}`).toBeLessThanOrEqual(1e-4);
    }
  });
});
