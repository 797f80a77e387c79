// The residual MLP classifier (the articles' SimpleNet, 784 → 256 → 10): every design it accepts builds
// and runs forward and backward; its gradients match float64 finite differences; it trains captured
// on wasm bit-identically to eager steps (BatchNorm's running statistics included); and through the
// task loop it learns a classification on real-valued inputs. PyTorch parity: test/parity/residual-mlp.test.ts.

import { describe, expect, it } from 'vitest';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { loadWasmKernels } from '../../src/backend/wasm/index.ts';
import { ResidualMLP, type ResidualMLPConfig } from '../../src/models/residual-mlp.ts';
import { PLACEMENTS, RESIDUALS } from '../../src/nn/design.ts';
import { NORM_KINDS } from '../../src/nn/norm.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { parseTrainConfig } from '../../src/train/config.ts';
import { ImageTask, type LabelledSet } from '../../src/train/image-task.ts';
import { TrainStep } from '../../src/train/step.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { backward, Rng, stepScope, tensor } from '../../src/tensor/index.ts';
import { modelGradcheck } from '../helpers/model-gradcheck.ts';

const tiny: Partial<ResidualMLPConfig> = { inputs: 6, hidden: 8, classes: 3, depth: 2 };
const points = (n: number, seed: number): LabelledSet => {
  const rng = new Rng(seed);
  const inputs = Float32Array.from({ length: n * 6 }, () => rng.normal());
  const labels = Int32Array.from({ length: n }, (_, i) => (inputs[i * 6] + inputs[i * 6 + 1] > 0.5 ? 2 : inputs[i * 6 + 2] > 0 ? 1 : 0));
  return { inputs, labels, size: 6 };
};

describe('residual MLP', () => {
  it('builds every design it accepts; refuses the value residual (it has no attention) and what the GPT refuses', () => {
    const be = createRefBackend();
    let built = 0;
    for (const norm of NORM_KINDS) for (const placement of PLACEMENTS) for (const residual of RESIDUALS) {
      let model: ResidualMLP;
      try {
        model = ResidualMLP.create({ ...tiny, norm, placement, residual }, { backend: be });
      } catch (e) {
        expect((e as Error).message).toMatch(/residual/);
        continue;
      }
      built++;
      stepScope(() => {
        const { inputs, labels } = points(4, 1);
        const x = tensor(inputs, [4, 6], { backend: be });
        const logits = model.logits(x);
        expect(logits.shape).toEqual([4, 3]);
        const task = new ImageTask(model, { train: points(4, 1), val: points(4, 2) });
        const loss = task.loss([x, tensor(labels, [4], { backend: be })]);
        model.store!.zeroGrad();
        backward(loss);
        expect(Number.isFinite(loss.item())).toBe(true);
        expect(be.readSync!(model.store!.grad).every(Number.isFinite)).toBe(true);
      });
    }
    expect(built).toBe(143 - 30); // the GPT's 143, less value-residual's 30 (it takes every norm × placement)
    expect(() => ResidualMLP.create({ residual: 'value-residual' })).toThrow(/the MLP has no attention/);
  });

  it('has the articles’ shape by default: 784 → 256 → 10 with one residual block', () => {
    const m = ResidualMLP.create({}, { backend: createRefBackend() });
    expect(m.store!.entries.map((e) => `${e.name} ${e.param.shape.join('×')}`).sort()).toEqual([
      'fc_in.bias 256', 'fc_in.weight 256×784', 'h.0.fc1.bias 256', 'h.0.fc1.weight 256×256', 'h.0.fc2.bias 256', 'h.0.fc2.weight 256×256',
      'h.0.ln_1.bias 256', 'h.0.ln_1.weight 256', 'head.bias 10', 'head.weight 10×256', 'ln_f.bias 256', 'ln_f.weight 256',
    ]);
  });

  it.each([{ norm: 'layernorm' }, { norm: 'batchnorm', placement: 'post' }, { norm: 'none', residual: 'none' }, { residual: 'hyper', hyperStreams: 2 }] as const)(
    'gradients match float64 finite differences (%o)',
    async (design) => {
      const be = createRefBackend();
      const model = ResidualMLP.create({ ...tiny, ...design }, { backend: be, dtype: 'float64', seed: 4 });
      const { inputs, labels } = points(5, 3);
      const task = new ImageTask(model, { train: points(5, 3), val: points(5, 3) });
      const lossOf = (withGrad: boolean) =>
        stepScope(() => {
          const loss = task.loss([tensor(Float64Array.from(inputs), [5, 6], { backend: be }), tensor(labels, [5], { backend: be })]);
          if (withGrad) {
            model.store!.zeroGrad();
            backward(loss);
          }
          return loss.item();
        });
      expect(await modelGradcheck(model.store!, lossOf, new Rng(7), { coords: 6, tol: 1e-6 })).toEqual([]);
    },
  );

  it('trains captured on wasm bit-identically to eager steps, BatchNorm running statistics included', async () => {
    const kernels = await loadWasmKernels();
    const run = async (capture: boolean) => {
      const backend = kernels.createBackend();
      const model = ResidualMLP.create({ ...tiny, norm: 'batchnorm', depth: 3 }, { backend, seed: 2 });
      const task = new ImageTask(model, { train: points(64, 1), val: points(16, 2) });
      const stepper = new TrainStep(model, new AdamW(model.store!), { loss: task.loss, capture });
      const rng = new Rng(3);
      const losses = [];
      for (let s = 0; s < 5; s++) losses.push((await stepper.runBatch(task.trainBatch(rng, 8), { gradClip: 1 })).loss);
      return { losses, params: Array.from(await backend.read(model.store!.data)), buffers: Array.from(await backend.read(model.store!.buffers!)), eager: stepper.eagerReason };
    };
    const eager = await run(false);
    const captured = await run(true);
    expect(captured.eager).toBeNull();
    expect(captured.losses).toEqual(eager.losses);
    expect(captured.params).toEqual(eager.params);
    expect(captured.buffers).toEqual(eager.buffers);
  });

  it('learns a classification through the task loop: validation accuracy far above chance', async () => {
    const model = ResidualMLP.create({ ...tiny, hidden: 32 }, { backend: createRefBackend(), seed: 5 });
    const task = new ImageTask(model, { train: points(2000, 1), val: points(500, 2) });
    const config = parseTrainConfig({ batchSize: 32, maxIters: 300, warmupIters: 10, lr: 3e-3, minLr: 3e-4, evalInterval: 300, evalIters: 8, diagInterval: 0, seed: 1 });
    const t = new Trainer(task, config);
    const before = await task.evaluate(32, 8, 1);
    let after = before;
    await t.run(300, { onEval: async () => void (after = await task.evaluate(32, 8, 1)) });
    expect(before.metrics!.accuracy).toBeLessThan(0.6);
    expect(after.metrics!.accuracy).toBeGreaterThan(0.9);
  });
});
