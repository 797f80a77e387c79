// The WGSL programs of the WebGPU backend's fused attention, flash-style (Dao et al. 2022): no Tq × Tk
// matrix exists anywhere. Forward: a workgroup per (b, h, 64 queries), one invocation per query row
// holding q and its output in registers, walking the keys in tiles staged in workgroup memory with the
// online softmax (Milakov & Gimelshein 2018: a running max and sum, rescaled once per tile). Backward
// recomputes the probabilities from the saved logsumexp: Δ = rowsum(dO∘O) first, then dq per query
// row walking key tiles, and dk, dv per key row walking query tiles, so every gradient element is
// written by one invocation summing in a fixed order: deterministic, no atomics. The head size D is a
// constant of each program (its registers are arrays of D), so each D gets its own pipelines.
//
// Operands are strided (B, H, T, D) views (HeadLayout), their offsets and strides parameters; lse is
// bound as u32 words so that +∞ (a query that sees no key) is written and recognised by its bits: WGSL
// lets a compiler assume no float is infinite.

import { WG } from './wgsl.ts';

/** Workgroup memory a tile may use, in floats: WebGPU's default maxComputeWorkgroupStorageSize is 16 KB. */
const TILE_FLOATS = 2048;
/** The largest head size these kernels take: past it a tile holds under one row and the registers spill badly. */
export const ATTENTION_MAX_D = 1024;
const INF_BITS = '0x7f800000u';

/** Rows per staged tile for head size D: the largest power of two ≤ 64 whose K and V (or Q and dO) tiles fit in 16 KB. */
export function attentionTile(D: number): number {
  let t = WG;
  while (t > 1 && t * D > TILE_FLOATS) t >>= 1;
  return t;
}

const HEADER = `
@group(0) @binding(0) var<storage, read> P: array<u32>;
fn pf(i: u32) -> f32 { return bitcast<f32>(P[i]); }
const LOWEST: f32 = -3.40282346638528859812e38;
`;

function binding(slot: number, name: string, elem: 'f32' | 'u32', write: boolean): string {
  return `@group(0) @binding(${slot}) var<storage, ${write ? 'read_write' : 'read'}> ${name}: array<${elem}>;\n`;
}

/**
 * The parameter block every attention program reads (the host's attentionParams writes it in this order):
 * 0 B, 1 H, 2 Tq, 3 Tk, 4 causal, 5 tiles (workgroups per (b, h)), 6 scale (f32),
 * 7–10 q (offset, batch, head, row), 11 k offset, 12 v offset, 13–15 k/v (batch, head, row),
 * 16–19 out/dout (offset, batch, head, row), 20 lse offset, 21 mask offset, 22 (unused),
 * 23–26 dq (offset, batch, head, row), 27 dk offset, 28 dv offset, 29–31 dk/dv (batch, head, row), 32 D,
 * 33 n = B·H·Tq (where Δ starts in the backward's row buffer; the mask starts at 2n).
 */
const COMMON = `
/** How many of the Tk keys query t sees: j ≤ Tk − Tq + t when causal (the queries are the last Tq positions). */
fn visible(t: u32) -> u32 {
  let Tq = P[2]; let Tk = P[3];
  if (P[4] == 0u) { return Tk; }
  return u32(clamp(i32(Tk) - i32(Tq) + i32(t) + 1, 0, i32(Tk)));
}
`;

/** The workgroup's (b, h) and tile, from a 2-D grid; returns early (uniformly) past the last. */
const WG_MAIN = `
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) w: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_id) li: vec3<u32>) {
  let g = w.y * nw.x + w.x;
  let tiles = P[5];
  if (g >= P[0] * P[1] * tiles) { return; }
  let bh = g / tiles;
  let tile = g % tiles;
  let b = bh / P[1];
  let h = bh % P[1];
  let Tq = P[2];
  let Tk = P[3];
  let scale = pf(6u);
  let kb = b * P[13] + h * P[14];
  let kr = P[15];`;

/** Whether key j of batch b is real: the (B, Tk) mask's entry, or always without a mask. */
const keep = (mask: boolean, j: string): string => (mask ? `(Mk[P[21] + b * Tk + ${j}] != 0.0)` : 'true');
/** The same in backward, from the row buffer S (attentionRowsWgsl). */
const keepS = (mask: boolean, j: string): string => (mask ? `(S[2u * P[33] + b * Tk + ${j}] != 0u)` : 'true');

/** Stages rows [r0, r0 + BK) of two operands (X at xb + r·xr, Y at yb + r·yr, n rows) into xs, ys; zero past n. */
function stage(BK: number, D: number, X: string, Y: string): string {
  return `
    workgroupBarrier();
    for (var e = li.x; e < ${BK * D}u; e += ${WG}u) {
      let r = r0 + e / ${D}u;
      let d = e % ${D}u;
      var a: f32 = 0.0;
      var c: f32 = 0.0;
      if (r < n) { a = ${X}[xb + r * xr + d]; c = ${Y}[yb + r * yr + d]; }
      xs[e] = a;
      ys[e] = c;
    }
    workgroupBarrier();`;
}

/**
 * Forward (and, without lse, inference): out_t = Σ_j softmax(s)_j·v_j and lse_t = m + log Σ_j exp(s_j − m)
 * over the keys query t sees that the mask keeps, s = scale·q_t·k_j; a query that sees none gets a zero
 * row and lse = +∞. Bindings: Q, K, V, [mask], O, [lse].
 */
export function attentionForwardWgsl(D: number, mask: boolean, lse: boolean): string {
  const BK = attentionTile(D);
  let slot = 4;
  const maskB = mask ? binding(slot++, 'Mk', 'f32', false) : '';
  const outB = binding(slot++, 'O', 'f32', true);
  const lseB = lse ? binding(slot++, 'L', 'u32', true) : '';
  return HEADER + COMMON + binding(1, 'Q', 'f32', false) + binding(2, 'K', 'f32', false) + binding(3, 'V', 'f32', false) + maskB + outB + lseB + `
var<workgroup> xs: array<f32, ${BK * D}>; // keys of the tile
var<workgroup> ys: array<f32, ${BK * D}>; // their values
${WG_MAIN}
  let t = tile * ${WG}u + li.x;
  let live = t < Tq;
  let lastRow = min(Tq, tile * ${WG}u + ${WG}u) - 1u;
  let tileKeys = visible(lastRow); // the most any row of this workgroup sees: uniform
  var keys = 0u;
  var q: array<f32, ${D}>;
  var acc: array<f32, ${D}>;
  let qo = P[7] + b * P[8] + h * P[9] + t * P[10];
  if (live) {
    keys = visible(t);
    for (var d = 0u; d < ${D}u; d++) { q[d] = Q[qo + d]; }
  }
  for (var d = 0u; d < ${D}u; d++) { acc[d] = 0.0; }
  var m: f32 = LOWEST;
  var l: f32 = 0.0;
  var seen = false;
  let n = Tk;
  let xb = P[11] + kb;
  let yb = P[12] + kb;
  let xr = kr;
  let yr = kr;
  for (var r0 = 0u; r0 < tileKeys; r0 += ${BK}u) {${stage(BK, D, 'K', 'V')}
    var s: array<f32, ${BK}>;
    var ok: array<bool, ${BK}>;
    var tm = m;
    var found = false;
    for (var jj = 0u; jj < ${BK}u; jj++) {
      let j = r0 + jj;
      ok[jj] = j < keys && ${keep(mask, 'j')};
      if (ok[jj]) {
        var qk: f32 = 0.0;
        for (var d = 0u; d < ${D}u; d++) { qk = qk + q[d] * xs[jj * ${D}u + d]; }
        s[jj] = scale * qk;
        tm = max(tm, s[jj]);
        found = true;
      }
    }
    if (found) {
      // Rescale what earlier tiles summed to the new max, once per tile.
      let corr = select(0.0, exp(m - tm), seen);
      l = l * corr;
      for (var d = 0u; d < ${D}u; d++) { acc[d] = acc[d] * corr; }
      for (var jj = 0u; jj < ${BK}u; jj++) {
        if (!ok[jj]) { continue; }
        let p = exp(s[jj] - tm);
        l = l + p;
        for (var d = 0u; d < ${D}u; d++) { acc[d] = acc[d] + p * ys[jj * ${D}u + d]; }
      }
      m = tm;
      seen = true;
    }
  }
  if (!live) { return; }
  let oo = P[16] + b * P[17] + h * P[18] + t * P[19];
  for (var d = 0u; d < ${D}u; d++) { O[oo + d] = select(0.0, acc[d] / l, seen); }
  ${lse ? `L[P[20] + bh * Tq + t] = select(${INF_BITS}, bitcast<u32>(m + log(l)), seen);` : ''}
}`;
}

/**
 * The backward's row buffer S (u32 words), one launch before dq and dk, dv: S[i] = lse_i's bits and
 * S[n + i] = Δ_i = Σ_d dO_i·O_i (in d order) for the n = B·H·Tq query rows, and S[2n + b·Tk + j] = 1 for
 * a real key, 0 for a padded one. One buffer for the three keeps the dk, dv launch within WebGPU's
 * default of 8 storage buffers per stage. Bindings: O, dO, lse, [mask], S.
 */
export function attentionRowsWgsl(mask: boolean): string {
  return HEADER + binding(1, 'O', 'f32', false) + binding(2, 'G', 'f32', false) + binding(3, 'L', 'u32', false)
    + (mask ? binding(4, 'Mk', 'f32', false) : '') + binding(mask ? 5 : 4, 'S', 'u32', true) + `
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gi: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gi.y * nw.x * ${WG}u + gi.x;
  let Tq = P[2];
  let n = P[33];
  if (i < n) {
    let t = i % Tq;
    let bh = i / Tq;
    let b = bh / P[1];
    let h = bh % P[1];
    let o = P[16] + b * P[17] + h * P[18] + t * P[19];
    var a: f32 = 0.0;
    for (var d = 0u; d < P[32]; d++) { a = a + G[o + d] * O[o + d]; }
    S[i] = L[P[20] + i];
    S[n + i] = bitcast<u32>(a);
  }
  ${mask ? 'if (i < P[0] * P[3]) { S[2u * n + i] = select(0u, 1u, Mk[P[21] + i] != 0.0); }' : ''}
}`;
}

/**
 * dq_t = scale·Σ_j p_tj·(dO_t·v_j − Δ_t)·k_j with p = exp(s − lse_t), one invocation per query row over
 * key tiles staged in workgroup memory, keys in order. Bindings: Q, K, V, dO, S (attentionRowsWgsl), dq.
 */
export function attentionBackwardQueryWgsl(D: number, mask: boolean): string {
  const BK = attentionTile(D);
  return HEADER + COMMON + binding(1, 'Q', 'f32', false) + binding(2, 'K', 'f32', false) + binding(3, 'V', 'f32', false)
    + binding(4, 'G', 'f32', false) + binding(5, 'S', 'u32', false) + binding(6, 'DQ', 'f32', true) + `
var<workgroup> xs: array<f32, ${BK * D}>; // keys of the tile
var<workgroup> ys: array<f32, ${BK * D}>; // their values
${WG_MAIN}
  let t = tile * ${WG}u + li.x;
  let live = t < Tq;
  let lastRow = min(Tq, tile * ${WG}u + ${WG}u) - 1u;
  let tileKeys = visible(lastRow);
  var keys = 0u;
  var q: array<f32, ${D}>;
  var go: array<f32, ${D}>;
  var dq: array<f32, ${D}>;
  var lse: f32 = 0.0;
  var delta: f32 = 0.0;
  if (live) {
    let lb = S[bh * Tq + t];
    // A query that saw no key (lse = +∞) has p = 0 everywhere: dq = 0.
    if (lb != ${INF_BITS}) { keys = visible(t); }
    lse = bitcast<f32>(lb);
    delta = bitcast<f32>(S[P[33] + bh * Tq + t]);
    let qo = P[7] + b * P[8] + h * P[9] + t * P[10];
    let oo = P[16] + b * P[17] + h * P[18] + t * P[19];
    for (var d = 0u; d < ${D}u; d++) { q[d] = Q[qo + d]; go[d] = G[oo + d]; }
  }
  for (var d = 0u; d < ${D}u; d++) { dq[d] = 0.0; }
  let n = Tk;
  let xb = P[11] + kb;
  let yb = P[12] + kb;
  let xr = kr;
  let yr = kr;
  for (var r0 = 0u; r0 < tileKeys; r0 += ${BK}u) {${stage(BK, D, 'K', 'V')}
    for (var jj = 0u; jj < ${BK}u; jj++) {
      let j = r0 + jj;
      if (!(j < keys && ${keepS(mask, 'j')})) { continue; }
      var sd: f32 = 0.0;
      var dp: f32 = 0.0;
      for (var d = 0u; d < ${D}u; d++) {
        sd = sd + q[d] * xs[jj * ${D}u + d];
        dp = dp + go[d] * ys[jj * ${D}u + d];
      }
      let p = exp(scale * sd - lse);
      let ds = scale * (p * (dp - delta));
      for (var d = 0u; d < ${D}u; d++) { dq[d] = dq[d] + ds * xs[jj * ${D}u + d]; }
    }
  }
  if (!live) { return; }
  let dqo = P[23] + b * P[24] + h * P[25] + t * P[26];
  for (var d = 0u; d < ${D}u; d++) { DQ[dqo + d] = dq[d]; }
}`;
}

/**
 * dv_j = Σ_t p_tj·dO_t and dk_j = scale·Σ_t p_tj·(dO_t·v_j − Δ_t)·q_t, one invocation per key row over
 * the query tiles that can see it (staged in workgroup memory), queries in order; a padded key's rows
 * are 0. Bindings: Q, K, V, dO, S (attentionRowsWgsl), dk, [dv]: with `shared`, dk and dv are views of
 * one buffer (a packed gradient), written through one binding, since WebGPU forbids a writable binding
 * to overlap another.
 */
export function attentionBackwardKeyWgsl(D: number, mask: boolean, shared: boolean): string {
  const BQ = attentionTile(D);
  const DV = shared ? 'DK' : 'DV';
  return HEADER + COMMON + binding(1, 'Q', 'f32', false) + binding(2, 'K', 'f32', false) + binding(3, 'V', 'f32', false)
    + binding(4, 'G', 'f32', false) + binding(5, 'S', 'u32', false) + binding(6, 'DK', 'f32', true)
    + (shared ? '' : binding(7, 'DV', 'f32', true)) + `
var<workgroup> xs: array<f32, ${BQ * D}>; // queries of the tile
var<workgroup> ys: array<f32, ${BQ * D}>; // their output gradients
${WG_MAIN}
  let j = tile * ${WG}u + li.x;
  let live = j < Tk;
  var k: array<f32, ${D}>;
  var v: array<f32, ${D}>;
  var dk: array<f32, ${D}>;
  var dv: array<f32, ${D}>;
  var real = false;
  if (live) {
    real = ${keepS(mask, 'j')};
    for (var d = 0u; d < ${D}u; d++) { k[d] = K[P[11] + kb + j * kr + d]; v[d] = V[P[12] + kb + j * kr + d]; }
  }
  for (var d = 0u; d < ${D}u; d++) { dk[d] = 0.0; dv[d] = 0.0; }
  // Causal: query t sees key j iff t ≥ j + Tq − Tk; the workgroup starts at its first key's first query.
  var first = 0u;
  if (P[4] != 0u) { first = u32(max(i32(tile * ${WG}u) + i32(Tq) - i32(Tk), 0)); }
  var start = Tq;
  if (real) { start = select(0u, u32(max(i32(j) + i32(Tq) - i32(Tk), 0)), P[4] != 0u); }
  let n = Tq;
  let xb = P[7] + b * P[8] + h * P[9];
  let yb = P[16] + b * P[17] + h * P[18];
  let xr = P[10];
  let yr = P[19];
  for (var r0 = first - first % ${BQ}u; r0 < Tq; r0 += ${BQ}u) {${stage(BQ, D, 'Q', 'G')}
    for (var tt = 0u; tt < ${BQ}u; tt++) {
      let t = r0 + tt;
      if (t < start || t >= Tq) { continue; }
      let lb = S[bh * Tq + t];
      if (lb == ${INF_BITS}) { continue; }
      var sd: f32 = 0.0;
      var dp: f32 = 0.0;
      for (var d = 0u; d < ${D}u; d++) {
        sd = sd + xs[tt * ${D}u + d] * k[d];
        dp = dp + ys[tt * ${D}u + d] * v[d];
      }
      let p = exp(scale * sd - bitcast<f32>(lb));
      let ds = scale * (p * (dp - bitcast<f32>(S[P[33] + bh * Tq + t])));
      for (var d = 0u; d < ${D}u; d++) {
        dv[d] = dv[d] + p * ys[tt * ${D}u + d];
        dk[d] = dk[d] + ds * xs[tt * ${D}u + d];
      }
    }
  }
  if (!live) { return; }
  let base = b * P[29] + h * P[30] + j * P[31];
  for (var d = 0u; d < ${D}u; d++) { DK[P[27] + base + d] = dk[d]; ${DV}[P[28] + base + d] = dv[d]; }
}`;
}
