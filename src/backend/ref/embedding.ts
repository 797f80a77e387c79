// Embedding lookup (gather) and its gradient (scatter-add) for the reference backend; ids are int32.
import type { FloatArray } from './storage.ts';

function checkId(id: number, i: number, V: number): void {
  if (!(id >= 0 && id < V)) {
    throw new Error(`Embedding id ${id} at position ${i} is outside [0, ${V}); the vocabulary has ${V} rows.`);
  }
}

/** out[i, :] = weight[ids[i], :]. */
export function embeddingForward(weight: FloatArray, ids: Int32Array, out: FloatArray, N: number, C: number): void {
  const V = Math.floor(weight.length / C);
  for (let i = 0; i < N; i++) {
    const id = ids[i];
    checkId(id, i, V);
    for (let c = 0; c < C; c++) out[i * C + c] = weight[id * C + c];
  }
}

/**
 * dweight[ids[i], :] += dout[i, :]. A repeated id sums several rows: that sum is kept in float64 and
 * added to dweight once, so the result does not depend on float32 rounding order.
 */
export function embeddingBackward(dout: FloatArray, ids: Int32Array, dweight: FloatArray, N: number, C: number): void {
  const V = Math.floor(dweight.length / C);
  const sums = new Map<number, Float64Array>();
  for (let i = 0; i < N; i++) {
    const id = ids[i];
    checkId(id, i, V);
    let row = sums.get(id);
    if (!row) {
      row = new Float64Array(C);
      sums.set(id, row);
    }
    for (let c = 0; c < C; c++) row[c] += dout[i * C + c];
  }
  for (const [id, row] of sums) {
    for (let c = 0; c < C; c++) dweight[id * C + c] += row[c];
  }
}
