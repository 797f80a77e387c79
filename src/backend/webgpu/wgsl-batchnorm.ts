// The WGSL programs of the WebGPU backend's fused BatchNorm (Ioffe & Szegedy 2015, training mode: the
// batch's statistics) over x viewed as (outer, C, inner), NCHW as (B, C, H·W), a (rows, C) matrix as
// (rows, C, 1): one workgroup per channel, whose invocations stride over the channel's outer·inner
// elements and sum as a fixed tree in workgroup memory. No atomics, so the same inputs give the same
// bits on the same GPU. Parameters as in wgsl.ts (binding 0, u32 words).

/**
 * Invocations per workgroup. A channel spans B·H·W values (thousands, for a conv net's maps) where a
 * LayerNorm row spans C, and there are only C workgroups: four times wgsl.ts's 64 gives each channel
 * more of the GPU and each invocation a shorter float32 run to sum. 256 is WebGPU's guaranteed
 * maxComputeInvocationsPerWorkgroup.
 */
export const BN_WG = 256;

const HEADER = `
@group(0) @binding(0) var<storage, read> P: array<u32>;
fn pf(i: u32) -> f32 { return bitcast<f32>(P[i]); }
`;

function binding(slot: number, name: string, write: boolean): string {
  return `@group(0) @binding(${slot}) var<storage, ${write ? 'read_write' : 'read'}> ${name}: array<f32>;\n`;
}

/**
 * The tree (two sums at once, for the backward's Σ dy and Σ dy·x̂), and the channel's element walk:
 * element k of channel c lies at (o·C + c)·inner + i with o = k / inner, i = k % inner, so adjacent
 * invocations read adjacent floats of an NCHW map.
 */
const CHANNEL = `
var<workgroup> red: array<vec2<f32>, ${BN_WG}>;
fn wsum2(l: u32, v: vec2<f32>) -> vec2<f32> {
  red[l] = v;
  workgroupBarrier();
  for (var s = ${BN_WG / 2}u; s > 0u; s = s >> 1u) {
    if (l < s) { red[l] = red[l] + red[l + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
fn wsum(l: u32, v: f32) -> f32 { return wsum2(l, vec2<f32>(v, 0.0)).x; }
fn at(c: u32, k: u32) -> u32 {
  let inner = P[2];
  let o = k / inner;
  return (o * P[1] + c) * inner + (k - o * inner);
}
/**
 * The channel's mean of X (at offset xo) as hi + lo: the float32 mean, then the mean of what is left
 * after it. x − hi is exact for x near hi, so lo recovers what rounding Σx lost; WGSL has no float64
 * to compute it in, as the reference does (wgsl-fused.ts's rowMean, down a channel). With hi alone, the
 * test suite's 1e3-offset cases came out 3.7e-5 off in y and 3.2e-5 in dγ (relative); with lo, 1e-7.
 */
fn channelMean(l: u32, c: u32, n: u32, xo: u32) -> vec2<f32> {
  var a: f32 = 0.0;
  for (var k = l; k < n; k += ${BN_WG}u) { a = a + X[xo + at(c, k)]; }
  let hi = wsum(l, a) / f32(n);
  var b: f32 = 0.0;
  for (var k = l; k < n; k += ${BN_WG}u) { b = b + (X[xo + at(c, k)] - hi); }
  return vec2<f32>(hi, wsum(l, b) / f32(n));
}
`;

/** A workgroup per channel: c (uniform), l the invocation, n = outer·inner the channel's size. */
const CHANNEL_MAIN = `
@compute @workgroup_size(${BN_WG})
fn main(@builtin(workgroup_id) w: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_id) li: vec3<u32>) {
  let c = w.y * nw.x + w.x;
  let l = li.x;
  if (c >= P[1]) { return; }
  let n = P[0] * P[2];`;

/**
 * Forward (P: outer, C, inner, x, w, b, out, mean, variance, rstd, hasW, hasB, eps): μ as hi + lo, then
 * σ² = mean((x − μ)²) in a second pass, as the reference's two passes, so an offset does not cancel;
 * y = (x − μ)·s·γ + β with s = 1/sqrt(σ² + ε). The saved mean is hi + lo rounded once.
 */
export function batchNormForwardWgsl(): string {
  return HEADER + binding(1, 'X', false) + binding(2, 'W', false) + binding(3, 'Bb', false) + binding(4, 'O', true)
    + binding(5, 'M', true) + binding(6, 'V', true) + binding(7, 'S', true) + CHANNEL + `${CHANNEL_MAIN}
  let xo = P[3];
  let mu = channelMean(l, c, n, xo);
  var q: f32 = 0.0;
  for (var k = l; k < n; k += ${BN_WG}u) { let d = (X[xo + at(c, k)] - mu.x) - mu.y; q = q + d * d; }
  let variance = wsum(l, q) / f32(n);
  let s = 1.0 / sqrt(variance + pf(12u));
  var g: f32 = 1.0;
  if (P[10] != 0u) { g = W[P[4] + c]; }
  var beta: f32 = 0.0;
  if (P[11] != 0u) { beta = Bb[P[5] + c]; }
  for (var k = l; k < n; k += ${BN_WG}u) {
    let e = at(c, k);
    O[P[6] + e] = g * (((X[xo + e] - mu.x) - mu.y) * s) + beta;
  }
  if (l == 0u) { M[P[7] + c] = mu.x + mu.y; V[P[8] + c] = variance; S[P[9] + c] = s; }
}`;
}

/**
 * Backward (P: outer, C, inner, dy, x, w, rstd, dx, dw, db, hasW): LayerNorm's with rows and channels
 * exchanged, per channel with g = γ·dy: dx = s·(g − mean(g) − x̂·mean(g·x̂)), dγ = Σ dy·x̂, dβ = Σ dy.
 * μ is recomputed from x as hi + lo (the reference recomputes it too, in float64; the saved mean is
 * rounded to float32, up to 3e-5 off near 1e3). dγ and dβ get their bindings only when asked for, so
 * no output is a placeholder that two absent operands would share.
 */
export function batchNormBackwardWgsl(hasDw: boolean, hasDb: boolean): string {
  const dwSlot = 6;
  const dbSlot = hasDw ? 7 : 6;
  return HEADER + binding(1, 'D', false) + binding(2, 'X', false) + binding(3, 'W', false) + binding(4, 'S', false)
    + binding(5, 'O', true) + (hasDw ? binding(dwSlot, 'DW', true) : '') + (hasDb ? binding(dbSlot, 'DB', true) : '') + CHANNEL + `${CHANNEL_MAIN}
  let xo = P[4];
  let mu = channelMean(l, c, n, xo);
  let s = S[P[6] + c];
  var a = vec2<f32>(0.0, 0.0);
  for (var k = l; k < n; k += ${BN_WG}u) {
    let e = at(c, k);
    let d = D[P[3] + e];
    a = a + vec2<f32>(d, d * (((X[xo + e] - mu.x) - mu.y) * s));
  }
  let sums = wsum2(l, a); // (Σ dy, Σ dy·x̂)
  var g: f32 = 1.0;
  if (P[10] != 0u) { g = W[P[5] + c]; }
  let mg = g * sums.x / f32(n);
  let mgx = g * sums.y / f32(n);
  for (var k = l; k < n; k += ${BN_WG}u) {
    let e = at(c, k);
    let xh = ((X[xo + e] - mu.x) - mu.y) * s;
    O[P[7] + e] = s * (D[P[3] + e] * g - mg - xh * mgx);
  }
  if (l == 0u) {${hasDw ? ' DW[P[8] + c] = sums.y;' : ''}${hasDb ? ' DB[P[9] + c] = sums.x;' : ''} }
}`;
}
