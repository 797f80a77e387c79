// Matrix products: torch.matmul semantics (batched, broadcasting batch dimensions) and linear layers.
// A batch operand of size 1 is passed to the kernel with stride 0 instead of being copied, which
// is the common case of activations (B, T, C) times a shared weight.

import type { MatmulArgs } from '../../backend/backend.ts';
import { record } from '../autograd.ts';
import { broadcastShapes, fmt, padShape, ShapeError, sizeOf } from '../shape.ts';
import { viewAs, type Tensor } from '../tensor.ts';
import { allocOut, checkInputs } from './common.ts';
import { expand, reshape, sumTo } from './layout.ts';

/** a·b into `out` (a new tensor of outShape unless given: with accumulate, out's values are added to). */
function run(a: Tensor, b: Tensor, outShape: readonly number[], args: Partial<MatmulArgs> & Pick<MatmulArgs, 'm' | 'n' | 'k'>,
  out = allocOut(a, outShape)): Tensor {
  a.backend.matmul(a.storage, b.storage, out.storage, {
    batch: 1,
    transA: false,
    transB: false,
    strideA: 0,
    strideB: 0,
    accumulate: false,
    ...args,
  });
  return out;
}

export function matmul(a: Tensor, b: Tensor): Tensor {
  checkInputs('matmul', a, b);
  if (a.rank < 2 || b.rank < 2) throw new ShapeError(`matmul: both operands need at least 2 dimensions, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  const [M, K] = a.shape.slice(-2);
  const [K2, N] = b.shape.slice(-2);
  if (K !== K2) throw new ShapeError(`matmul: inner dimensions differ: ${fmt(a.shape)} @ ${fmt(b.shape)} (${K} vs ${K2})`);
  const batchShape = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'matmul');
  const batch = sizeOf(batchShape);
  // Each operand either spans the whole batch, is shared (batch size 1), or must be expanded.
  const fit = (t: Tensor, rows: number, cols: number): Tensor => {
    const tb = t.shape.slice(0, -2);
    if (sizeOf(tb) === 1 || padShape(tb, batchShape.length).every((d, i) => d === batchShape[i])) return t;
    return expand(t, [...batchShape, rows, cols]);
  };
  const a2 = fit(a, M, K);
  const b2 = fit(b, K, N);
  const aShared = sizeOf(a2.shape.slice(0, -2)) === 1 && batch > 1;
  const bShared = sizeOf(b2.shape.slice(0, -2)) === 1 && batch > 1;
  const out = run(a2, b2, [...batchShape, M, N], { batch, m: M, n: N, k: K, strideA: aShared ? 0 : M * K, strideB: bShared ? 0 : K * N });
  return record(out, 'matmul', [a2, b2], (g) => {
    let da: Tensor | null = null;
    let db: Tensor | null = null;
    if (a2.requiresGrad) {
      // dA = dC · Bᵀ, per batch; a shared A sums over the batch.
      const full = run(g, b2, [...batchShape, M, K], { batch, m: M, n: K, k: N, transB: true, strideA: M * N, strideB: bShared ? 0 : K * N });
      da = aShared ? sumTo(full, a2.shape) : viewAs(full, a2.shape);
    }
    if (b2.requiresGrad) {
      if (bShared && !aShared) {
        // dB = Σ_batch Aᵀ·dC = A_flatᵀ (K, batch·M) · dC_flat (batch·M, N): one product, no reduction.
        db = viewAs(run(a2, g, [K, N], { m: K, n: N, k: batch * M, transA: true }), b2.shape);
      } else {
        const full = run(a2, g, [...batchShape, K, N], { batch, m: K, n: N, k: M, transA: true, strideA: aShared ? 0 : M * K, strideB: M * N });
        db = bShared ? sumTo(full, b2.shape) : viewAs(full, b2.shape);
      }
    }
    return [da, db];
  });
}

/**
 * y = x·Wᵀ + b with W stored (out, in) as in torch.nn.Linear; x is (..., in). With a bias, the output
 * starts as b broadcast over the rows and the product accumulates onto it: no separate add pass and
 * no second activation buffer. b's gradient is the column sum of dy.
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  checkInputs('linear', x, weight);
  const [outF, inF] = weight.shape;
  if (weight.rank !== 2 || x.shape[x.rank - 1] !== inF) {
    throw new ShapeError(`linear: input ${fmt(x.shape)} does not match weight ${fmt(weight.shape)} (expected last dimension ${inF})`);
  }
  if (bias) {
    checkInputs('linear', x, bias);
    if (bias.rank !== 1 || bias.shape[0] !== outF) throw new ShapeError(`linear: bias ${fmt(bias.shape)} does not match weight ${fmt(weight.shape)} (expected [${outF}])`);
  }
  const rows = x.size / inF;
  const x2 = reshape(x, [rows, inF]);
  const out = allocOut(x2, [rows, outF]);
  if (bias) x.backend.stridedCopy(bias.storage, 0, [0, 1], out.storage, 0, [outF, 1], [rows, outF]);
  run(x2, weight, out.shape, { m: rows, n: outF, k: inF, transB: true, accumulate: bias !== null }, out);
  const inputs = bias ? [x2, weight, bias] : [x2, weight];
  const y = record(out, 'linear', inputs, (g) => [
    x2.requiresGrad ? run(g, weight, [rows, inF], { m: rows, n: inF, k: outF }) : null,
    weight.requiresGrad ? run(g, x2, [outF, inF], { m: outF, n: inF, k: rows, transA: true }) : null,
    bias?.requiresGrad ? sumTo(g, bias.shape) : null,
  ]);
  return reshape(y, [...x.shape.slice(0, -1), outF]);
}
