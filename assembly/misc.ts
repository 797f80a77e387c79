// Embedding gather / scatter-add, counter-hash dropout and the AdamW update.

/** -1 when every id lies in [0, V), else the first bad position. */
export function checkIds(ids: usize, N: i32, V: i32): i32 {
  for (let i = 0; i < N; i++) {
    const id = load<i32>(ids + (<usize>i << 2));
    if (id < 0 || id >= V) return i;
  }
  return -1;
}

export function embeddingForward(weight: usize, ids: usize, out: usize, N: i32, C: i32, V: i32): i32 {
  const bad = checkIds(ids, N, V);
  if (bad >= 0) return bad;
  const row = <usize>C << 2;
  for (let i = 0; i < N; i++) memory.copy(out + <usize>i * row, weight + <usize>load<i32>(ids + (<usize>i << 2)) * row, row);
  return -1;
}

/**
 * dweight[ids[i], c] += dout[i, c] for channels c in [c0, c1), ids already checked: rows are added in
 * order, so splitting channels between threads keeps repeated ids' sums deterministic.
 */
export function embeddingBackwardChannels(dout: usize, ids: usize, dweight: usize, N: i32, C: i32, c0: i32, c1: i32): void {
  const row = <usize>C << 2;
  for (let i = 0; i < N; i++) {
    const src = dout + <usize>i * row;
    const dst = dweight + <usize>load<i32>(ids + (<usize>i << 2)) * row;
    let c = c0;
    for (; c + 4 <= c1; c += 4) {
      const o = <usize>c << 2;
      v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
    }
    for (; c < c1; c++) {
      const o = <usize>c << 2;
      store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
    }
  }
}

// src/backend/counter-hash.ts, bit for bit: murmur3's fmix32 on wrapping 32-bit integers.
@inline function fmix32(h: u32): u32 {
  h ^= h >>> 16;
  h *= 0x85ebca6b;
  h ^= h >>> 13;
  h *= 0xc2b2ae35;
  h ^= h >>> 16;
  return h;
}

/** Keeps x[i] iff hashUniform(seed, i) ≥ p; mask = 0 or 1/(1 − p); out = x·mask (product in float64, as the ref). */
export function dropoutForward(x: usize, out: usize, mask: usize, n: i32, p: f64, seed: u32): void {
  const keepScale: f64 = p == 1 ? 0 : 1 / (1 - p);
  const s = fmix32(seed ^ 0x6a09e667);
  for (let i = 0; i < n; i++) {
    const h = fmix32((<u32>i * 0x9e3779b1) ^ s);
    const u = <f64>(h >>> 8) / 16777216.0;
    const m: f64 = u >= p ? keepScale : 0;
    const o = <usize>i << 2;
    store<f32>(mask + o, <f32>m);
    store<f32>(out + o, <f32>(<f64>load<f32>(x + o) * m));
  }
}

/** Two float32s at p widened to f64x2, and an f64x2 rounded to two float32s stored at p. */
@inline function load2(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}
@inline function store2(p: usize, v: v128): void {
  v128.store64_lane(p, f32x4.demote_f64x2_zero(v), 0);
}
/** An f64x2 rounded through float32 (what storing and reloading a float32 state does). */
@inline function round32(v: v128): v128 {
  return f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(v));
}

/**
 * One AdamW step in float32, in the order of PyTorch's own float32 arithmetic (torch.optim.AdamW,
 * single-tensor path): θ ← θ·(1 − lr·λ); m ← m·β1 + (1 − β1)·g; v ← v·β2 + (1 − β2)·g·g;
 * θ ← θ − (lr/bc1)·m / (√v/√bc2 + ε), the scalars rounded to float32 as PyTorch passes them. Four
 * elements a step, one sqrt and two divisions for four (the float64 form took 1.5 each per element).
 * No fused multiply-add, so both builds give the same bits.
 */
export function adamw(param: usize, grad: usize, m: usize, v: usize, n: i32, lr: f64, beta1: f64, beta2: f64, eps: f64,
  weightDecay: f64, bc1: f64, bc2: f64): void {
  const decay = <f32>(1 - lr * weightDecay), b1 = <f32>beta1, b1c = <f32>(1 - beta1), b2 = <f32>beta2, b2c = <f32>(1 - beta2);
  const step = <f32>(-(lr / bc1)), sqrtBc2 = <f32>Math.sqrt(bc2), e = <f32>eps;
  const vdecay = f32x4.splat(decay), vb1 = f32x4.splat(b1), vb1c = f32x4.splat(b1c), vb2 = f32x4.splat(b2), vb2c = f32x4.splat(b2c);
  const vstep = f32x4.splat(step), vsq = f32x4.splat(sqrtBc2), veps = f32x4.splat(e);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const g = v128.load(grad + o);
    const mi = f32x4.add(f32x4.mul(v128.load(m + o), vb1), f32x4.mul(vb1c, g));
    const vi = f32x4.add(f32x4.mul(v128.load(v + o), vb2), f32x4.mul(vb2c, f32x4.mul(g, g)));
    v128.store(m + o, mi);
    v128.store(v + o, vi);
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(vi), vsq), veps);
    const p = f32x4.mul(v128.load(param + o), vdecay);
    v128.store(param + o, f32x4.add(p, f32x4.mul(vstep, f32x4.div(mi, denom))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const g = load<f32>(grad + o);
    const mi = load<f32>(m + o) * b1 + b1c * g;
    const vi = load<f32>(v + o) * b2 + b2c * (g * g);
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    const denom = Mathf.sqrt(vi) / sqrtBc2 + e;
    store<f32>(param + o, load<f32>(param + o) * decay + step * (mi / denom));
  }
}
