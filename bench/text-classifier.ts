// The text classifier's training-step case for the `models` rows: a 2-layer encoder, width 128, over
// texts of 40..256 random tokens padded to 256 (the key padding mask), mean pooling, two classes,
// driven through TextClassifyTask, the task that trains it.

import type { Backend } from '../src/backend/backend.ts';
import type { LabelledText } from '../src/data/datasets/types.ts';
import { TextClassifier } from '../src/models/text-classifier.ts';
import { Rng } from '../src/tensor/index.ts';
import { TextClassifyTask } from '../src/train/text-classify-task.ts';
import type { ModelStepCase } from './model-step.ts';

const B = 32;
const V = 512;

export const TEXT_CLASSIFIER_CASE: ModelStepCase = {
  name: `text classifier 2 layers C128 H4, T 256 (texts 40..256), B${B}, mean pooling`,
  kind: 'text_classifier_train_step',
  batchSize: B,
  reps: { quick: 3, full: 10 },
  setup(backend: Backend) {
    const rng = new Rng(0);
    // A text is its token ids written out, so the task's `encode` is a split: no tokenizer in the timing.
    const texts: LabelledText[] = Array.from({ length: 4 * B }, (_, i) => ({
      id: `text ${i}`,
      text: Array.from({ length: 40 + rng.int(217) }, () => rng.int(V)).join(' '),
      label: rng.int(2),
    }));
    const model = TextClassifier.create({ vocabSize: V, maxLen: 256, classes: 2, nLayer: 2, nHead: 4, nEmbd: 128, pooling: 'mean', dropout: 0 }, { backend, seed: 0 });
    const task = new TextClassifyTask(model, { train: texts, val: texts }, { encode: (t) => t.split(' ').map(Number) });
    return { model, loss: task.loss, batch: task.trainBatch(rng, B), config: model.config };
  },
  // [ids, mask, labels]: ids (B, 256) padded with 0, mask 1 on the real tokens.
  torchInputs: ([ids, mask, labels]) => ({ ids: Array.from(ids.data), mask: Array.from(mask.data), labels: Array.from(labels.data) }),
};
