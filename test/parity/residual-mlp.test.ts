// The residual MLP against an independent PyTorch model written from its description
// (scripts/make_fixtures.py, make_mlp): logits, loss and every gradient from the same weights and batch,
// then a 5-step AdamW + clipping trajectory (BatchNorm's running statistics and eval-mode logits too),
// for pre-LN, post-BatchNorm and the plain deep MLP, on every backend.

import { describe, expect, it } from 'vitest';
import { ResidualMLP, type ResidualMLPConfig } from '../../src/models/residual-mlp.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { ImageTask } from '../../src/train/image-task.ts';
import { optimizationStepOn } from '../../src/train/step.ts';
import { backward, noGrad, stepScope, tensor } from '../../src/tensor/index.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { relError } from '../helpers/compare.ts';
import { get, listFixtures, loadFixture, tensorsOf, type Fixture } from '../helpers/fixtures.ts';

const CASES = listFixtures('mlp').map((f) => f.replace(/\.safetensors$/, ''));

/** Tensors under two prefixes (parameters and buffers), by their names without them. */
const stateOf = (fx: Fixture, params: string, buffers: string) => new Map([...tensorsOf(fx, params), ...tensorsOf(fx, buffers)]);

describe.each(BACKENDS)('residual MLP parity with PyTorch on $name', ({ make }) => {
  const backend = make();

  it.each(CASES)('%s: logits, loss, every gradient, and a 5-step trajectory', async (name) => {
    const fx = loadFixture('mlp', `${name}.safetensors`);
    const config = JSON.parse(fx.metadata.config) as ResidualMLPConfig;
    const model = ResidualMLP.create(config, { backend });
    model.store!.loadStateDict(stateOf(fx, 'param.', 'buffer.'), name);
    expect(model.store!.entries.map((e) => e.name).sort()).toEqual([...tensorsOf(fx, 'param.').keys()].sort());
    const x = get(fx, 'x');
    const y = get(fx, 'y');
    const data = { inputs: x.data as Float32Array, labels: y.data as Int32Array, size: config.inputs };
    const task = new ImageTask(model, { train: data, val: data });
    stepScope(() => {
      const xt = tensor(x.data as Float32Array, x.shape, { backend });
      const logits = model.logits(xt);
      expect(relError(logits.toArraySync(), get(fx, 'logits').data as Float32Array)).toBeLessThanOrEqual(1e-5);
      const loss = task.loss([xt, tensor(y.data as Int32Array, y.shape, { backend })]);
      expect(relError([loss.item()], get(fx, 'loss').data as Float32Array)).toBeLessThanOrEqual(1e-5);
      model.store!.zeroGrad();
      backward(loss);
    });
    for (const e of model.store!.entries) {
      expect(relError(e.param.value.grad!.toArraySync(), get(fx, `grad.${e.name}`).data as Float32Array), `grad.${e.name}`).toBeLessThanOrEqual(1e-4);
    }

    // The trajectory starts again from the fixture's weights and buffers.
    model.store!.loadStateDict(stateOf(fx, 'param.', 'buffer.'), name);
    const opt = new AdamW(model.store!, { lr: 1e-3, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 });
    const tx = get(fx, 'traj.x');
    const ty = get(fx, 'traj.y');
    const [steps, B, D] = tx.shape;
    const losses = get(fx, 'traj.loss').data as Float32Array;
    const norms = get(fx, 'traj.grad_norm').data as Float32Array;
    for (let s = 0; s < steps; s++) {
      const batch = [
        { data: (tx.data as Float32Array).subarray(s * B * D, (s + 1) * B * D), shape: [B, D] },
        { data: (ty.data as Int32Array).subarray(s * B, (s + 1) * B), shape: [B] },
      ];
      const r = await optimizationStepOn(model, opt, task.loss, batch, { gradClip: 1 });
      expect(relError([r.loss], [losses[s]]), `loss at step ${s}`).toBeLessThanOrEqual(1e-4);
      expect(relError([r.gradNorm], [norms[s]]), `grad norm at step ${s}`).toBeLessThanOrEqual(1e-4);
    }
    const final = await model.store!.stateDict();
    for (const [pname, t] of stateOf(fx, 'traj.param.', 'traj.buffer.')) {
      expect(relError(final.get(pname)!.data, t.data), `final ${pname}`).toBeLessThanOrEqual(1e-4);
    }
    model.eval();
    const evalLogits = noGrad(() => stepScope(() => model.logits(tensor(x.data as Float32Array, x.shape, { backend })).toArraySync()));
    expect(relError(evalLogits, get(fx, 'traj.eval_logits').data as Float32Array)).toBeLessThanOrEqual(1e-4);
  });
});
