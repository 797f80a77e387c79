// Embedding gather / scatter-add, counter-hash dropout and the AdamW update.

/** -1 when every id lies in [0, V), else the first bad position. */
function checkIds(ids: usize, N: i32, V: i32): i32 {
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

/** dweight[ids[i], :] += dout[i, :], in position order (deterministic). */
export function embeddingBackward(dout: usize, ids: usize, dweight: usize, N: i32, C: i32, V: i32): i32 {
  const bad = checkIds(ids, N, V);
  if (bad >= 0) return bad;
  const row = <usize>C << 2;
  for (let i = 0; i < N; i++) {
    const src = dout + <usize>i * row;
    const dst = dweight + <usize>load<i32>(ids + (<usize>i << 2)) * row;
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
    }
  }
  return -1;
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

/** One AdamW step, PyTorch semantics, in float64 per element exactly as the reference backend. */
export function adamw(param: usize, grad: usize, m: usize, v: usize, n: i32, lr: f64, beta1: f64, beta2: f64, eps: f64,
  weightDecay: f64, bc1: f64, bc2: f64): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const g = <f64>load<f32>(grad + o);
    const p = <f64>load<f32>(param + o);
    let theta = p - lr * weightDecay * p;
    const mi = <f64>(<f32>(beta1 * <f64>load<f32>(m + o) + (1 - beta1) * g));
    const vi = <f64>(<f32>(beta2 * <f64>load<f32>(v + o) + (1 - beta2) * g * g));
    store<f32>(m + o, <f32>mi);
    store<f32>(v + o, <f32>vi);
    theta -= (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + eps);
    store<f32>(param + o, <f32>theta);
  }
}
