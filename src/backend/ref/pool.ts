// Max and average pooling over NCHW planes for the reference backend, forward and backward, with
// torch's semantics: max pooling never picks padding and takes the first maximum of a window (NaN
// wins); average pooling divides by kH·kW, padding included (count_include_pad, torch's default).
import type { Pool2dArgs } from '../backend.ts';
import type { FloatArray } from './storage.ts';

/** Rows (or columns) [lo, hi) of the input that output row i's window covers, clipped to the plane. */
function span(i: number, stride: number, pad: number, k: number, n: number): [number, number] {
  const start = i * stride - pad;
  return [Math.max(start, 0), Math.min(start + k, n)];
}

export function maxPool2dForward(x: FloatArray, out: FloatArray, argmax: Int32Array, a: Pool2dArgs): void {
  const { B, C, H, W, kH, kW, strideH, strideW, padH, padW, Ho, Wo } = a;
  for (let p = 0; p < B * C; p++) {
    const xp = p * H * W;
    for (let i = 0; i < Ho; i++) {
      const [h0, h1] = span(i, strideH, padH, kH, H);
      for (let j = 0; j < Wo; j++) {
        const [w0, w1] = span(j, strideW, padW, kW, W);
        // torch's CPU kernel: start at the first element inside the plane with −∞, replace on > or NaN
        // (so the first maximum, or the last NaN).
        let best = -Infinity;
        let at = h0 * W + w0;
        for (let h = h0; h < h1; h++) {
          for (let w = w0; w < w1; w++) {
            const v = x[xp + h * W + w];
            if (v > best || Number.isNaN(v)) {
              best = v;
              at = h * W + w;
            }
          }
        }
        const o = (p * Ho + i) * Wo + j;
        out[o] = best;
        argmax[o] = at;
      }
    }
  }
}

export function maxPool2dBackward(dy: FloatArray, argmax: Int32Array, dx: FloatArray, a: Pool2dArgs): void {
  const { B, C, H, W, Ho, Wo } = a;
  const acc = new Float64Array(H * W);
  for (let p = 0; p < B * C; p++) {
    acc.fill(0);
    for (let o = 0; o < Ho * Wo; o++) acc[argmax[p * Ho * Wo + o]] += dy[p * Ho * Wo + o];
    dx.set(acc, p * H * W);
  }
}

export function avgPool2dForward(x: FloatArray, out: FloatArray, a: Pool2dArgs): void {
  const { B, C, H, W, kH, kW, strideH, strideW, padH, padW, Ho, Wo } = a;
  for (let p = 0; p < B * C; p++) {
    const xp = p * H * W;
    for (let i = 0; i < Ho; i++) {
      const [h0, h1] = span(i, strideH, padH, kH, H);
      for (let j = 0; j < Wo; j++) {
        const [w0, w1] = span(j, strideW, padW, kW, W);
        let s = 0;
        for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) s += x[xp + h * W + w];
        out[(p * Ho + i) * Wo + j] = s / (kH * kW);
      }
    }
  }
}

export function avgPool2dBackward(dy: FloatArray, dx: FloatArray, a: Pool2dArgs): void {
  const { B, C, H, W, kH, kW, strideH, strideW, padH, padW, Ho, Wo } = a;
  const acc = new Float64Array(H * W);
  for (let p = 0; p < B * C; p++) {
    acc.fill(0);
    for (let i = 0; i < Ho; i++) {
      const [h0, h1] = span(i, strideH, padH, kH, H);
      for (let j = 0; j < Wo; j++) {
        const [w0, w1] = span(j, strideW, padW, kW, W);
        const g = dy[(p * Ho + i) * Wo + j] / (kH * kW);
        for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) acc[h * W + w] += g;
      }
    }
    dx.set(acc, p * H * W);
  }
}
