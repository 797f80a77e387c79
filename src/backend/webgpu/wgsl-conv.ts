// The WGSL programs of the WebGPU backend's convolution and pooling over NCHW planes (the ResNet
// model's kernels), forward and backward, every one a gather: each output element is written by one
// invocation (or, for the weight and bias gradients, one workgroup summing as a fixed tree), walking its
// terms in the reference's order. No atomics, so the same inputs give the same bits on the same GPU.
//
// Parameters (binding 0, u32 words): 0 B, 1 C (Cin), 2 H, 3 W, 4 Cout, 5 kH, 6 kW, 7 strideH, 8 strideW,
// 9 padH, 10 padW, 11 Ho, 12 Wo, then each kernel's operand offsets from 13 on.

import { WG } from './wgsl.ts';

const HEADER = `
@group(0) @binding(0) var<storage, read> P: array<u32>;
`;

function binding(slot: number, name: string, elem: 'f32' | 'i32', write: boolean): string {
  return `@group(0) @binding(${slot}) var<storage, ${write ? 'read_write' : 'read'}> ${name}: array<${elem}>;\n`;
}

/** One invocation per element of n (grid of WG-wide workgroups, x then y); i its flat index. */
const PER_ELEMENT = (n: string) => `
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = g.y * nw.x * ${WG}u + g.x;
  if (i >= ${n}) { return; }
  let C = P[1]; let H = P[2]; let W = P[3]; let kH = P[5]; let kW = P[6];
  let sH = P[7]; let sW = P[8]; let pH = i32(P[9]); let pW = i32(P[10]); let Ho = P[11]; let Wo = P[12];`;

/**
 * The output rows (or columns) whose windows cover input row h: i with i·s − p ≤ h < i·s − p + k, in
 * [0, n): [lo, hi) (empty when lo ≥ hi).
 */
const COVERING = `
fn covering(h: i32, s: u32, p: i32, k: u32, n: u32) -> vec2<u32> {
  let a = h + p - i32(k) + 1; // i·s ≥ a
  let lo = select(0, (a + i32(s) - 1) / i32(s), a > 0);
  let hi = min(i32(n), (h + p) / i32(s) + 1);
  return vec2<u32>(u32(lo), u32(max(hi, lo)));
}
`;

/**
 * out[b, co, i, j] = bias[co] + Σ_{ci, kh, kw} w[co, ci, kh, kw]·x[b, ci, i·sH − pH + kh, j·sW − pW + kw]
 * (x zero outside its planes), summed from the bias in (ci, kh, kw) order. P 13–16: x, w, bias, out.
 */
export function conv2dForwardWgsl(bias: boolean): string {
  return HEADER + binding(1, 'X', 'f32', false) + binding(2, 'Wt', 'f32', false) + (bias ? binding(3, 'Bs', 'f32', false) : '')
    + binding(bias ? 4 : 3, 'O', 'f32', true) + `${PER_ELEMENT('P[0] * P[4] * P[11] * P[12]')}
  let j = i % Wo;
  let oi = (i / Wo) % Ho;
  let co = (i / (Wo * Ho)) % P[4];
  let b = i / (Wo * Ho * P[4]);
  var acc: f32 = ${bias ? 'Bs[P[15] + co]' : '0.0'};
  for (var ci = 0u; ci < C; ci++) {
    let xp = P[13] + (b * C + ci) * H * W;
    for (var kh = 0u; kh < kH; kh++) {
      let h = i32(oi * sH + kh) - pH;
      if (h < 0 || h >= i32(H)) { continue; }
      for (var kw = 0u; kw < kW; kw++) {
        let w = i32(j * sW + kw) - pW;
        if (w < 0 || w >= i32(W)) { continue; }
        acc = acc + Wt[P[14] + ((co * C + ci) * kH + kh) * kW + kw] * X[xp + u32(h) * W + u32(w)];
      }
    }
  }
  O[P[16] + i] = acc;
}`;
}

/**
 * dx[b, ci, h, w] = Σ_{co, kh, kw} dy[b, co, i, j]·w[co, ci, kh, kw] over the windows (i, j) that read
 * (h, w) through (kh, kw), in (co, kh, kw) order. P 13–15: dy, w, dx.
 */
export function conv2dBackwardDataWgsl(): string {
  return HEADER + binding(1, 'G', 'f32', false) + binding(2, 'Wt', 'f32', false) + binding(3, 'O', 'f32', true) + `${PER_ELEMENT('P[0] * P[1] * P[2] * P[3]')}
  let w = i32(i % W);
  let h = i32((i / W) % H);
  let ci = (i / (W * H)) % C;
  let b = i / (W * H * C);
  let Cout = P[4];
  var acc: f32 = 0.0;
  for (var co = 0u; co < Cout; co++) {
    let gp = P[13] + (b * Cout + co) * Ho * Wo;
    for (var kh = 0u; kh < kH; kh++) {
      let a = h + pH - i32(kh); // = oi·sH
      if (a < 0 || a % i32(sH) != 0 || a / i32(sH) >= i32(Ho)) { continue; }
      let oi = u32(a) / sH;
      for (var kw = 0u; kw < kW; kw++) {
        let c = w + pW - i32(kw);
        if (c < 0 || c % i32(sW) != 0 || c / i32(sW) >= i32(Wo)) { continue; }
        acc = acc + G[gp + oi * Wo + u32(c) / sW] * Wt[P[14] + ((co * C + ci) * kH + kh) * kW + kw];
      }
    }
  }
  O[P[15] + i] = acc;
}`;
}

/** The workgroup's sum of one value per invocation, as a fixed tree (in uniform control flow). */
const TREE = `
var<workgroup> red: array<f32, ${WG}>;
fn wsum(l: u32, v: f32) -> f32 {
  red[l] = v;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (l < s) { red[l] = red[l] + red[l + s]; }
    workgroupBarrier();
  }
  return red[0];
}
`;

/**
 * dw[co, ci, kh, kw] = Σ_{b, i, j} dy[b, co, i, j]·x[b, ci, i·sH − pH + kh, j·sW − pW + kw] (weight = 1),
 * or dbias[co] = Σ_{b, i, j} dy[b, co, i, j] (weight = 0): a workgroup per element, its 64 invocations
 * striding over (b, i, j), then a fixed tree. P 13–15: dy, x, out. Bindings: dy, [x], out.
 */
export function conv2dBackwardParamsWgsl(weight: boolean): string {
  // The bias's sum reads no x: an unused binding would leave the pipeline's automatic layout.
  return HEADER + TREE + binding(1, 'G', 'f32', false) + (weight ? binding(2, 'X', 'f32', false) : '') + binding(weight ? 3 : 2, 'O', 'f32', true) + `
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_id) li: vec3<u32>) {
  let e = wg.y * nw.x + wg.x;
  let C = P[1]; let H = P[2]; let W = P[3]; let Cout = P[4]; let kH = P[5]; let kW = P[6];
  let sH = P[7]; let sW = P[8]; let pH = i32(P[9]); let pW = i32(P[10]); let Ho = P[11]; let Wo = P[12];
  if (e >= ${weight ? 'Cout * C * kH * kW' : 'Cout'}) { return; }
  let co = ${weight ? 'e / (C * kH * kW)' : 'e'};
  let ci = ${weight ? '(e / (kH * kW)) % C' : '0u'};
  let kh = ${weight ? '(e / kW) % kH' : '0u'};
  let kw = ${weight ? 'e % kW' : '0u'};
  var acc: f32 = 0.0;
  let L = Ho * Wo;
  for (var r = li.x; r < P[0] * L; r += ${WG}u) {
    let b = r / L;
    let oi = (r % L) / Wo;
    let j = r % Wo;
    let g = G[P[13] + (b * Cout + co) * L + oi * Wo + j];
    ${weight ? `let h = i32(oi * sH + kh) - pH;
    let w = i32(j * sW + kw) - pW;
    if (h >= 0 && h < i32(H) && w >= 0 && w < i32(W)) { acc = acc + g * X[P[14] + ((b * C + ci) * H + u32(h)) * W + u32(w)]; }` : 'acc = acc + g;'}
  }
  let s = wsum(li.x, acc);
  if (li.x == 0u) { O[P[15] + e] = s; }
}`;
}

/**
 * Max over each window, padding never chosen: the first maximum in row-major window order, a NaN
 * replacing it (the last NaN), as torch's CPU kernel; argmax = h·W + w within the plane. NaN is found by
 * its bits, since WGSL lets a compiler assume there is none. P 13–15: x, out, argmax.
 */
export function maxPool2dForwardWgsl(): string {
  return HEADER + COVERING + binding(1, 'X', 'f32', false) + binding(2, 'O', 'f32', true) + binding(3, 'A', 'i32', true) + `${PER_ELEMENT('P[0] * P[1] * P[11] * P[12]')}
  let j = i % Wo;
  let oi = (i / Wo) % Ho;
  let plane = i / (Wo * Ho);
  let xp = P[13] + plane * H * W;
  let h0 = u32(max(i32(oi * sH) - pH, 0));
  let h1 = min(u32(max(i32(oi * sH + kH) - pH, 0)), H);
  let w0 = u32(max(i32(j * sW) - pW, 0));
  let w1 = min(u32(max(i32(j * sW + kW) - pW, 0)), W);
  var at = h0 * W + w0;
  var best = X[xp + at];
  var nan = (bitcast<u32>(best) & 0x7fffffffu) > 0x7f800000u;
  for (var h = h0; h < h1; h++) {
    for (var w = w0; w < w1; w++) {
      let v = X[xp + h * W + w];
      let vn = (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
      if (vn || (!nan && v > best)) { best = v; at = h * W + w; nan = vn; }
    }
  }
  O[P[14] + i] = best;
  A[P[15] + i] = i32(at);
}`;
}

/** dx[b, c, h, w] = Σ dy over the outputs whose window covers (h, w) and chose it, in output order. P 13–15: dy, argmax, dx. */
export function maxPool2dBackwardWgsl(): string {
  return HEADER + COVERING + binding(1, 'G', 'f32', false) + binding(2, 'A', 'i32', false) + binding(3, 'O', 'f32', true) + `${PER_ELEMENT('P[0] * P[1] * P[2] * P[3]')}
  let w = i32(i % W);
  let h = i32((i / W) % H);
  let plane = i / (W * H);
  let me = h * i32(W) + w;
  let ri = covering(h, sH, pH, kH, Ho);
  let rj = covering(w, sW, pW, kW, Wo);
  var acc: f32 = 0.0;
  for (var oi = ri.x; oi < ri.y; oi++) {
    for (var oj = rj.x; oj < rj.y; oj++) {
      let o = (plane * Ho + oi) * Wo + oj;
      if (A[P[14] + o] == me) { acc = acc + G[P[13] + o]; }
    }
  }
  O[P[15] + i] = acc;
}`;
}

/** Mean over each window, padding counted as zeros (Σ over the plane's part, then / (kH·kW)). P 13–14: x, out. */
export function avgPool2dForwardWgsl(): string {
  return HEADER + binding(1, 'X', 'f32', false) + binding(2, 'O', 'f32', true) + `${PER_ELEMENT('P[0] * P[1] * P[11] * P[12]')}
  let j = i % Wo;
  let oi = (i / Wo) % Ho;
  let xp = P[13] + (i / (Wo * Ho)) * H * W;
  let h0 = u32(max(i32(oi * sH) - pH, 0));
  let h1 = min(u32(max(i32(oi * sH + kH) - pH, 0)), H);
  let w0 = u32(max(i32(j * sW) - pW, 0));
  let w1 = min(u32(max(i32(j * sW + kW) - pW, 0)), W);
  var s: f32 = 0.0;
  for (var h = h0; h < h1; h++) { for (var w = w0; w < w1; w++) { s = s + X[xp + h * W + w]; } }
  O[P[14] + i] = s / f32(kH * kW);
}`;
}

/** dx[b, c, h, w] = Σ dy/(kH·kW) over the windows that cover (h, w), in output order. P 13–14: dy, dx. */
export function avgPool2dBackwardWgsl(): string {
  return HEADER + COVERING + binding(1, 'G', 'f32', false) + binding(2, 'O', 'f32', true) + `${PER_ELEMENT('P[0] * P[1] * P[2] * P[3]')}
  let w = i32(i % W);
  let h = i32((i / W) % H);
  let plane = i / (W * H);
  let ri = covering(h, sH, pH, kH, Ho);
  let rj = covering(w, sW, pW, kW, Wo);
  let n = f32(kH * kW);
  var acc: f32 = 0.0;
  for (var oi = ri.x; oi < ri.y; oi++) {
    for (var oj = rj.x; oj < rj.y; oj++) { acc = acc + G[P[13] + (plane * Ho + oi) * Wo + oj] / n; }
  }
  O[P[14] + i] = acc;
}`;
}
