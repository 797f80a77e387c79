// The WGSL programs of the WebGPU backend's fused kernels: the row-wise layers (LayerNorm, RMSNorm,
// softmax, log-softmax, cross-entropy) with one 64-wide workgroup per row and its sums reduced as a
// fixed tree in workgroup memory, the per-channel sums of their backward passes with one invocation
// per channel walking the rows in order, AdamW over a flat buffer, and dropout from the counter-based
// hash of src/backend/counter-hash.ts. Fixed orders, so the same
// inputs give the same bits on the same GPU. Parameters as in wgsl.ts (binding 0, u32 words).

import { WG } from './wgsl.ts';

const HEADER = `
@group(0) @binding(0) var<storage, read> P: array<u32>;
fn pf(i: u32) -> f32 { return bitcast<f32>(P[i]); }
`;

function binding(slot: number, name: string, elem: 'f32' | 'i32', write: boolean): string {
  return `@group(0) @binding(${slot}) var<storage, ${write ? 'read_write' : 'read'}> ${name}: array<${elem}>;\n`;
}

/** The workgroup's sum and max of one value per invocation, as a fixed tree (in uniform control flow). */
const ROW = `
var<workgroup> red: array<f32, ${WG}>;
fn wsum(l: u32, v: f32) -> f32 {
  red[l] = v;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (l < s) { red[l] = red[l] + red[l + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
fn wmax(l: u32, v: f32) -> f32 {
  red[l] = v;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (l < s) { red[l] = max(red[l], red[l + s]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
const LOWEST: f32 = -3.40282346638528859812e38;
`;

/**
 * A row's mean of X[o…o + C) as hi + lo: the float32 mean, then the mean of what is left after it. A
 * plain float32 mean of values near 1e4 is off by up to half an ulp (5e-4), which (x − μ)·s carries
 * into the output and dγ; WGSL has no float64 to compute it in, as the reference does.
 */
const ROW_MEAN = `
fn rowMean(l: u32, o: u32, C: u32) -> vec2<f32> {
  var a: f32 = 0.0;
  for (var c = l; c < C; c += ${WG}u) { a = a + X[o + c]; }
  let hi = wsum(l, a) / f32(C);
  var b: f32 = 0.0;
  for (var c = l; c < C; c += ${WG}u) { b = b + (X[o + c] - hi); }
  return vec2<f32>(hi, wsum(l, b) / f32(C));
}
`;

/** A workgroup per row: `r` the row (uniform), `l` the invocation within it. */
const ROW_MAIN = `
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) w: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_id) li: vec3<u32>) {
  let r = w.y * nw.x + w.x;
  let l = li.x;
  if (r >= P[0]) { return; }
  let C = P[1];`;

/**
 * LayerNorm forward (P: rows, C, x, w, b, out, mean, rstd, hasW, hasB, eps): two passes (μ, then
 * Σ(x − μ)²) as the reference, so inputs far from zero do not cancel.
 */
export function layerNormForwardWgsl(): string {
  return HEADER + ROW + binding(1, 'X', 'f32', false) + binding(2, 'W', 'f32', false) + binding(3, 'Bb', 'f32', false)
    + binding(4, 'O', 'f32', true) + binding(5, 'M', 'f32', true) + binding(6, 'S', 'f32', true) + ROW_MEAN + `${ROW_MAIN}
  let o = P[2] + r * C;
  let mu = rowMean(l, o, C);
  var q: f32 = 0.0;
  for (var c = l; c < C; c += ${WG}u) { let d = (X[o + c] - mu.x) - mu.y; q = q + d * d; }
  let s = 1.0 / sqrt(wsum(l, q) / f32(C) + pf(10u));
  for (var c = l; c < C; c += ${WG}u) {
    var y = ((X[o + c] - mu.x) - mu.y) * s;
    if (P[8] != 0u) { y = y * W[P[3] + c]; }
    if (P[9] != 0u) { y = y + Bb[P[4] + c]; }
    O[P[5] + r * C + c] = y;
  }
  if (l == 0u) { M[P[6] + r] = mu.x + mu.y; S[P[7] + r] = s; }
}`;
}

/**
 * LayerNorm's dx (P: rows, C, dy, x, w, rstd, dx, hasW): dx = s·(g − mean(g) − x̂·mean(g·x̂)), g = dy·γ,
 * μ recomputed from x (as the reference, not read back rounded).
 */
export function layerNormBackwardRowsWgsl(): string {
  return HEADER + ROW + binding(1, 'D', 'f32', false) + binding(2, 'X', 'f32', false) + binding(3, 'W', 'f32', false)
    + binding(4, 'S', 'f32', false) + binding(5, 'O', 'f32', true) + ROW_MEAN + `${ROW_MAIN}
  let o = r * C;
  let mu = rowMean(l, P[3] + o, C);
  let s = S[P[5] + r];
  var sg: f32 = 0.0;
  var sgx: f32 = 0.0;
  for (var c = l; c < C; c += ${WG}u) {
    let xh = ((X[P[3] + o + c] - mu.x) - mu.y) * s;
    var g = D[P[2] + o + c];
    if (P[7] != 0u) { g = g * W[P[4] + c]; }
    sg = sg + g;
    sgx = sgx + g * xh;
  }
  let mg = wsum(l, sg) / f32(C);
  let mgx = wsum(l, sgx) / f32(C);
  for (var c = l; c < C; c += ${WG}u) {
    let xh = ((X[P[3] + o + c] - mu.x) - mu.y) * s;
    var g = D[P[2] + o + c];
    if (P[7] != 0u) { g = g * W[P[4] + c]; }
    O[P[6] + o + c] = s * (g - mg - xh * mgx);
  }
}`;
}

/**
 * A norm's per-channel gradient, one invocation per channel over the rows in order (P: rows, C, dy, x,
 * stat, out, kind, mean): kind 0 = Σ dy (LayerNorm's dβ), 1 = Σ dy·(x − μ)·s (its dγ, μ as (hi, lo)
 * pairs from rowMeanWgsl: recomputing it per row would cost a row per channel), 2 = Σ dy·x·ρ (RMSNorm's dγ).
 */
export function normChannelsWgsl(): string {
  return HEADER + binding(1, 'D', 'f32', false) + binding(2, 'X', 'f32', false) + binding(3, 'S', 'f32', false)
    + binding(4, 'M', 'f32', false) + binding(5, 'O', 'f32', true) + `
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let c = g.x;
  let C = P[1];
  if (c >= C) { return; }
  var acc: f32 = 0.0;
  for (var r = 0u; r < P[0]; r++) {
    let d = D[P[2] + r * C + c];
    switch P[6] {
      case 0u: { acc = acc + d; }
      case 1u: { acc = acc + d * ((X[P[3] + r * C + c] - M[2u * r]) - M[2u * r + 1u]) * S[P[4] + r]; }
      default: { acc = acc + d * X[P[3] + r * C + c] * S[P[4] + r]; }
    }
  }
  O[P[5] + c] = acc;
}`;
}

/** A row's mean of x as (hi, lo) pairs (P: rows, C, x): LayerNorm backward's μ for normChannelsWgsl, as its row kernel computes it. */
export function rowMeanWgsl(): string {
  return HEADER + ROW + binding(1, 'X', 'f32', false) + binding(2, 'O', 'f32', true) + ROW_MEAN + `${ROW_MAIN}
  let mu = rowMean(l, P[2] + r * C, C);
  if (l == 0u) { O[2u * r] = mu.x; O[2u * r + 1u] = mu.y; }
}`;
}

/** RMSNorm forward (P: rows, C, x, w, out, rrms, hasW, eps): y = γ·x·ρ, ρ = 1/sqrt(mean(x²) + ε). */
export function rmsNormForwardWgsl(): string {
  return HEADER + ROW + binding(1, 'X', 'f32', false) + binding(2, 'W', 'f32', false) + binding(3, 'O', 'f32', true)
    + binding(4, 'R', 'f32', true) + `${ROW_MAIN}
  let o = P[2] + r * C;
  var q: f32 = 0.0;
  for (var c = l; c < C; c += ${WG}u) { q = q + X[o + c] * X[o + c]; }
  let rho = 1.0 / sqrt(wsum(l, q) / f32(C) + pf(7u));
  for (var c = l; c < C; c += ${WG}u) {
    var y = X[o + c] * rho;
    if (P[6] != 0u) { y = y * W[P[3] + c]; }
    O[P[4] + r * C + c] = y;
  }
  if (l == 0u) { R[P[5] + r] = rho; }
}`;
}

/** RMSNorm's dx (P: rows, C, dy, x, w, rrms, dx, hasW): dx = ρ·(g − x·ρ²·mean(g·x)), g = dy·γ. */
export function rmsNormBackwardRowsWgsl(): string {
  return HEADER + ROW + binding(1, 'D', 'f32', false) + binding(2, 'X', 'f32', false) + binding(3, 'W', 'f32', false)
    + binding(4, 'R', 'f32', false) + binding(5, 'O', 'f32', true) + `${ROW_MAIN}
  let o = r * C;
  let rho = R[P[5] + r];
  var a: f32 = 0.0;
  for (var c = l; c < C; c += ${WG}u) {
    var g = D[P[2] + o + c];
    if (P[7] != 0u) { g = g * W[P[4] + c]; }
    a = a + g * X[P[3] + o + c];
  }
  let k = rho * rho * (wsum(l, a) / f32(C));
  for (var c = l; c < C; c += ${WG}u) {
    var g = D[P[2] + o + c];
    if (P[7] != 0u) { g = g * W[P[4] + c]; }
    O[P[6] + o + c] = rho * (g - X[P[3] + o + c] * k);
  }
}`;
}

/**
 * Softmax (log = 0) or log-softmax (log = 1) of rows (P: rows, C, x, out, log). An all −∞ row gives
 * NaN probabilities in float arithmetic; the reference gives the same.
 */
export function softmaxForwardWgsl(): string {
  return HEADER + ROW + binding(1, 'X', 'f32', false) + binding(2, 'O', 'f32', true) + `${ROW_MAIN}
  let o = P[2] + r * C;
  var m: f32 = LOWEST;
  for (var c = l; c < C; c += ${WG}u) { m = max(m, X[o + c]); }
  m = wmax(l, m);
  var a: f32 = 0.0;
  for (var c = l; c < C; c += ${WG}u) { a = a + exp(X[o + c] - m); }
  let sum = wsum(l, a);
  let lse = m + log(sum);
  for (var c = l; c < C; c += ${WG}u) {
    if (P[4] != 0u) { O[P[3] + r * C + c] = X[o + c] - lse; } else { O[P[3] + r * C + c] = exp(X[o + c] - m) / sum; }
  }
}`;
}

/** Softmax's dx = y·(dy − Σ dy·y) (log = 0), or log-softmax's dx = dy − exp(y)·Σ dy (log = 1) (P: rows, C, y, dy, dx, log). */
export function softmaxBackwardWgsl(): string {
  return HEADER + ROW + binding(1, 'Y', 'f32', false) + binding(2, 'D', 'f32', false) + binding(3, 'O', 'f32', true) + `${ROW_MAIN}
  let o = r * C;
  var a: f32 = 0.0;
  for (var c = l; c < C; c += ${WG}u) {
    if (P[5] != 0u) { a = a + D[P[3] + o + c]; } else { a = a + D[P[3] + o + c] * Y[P[2] + o + c]; }
  }
  let s = wsum(l, a);
  for (var c = l; c < C; c += ${WG}u) {
    let y = Y[P[2] + o + c];
    let d = D[P[3] + o + c];
    if (P[5] != 0u) { O[P[4] + o + c] = d - exp(y) * s; } else { O[P[4] + o + c] = y * (d - s); }
  }
}`;
}

const ERRORS = `@group(0) @binding(9) var<storage, read_write> E: array<atomic<u32>>;\n`;

/**
 * Cross-entropy, per row (P: rows, V, logits, targets, lse, terms, ignore): lse[r] = logsumexp(z_r) and
 * terms[r] = lse − z_t (0 for an ignored row); a target outside [0, V) that is not the ignore index
 * flags row r + 1 in the error word.
 */
export function crossEntropyRowsWgsl(): string {
  return HEADER + ROW + ERRORS + binding(1, 'Z', 'f32', false) + binding(2, 'T', 'i32', false) + binding(3, 'L', 'f32', true)
    + binding(4, 'Q', 'f32', true) + `${ROW_MAIN}
  let o = P[2] + r * C;
  var m: f32 = LOWEST;
  for (var c = l; c < C; c += ${WG}u) { m = max(m, Z[o + c]); }
  m = wmax(l, m);
  var a: f32 = 0.0;
  for (var c = l; c < C; c += ${WG}u) { a = a + exp(Z[o + c] - m); }
  let lse = m + log(wsum(l, a));
  if (l == 0u) {
    L[P[4] + r] = lse;
    let t = T[P[3] + r];
    let ignore = bitcast<i32>(P[6]);
    if (t == ignore) { Q[r] = 0.0; }
    else if (t < 0 || u32(t) >= C) { atomicMin(&E[0], r + 1u); Q[r] = 0.0; }
    else { Q[r] = lse - Z[o + u32(t)]; }
  }
}`;
}

/**
 * The mean of the counted rows' terms, in row order, by one invocation (P: rows, targets, loss, ignore),
 * and the count into C[0] for the backward (written as a float).
 */
export function crossEntropyMeanWgsl(): string {
  return HEADER + binding(1, 'T', 'i32', false) + binding(2, 'Q', 'f32', false) + binding(3, 'O', 'f32', true) + `
@compute @workgroup_size(1)
fn main() {
  var total: f32 = 0.0;
  var count = 0u;
  let ignore = bitcast<i32>(P[3]);
  for (var r = 0u; r < P[0]; r++) {
    if (T[P[1] + r] != ignore) { total = total + Q[r]; count++; }
  }
  O[P[2]] = select(0.0, total / f32(count), count > 0u);
}`;
}

/**
 * dlogits = dloss·(softmax − onehot)/count, 0 for ignored rows (P: rows, V, logits, targets, lse,
 * dloss, dlogits, ignore); the count is each row's own walk over the targets, so no scratch is needed.
 */
export function crossEntropyBackwardWgsl(): string {
  return HEADER + ROW + binding(1, 'Z', 'f32', false) + binding(2, 'T', 'i32', false) + binding(3, 'L', 'f32', false)
    + binding(4, 'G', 'f32', false) + binding(5, 'O', 'f32', true) + `${ROW_MAIN}
  let ignore = bitcast<i32>(P[7]);
  var n: f32 = 0.0;
  for (var i = l; i < P[0]; i += ${WG}u) { if (T[P[3] + i] != ignore) { n = n + 1.0; } }
  let count = wsum(l, n);
  let t = T[P[3] + r];
  let scale = select(0.0, G[P[5]] / count, count > 0.0);
  let lse = L[P[4] + r];
  for (var c = l; c < C; c += ${WG}u) {
    var v: f32 = 0.0;
    if (t != ignore) {
      let p = exp(Z[P[2] + r * C + c] - lse);
      v = scale * select(p, p - 1.0, i32(c) == t);
    }
    O[P[6] + r * C + c] = v;
  }
}`;
}

/**
 * One AdamW step per element (P: n, param, grad, m, v, lr, β1, β2, ε, λ, 1 − β1ᵗ, 1 − β2ᵗ): decay, then
 * the moments, read back as stored, then the bias-corrected update: the reference's order of operations.
 */
export function adamwWgsl(): string {
  return HEADER + binding(1, 'G', 'f32', false) + binding(2, 'W', 'f32', true) + binding(3, 'M', 'f32', true) + binding(4, 'V', 'f32', true) + `
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = g.y * nw.x * ${WG}u + g.x;
  if (i >= P[0]) { return; }
  let lr = pf(5u);
  let gr = G[P[2] + i];
  var theta = W[P[1] + i];
  theta = theta - lr * pf(9u) * theta;
  let m = pf(6u) * M[P[3] + i] + (1.0 - pf(6u)) * gr;
  let v = pf(7u) * V[P[4] + i] + (1.0 - pf(7u)) * gr * gr;
  M[P[3] + i] = m;
  V[P[4] + i] = v;
  theta = theta - (lr * (m / pf(10u))) / (sqrt(v / pf(11u)) + pf(8u));
  W[P[1] + i] = theta;
}`;
}

/**
 * Inverted dropout (P: n, x, out, mask, threshold, mixed seed, 1/(1 − p)): keep element i iff the top 24
 * bits k of fmix32((i·0x9E3779B1) ^ s) (counter-hash.ts's recipe, in wrapping u32 arithmetic as
 * Math.imul) reach the host's ⌈p·2²⁴⌉: the same test as k/2²⁴ ≥ p in float64, with no float rounding
 * of p, so the mask equals the other backends' bit for bit.
 */
export function dropoutWgsl(): string {
  return HEADER + binding(1, 'X', 'f32', false) + binding(2, 'O', 'f32', true) + binding(3, 'M', 'f32', true) + `
fn fmix32(x: u32) -> u32 {
  var h = x;
  h = h ^ (h >> 16u);
  h = h * 0x85ebca6bu;
  h = h ^ (h >> 13u);
  h = h * 0xc2b2ae35u;
  return h ^ (h >> 16u);
}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = g.y * nw.x * ${WG}u + g.x;
  if (i >= P[0]) { return; }
  let k = fmix32((i * 0x9e3779b1u) ^ P[5]) >> 8u;
  let m = select(0.0, pf(6u), k >= P[4]);
  M[P[3] + i] = m;
  O[P[2] + i] = X[P[1] + i] * m;
}`;
}
