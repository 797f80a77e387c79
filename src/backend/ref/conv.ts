// 2-D convolution (NCHW, dilation 1, groups 1) for the reference backend: the direct six-deep loop
// with float64 accumulators, forward and backward — the oracle the wasm im2col + sgemm kernels are
// compared with.
import type { Conv2dArgs } from '../backend.ts';
import type { FloatArray } from './storage.ts';

/**
 * The input row h and the first and last output column of window column kw that land inside the
 * plane: j in [j0, j1) reads column j·strideW − padW + kw ∈ [0, W).
 */
function columnRange(kw: number, a: Conv2dArgs): [number, number] {
  const { W, Wo, strideW: s, padW: p } = a;
  const j0 = Math.max(0, Math.ceil((p - kw) / s));
  const j1 = Math.min(Wo, Math.floor((W - 1 + p - kw) / s) + 1);
  return [j0, Math.max(j0, j1)];
}

export function conv2dForward(x: FloatArray, w: FloatArray, bias: FloatArray | null, out: FloatArray, a: Conv2dArgs): void {
  const { B, Cin, H, W, Cout, kH, kW, strideH, padH, strideW, padW, Ho, Wo } = a;
  const acc = new Float64Array(Ho * Wo);
  for (let b = 0; b < B; b++) {
    for (let co = 0; co < Cout; co++) {
      acc.fill(bias ? bias[co] : 0);
      for (let ci = 0; ci < Cin; ci++) {
        const xp = (b * Cin + ci) * H * W;
        for (let kh = 0; kh < kH; kh++) {
          for (let kw = 0; kw < kW; kw++) {
            const wv = w[((co * Cin + ci) * kH + kh) * kW + kw];
            const [j0, j1] = columnRange(kw, a);
            for (let i = 0; i < Ho; i++) {
              const h = i * strideH - padH + kh;
              if (h < 0 || h >= H) continue;
              const row = xp + h * W - padW + kw;
              for (let j = j0; j < j1; j++) acc[i * Wo + j] += wv * x[row + j * strideW];
            }
          }
        }
      }
      out.set(acc, (b * Cout + co) * Ho * Wo);
    }
  }
}

/** dx = Σ_windows dy·w (scatter), dw = Σ_{b,i,j} dy·x (the same windows), dbias = Σ dy; all summed in float64. */
export function conv2dBackward(dy: FloatArray, x: FloatArray, w: FloatArray, dx: FloatArray | null, dw: FloatArray | null,
  dbias: FloatArray | null, a: Conv2dArgs): void {
  const { B, Cin, H, W, Cout, kH, kW, strideH, padH, strideW, padW, Ho, Wo } = a;
  const L = Ho * Wo;
  const dxAcc = dx ? new Float64Array(B * Cin * H * W) : null;
  const dwAcc = dw ? new Float64Array(Cout * Cin * kH * kW) : null;
  const dbAcc = dbias ? new Float64Array(Cout) : null;
  for (let b = 0; b < B; b++) {
    for (let co = 0; co < Cout; co++) {
      const gp = (b * Cout + co) * L;
      if (dbAcc) for (let l = 0; l < L; l++) dbAcc[co] += dy[gp + l];
      for (let ci = 0; ci < Cin; ci++) {
        const xp = (b * Cin + ci) * H * W;
        for (let kh = 0; kh < kH; kh++) {
          for (let kw = 0; kw < kW; kw++) {
            const wi = ((co * Cin + ci) * kH + kh) * kW + kw;
            const wv = w[wi];
            const [j0, j1] = columnRange(kw, a);
            let sw = 0;
            for (let i = 0; i < Ho; i++) {
              const h = i * strideH - padH + kh;
              if (h < 0 || h >= H) continue;
              const row = xp + h * W - padW + kw;
              for (let j = j0; j < j1; j++) {
                const g = dy[gp + i * Wo + j];
                if (dxAcc) dxAcc[row + j * strideW] += g * wv;
                sw += g * x[row + j * strideW];
              }
            }
            if (dwAcc) dwAcc[wi] += sw;
          }
        }
      }
    }
  }
  if (dx && dxAcc) dx.set(dxAcc);
  if (dw && dwAcc) dw.set(dwAcc);
  if (dbias && dbAcc) dbias.set(dbAcc);
}
