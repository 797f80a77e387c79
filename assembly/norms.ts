// LayerNorm (Ba et al. 2016, PyTorch's biased variance) and RMSNorm (Zhang & Sennrich 2019) over rows
// of width C, forward and backward. The mean is summed in float64, then split into float32 hi + lo
// parts so x − μ is computed as (x − hi) − lo: exact when x is near μ (Sterbenz), which keeps the
// 1e4-offset case as accurate as the reference's float64 two-pass variance while the rest runs in f32x4.
import { hsum, madd } from './simd';

/** Σ x over one row, in float64 (two floats per step). */
function rowSum64(x: usize, C: i32): f64 {
  // Four independent accumulators: a single chain waits on the add latency for every two floats.
  let a0 = f64x2.splat(0);
  let a1 = f64x2.splat(0);
  let a2 = f64x2.splat(0);
  let a3 = f64x2.splat(0);
  let c = 0;
  for (; c + 8 <= C; c += 8) {
    const v0 = v128.load(x + (<usize>c << 2));
    const v1 = v128.load(x + (<usize>(c + 4) << 2));
    a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v0));
    a1 = f64x2.add(a1, f64x2.promote_low_f32x4(v128.shuffle<f32>(v0, v0, 2, 3, 0, 1)));
    a2 = f64x2.add(a2, f64x2.promote_low_f32x4(v1));
    a3 = f64x2.add(a3, f64x2.promote_low_f32x4(v128.shuffle<f32>(v1, v1, 2, 3, 0, 1)));
  }
  let acc = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
  for (; c + 2 <= C; c += 2) acc = f64x2.add(acc, f64x2.promote_low_f32x4(v128.load64_zero(x + (<usize>c << 2))));
  let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  if (c < C) s += <f64>load<f32>(x + (<usize>c << 2));
  return s;
}

@inline function wAt(w: usize, c: i32): f32 {
  return w == 0 ? 1 : load<f32>(w + (<usize>c << 2));
}

// Row statistics of e = x − p for a pilot p (one pass): Σe and Σe², four independent f32x4 chains
// each, the sums finished in float64. Set by shiftedStats (module globals: each thread has its own instance).
let statSum: f64 = 0;
let statSq: f64 = 0;

@inline function shiftedStats(xr: usize, C: i32, p: f32): void {
  const vp = f32x4.splat(p);
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  let q0 = f32x4.splat(0), q1 = f32x4.splat(0), q2 = f32x4.splat(0), q3 = f32x4.splat(0);
  const end = xr + (<usize>C << 2);
  let a = xr;
  for (; a + 64 <= end; a += 64) {
    const e0 = f32x4.sub(v128.load(a), vp);
    const e1 = f32x4.sub(v128.load(a, 16), vp);
    const e2 = f32x4.sub(v128.load(a, 32), vp);
    const e3 = f32x4.sub(v128.load(a, 48), vp);
    s0 = f32x4.add(s0, e0);
    s1 = f32x4.add(s1, e1);
    s2 = f32x4.add(s2, e2);
    s3 = f32x4.add(s3, e3);
    q0 = madd(e0, e0, q0);
    q1 = madd(e1, e1, q1);
    q2 = madd(e2, e2, q2);
    q3 = madd(e3, e3, q3);
  }
  for (; a + 16 <= end; a += 16) {
    const e = f32x4.sub(v128.load(a), vp);
    s0 = f32x4.add(s0, e);
    q0 = madd(e, e, q0);
  }
  let S = <f64>hsum(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)));
  let Q = <f64>hsum(f32x4.add(f32x4.add(q0, q1), f32x4.add(q2, q3)));
  for (; a < end; a += 4) {
    const e = <f64>(load<f32>(a) - p);
    S += e;
    Q += e * e;
  }
  statSum = S;
  statSq = Q;
}

/**
 * Per row, one statistics pass over e = x − p with p the mean of the first (up to) 8 elements: m = Σe/C,
 * var = Σe²/C − m² (Chan, Golub & LeVeque's shifted formula). x − p is exact near p (Sterbenz), so a
 * 1e4 offset costs nothing; the subtraction loses at most one bit more than a two-pass variance as long
 * as m² ≤ var, and when the pilot was poor (m² > var: an outlier among the first elements) the pass is
 * rerun around p + m. μ = p + m in float64, then x − μ as (x − hi)·s − lo·s in the output pass.
 */
@inline function pilot(xr: usize, C: i32): f32 {
  return C >= 8 ? hsum(f32x4.add(v128.load(xr), v128.load(xr, 16))) * 0.125 : load<f32>(xr);
}

export function layerNormForward(x: usize, w: usize, b: usize, out: usize, mean: usize, rstd: usize, rows: i32, C: i32, eps: f64): void {
  if (rows <= 0) return;
  const invC = 1 / <f64>C;
  // Software-pipelined: row r + 1's statistics pass is issued between row r's scalar tail (the
  // pilot check, sqrt, division) and its output pass, so the CPU overlaps that latency with loads.
  let pNext = pilot(x, C);
  shiftedStats(x, C, pNext);
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>(r * C) << 2);
    const yr = out + (<usize>(r * C) << 2);
    let p = pNext;
    let m = statSum * invC;
    let v = statSq * invC - m * m;
    if (m * m > v) {
      p = <f32>(<f64>p + m);
      shiftedStats(xr, C, p);
      m = statSum * invC;
      v = statSq * invC - m * m;
    }
    const mu = <f64>p + m;
    const hi = <f32>mu;
    const lo = <f32>(mu - <f64>hi);
    const sf = <f32>(1 / Math.sqrt(max(v, 0) + eps));
    const nls = -lo * sf;
    const vhi = f32x4.splat(hi);
    const vs = f32x4.splat(sf);
    const vn = f32x4.splat(nls);
    if (r + 1 < rows) {
      const xn = xr + (<usize>C << 2);
      pNext = pilot(xn, C);
      shiftedStats(xn, C, pNext);
    }
    let c = 0;
    if (w != 0 && b != 0) {
      for (; c + 16 <= C; c += 16) {
        const xo = xr + (<usize>c << 2), wo = w + (<usize>c << 2), bo = b + (<usize>c << 2), yo = yr + (<usize>c << 2);
        const h0 = madd(f32x4.sub(v128.load(xo), vhi), vs, vn);
        const h1 = madd(f32x4.sub(v128.load(xo, 16), vhi), vs, vn);
        const h2 = madd(f32x4.sub(v128.load(xo, 32), vhi), vs, vn);
        const h3 = madd(f32x4.sub(v128.load(xo, 48), vhi), vs, vn);
        v128.store(yo, madd(v128.load(wo), h0, v128.load(bo)));
        v128.store(yo, madd(v128.load(wo, 16), h1, v128.load(bo, 16)), 16);
        v128.store(yo, madd(v128.load(wo, 32), h2, v128.load(bo, 32)), 32);
        v128.store(yo, madd(v128.load(wo, 48), h3, v128.load(bo, 48)), 48);
      }
      for (; c + 4 <= C; c += 4) {
        const o = <usize>c << 2;
        const h = madd(f32x4.sub(v128.load(xr + o), vhi), vs, vn);
        v128.store(yr + o, madd(v128.load(w + o), h, v128.load(b + o)));
      }
    } else if (w != 0) {
      for (; c + 4 <= C; c += 4) {
        const o = <usize>c << 2;
        const h = madd(f32x4.sub(v128.load(xr + o), vhi), vs, vn);
        v128.store(yr + o, f32x4.mul(v128.load(w + o), h));
      }
    } else if (b == 0) {
      for (; c + 4 <= C; c += 4) {
        const o = <usize>c << 2;
        v128.store(yr + o, madd(f32x4.sub(v128.load(xr + o), vhi), vs, vn));
      }
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      const xh = (load<f32>(xr + o) - hi) * sf + nls;
      store<f32>(yr + o, wAt(w, c) * xh + (b == 0 ? 0 : load<f32>(b + o)));
    }
    store<f32>(mean + (<usize>r << 2), hi);
    store<f32>(rstd + (<usize>r << 2), sf);
  }
}

/** μ of one row in float64 (as the reference computes it), split into float32 hi + lo. */
@inline function rowMean(xr: usize, C: i32): f64 {
  return rowSum64(xr, C) / C;
}

/**
 * dx = s·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·γ, for `rows` rows; each row's float64 mean goes
 * to mu (rows float64s) for layerNormBackwardChannels.
 */
export function layerNormBackwardRows(dy: usize, x: usize, w: usize, rstd: usize, dx: usize, rows: i32, C: i32, mu: usize): void {
  const Ci = C;
  for (let r = 0; r < rows; r++) {
    const o0 = <usize>(r * Ci) << 2;
    const xr = x + o0;
    const gr = dy + o0;
    const dr = dx + o0;
    // μ is recomputed in float64 (as the reference does): stored as float32 it is off by up to ½ ulp,
    // 5e-4 at an offset of 1e4, which x̂ = (x − μ)·s would carry into dγ.
    const mu64 = rowMean(xr, Ci);
    store<f64>(mu + (<usize>r << 3), mu64);
    const hi = <f32>mu64;
    const lo = <f32>(mu64 - <f64>hi);
    const s = load<f32>(rstd + (<usize>r << 2));
    const vhi = f32x4.splat(hi);
    const vlo = f32x4.splat(lo);
    const vs = f32x4.splat(s);
    let sg = f32x4.splat(0);
    let sgx = f32x4.splat(0);
    let c = 0;
    for (; c + 4 <= Ci; c += 4) {
      const o = <usize>c << 2;
      const xh = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + o), vhi), vlo), vs);
      const d = v128.load(gr + o);
      const g = w == 0 ? d : f32x4.mul(d, v128.load(w + o));
      sg = f32x4.add(sg, g);
      sgx = madd(g, xh, sgx);
    }
    let sumG = hsum(sg);
    let sumGX = hsum(sgx);
    for (let t = c; t < Ci; t++) {
      const o = <usize>t << 2;
      const xh = (load<f32>(xr + o) - hi - lo) * s;
      const g = load<f32>(gr + o) * wAt(w, t);
      sumG += g;
      sumGX += g * xh;
    }
    const meanG = sumG / <f32>Ci;
    const meanGX = sumGX / <f32>Ci;
    const vmg = f32x4.splat(meanG);
    const vmgx = f32x4.splat(meanGX);
    c = 0;
    for (; c + 4 <= Ci; c += 4) {
      const o = <usize>c << 2;
      const xh = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + o), vhi), vlo), vs);
      const d = v128.load(gr + o);
      const g = w == 0 ? d : f32x4.mul(d, v128.load(w + o));
      v128.store(dr + o, f32x4.mul(vs, f32x4.sub(f32x4.sub(g, vmg), f32x4.mul(xh, vmgx))));
    }
    for (; c < Ci; c++) {
      const o = <usize>c << 2;
      const xh = (load<f32>(xr + o) - hi - lo) * s;
      const g = load<f32>(gr + o) * wAt(w, c);
      store<f32>(dr + o, s * (g - meanG - xh * meanGX));
    }
  }
}

/**
 * dγ = Σ dy·x̂ and dβ = Σ dy over all rows, for channels [c0, c1) only (so threads can split the
 * channels): rows summed in order into float64 accumulators (acc: 2·C float64s), then written.
 * mu holds each row's float64 mean from layerNormBackwardRows.
 */
export function layerNormBackwardChannels(dy: usize, x: usize, rstd: usize, mu: usize, dw: usize, db: usize, rows: i32, C: i32,
  c0: i32, c1: i32, acc: usize): void {
  if (c0 >= c1) return;
  const accW = acc;
  const accB = acc + (<usize>C << 3);
  memory.fill(accW + (<usize>c0 << 3), 0, <usize>(c1 - c0) << 3);
  memory.fill(accB + (<usize>c0 << 3), 0, <usize>(c1 - c0) << 3);
  for (let r = 0; r < rows; r++) {
    const o0 = <usize>(r * C) << 2;
    const xr = x + o0;
    const gr = dy + o0;
    const mu64 = load<f64>(mu + (<usize>r << 3));
    const hi = <f32>mu64;
    const lo = <f32>(mu64 - <f64>hi);
    const s = load<f32>(rstd + (<usize>r << 2));
    const vhi = f32x4.splat(hi);
    const vlo = f32x4.splat(lo);
    const vs = f32x4.splat(s);
    let c = c0;
    for (; c + 4 <= c1; c += 4) {
      const o = <usize>c << 2;
      const xh = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + o), vhi), vlo), vs);
      const d = v128.load(gr + o);
      if (dw != 0) {
        const p = f32x4.mul(d, xh);
        const aw = accW + (<usize>c << 3);
        v128.store(aw, f64x2.add(v128.load(aw), f64x2.promote_low_f32x4(p)));
        v128.store(aw, f64x2.add(v128.load(aw, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(p, p, 2, 3, 2, 3))), 16);
      }
      if (db != 0) {
        const ab = accB + (<usize>c << 3);
        v128.store(ab, f64x2.add(v128.load(ab), f64x2.promote_low_f32x4(d)));
        v128.store(ab, f64x2.add(v128.load(ab, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(d, d, 2, 3, 2, 3))), 16);
      }
    }
    for (; c < c1; c++) {
      const o = <usize>c << 2;
      const xh = (load<f32>(xr + o) - hi - lo) * s;
      const d = load<f32>(gr + o);
      if (dw != 0) store<f64>(accW + (<usize>c << 3), load<f64>(accW + (<usize>c << 3)) + <f64>(d * xh));
      if (db != 0) store<f64>(accB + (<usize>c << 3), load<f64>(accB + (<usize>c << 3)) + <f64>d);
    }
  }
  for (let c = c0; c < c1; c++) {
    if (dw != 0) store<f32>(dw + (<usize>c << 2), <f32>load<f64>(accW + (<usize>c << 3)));
    if (db != 0) store<f32>(db + (<usize>c << 2), <f32>load<f64>(accB + (<usize>c << 3)));
  }
}

/**
 * Bytes of scratch LayerNorm backward needs (dx by rows, then dγ, dβ by channels): 2·C float64
 * accumulators, then the rows' float64 means at acc + 16·C.
 */
export function layerNormBackwardScratchBytes(rows: i32, C: i32): i32 {
  return 16 * C + 8 * rows;
}

/** Σx² over one row: four independent f32x4 chains, finished in float64. */
@inline function rowSumSq(xr: usize, C: i32): f64 {
  let q0 = f32x4.splat(0), q1 = f32x4.splat(0), q2 = f32x4.splat(0), q3 = f32x4.splat(0);
  const end = xr + (<usize>C << 2);
  let a = xr;
  for (; a + 64 <= end; a += 64) {
    const v0 = v128.load(a), v1 = v128.load(a, 16), v2 = v128.load(a, 32), v3 = v128.load(a, 48);
    q0 = madd(v0, v0, q0);
    q1 = madd(v1, v1, q1);
    q2 = madd(v2, v2, q2);
    q3 = madd(v3, v3, q3);
  }
  for (; a + 16 <= end; a += 16) {
    const v = v128.load(a);
    q0 = madd(v, v, q0);
  }
  let s2 = <f64>hsum(f32x4.add(f32x4.add(q0, q1), f32x4.add(q2, q3)));
  for (; a < end; a += 4) {
    const v = <f64>load<f32>(a);
    s2 += v * v;
  }
  return s2;
}

export function rmsNormForward(x: usize, w: usize, out: usize, rrms: usize, rows: i32, C: i32, eps: f64): void {
  if (rows <= 0) return;
  const invC = 1 / <f64>C;
  // Pipelined like layerNormForward: row r + 1's Σx² is issued before row r's output pass.
  let s2 = rowSumSq(x, C);
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>(r * C) << 2);
    const yr = out + (<usize>(r * C) << 2);
    const rho = <f32>(1 / Math.sqrt(s2 * invC + eps));
    const vr = f32x4.splat(rho);
    if (r + 1 < rows) s2 = rowSumSq(xr + (<usize>C << 2), C);
    let c = 0;
    if (w != 0) {
      for (; c + 8 <= C; c += 8) {
        const xo = xr + (<usize>c << 2), wo = w + (<usize>c << 2), yo = yr + (<usize>c << 2);
        v128.store(yo, f32x4.mul(f32x4.mul(v128.load(xo), vr), v128.load(wo)));
        v128.store(yo, f32x4.mul(f32x4.mul(v128.load(xo, 16), vr), v128.load(wo, 16)), 16);
      }
      for (; c + 4 <= C; c += 4) {
        const o = <usize>c << 2;
        v128.store(yr + o, f32x4.mul(f32x4.mul(v128.load(xr + o), vr), v128.load(w + o)));
      }
    } else {
      for (; c + 4 <= C; c += 4) {
        const o = <usize>c << 2;
        v128.store(yr + o, f32x4.mul(v128.load(xr + o), vr));
      }
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      store<f32>(yr + o, wAt(w, c) * (load<f32>(xr + o) * rho));
    }
    store<f32>(rrms + (<usize>r << 2), rho);
  }
}

/** Two float32s at p, widened to f64x2. */
@inline function load2(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}

/** γ[c], γ[c+1] widened, or ones when there is no γ. */
@inline function w2(w: usize, c: i32): v128 {
  return w == 0 ? f64x2.splat(1) : load2(w + (<usize>c << 2));
}

/**
 * dx = ρ·(g − x·ρ²·mean(g·x)) with g = dy·γ; dγ = Σ dy·x·ρ over rows (float64 accumulators, C of them).
 * All in f64x2: g and x·ρ²·mean(g·x) nearly cancel when one element dominates the row (C = 1 is the
 * extreme), so float32 here would lose every digit the reference keeps. Two passes: dx by rows (this
 * one), then dγ by channels (rmsNormBackwardChannels).
 */
export function rmsNormBackwardRows(dy: usize, x: usize, w: usize, rrms: usize, dx: usize, rows: i32, C: i32): void {
  for (let r = 0; r < rows; r++) {
    const o0 = <usize>(r * C) << 2;
    const xr = x + o0;
    const gr = dy + o0;
    const dr = dx + o0;
    const rho = <f64>load<f32>(rrms + (<usize>r << 2));
    const vr = f64x2.splat(rho);
    let sgx = f64x2.splat(0);
    let c = 0;
    for (; c + 2 <= C; c += 2) {
      const o = <usize>c << 2;
      sgx = f64x2.add(sgx, f64x2.mul(f64x2.mul(load2(gr + o), w2(w, c)), load2(xr + o)));
    }
    let sumGX = f64x2.extract_lane(sgx, 0) + f64x2.extract_lane(sgx, 1);
    if (c < C) {
      const o = <usize>c << 2;
      sumGX += <f64>load<f32>(gr + o) * <f64>wAt(w, c) * <f64>load<f32>(xr + o);
    }
    const k = rho * rho * (sumGX / C);
    const vk = f64x2.splat(k);
    c = 0;
    for (; c + 2 <= C; c += 2) {
      const o = <usize>c << 2;
      const g = f64x2.mul(load2(gr + o), w2(w, c));
      const v = f64x2.mul(vr, f64x2.sub(g, f64x2.mul(load2(xr + o), vk)));
      v128.store64_lane(dr + o, f32x4.demote_f64x2_zero(v), 0);
    }
    if (c < C) {
      const o = <usize>c << 2;
      const g = <f64>load<f32>(gr + o) * <f64>wAt(w, c);
      store<f32>(dr + o, <f32>(rho * (g - <f64>load<f32>(xr + o) * k)));
    }
  }
}

/** dγ = Σ dy·x·ρ over all rows, in order, for channels [c0, c1) (c0 even): float64 accumulators acc (C of them). */
export function rmsNormBackwardChannels(dy: usize, x: usize, rrms: usize, dw: usize, rows: i32, C: i32, c0: i32, c1: i32,
  acc: usize): void {
  if (c0 >= c1) return;
  memory.fill(acc + (<usize>c0 << 3), 0, <usize>(c1 - c0) << 3);
  for (let r = 0; r < rows; r++) {
    const o0 = <usize>(r * C) << 2;
    const xr = x + o0;
    const gr = dy + o0;
    const rho = <f64>load<f32>(rrms + (<usize>r << 2));
    const vr = f64x2.splat(rho);
    let c = c0;
    for (; c + 2 <= c1; c += 2) {
      const o = <usize>c << 2;
      const aw = acc + (<usize>c << 3);
      v128.store(aw, f64x2.add(v128.load(aw), f64x2.mul(f64x2.mul(load2(gr + o), load2(xr + o)), vr)));
    }
    if (c < c1) {
      const o = <usize>c << 2;
      store<f64>(acc + (<usize>c << 3), load<f64>(acc + (<usize>c << 3)) + <f64>load<f32>(gr + o) * <f64>load<f32>(xr + o) * rho);
    }
  }
  for (let c = c0; c < c1; c++) store<f32>(dw + (<usize>c << 2), <f32>load<f64>(acc + (<usize>c << 3)));
}
