// Classification of fixed-size inputs (flattened images, feature vectors) into classes: random
// mini-batches of examples, the model's cross-entropy, and at evaluation the loss and accuracy over
// fixed subsets of both splits. The residual MLP and the ResNet train through it.

import type { ImageSet } from '../data/datasets/types.ts';
import { Rng } from '../tensor/rng.ts';
import { tensor, type Tensor } from '../tensor/tensor.ts';
import { classificationLoss, lossAndPredictions, type Predictions } from './classification.ts';
import type { HostInput } from './step.ts';
import type { TaskEvaluation, TaskModel, TaskProbe, TrainTask } from './task.ts';

/** N examples of `size` floats each (row-major), with int32 labels in [0, classes). */
export interface LabelledSet {
  inputs: Float32Array;
  labels: Int32Array;
  /** Floats per example (784 for a flattened 28×28 image). */
  size: number;
}

export interface ClassifierModel extends TaskModel {
  /** x: (B, …inputShape) → logits (B, classes); the loss is their mean cross-entropy against the labels. */
  logits(x: Tensor): Tensor;
}

export class ImageTask<M extends ClassifierModel> implements TrainTask<M> {
  readonly loss;

  constructor(
    readonly model: M,
    readonly data: { train: LabelledSet; val: LabelledSet },
    /** The input shape of one example the model reads, e.g. [784] for an MLP or [1, 28, 28] for a CNN. */
    readonly inputShape: readonly number[] = [data.train.size],
  ) {
    for (const [name, set] of Object.entries(data)) {
      if (set.labels.length === 0) throw new RangeError(`the ${name} split has no examples`);
      if (set.inputs.length !== set.labels.length * set.size) throw new RangeError(`the ${name} split has ${set.inputs.length} floats for ${set.labels.length} examples of ${set.size}`);
    }
    this.loss = ([x, y]: readonly Tensor[]) => classificationLoss(model.logits(x), y);
  }

  trainBatch(rng: Rng, B: number): HostInput[] {
    const idx = Int32Array.from({ length: B }, () => rng.int(this.data.train.labels.length));
    return gather(this.data.train, idx, this.inputShape);
  }

  async evaluate(batchSize: number, iters: number, seed: number): Promise<TaskEvaluation> {
    const train = await this.score(this.data.train, batchSize, iters, seed + 1);
    const val = await this.score(this.data.val, batchSize, iters, seed + 2);
    return { trainLoss: train.loss, valLoss: val.loss, metrics: { accuracy: val.accuracy, trainAccuracy: train.accuracy } };
  }

  /** The diagnostics' probe: `n` validation examples drawn with `seed`, through the model's logits. */
  probe(n: number, seed: number): TaskProbe {
    const rng = new Rng(seed);
    const set = this.data.val;
    const idx = Int32Array.from({ length: Math.min(n, set.labels.length) }, () => rng.int(set.labels.length));
    const [x] = gather(set, idx, this.inputShape);
    const be = this.model.backend;
    return {
      probe: { ids: new Int32Array(0), sequences: idx.length, length: 0, source: 'validation images', seed },
      forward: () => this.model.logits(tensor(x.data, x.shape, { backend: be })),
    };
  }

  /** Every example of `set` in order, in batches of `B`: the mean loss, and each one's class and its probability. */
  predictSet(set: LabelledSet, B: number): Promise<Predictions> {
    const be = this.model.backend;
    const n = set.labels.length;
    const predicted = new Int32Array(n);
    const probability = new Float32Array(n);
    return this.model.inEvalMode(async () => {
      let loss = 0;
      for (let i = 0; i < n; i += B) {
        const idx = Int32Array.from({ length: Math.min(B, n - i) }, (_, k) => i + k);
        const [x, y] = gather(set, idx, this.inputShape);
        const r = await lossAndPredictions(be, () => this.model.logits(tensor(x.data, x.shape, { backend: be })), y.data as Int32Array);
        loss += r.loss * idx.length;
        predicted.set(r.predicted, i);
        probability.set(r.probability, i);
      }
      return { loss: loss / n, predicted, probability };
    });
  }

  /** Mean loss and accuracy over `iters` batches drawn with `seed` (the same ones on every call). */
  private score(set: LabelledSet, B: number, iters: number, seed: number): Promise<{ loss: number; accuracy: number }> {
    const rng = new Rng(seed);
    const be = this.model.backend;
    return this.model.inEvalMode(async () => {
      let loss = 0;
      let correct = 0;
      for (let i = 0; i < iters; i++) {
        const idx = Int32Array.from({ length: B }, () => rng.int(set.labels.length));
        const [x, y] = gather(set, idx, this.inputShape);
        const labels = y.data as Int32Array;
        const r = await lossAndPredictions(be, () => this.model.logits(tensor(x.data, x.shape, { backend: be })), labels);
        loss += r.loss;
        correct += r.predicted.filter((p, b) => p === labels[b]).length;
      }
      return { loss: loss / iters, accuracy: correct / (iters * B) };
    });
  }
}

/** Greyscale images as classifier inputs: each pixel byte scaled to [0, 1], one example per image. */
export function imagesAsInputs(set: ImageSet): LabelledSet {
  return { inputs: Float32Array.from(set.pixels, (p) => p / 255), labels: Int32Array.from(set.labels), size: set.rows * set.cols };
}

function gather(set: LabelledSet, idx: Int32Array, inputShape: readonly number[]): HostInput[] {
  const x = new Float32Array(idx.length * set.size);
  idx.forEach((j, b) => x.set(set.inputs.subarray(j * set.size, (j + 1) * set.size), b * set.size));
  const y = Int32Array.from(idx, (j) => set.labels[j]);
  return [
    { data: x, shape: [idx.length, ...inputShape] },
    { data: y, shape: [idx.length] },
  ];
}
