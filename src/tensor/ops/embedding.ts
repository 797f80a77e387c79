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
  const [V, C] = weight.shape;
  if (ids.backend.readSync) {
    const a = ids.toArraySync();
    for (let i = 0; i < a.length; i++) {
      if (a[i] < 0 || a[i] >= V) throw new ShapeError(`embedding: id ${a[i]} at position ${i} is outside the table's ${V} rows`);
    }
  }
  const out = allocOut(weight, [...ids.shape, C]);
  weight.backend.embeddingForward(weight.storage, ids.storage, out.storage, ids.size, C);
  return record(out, 'embedding', [weight], (g) => {
    const dw = alloc(weight, weight.shape);
    weight.backend.embeddingBackward(g.storage, ids.storage, dw.storage, ids.size, C);
    return [dw];
  });
}
