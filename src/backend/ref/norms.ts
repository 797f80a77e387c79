// LayerNorm and RMSNorm over the last axis for the reference backend: forward passes that save the
// per-row statistics, and backward passes that use them (rows × C layout, float64 accumulation).
import type { FloatArray } from './storage.ts';

/**
 * Ba et al. 2016 with PyTorch's biased variance, computed in two passes (mean, then Σ(x − μ)²) so that
 * inputs offset by ~1e4 do not cancel as E[x²] − E[x]² would. Saves μ and rstd = 1/sqrt(σ² + ε).
 */
export function layerNormForward(
  x: FloatArray,
  w: FloatArray | null,
  b: FloatArray | null,
  out: FloatArray,
  mean: FloatArray,
  rstd: FloatArray,
  rows: number,
  C: number,
  eps: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * C;
    let sum = 0;
    for (let c = 0; c < C; c++) sum += x[o + c];
    const mu = sum / C;
    let ss = 0;
    for (let c = 0; c < C; c++) {
      const d = x[o + c] - mu;
      ss += d * d;
    }
    const s = 1 / Math.sqrt(ss / C + eps);
    for (let c = 0; c < C; c++) {
      const xhat = (x[o + c] - mu) * s;
      out[o + c] = (w ? w[c] : 1) * xhat + (b ? b[c] : 0);
    }
    mean[r] = mu;
    rstd[r] = s;
  }
}

/**
 * With s = rstd, x̂ = (x − μ)s and g = dy·γ: dx = s·(g − mean(g) − x̂·mean(g·x̂)), dγ = Σ_rows dy·x̂,
 * dβ = Σ_rows dy. x̂ is recomputed from the saved μ and s rather than stored.
 */
export function layerNormBackward(
  dy: FloatArray,
  x: FloatArray,
  w: FloatArray | null,
  _mean: FloatArray, // unused here: see the recomputation below
  rstd: FloatArray,
  dx: FloatArray,
  dw: FloatArray | null,
  db: FloatArray | null,
  rows: number,
  C: number,
): void {
  const dwAcc = dw ? new Float64Array(C) : null;
  const dbAcc = db ? new Float64Array(C) : null;
  for (let r = 0; r < rows; r++) {
    const o = r * C;
    // μ is recomputed in float64 rather than read back: stored as float32 it is off by up to ½ ulp
    // (5e-4 at an offset of 1e4), which x̂ = (x − μ)·s would amplify into dγ. Costs one pass over x.
    let sum = 0;
    for (let c = 0; c < C; c++) sum += x[o + c];
    const mu = sum / C;
    const s = rstd[r];
    let sumG = 0;
    let sumGX = 0;
    for (let c = 0; c < C; c++) {
      const xhat = (x[o + c] - mu) * s;
      const g = dy[o + c] * (w ? w[c] : 1);
      sumG += g;
      sumGX += g * xhat;
      if (dwAcc) dwAcc[c] += dy[o + c] * xhat;
      if (dbAcc) dbAcc[c] += dy[o + c];
    }
    const meanG = sumG / C;
    const meanGX = sumGX / C;
    for (let c = 0; c < C; c++) {
      const xhat = (x[o + c] - mu) * s;
      const g = dy[o + c] * (w ? w[c] : 1);
      dx[o + c] = s * (g - meanG - xhat * meanGX);
    }
  }
  if (dw && dwAcc) dw.set(dwAcc);
  if (db && dbAcc) db.set(dbAcc);
}

/** Zhang & Sennrich 2019: y = γ·x·ρ with ρ = 1/sqrt(mean(x²) + ε); saves ρ per row. */
export function rmsNormForward(
  x: FloatArray,
  w: FloatArray | null,
  out: FloatArray,
  rrms: FloatArray,
  rows: number,
  C: number,
  eps: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * C;
    let ss = 0;
    for (let c = 0; c < C; c++) ss += x[o + c] * x[o + c];
    const rho = 1 / Math.sqrt(ss / C + eps);
    for (let c = 0; c < C; c++) out[o + c] = (w ? w[c] : 1) * x[o + c] * rho;
    rrms[r] = rho;
  }
}

/**
 * With g = dy·γ: ∂ρ/∂x_j = −ρ³·x_j/C, so dx_j = ρ·g_j + Σ_i g_i·x_i·(−ρ³x_j/C)
 *                                            = ρ·(g_j − x_j·ρ²·mean(g·x)),
 * and dγ = Σ_rows dy·x·ρ.
 */
export function rmsNormBackward(
  dy: FloatArray,
  x: FloatArray,
  w: FloatArray | null,
  rrms: FloatArray,
  dx: FloatArray,
  dw: FloatArray | null,
  rows: number,
  C: number,
): void {
  const dwAcc = dw ? new Float64Array(C) : null;
  for (let r = 0; r < rows; r++) {
    const o = r * C;
    const rho = rrms[r];
    let sumGX = 0;
    for (let c = 0; c < C; c++) {
      sumGX += dy[o + c] * (w ? w[c] : 1) * x[o + c];
      if (dwAcc) dwAcc[c] += dy[o + c] * x[o + c] * rho;
    }
    const k = rho * rho * (sumGX / C);
    for (let c = 0; c < C; c++) {
      const g = dy[o + c] * (w ? w[c] : 1);
      dx[o + c] = rho * (g - x[o + c] * k);
    }
  }
  if (dw && dwAcc) dw.set(dwAcc);
}

/** Channel c's mean over x as (outer, C, inner), summed in float64 in memory order. */
function channelMean(x: FloatArray, outer: number, C: number, inner: number, c: number): number {
  let sum = 0;
  for (let o = 0; o < outer; o++) for (let i = 0, at = (o * C + c) * inner; i < inner; i++) sum += x[at + i];
  return sum / (outer * inner);
}

/**
 * BatchNorm with the batch's statistics over x as (outer, C, inner): per channel, μ and the biased
 * variance over its outer·inner values in float64, two passes (as torch), then the affine output.
 */
export function batchNormForward(
  x: FloatArray,
  w: FloatArray | null,
  b: FloatArray | null,
  out: FloatArray,
  mean: FloatArray,
  variance: FloatArray,
  rstd: FloatArray,
  outer: number,
  C: number,
  inner: number,
  eps: number,
): void {
  const n = outer * inner;
  for (let c = 0; c < C; c++) {
    const mu = channelMean(x, outer, C, inner, c);
    let ss = 0;
    for (let o = 0; o < outer; o++) {
      for (let i = 0, at = (o * C + c) * inner; i < inner; i++) {
        const d = x[at + i] - mu;
        ss += d * d;
      }
    }
    const s = 1 / Math.sqrt(ss / n + eps);
    const wc = w ? w[c] : 1;
    const bc = b ? b[c] : 0;
    for (let o = 0; o < outer; o++) {
      for (let i = 0, at = (o * C + c) * inner; i < inner; i++) out[at + i] = wc * ((x[at + i] - mu) * s) + bc;
    }
    mean[c] = mu;
    variance[c] = ss / n;
    rstd[c] = s;
  }
}

/**
 * LayerNorm's backward with rows and channels exchanged: per channel, with g = dy·γ and n = outer·inner,
 * dx = s·(g − mean(g) − x̂·mean(g·x̂)), dγ = Σ dy·x̂, dβ = Σ dy. μ is recomputed in float64, as
 * layerNormBackward does (the float32 one would carry its rounding into x̂).
 */
export function batchNormBackward(
  dy: FloatArray,
  x: FloatArray,
  w: FloatArray | null,
  _mean: FloatArray,
  rstd: FloatArray,
  dx: FloatArray,
  dw: FloatArray | null,
  db: FloatArray | null,
  outer: number,
  C: number,
  inner: number,
): void {
  const n = outer * inner;
  for (let c = 0; c < C; c++) {
    const mu = channelMean(x, outer, C, inner, c);
    const s = rstd[c];
    const wc = w ? w[c] : 1;
    let sumDy = 0;
    let sumDyX = 0;
    for (let o = 0; o < outer; o++) {
      for (let i = 0, at = (o * C + c) * inner; i < inner; i++) {
        sumDy += dy[at + i];
        sumDyX += dy[at + i] * ((x[at + i] - mu) * s);
      }
    }
    const meanG = (wc * sumDy) / n;
    const meanGX = (wc * sumDyX) / n;
    for (let o = 0; o < outer; o++) {
      for (let i = 0, at = (o * C + c) * inner; i < inner; i++) {
        const xhat = (x[at + i] - mu) * s;
        dx[at + i] = s * (dy[at + i] * wc - meanG - xhat * meanGX);
      }
    }
    if (dw) dw[c] = sumDyX;
    if (db) db[c] = sumDy;
  }
}
