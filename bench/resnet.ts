// The ResNet's training-step case for the `models` rows: the default small ResNet (1 channel, 28×28,
// width 16, stages of [2, 2] basic blocks, 10 classes), batch 64 of random images, driven through
// ImageTask with inputShape [1, 28, 28], the task that trains it.

import type { Backend } from '../src/backend/backend.ts';
import { ResNet } from '../src/models/resnet.ts';
import { Rng } from '../src/tensor/index.ts';
import { ImageTask } from '../src/train/image-task.ts';
import type { ModelStepCase } from './model-step.ts';

const B = 64;

export const RESNET_CASE: ModelStepCase = {
  name: `ResNet 1×28×28, width 16, blocks [2, 2], 10 classes, B${B}`,
  kind: 'resnet_train_step',
  batchSize: B,
  reps: { quick: 3, full: 10 },
  setup(backend: Backend) {
    const model = ResNet.create({}, { backend, seed: 0 });
    const { channels, size, classes } = model.config;
    const rng = new Rng(0);
    const n = 4 * B;
    const px = channels * size * size;
    const set = { inputs: Float32Array.from({ length: n * px }, () => rng.uniform()), labels: Int32Array.from({ length: n }, () => rng.int(classes)), size: px };
    const task = new ImageTask(model, { train: set, val: set }, [channels, size, size]);
    return { model, loss: task.loss, batch: task.trainBatch(rng, B), config: model.config };
  },
  // No torchInputs: PyTorch draws pixels and labels of the same shapes (their values do not change the work).
};
