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
export async function lossAndPredictions(backend: Backend, logitsOf: () => Tensor, labels: Int32Array): Promise<{ loss: number; predicted: Int32Array }> {
  let K = 0;
  const out = await readAfterScope(() => noGrad(() => {
    const logits = logitsOf();
    K = logits.shape[1];
    const loss = classificationLoss(logits, tensor(labels, [labels.length], { backend }));
    return concat([reshape(loss, [1]), reshape(logits, [logits.size])], 0);
  }));
  const predicted = Int32Array.from(labels, (_, b) => {
    let best = 0;
    for (let k = 1; k < K; k++) if (out[1 + b * K + k] > out[1 + b * K + best]) best = k;
    return best;
  });
  return { loss: out[0], predicted };
}
