// Scaled dot-product attention per head over (BH, T, D) float32, forward and backward. Like the
// reference (the FlashAttention recipe, Dao et al. 2022) it keeps one row of T scores at a time and
// recomputes probabilities in backward from the saved logsumexp; dot products and row updates are
// f32x4, exp is the vectorised one.
import { axpyRow, dot } from './simd';
import { rowMax, rowSumExp } from './softmax';

/** s[j] = scale·q_t·k_j for j < keys. */
@inline function scores(qt: usize, kh: usize, keys: i32, D: i32, scale: f32, s: usize): void {
  for (let j = 0; j < keys; j++) store<f32>(s + (<usize>j << 2), scale * dot(qt, kh + (<usize>(j * D) << 2), D));
}

/** srow: T float32s of scratch. */
export function attentionForward(q: usize, k: usize, v: usize, out: usize, lse: usize, BH: i32, T: i32, D: i32, scale: f32,
  causal: bool, srow: usize): void {
  const rowBytes = <usize>D << 2;
  for (let h = 0; h < BH; h++) {
    const base = <usize>(h * T * D) << 2;
    const kh = k + base;
    const vh = v + base;
    for (let t = 0; t < T; t++) {
      const keys = causal ? t + 1 : T;
      const qt = q + base + <usize>t * rowBytes;
      const ot = out + base + <usize>t * rowBytes;
      scores(qt, kh, keys, D, scale, srow);
      const m = rowMax(srow, keys);
      const sum = rowSumExp(srow, keys, m, srow); // srow now holds unnormalised probabilities
      memory.fill(ot, 0, rowBytes);
      for (let j = 0; j < keys; j++) axpyRow(vh + <usize>j * rowBytes, ot, D, load<f32>(srow + (<usize>j << 2)));
      const inv = <f32>(1 / <f64>sum);
      for (let d = 0; d < D; d++) store<f32>(ot + (<usize>d << 2), load<f32>(ot + (<usize>d << 2)) * inv);
      store<f32>(lse + (<usize>(h * T + t) << 2), <f32>(<f64>m + Math.log(<f64>sum)));
    }
  }
}

/**
 * With P = exp(S − lse) and Δ_t = dO_t·O_t: dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P⊙(dP − Δ),
 * dQ = scale·dS·K, dK = scale·dSᵀ·Q. dK and dV are accumulated in place after zeroing.
 */
export function attentionBackward(q: usize, k: usize, v: usize, out: usize, lse: usize, dout: usize, dq: usize, dk: usize,
  dv: usize, BH: i32, T: i32, D: i32, scale: f32, causal: bool, srow: usize): void {
  const rowBytes = <usize>D << 2;
  for (let h = 0; h < BH; h++) {
    const base = <usize>(h * T * D) << 2;
    const kh = k + base;
    const vh = v + base;
    const dkh = dk + base;
    const dvh = dv + base;
    memory.fill(dkh, 0, <usize>T * rowBytes);
    memory.fill(dvh, 0, <usize>T * rowBytes);
    for (let t = 0; t < T; t++) {
      const keys = causal ? t + 1 : T;
      const ro = base + <usize>t * rowBytes;
      const qt = q + ro;
      const got = dout + ro;
      const dqt = dq + ro;
      scores(qt, kh, keys, D, scale, srow);
      rowSumExp(srow, keys, load<f32>(lse + (<usize>(h * T + t) << 2)), srow); // srow = P_t
      const delta = dot(got, out + ro, D);
      memory.fill(dqt, 0, rowBytes);
      for (let j = 0; j < keys; j++) {
        const p = load<f32>(srow + (<usize>j << 2));
        const jo = <usize>j * rowBytes;
        axpyRow(got, dvh + jo, D, p);
        const ds = scale * p * (dot(got, vh + jo, D) - delta);
        axpyRow(kh + jo, dqt, D, ds);
        axpyRow(qt, dkh + jo, D, ds);
      }
    }
  }
}
