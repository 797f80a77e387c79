// BatchNorm with the batch's statistics, forward and backward, over x as (outer, C, inner) float32:
// NCHW as (B, C, H·W), a (rows, C) matrix as (rows, C, 1). Each thread takes a range of channels and
// computes them whole, so every channel's sums run in the same order whatever the thread count
// (bit-identical results for 1 and N threads). Sums are float64, as the reference's.
//
// Two layouts, two loop orders:
// - inner > 1 (convolution maps): a channel is `outer` contiguous runs of `inner` floats; each run is
//   summed four floats at a time into float64 pairs (promote_low), so a pass streams memory.
// - inner == 1 (feature axis): a channel is a column; the passes walk the rows and keep each channel's
//   accumulators in scratch, two channels per f64x2 lane pair. A lane adds its column's values in row
//   order, exactly the scalar sum, so how channels are grouped into lanes does not change a bit.

/** First channel of thread tid's share of C channels. */
@inline function share(C: i32, tid: i32, threads: i32): i32 {
  return <i32>((<i64>C * tid) / threads);
}

@inline function lo2(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

@inline function hi2(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
}

@inline function hsum2(a: v128): f64 {
  return f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
}

/** Four float64 lanes (two pairs) back to float32, in order. */
@inline function demote4(a: v128, b: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(a), f32x4.demote_f64x2_zero(b), 0, 1, 4, 5);
}

// ---- runs (inner > 1) ---------------------------------------------------------------------------

/** Σ x over a run of n floats, in float64. */
function runSum(p: usize, n: i32): f64 {
  let a = f64x2.splat(0), b = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(p + (<usize>i << 2));
    a = f64x2.add(a, lo2(v));
    b = f64x2.add(b, hi2(v));
  }
  let s = hsum2(f64x2.add(a, b));
  for (; i < n; i++) s += <f64>load<f32>(p + (<usize>i << 2));
  return s;
}

/** Σ (x − mu)² over a run, in float64. */
function runSqDev(p: usize, n: i32, mu: f64): f64 {
  const m = f64x2.splat(mu);
  let a = f64x2.splat(0), b = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(p + (<usize>i << 2));
    const d0 = f64x2.sub(lo2(v), m);
    const d1 = f64x2.sub(hi2(v), m);
    a = f64x2.add(a, f64x2.mul(d0, d0));
    b = f64x2.add(b, f64x2.mul(d1, d1));
  }
  let s = hsum2(f64x2.add(a, b));
  for (; i < n; i++) {
    const d = <f64>load<f32>(p + (<usize>i << 2)) - mu;
    s += d * d;
  }
  return s;
}

/** out = (x − mu)·k + c over a run, computed in float64 and rounded once. */
function runAffine(p: usize, out: usize, n: i32, mu: f64, k: f64, c: f64): void {
  const m = f64x2.splat(mu), vk = f64x2.splat(k), vc = f64x2.splat(c);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(p + o);
    const y0 = f64x2.add(f64x2.mul(f64x2.sub(lo2(v), m), vk), vc);
    const y1 = f64x2.add(f64x2.mul(f64x2.sub(hi2(v), m), vk), vc);
    v128.store(out + o, demote4(y0, y1));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, <f32>((<f64>load<f32>(p + o) - mu) * k + c));
  }
}

/** dx = k1·dy + k2·(x − mu) + k3 over a run, in float64. */
function runBackward(dy: usize, x: usize, dx: usize, n: i32, mu: f64, k1: f64, k2: f64, k3: f64): void {
  const m = f64x2.splat(mu), a1 = f64x2.splat(k1), a2 = f64x2.splat(k2), a3 = f64x2.splat(k3);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    const g = v128.load(dy + o);
    const y0 = f64x2.add(f64x2.add(f64x2.mul(a1, lo2(g)), f64x2.mul(a2, f64x2.sub(lo2(v), m))), a3);
    const y1 = f64x2.add(f64x2.add(f64x2.mul(a1, hi2(g)), f64x2.mul(a2, f64x2.sub(hi2(v), m))), a3);
    v128.store(dx + o, demote4(y0, y1));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, <f32>(k1 * <f64>load<f32>(dy + o) + k2 * (<f64>load<f32>(x + o) - mu) + k3));
  }
}

/**
 * The backward pass's sums over a run, around the pivot p (the saved float32 mean): Σ dy, Σ (x − p)
 * and Σ dy·(x − p), added into s[0..2].
 */
function runBackwardSums(dy: usize, x: usize, n: i32, p: f64, s: usize): void {
  const vp = f64x2.splat(p);
  let g0 = f64x2.splat(0), g1 = f64x2.splat(0), d0 = f64x2.splat(0), d1 = f64x2.splat(0), e0 = f64x2.splat(0), e1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    const g = v128.load(dy + o);
    const glo = lo2(g), ghi = hi2(g);
    const xlo = f64x2.sub(lo2(v), vp), xhi = f64x2.sub(hi2(v), vp);
    g0 = f64x2.add(g0, glo);
    g1 = f64x2.add(g1, ghi);
    d0 = f64x2.add(d0, xlo);
    d1 = f64x2.add(d1, xhi);
    e0 = f64x2.add(e0, f64x2.mul(glo, xlo));
    e1 = f64x2.add(e1, f64x2.mul(ghi, xhi));
  }
  let sg = hsum2(f64x2.add(g0, g1)), sd = hsum2(f64x2.add(d0, d1)), se = hsum2(f64x2.add(e0, e1));
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const g = <f64>load<f32>(dy + o);
    const d = <f64>load<f32>(x + o) - p;
    sg += g;
    sd += d;
    se += g * d;
  }
  store<f64>(s, load<f64>(s) + sg);
  store<f64>(s, load<f64>(s, 8) + sd, 8);
  store<f64>(s, load<f64>(s, 16) + se, 16);
}

// ---- columns (inner == 1) -----------------------------------------------------------------------

/** acc[c] = Σ_rows x[r, c] for c in [c0, c1), rows in order; acc holds C float64s. */
function columnSums(x: usize, rows: i32, C: i32, c0: i32, c1: i32, acc: usize): void {
  for (let c = c0; c < c1; c++) store<f64>(acc + (<usize>c << 3), 0);
  for (let r = 0; r < rows; r++) {
    const row = x + (<usize>(r * C) << 2);
    let c = c0;
    for (; c + 2 <= c1; c += 2) {
      const a = acc + (<usize>c << 3);
      v128.store(a, f64x2.add(v128.load(a), lo2(v128.load64_zero(row + (<usize>c << 2)))));
    }
    if (c < c1) {
      const a = acc + (<usize>c << 3);
      store<f64>(a, load<f64>(a) + <f64>load<f32>(row + (<usize>c << 2)));
    }
  }
}

/** acc[c] = Σ_rows (x[r, c] − mu[c])² for c in [c0, c1). */
function columnSqDev(x: usize, rows: i32, C: i32, c0: i32, c1: i32, mu: usize, acc: usize): void {
  for (let c = c0; c < c1; c++) store<f64>(acc + (<usize>c << 3), 0);
  for (let r = 0; r < rows; r++) {
    const row = x + (<usize>(r * C) << 2);
    let c = c0;
    for (; c + 2 <= c1; c += 2) {
      const a = acc + (<usize>c << 3);
      const d = f64x2.sub(lo2(v128.load64_zero(row + (<usize>c << 2))), v128.load(mu + (<usize>c << 3)));
      v128.store(a, f64x2.add(v128.load(a), f64x2.mul(d, d)));
    }
    if (c < c1) {
      const a = acc + (<usize>c << 3);
      const d = <f64>load<f32>(row + (<usize>c << 2)) - load<f64>(mu + (<usize>c << 3));
      store<f64>(a, load<f64>(a) + d * d);
    }
  }
}

/** out[r, c] = (x[r, c] − mu[c])·k[c] + b[c] for c in [c0, c1), in float64. */
function columnAffine(x: usize, out: usize, rows: i32, C: i32, c0: i32, c1: i32, mu: usize, k: usize, b: usize): void {
  for (let r = 0; r < rows; r++) {
    const o = <usize>(r * C) << 2;
    for (let c = c0; c < c1; c++) {
      const e = <usize>c << 3;
      const p = o + (<usize>c << 2);
      store<f32>(out + p, <f32>((<f64>load<f32>(x + p) - load<f64>(mu + e)) * load<f64>(k + e) + load<f64>(b + e)));
    }
  }
}

// ---- the kernels ------------------------------------------------------------------------------------

/**
 * Thread tid's channels of batchNormForward: mean, variance (biased) and rstd = 1/sqrt(var + ε) per
 * channel (float32), out = (x − μ)·rstd·γ + β. w, b may be 0 (γ = 1, β = 0). scratch: 5·C float64s
 * (used when inner == 1).
 */
export function batchNormForwardPart(x: usize, w: usize, b: usize, out: usize, mean: usize, variance: usize, rstd: usize, outer: i32,
  C: i32, inner: i32, eps: f64, scratch: usize, tid: i32, threads: i32): void {
  const c0 = share(C, tid, threads), c1 = share(C, tid + 1, threads);
  const n = <f64>outer * <f64>inner;
  if (inner == 1) {
    const sum = scratch, mu = scratch + (<usize>C << 3), ss = scratch + (<usize>(2 * C) << 3), k = scratch + (<usize>(3 * C) << 3);
    const bb = scratch + (<usize>(4 * C) << 3);
    columnSums(x, outer, C, c0, c1, sum);
    for (let c = c0; c < c1; c++) store<f64>(mu + (<usize>c << 3), load<f64>(sum + (<usize>c << 3)) / n);
    columnSqDev(x, outer, C, c0, c1, mu, ss);
    for (let c = c0; c < c1; c++) {
      const e = <usize>c << 3;
      const v = load<f64>(ss + e) / n;
      const s = 1 / Math.sqrt(v + eps);
      store<f64>(k + e, s * (w ? <f64>load<f32>(w + (<usize>c << 2)) : 1));
      store<f64>(bb + e, b ? <f64>load<f32>(b + (<usize>c << 2)) : 0);
      store<f32>(mean + (<usize>c << 2), <f32>load<f64>(mu + e));
      store<f32>(variance + (<usize>c << 2), <f32>v);
      store<f32>(rstd + (<usize>c << 2), <f32>s);
    }
    columnAffine(x, out, outer, C, c0, c1, mu, k, bb);
    return;
  }
  const runBytes = <usize>inner << 2;
  const stride = <usize>C * runBytes; // from one outer index's run of a channel to the next
  for (let c = c0; c < c1; c++) {
    const first = <usize>c * runBytes;
    let sum: f64 = 0;
    for (let o = 0; o < outer; o++) sum += runSum(x + first + <usize>o * stride, inner);
    const mu = sum / n;
    let ss: f64 = 0;
    for (let o = 0; o < outer; o++) ss += runSqDev(x + first + <usize>o * stride, inner, mu);
    const v = ss / n;
    const s = 1 / Math.sqrt(v + eps);
    const k = s * (w ? <f64>load<f32>(w + (<usize>c << 2)) : 1);
    const bc: f64 = b ? <f64>load<f32>(b + (<usize>c << 2)) : 0;
    for (let o = 0; o < outer; o++) {
      const at = first + <usize>o * stride;
      runAffine(x + at, out + at, inner, mu, k, bc);
    }
    store<f32>(mean + (<usize>c << 2), <f32>mu);
    store<f32>(variance + (<usize>c << 2), <f32>v);
    store<f32>(rstd + (<usize>c << 2), <f32>s);
  }
}

/**
 * The coefficients of dx = k1·dy + k2·(x − μ) + k3 for one channel from its sums around the pivot p
 * (Σ dy, Σ (x − p), Σ dy·(x − p)): μ = p + Σ(x − p)/n exactly enough (p is μ rounded to float32), so
 * Σ dy·(x − μ) = Σ dy·(x − p) − (μ − p)·Σ dy needs no pass of its own. Writes dγ, dβ; returns μ.
 */
@inline function channelBackward(c: i32, sg: f64, sd: f64, se: f64, p: f64, n: f64, s: f64, w: usize, dw: usize, db: usize, k: usize): f64 {
  const delta = sd / n;
  const mu = p + delta;
  const sumDyXhat = s * (se - delta * sg);
  const wc: f64 = w ? <f64>load<f32>(w + (<usize>c << 2)) : 1;
  if (dw) store<f32>(dw + (<usize>c << 2), <f32>sumDyXhat);
  if (db) store<f32>(db + (<usize>c << 2), <f32>sg);
  store<f64>(k, s * wc);
  store<f64>(k, -s * s * wc * sumDyXhat / n, 8);
  store<f64>(k, -s * wc * sg / n, 16);
  return mu;
}

/**
 * Thread tid's channels of batchNormBackward: dx through the batch statistics, dγ = Σ dy·x̂ and
 * dβ = Σ dy when dw, db are not 0. scratch: 8·C float64s.
 */
export function batchNormBackwardPart(dy: usize, x: usize, w: usize, mean: usize, rstd: usize, dx: usize, dw: usize, db: usize, outer: i32,
  C: i32, inner: i32, scratch: usize, tid: i32, threads: i32): void {
  const c0 = share(C, tid, threads), c1 = share(C, tid + 1, threads);
  const n = <f64>outer * <f64>inner;
  if (inner == 1) {
    // Per channel: sums (3), μ, k1..k3, pivot, as 8 float64s at scratch + 64·c.
    for (let c = c0; c < c1; c++) {
      const e = scratch + (<usize>c << 6);
      store<f64>(e, 0);
      store<f64>(e, 0, 8);
      store<f64>(e, 0, 16);
      store<f64>(e, <f64>load<f32>(mean + (<usize>c << 2)), 56);
    }
    for (let r = 0; r < outer; r++) {
      const o = <usize>(r * C) << 2;
      for (let c = c0; c < c1; c++) {
        const e = scratch + (<usize>c << 6);
        const p = o + (<usize>c << 2);
        const g = <f64>load<f32>(dy + p);
        const d = <f64>load<f32>(x + p) - load<f64>(e, 56);
        store<f64>(e, load<f64>(e) + g);
        store<f64>(e, load<f64>(e, 8) + d, 8);
        store<f64>(e, load<f64>(e, 16) + g * d, 16);
      }
    }
    for (let c = c0; c < c1; c++) {
      const e = scratch + (<usize>c << 6);
      const mu = channelBackward(c, load<f64>(e), load<f64>(e, 8), load<f64>(e, 16), load<f64>(e, 56), n,
        <f64>load<f32>(rstd + (<usize>c << 2)), w, dw, db, e + 32);
      store<f64>(e, mu, 24);
    }
    for (let r = 0; r < outer; r++) {
      const o = <usize>(r * C) << 2;
      for (let c = c0; c < c1; c++) {
        const e = scratch + (<usize>c << 6);
        const p = o + (<usize>c << 2);
        const v = load<f64>(e, 32) * <f64>load<f32>(dy + p) + load<f64>(e, 40) * (<f64>load<f32>(x + p) - load<f64>(e, 24)) + load<f64>(e, 48);
        store<f32>(dx + p, <f32>v);
      }
    }
    return;
  }
  const runBytes = <usize>inner << 2;
  const stride = <usize>C * runBytes;
  for (let c = c0; c < c1; c++) {
    const e = scratch + (<usize>c << 6);
    store<f64>(e, 0);
    store<f64>(e, 0, 8);
    store<f64>(e, 0, 16);
    const p = <f64>load<f32>(mean + (<usize>c << 2));
    const first = <usize>c * runBytes;
    for (let o = 0; o < outer; o++) runBackwardSums(dy + first + <usize>o * stride, x + first + <usize>o * stride, inner, p, e);
    const mu = channelBackward(c, load<f64>(e), load<f64>(e, 8), load<f64>(e, 16), p, n, <f64>load<f32>(rstd + (<usize>c << 2)), w, dw, db,
      e + 32);
    const k1 = load<f64>(e, 32), k2 = load<f64>(e, 40), k3 = load<f64>(e, 48);
    for (let o = 0; o < outer; o++) {
      const at = first + <usize>o * stride;
      runBackward(dy + at, x + at, dx + at, inner, mu, k1, k2, k3);
    }
  }
}

/** Scratch bytes batchNormForwardPart and batchNormBackwardPart need for C channels. */
export function batchNormScratchBytes(C: i32): i32 {
  return C * 64;
}
