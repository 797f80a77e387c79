// Embedding lookup: a gather of rows, with a scatter-add backward.

import { record } from '../autograd.ts';
import { fmt, ShapeError } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { alloc, allocOut, checkFloat, checkSameBackend } from './common.ts';

/** weight (V, C) gathered at int32 ids of any shape → (...ids.shape, C). */
export function embedding(weight: Tensor, ids: Tensor): Tensor {
  checkSameBackend('embedding', weight, ids);
  checkFloat('embedding', weight);
  if (ids.dtype !== 'int32') throw new ShapeError(`embedding: ids must be int32, got ${ids.dtype}`);
  if (weight.rank !== 2) throw new ShapeError(`embedding: weight must be (V, C), got ${fmt(weight.shape)}`);
  const C = weight.shape[1];
  // Ids are checked against V by the backend's kernel (naming the bad id and its position), not read back here:
  // a training step must not copy its inputs to JavaScript, and a captured step has no JavaScript to do it.
  const out = allocOut(weight, [...ids.shape, C]);
  weight.backend.embeddingForward(weight.storage, ids.storage, out.storage, ids.size, C);
  return record(out, 'embedding', [weight], (g) => {
    const dw = alloc(weight, weight.shape);
    weight.backend.embeddingBackward(g.storage, ids.storage, dw.storage, ids.size, C);
    return [dw];
  });
}
