// The WGSL programs of the WebGPU backend's required core, one builder per kernel family. Every kernel
// reads its parameters from binding 0 (u32 words; floats bit-cast), binds whole buffers and takes the
// element offsets of its operands as parameters (views need not meet WebGPU's 256-byte binding
// alignment), and runs one invocation per output element in 64-wide workgroups over a 2-D grid (a
// dimension holds at most 65,535 workgroups). Sums run in a fixed order in float32, so every kernel is
// deterministic: the same inputs give the same bits on the same GPU.

import type { BinaryOp, ReduceOp, UnaryOp } from '../backend.ts';

/** A storage element type: how a binding's words are read. */
export type Elem = 'f32' | 'i32';

export const WG = 64;
/** The most dims a strided kernel takes (shapes are merged first, so this is rarely reached). */
export const MAX_RANK = 8;

const HEADER = `
@group(0) @binding(0) var<storage, read> P: array<u32>;
fn pf(i: u32) -> f32 { return bitcast<f32>(P[i]); }
`;

/** The flat index of this invocation (grid of WG-wide workgroups, x then y), and whether it is in range. */
const INDEX = (n: string) => `
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = g.y * nw.x * ${WG}u + g.x;
  if (i >= ${n}) { return; }`;

function binding(slot: number, name: string, elem: Elem, write: boolean): string {
  return `@group(0) @binding(${slot}) var<storage, ${write ? 'read_write' : 'read'}> ${name}: array<${elem}>;\n`;
}

/** out[o + i] = bits (P: n, o, bits). Words, so one kernel fills float32 and int32 alike. */
export function fillWgsl(): string {
  return HEADER + binding(1, 'O', 'i32', true) + `${INDEX('P[0]')}
  O[P[1] + i] = bitcast<i32>(P[2]);
}`;
}

/** out[o + i] = convert(src[s + i]) (P: n, s, o); float → int truncates toward zero, as the reference. */
export function castWgsl(from: Elem, to: Elem): string {
  return HEADER + binding(1, 'S', from, false) + binding(2, 'O', to, true) + `${INDEX('P[0]')}
  O[P[2] + i] = ${to}(S[P[1] + i]);
}`;
}

/**
 * A strided copy of `shape` (rank r ≤ MAX_RANK): P = n, r, srcOffset, dstOffset, shape[8], srcStrides[8],
 * dstStrides[8] (strides may be negative: i32 words).
 */
export function stridedCopyWgsl(elem: Elem): string {
  return HEADER + binding(1, 'S', elem, false) + binding(2, 'O', elem, true) + `${INDEX('P[0]')}
  var rem = i;
  var s = i32(P[2]);
  var d = i32(P[3]);
  for (var k = i32(P[1]) - 1; k >= 0; k--) {
    let size = P[4u + u32(k)];
    let c = i32(rem % size);
    rem = rem / size;
    s += c * bitcast<i32>(P[12u + u32(k)]);
    d += c * bitcast<i32>(P[20u + u32(k)]);
  }
  O[d] = S[s];
}`;
}

const UNARY_CODES: Record<UnaryOp, number> = { neg: 0, exp: 1, log: 2, sqrt: 3, tanh: 4, relu: 5, sigmoid: 6, gelu: 7, gelu_tanh: 8 };

export function unaryCode(op: UnaryOp): number {
  return UNARY_CODES[op];
}

// erf by Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7): WGSL has no erf. tanh's argument is clamped
// (|x| ≥ 9 gives ±1 in float32), since some implementations compute it from exp and return NaN beyond.
const MATH = `
fn erf_(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-a * a);
  return select(y, -y, x < 0.0);
}
fn tanh_(x: f32) -> f32 { return tanh(clamp(x, -9.0, 9.0)); }
fn sigmoid_(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
const SQRT_HALF: f32 = 0.70710678118654752;
const INV_SQRT_2PI: f32 = 0.39894228040143268;
const SQRT_2_OVER_PI: f32 = 0.79788456080286536;
const GELU_C: f32 = 0.044715;
fn unary_(op: u32, x: f32) -> f32 {
  switch op {
    case 0u: { return -x; }
    case 1u: { return exp(x); }
    case 2u: { return log(x); }
    case 3u: { return sqrt(x); }
    case 4u: { return tanh_(x); }
    case 5u: { return select(0.0, x, x > 0.0); }
    case 6u: { return sigmoid_(x); }
    case 7u: { return 0.5 * x * (1.0 + erf_(x * SQRT_HALF)); }
    default: { return 0.5 * x * (1.0 + tanh_(SQRT_2_OVER_PI * (x + GELU_C * x * x * x))); }
  }
}
fn derivative_(op: u32, x: f32) -> f32 {
  switch op {
    case 0u: { return -1.0; }
    case 1u: { return exp(x); }
    case 2u: { return 1.0 / x; }
    case 3u: { return 0.5 / sqrt(x); }
    case 4u: { let t = tanh_(x); return 1.0 - t * t; }
    case 5u: { return select(0.0, 1.0, x > 0.0); }
    case 6u: { let s = sigmoid_(x); return s * (1.0 - s); }
    case 7u: { return 0.5 * (1.0 + erf_(x * SQRT_HALF)) + x * INV_SQRT_2PI * exp(-0.5 * x * x); }
    default: {
      let u = SQRT_2_OVER_PI * (x + GELU_C * x * x * x);
      let t = tanh_(u);
      return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_C * x * x);
    }
  }
}
`;

/** out = f(x) (P: n, op, x, o), or with `backward` dx = dy·f'(x) (P: n, op, x, dy, o). */
export function unaryWgsl(backward: boolean): string {
  if (!backward) {
    return HEADER + MATH + binding(1, 'X', 'f32', false) + binding(2, 'O', 'f32', true) + `${INDEX('P[0]')}
  O[P[3] + i] = unary_(P[1], X[P[2] + i]);
}`;
  }
  return HEADER + MATH + binding(1, 'X', 'f32', false) + binding(2, 'D', 'f32', false) + binding(3, 'O', 'f32', true) + `${INDEX('P[0]')}
  O[P[4] + i] = D[P[3] + i] * derivative_(P[1], X[P[2] + i]);
}`;
}

/** out = α·x + β (P: n, x, o, α, β). */
export function affineWgsl(): string {
  return HEADER + binding(1, 'X', 'f32', false) + binding(2, 'O', 'f32', true) + `${INDEX('P[0]')}
  O[P[2] + i] = pf(3u) * X[P[1] + i] + pf(4u);
}`;
}

/** dst += α·src (P: n, src, dst, α). */
export function axpyWgsl(): string {
  return HEADER + binding(1, 'S', 'f32', false) + binding(2, 'O', 'f32', true) + `${INDEX('P[0]')}
  O[P[2] + i] = O[P[2] + i] + pf(3u) * S[P[1] + i];
}`;
}

const BINARY_EXPR: Record<BinaryOp, string> = { add: 'x + y', sub: 'x - y', mul: 'x * y', div: 'x / y' };

/**
 * out = a ∘ b with broadcasting, or `equal` (1 where a = b, else 0): P = n, r, aOffset, bOffset, oOffset,
 * outShape[8], aStrides[8], bStrides[8] (0 along a broadcast dim). Operands are read as float32 values
 * (int32 converted) and the result stored in out's type (truncated toward zero for int32).
 */
export function binaryWgsl(op: BinaryOp | 'equal', a: Elem, b: Elem, out: Elem): string {
  const expr = op === 'equal' ? 'select(0.0, 1.0, x == y)' : BINARY_EXPR[op];
  return HEADER + binding(1, 'A', a, false) + binding(2, 'B', b, false) + binding(3, 'O', out, true) + `${INDEX('P[0]')}
  var rem = i;
  var ia = P[2];
  var ib = P[3];
  for (var k = i32(P[1]) - 1; k >= 0; k--) {
    let size = P[5u + u32(k)];
    let c = rem % size;
    rem = rem / size;
    ia += c * P[13u + u32(k)];
    ib += c * P[21u + u32(k)];
  }
  let x = f32(A[ia]);
  let y = f32(B[ib]);
  O[P[4] + i] = ${out}(${expr});
}`;
}

/**
 * Sum, sum of squares or max over the reduced dims, one invocation per output element: P = n (outputs),
 * rk (kept dims), rr (reduced dims), m (reduced count), xOffset, oOffset, keptShape[8], keptStrides[8],
 * redShape[8], redStrides[8] (strides in x). The reduced elements are visited in row-major order, as the
 * reference does; max propagates NaN.
 */
export function reduceWgsl(op: ReduceOp): string {
  // WGSL lets a compiler assume that no value is NaN or infinite, so NaN is found by its bits, and max
  // starts from the lowest finite float (the host fills an empty reduction with −∞ itself).
  const step = op === 'sum' ? 'acc = acc + v;' : op === 'sumsq' ? 'acc = acc + v * v;'
    : 'if ((bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u) { acc = v; break; } if (v > acc) { acc = v; }';
  const init = op === 'max' ? '-3.40282346638528859812e38' : '0.0';
  return HEADER + binding(1, 'X', 'f32', false) + binding(2, 'O', 'f32', true) + `${INDEX('P[0]')}
  var rem = i;
  var base = P[4];
  for (var k = i32(P[1]) - 1; k >= 0; k--) {
    let size = P[6u + u32(k)];
    base += (rem % size) * P[14u + u32(k)];
    rem = rem / size;
  }
  var acc: f32 = ${init};
  for (var j = 0u; j < P[3]; j++) {
    var r = j;
    var at = base;
    for (var k = i32(P[2]) - 1; k >= 0; k--) {
      let size = P[22u + u32(k)];
      at += (r % size) * P[30u + u32(k)];
      r = r / size;
    }
    let v = X[at];
    ${step}
  }
  O[P[5] + i] = acc;
}`;
}

/** The small matmul's square tile: a 16 × 16 block of C per workgroup, one element per invocation. */
export const TILE = 16;

/** matmulWgsl's layout and meaning, one C element per invocation: for products too small to fill 64 × 64 blocks. */
export function matmulSmallWgsl(): string {
  return HEADER + binding(1, 'A', 'f32', false) + binding(2, 'B', 'f32', false) + binding(3, 'C', 'f32', true) + `
var<workgroup> ta: array<array<f32, ${TILE}>, ${TILE}>;
var<workgroup> tb: array<array<f32, ${TILE}>, ${TILE}>;
@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(workgroup_id) w: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
  let m = P[0]; let n = P[1]; let k = P[2];
  let row = w.y * ${TILE}u + l.y;
  let col = w.x * ${TILE}u + l.x;
  let a0 = P[8] + w.z * P[5];
  let b0 = P[9] + w.z * P[6];
  var acc: f32 = 0.0;
  for (var k0 = 0u; k0 < k; k0 += ${TILE}u) {
    let ka = k0 + l.x;
    var av: f32 = 0.0;
    if (row < m && ka < k) { av = A[a0 + select(row * k + ka, ka * m + row, P[3] != 0u)]; }
    ta[l.y][l.x] = av;
    let kb = k0 + l.y;
    var bv: f32 = 0.0;
    if (kb < k && col < n) { bv = B[b0 + select(kb * n + col, col * k + kb, P[4] != 0u)]; }
    tb[l.y][l.x] = bv;
    workgroupBarrier();
    for (var t = 0u; t < ${TILE}u; t++) { acc = acc + ta[l.y][t] * tb[t][l.x]; }
    workgroupBarrier();
  }
  if (row < m && col < n) {
    let at = P[10] + w.z * m * n + row * n + col;
    if (P[7] != 0u) { C[at] = C[at] + acc; } else { C[at] = acc; }
  }
}`;
}

/** The matmul's block of C per workgroup (MM_TILE × MM_TILE), each invocation computing MM_REG × MM_REG of it. */
export const MM_TILE = 64;
const MM_REG = 4;
const MM_K = 16;

/**
 * C[b] (+)= A[b]·B[b] with A (m, k) or stored (k, m) (transA), B (k, n) or stored (n, k) (transB):
 * P = m, n, k, transA, transB, strideA, strideB, accumulate, aOffset, bOffset, cOffset. Grid: (⌈n/64⌉,
 * ⌈m/64⌉, batch), 16 × 16 invocations each holding a 4 × 4 block of C in registers, K walked 16 at a
 * time through workgroup memory (register blocking: each loaded value feeds 4 multiply-adds). Each C
 * element sums its k products in order, so the result does not depend on the tiling.
 */
export function matmulWgsl(): string {
  const T = MM_TILE;
  const R = MM_REG;
  const K = MM_K;
  const lanes = T / R; // 16 invocations along each side
  return HEADER + binding(1, 'A', 'f32', false) + binding(2, 'B', 'f32', false) + binding(3, 'C', 'f32', true) + `
var<workgroup> ta: array<array<f32, ${T}>, ${K}>; // ta[kk][row]
var<workgroup> tb: array<array<f32, ${T}>, ${K}>; // tb[kk][col]
@compute @workgroup_size(${lanes}, ${lanes})
fn main(@builtin(workgroup_id) w: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
  let m = P[0]; let n = P[1]; let k = P[2];
  let row0 = w.y * ${T}u;
  let col0 = w.x * ${T}u;
  let a0 = P[8] + w.z * P[5];
  let b0 = P[9] + w.z * P[6];
  let flat = l.y * ${lanes}u + l.x; // 0..255: which ${(T * K) / (lanes * lanes)} tile elements this invocation loads
  var acc: array<array<f32, ${R}>, ${R}>;
  for (var i = 0u; i < ${R}u; i++) { for (var j = 0u; j < ${R}u; j++) { acc[i][j] = 0.0; } }
  for (var k0 = 0u; k0 < k; k0 += ${K}u) {
    for (var e = 0u; e < ${(T * K) / (lanes * lanes)}u; e++) {
      let idx = flat + e * ${lanes * lanes}u;
      let kk = idx / ${T}u;
      let rr = idx % ${T}u;
      let kg = k0 + kk;
      let r = row0 + rr;
      var av: f32 = 0.0;
      if (r < m && kg < k) { av = A[a0 + select(r * k + kg, kg * m + r, P[3] != 0u)]; }
      ta[kk][rr] = av;
      let c = col0 + rr;
      var bv: f32 = 0.0;
      if (kg < k && c < n) { bv = B[b0 + select(kg * n + c, c * k + kg, P[4] != 0u)]; }
      tb[kk][rr] = bv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${K}u; kk++) {
      var av: array<f32, ${R}>;
      var bv: array<f32, ${R}>;
      for (var i = 0u; i < ${R}u; i++) { av[i] = ta[kk][l.y * ${R}u + i]; bv[i] = tb[kk][l.x * ${R}u + i]; }
      for (var i = 0u; i < ${R}u; i++) { for (var j = 0u; j < ${R}u; j++) { acc[i][j] = acc[i][j] + av[i] * bv[j]; } }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < ${R}u; i++) {
    let row = row0 + l.y * ${R}u + i;
    if (row >= m) { continue; }
    for (var j = 0u; j < ${R}u; j++) {
      let col = col0 + l.x * ${R}u + j;
      if (col >= n) { continue; }
      let at = P[10] + w.z * m * n + row * n + col;
      if (P[7] != 0u) { C[at] = C[at] + acc[i][j]; } else { C[at] = acc[i][j]; }
    }
  }
}`;
}

/** The error word's binding: kernels that find a bad id record the first one here (read with the next read). */
const ERRORS = `@group(0) @binding(9) var<storage, read_write> E: array<atomic<u32>>;\n`;

/** out[n, c] = weight[ids[n], c] (P: N·C, C, V, w, ids, o); an id outside [0, V) writes 0 and flags n + 1. */
export function embeddingForwardWgsl(): string {
  return HEADER + ERRORS + binding(1, 'W', 'f32', false) + binding(2, 'I', 'i32', false) + binding(3, 'O', 'f32', true) + `${INDEX('P[0]')}
  let C = P[1];
  let n = i / C;
  let id = I[P[4] + n];
  if (id < 0 || u32(id) >= P[2]) { atomicMin(&E[0], n + 1u); O[P[5] + i] = 0.0; return; }
  O[P[5] + i] = W[P[3] + u32(id) * C + i % C];
}`;
}

/**
 * dweight[v, c] += Σ_{n: ids[n] = v} dout[n, c], in n order (P: V·C, C, N, d, ids, w): one invocation per
 * (v, c) scanning every id, so no two invocations write one element and the sum has a fixed order. It
 * reads the ids V·C times: fine for the character and small-vocabulary models this backend trains first.
 */
export function embeddingBackwardWgsl(): string {
  return HEADER + ERRORS + binding(1, 'D', 'f32', false) + binding(2, 'I', 'i32', false) + binding(3, 'W', 'f32', true) + `${INDEX('P[0]')}
  let C = P[1];
  let v = i32(i / C);
  let c = i % C;
  var acc: f32 = 0.0;
  for (var n = 0u; n < P[2]; n++) {
    let id = I[P[4] + n];
    if (id == v) { acc = acc + D[P[3] + n * C + c]; }
    if (c == 0u && v == 0 && (id < 0 || u32(id) >= P[0] / C)) { atomicMin(&E[0], n + 1u); }
  }
  W[P[5] + i] = W[P[5] + i] + acc;
}`;
}
