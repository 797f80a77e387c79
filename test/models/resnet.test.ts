// The small ResNet of the image task: its layout (stages, projections where the resolution or the
// width changes, torchvision's names), a clear error for images of the wrong size, gradients against
// float64 finite differences, a captured training step on wasm equal to eager steps (BatchNorm's running
// statistics included), and it learns through the task loop. The block itself is checked against
// PyTorch in test/nn/conv.test.ts.

import { describe, expect, it } from 'vitest';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { loadWasmKernels } from '../../src/backend/wasm/index.ts';
import { ResNet } from '../../src/models/resnet.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { parseTrainConfig } from '../../src/train/config.ts';
import { ImageTask, type LabelledSet } from '../../src/train/image-task.ts';
import { TrainStep } from '../../src/train/step.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { backward, Rng, stepScope, tensor } from '../../src/tensor/index.ts';
import { modelGradcheck } from '../helpers/model-gradcheck.ts';

const tiny = { size: 8, classes: 3, width: 4, blocks: [1, 1] };

/** 8×8 images: class 0 a bright left half, 1 a bright top half, 2 a bright centre, with noise. */
function images(n: number, seed: number): LabelledSet {
  const rng = new Rng(seed);
  const inputs = new Float32Array(n * 64);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = rng.int(3);
    labels[i] = k;
    for (let r = 0; r < 8; r++) {
      for (let c = 0; c < 8; c++) {
        const on = k === 0 ? c < 4 : k === 1 ? r < 4 : r >= 2 && r < 6 && c >= 2 && c < 6;
        inputs[i * 64 + r * 8 + c] = (on ? 0.8 : 0.1) + 0.2 * rng.normal();
      }
    }
  }
  return { inputs, labels, size: 64 };
}

describe('ResNet', () => {
  it('stacks stages of residual blocks, projecting where the resolution or the width changes', () => {
    const m = ResNet.create({ width: 16, blocks: [2, 2, 2] }, { backend: createRefBackend() });
    expect(m.layers.items.map((b) => `${b.inChannels}→${b.outChannels}/${b.stride}${b.downsample ? '+proj' : ''}`)).toEqual(['16→16/1', '16→16/1', '16→32/2+proj', '32→32/1', '32→64/2+proj', '64→64/1']);
    const names = m.store!.entries.map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['conv1.weight', 'bn1.weight', 'layers.2.downsample.0.weight', 'layers.2.downsample.1.bias', 'fc.weight']));
    expect(() => stepScope(() => m.logits(tensor(new Float32Array(2 * 32 * 32), [2, 1, 32, 32], { backend: m.backend })))).toThrow(/images must be \(B, 1, 28, 28\), got \[2, 1, 32, 32\]/);
  });

  it('gradients match float64 finite differences (BatchNorm in training mode)', async () => {
    const be = createRefBackend();
    const m = ResNet.create(tiny, { backend: be, dtype: 'float64', seed: 3 });
    const data = images(4, 1);
    const task = new ImageTask(m, { train: data, val: data }, [1, 8, 8]);
    const lossOf = (withGrad: boolean) =>
      stepScope(() => {
        const loss = task.loss([tensor(Float64Array.from(data.inputs), [4, 1, 8, 8], { backend: be }), tensor(data.labels, [4], { backend: be })]);
        if (withGrad) {
          m.store!.zeroGrad();
          backward(loss);
        }
        return loss.item();
      });
    // A small step: at h = 1e-4 a pre-activation near 0 can cross ReLU's kink inside the difference
    // quotient (the derivative jumps there); at 1e-6 rounding is still ~3e-10 of the loss.
    expect(await modelGradcheck(m.store!, lossOf, new Rng(5), { coords: 4, tol: 1e-6, h: 1e-6 })).toEqual([]);
  });

  it('replays captured on wasm bit-identically to eager steps, running statistics included', async () => {
    const kernels = await loadWasmKernels();
    const run = async (capture: boolean) => {
      const backend = kernels.createBackend();
      const m = ResNet.create(tiny, { backend, seed: 2 });
      const task = new ImageTask(m, { train: images(32, 1), val: images(8, 2) }, [1, 8, 8]);
      const stepper = new TrainStep(m, new AdamW(m.store!), { loss: task.loss, capture });
      const rng = new Rng(3);
      const losses = [];
      for (let s = 0; s < 4; s++) losses.push((await stepper.runBatch(task.trainBatch(rng, 6), { gradClip: 1 })).loss);
      return { losses, params: Array.from(await backend.read(m.store!.data)), buffers: Array.from(await backend.read(m.store!.buffers!)), eager: stepper.eagerReason };
    };
    const eager = await run(false);
    const captured = await run(true);
    expect(captured.eager).toBeNull();
    expect(captured.losses).toEqual(eager.losses);
    expect(captured.params).toEqual(eager.params);
    expect(captured.buffers).toEqual(eager.buffers);
  });

  it('learns to tell the three patterns apart through the task loop', async () => {
    const kernels = await loadWasmKernels();
    const m = ResNet.create(tiny, { backend: kernels.createBackend(), seed: 4 });
    const task = new ImageTask(m, { train: images(600, 1), val: images(200, 2) }, [1, 8, 8]);
    const config = parseTrainConfig({ batchSize: 16, maxIters: 150, warmupIters: 10, lr: 3e-3, minLr: 3e-4, evalInterval: 150, evalIters: 4, diagInterval: 0, seed: 1, weightDecay: 0 });
    const before = await task.evaluate(32, 4, 1);
    await new Trainer(task, config).run(150);
    const after = await task.evaluate(32, 4, 1);
    expect(before.metrics!.accuracy).toBeLessThan(0.6);
    expect(after.metrics!.accuracy).toBeGreaterThan(0.95);
  });
});
