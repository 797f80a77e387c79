// Cross-entropy with label smoothing (Szegedy et al. 2016), as torch.nn.CrossEntropyLoss(
// label_smoothing=ε, ignore_index=−100): each counted position's loss is (1−ε)·(−log p[target]) +
// ε·mean over the V classes of (−log p), averaged over the positions whose target is not ignored.
// Composed from the fused cross-entropy and log-softmax; which positions count is computed on the
// backend from the targets, so a captured step replays it with each new batch's padding.

import { noGrad } from '../tensor/autograd.ts';
import { add, div, mul, neg, scale } from '../tensor/ops/elementwise.ts';
import { reshape } from '../tensor/ops/layout.ts';
import { mean, sum } from '../tensor/ops/reduce.ts';
import { crossEntropy, IGNORE_INDEX, logSoftmax } from '../tensor/ops/softmax.ts';
import { empty, tensor, type Tensor } from '../tensor/tensor.ts';

/** logits (..., V), int32 targets (...) with ignoreIndex at the positions that do not count; a scalar. */
export function labelSmoothedCrossEntropy(logits: Tensor, targets: Tensor, epsilon: number, ignoreIndex = IGNORE_INDEX): Tensor {
  if (!(epsilon >= 0 && epsilon < 1)) throw new Error(`labelSmoothedCrossEntropy: ε must be in [0, 1), got ${epsilon}`);
  const nll = crossEntropy(logits, targets, ignoreIndex); // checks the shapes and the targets' range
  if (epsilon === 0) return nll;
  const V = logits.shape[logits.rank - 1];
  const N = logits.size / V;
  const be = logits.backend;
  const dtype = logits.dtype;
  const counted = noGrad(() => {
    const t = empty([N, 1], { backend: be, dtype });
    be.cast(targets.storage, t.storage);
    const ignored = empty([N, 1], { backend: be, dtype });
    be.equal(t.storage, [N, 1], tensor([ignoreIndex], [1, 1], { backend: be, dtype }).storage, [1, 1], ignored.storage);
    return scale(ignored, -1, 1); // (N, 1): 1 where the target counts
  });
  const count = noGrad(() => sum(counted));
  // max(count, 1): with no counted position the loss is 0, as torch's (and crossEntropy's) is.
  const none = noGrad(() => {
    const z = empty([], { backend: be, dtype });
    be.equal(count.storage, [], tensor([0], [], { backend: be, dtype }).storage, [], z.storage);
    return z;
  });
  const uniform = mean(logSoftmax(reshape(logits, [N, V])), [-1], true); // (N, 1): mean over classes of log p
  const smooth = neg(div(sum(mul(uniform, counted)), noGrad(() => add(count, none))));
  return add(scale(nll, 1 - epsilon), scale(smooth, epsilon));
}
