// What the classification tasks (images, texts) share: the loss of logits (B, K) against int32 labels
// (B), and a batch's loss with every row's predicted class, gathered on the backend and read once.

import type { Backend } from '../backend/backend.ts';
import { readAfterScope } from '../tensor/arena.ts';
import { noGrad } from '../tensor/autograd.ts';
import { concat, reshape } from '../tensor/ops/layout.ts';
import { crossEntropy } from '../tensor/ops/softmax.ts';
import { tensor, type Tensor } from '../tensor/tensor.ts';

/** Mean cross-entropy of logits (B, K) against int32 labels (B). */
export function classificationLoss(logits: Tensor, labels: Tensor): Tensor {
  const B = labels.shape[0];
  return crossEntropy(reshape(logits, [B, 1, logits.shape[1]]), reshape(labels, [B, 1]));
}

/**
 * The mean loss of one batch and each row's argmax class, without gradients; `logitsOf` builds the
 * batch's logits (B, K) inside the scope. The loss and the logits travel in one buffer: one read.
 */
export async function lossAndPredictions(backend: Backend, logitsOf: () => Tensor, labels: Int32Array): Promise<Predictions> {
  let K = 0;
  const out = await readAfterScope(() => noGrad(() => {
    const logits = logitsOf();
    K = logits.shape[1];
    const loss = classificationLoss(logits, tensor(labels, [labels.length], { backend }));
    return concat([reshape(loss, [1]), reshape(logits, [logits.size])], 0);
  }));
  const predicted = new Int32Array(labels.length);
  const probability = new Float32Array(labels.length);
  for (let b = 0; b < labels.length; b++) {
    const row = 1 + b * K;
    let best = 0;
    for (let k = 1; k < K; k++) if (out[row + k] > out[row + best]) best = k;
    // softmax of the best class, shifted by its logit (the largest) so no exp overflows
    let z = 0;
    for (let k = 0; k < K; k++) z += Math.exp(out[row + k] - out[row + best]);
    predicted[b] = best;
    probability[b] = 1 / z;
  }
  return { loss: out[0], predicted, probability };
}

export interface Predictions {
  /** The mean loss against the labels given. */
  loss: number;
  /** Each row's most likely class. */
  predicted: Int32Array;
  /** Its softmax probability. */
  probability: Float32Array;
}
