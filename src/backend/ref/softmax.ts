// Row-wise softmax and log-softmax (rows × C) for the reference backend, with the row max subtracted
// first so exp never overflows, and their backward passes from the saved outputs.
import type { FloatArray } from './storage.ts';

/** max_j x[o + j] for one row (−Infinity for an empty row; NaN propagates through the later exp). */
export function rowMax(x: FloatArray, o: number, C: number): number {
  let m = -Infinity;
  for (let c = 0; c < C; c++) if (x[o + c] > m) m = x[o + c];
  return m;
}

/** log Σ_j exp(x[o + j]), shifted by the row max; an all −Infinity row gives −Infinity. */
export function rowLogSumExp(x: FloatArray, o: number, C: number): number {
  const m = rowMax(x, o, C);
  if (m === -Infinity) return -Infinity;
  let sum = 0;
  for (let c = 0; c < C; c++) sum += Math.exp(x[o + c] - m);
  return m + Math.log(sum);
}

export function softmaxForward(x: FloatArray, out: FloatArray, rows: number, C: number): void {
  const e = new Float64Array(C);
  for (let r = 0; r < rows; r++) {
    const o = r * C;
    const m = rowMax(x, o, C);
    let sum = 0;
    for (let c = 0; c < C; c++) {
      e[c] = Math.exp(x[o + c] - m);
      sum += e[c];
    }
    for (let c = 0; c < C; c++) out[o + c] = e[c] / sum;
  }
}

/** dx = y·(dy − Σ dy·y): the softmax Jacobian diag(y) − y·yᵀ applied to dy. */
export function softmaxBackward(y: FloatArray, dy: FloatArray, dx: FloatArray, rows: number, C: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * C;
    let dot = 0;
    for (let c = 0; c < C; c++) dot += dy[o + c] * y[o + c];
    for (let c = 0; c < C; c++) dx[o + c] = y[o + c] * (dy[o + c] - dot);
  }
}

export function logSoftmaxForward(x: FloatArray, out: FloatArray, rows: number, C: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * C;
    const lse = rowLogSumExp(x, o, C);
    for (let c = 0; c < C; c++) out[o + c] = x[o + c] - lse;
  }
}

/** dx = dy − softmax·Σ dy, where softmax = exp(y) for the saved log-softmax y. */
export function logSoftmaxBackward(y: FloatArray, dy: FloatArray, dx: FloatArray, rows: number, C: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * C;
    let sum = 0;
    for (let c = 0; c < C; c++) sum += dy[o + c];
    for (let c = 0; c < C; c++) dx[o + c] = dy[o + c] - Math.exp(y[o + c]) * sum;
  }
}
