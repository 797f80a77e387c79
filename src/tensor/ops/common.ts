// Helpers every op front-end uses: result allocation on the inputs' backend and argument checks.

import type { DType } from '../../backend/backend.ts';
import { ShapeError, fmt, type Shape } from '../shape.ts';
import { empty, zeros, type Tensor } from '../tensor.ts';

/** A new (arena-owned), zero-filled result tensor on the same backend as `like`. */
export function alloc(like: Tensor, shape: Shape, dtype: DType = like.dtype): Tensor {
  return zeros(shape, { backend: like.backend, dtype });
}

/**
 * alloc for an output the next kernel writes entirely (every kernel does, per the Backend contract,
 * except accumulating ones): the backend may skip zeroing it. Zeroing reused blocks was ~4% of a
 * wasm training step.
 */
export function allocOut(like: Tensor, shape: Shape, dtype: DType = like.dtype): Tensor {
  return empty(shape, { backend: like.backend, dtype });
}

export function checkSameBackend(op: string, ...ts: Tensor[]): void {
  const b = ts[0].backend;
  for (const t of ts) {
    if (t.backend !== b) throw new Error(`${op}: tensors live on different backends ('${b.name}' and '${t.backend.name}'); move them to one backend first`);
  }
}

export function checkFloat(op: string, ...ts: Tensor[]): void {
  for (const t of ts) {
    if (t.dtype === 'int32') throw new ShapeError(`${op}: expected a float tensor, got int32 ${fmt(t.shape)}`);
  }
}

export function checkSameDtype(op: string, ...ts: Tensor[]): void {
  for (const t of ts) {
    if (t.dtype !== ts[0].dtype) throw new ShapeError(`${op}: dtypes differ (${ts[0].dtype} and ${t.dtype})`);
  }
}

/** The standard check for float ops over several inputs. */
export function checkInputs(op: string, ...ts: Tensor[]): void {
  checkSameBackend(op, ...ts);
  checkFloat(op, ...ts);
  checkSameDtype(op, ...ts);
}
