// Elementwise kernels: unary ops and their derivatives (float64 math per element, like the reference,
// except the cheap ones that are exact in float32 SIMD), affine, axpy, and broadcasting binary ops.
import { madd, vexp } from './simd';
import { nextRun, runOff0, runOff1, seekRun } from './runs';
import {
  UNARY_NEG as NEG, UNARY_EXP as EXP, UNARY_LOG as LOG, UNARY_SQRT as SQRT, UNARY_TANH as TANH, UNARY_RELU as RELU,
  UNARY_SIGMOID as SIGMOID, UNARY_GELU as GELU, UNARY_GELU_TANH as GELU_TANH,
  BINARY_ADD as ADD, BINARY_SUB as SUB, BINARY_MUL as MUL, BINARY_DIV as DIV,
} from './codes';
const SQRT_HALF: f64 = 0.7071067811865476;
const INV_SQRT_2PI: f64 = 0.3989422804014327;
const SQRT_2_OVER_PI: f64 = 0.7978845608028654;
const GELU_C: f64 = 0.044715;

// ---- erf (Cody 1969, as src/backend/ref/erf.ts) ------------------------------------------------
@inline function expMinusSquare(y: f64): f64 {
  const hi = Math.trunc(y * 16) / 16;
  const del = (y - hi) * (y + hi);
  return Math.exp(-hi * hi) * Math.exp(-del);
}

function erfcPositive(y: f64): f64 {
  if (y <= 4) {
    let num = 2.1531153547440383e-8 * y;
    let den = y;
    num = (num + 0.5641884969886701) * y; den = (den + 15.744926110709835) * y;
    num = (num + 8.883149794388377) * y; den = (den + 117.6939508913125) * y;
    num = (num + 66.11919063714163) * y; den = (den + 537.1811018620099) * y;
    num = (num + 298.6351381974001) * y; den = (den + 1621.3895745666903) * y;
    num = (num + 881.952221241769) * y; den = (den + 3290.7992357334597) * y;
    num = (num + 1712.0476126340707) * y; den = (den + 4362.619090143247) * y;
    num = (num + 2051.0783778260716) * y; den = (den + 3439.3676741437216) * y;
    return (expMinusSquare(y) * (num + 1230.3393547979972)) / (den + 1230.3393548037495);
  }
  if (y >= 26.543) return 0;
  const z = 1 / (y * y);
  let num = 0.016315387137302097 * z;
  let den = z;
  num = (num + 0.30532663496123236) * z; den = (den + 2.568520192289822) * z;
  num = (num + 0.36034489994980445) * z; den = (den + 1.8729528499234673) * z;
  num = (num + 0.12578172611122926) * z; den = (den + 0.5279051029514285) * z;
  num = (num + 0.016083785148742275) * z; den = (den + 0.06051834131244132) * z;
  const r = (z * (num + 0.0006587491615298378)) / (den + 0.0023352049762686918);
  return (expMinusSquare(y) * (0.5641895835477563 - r)) / y;
}

export function erf(x: f64): f64 {
  if (isNaN<f64>(x)) return NaN;
  const y = Math.abs(x);
  if (y <= 0.46875) {
    const z = x * x;
    let num = 0.18577770618460315 * z;
    let den = z;
    num = (num + 3.1611237438705655) * z; den = (den + 23.601290952344122) * z;
    num = (num + 113.86415415105016) * z; den = (den + 244.02463793444417) * z;
    num = (num + 377.485237685302) * z; den = (den + 1282.6165260773723) * z;
    return (x * (num + 3209.3775891384694)) / (den + 2844.236833439171);
  }
  const r = 0.5 - erfcPositive(y) + 0.5;
  return x < 0 ? -r : r;
}

// ---- unary ------------------------------------------------------------------------------------
@inline function sigmoid(x: f64): f64 {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

function unaryValue(op: i32, x: f64): f64 {
  switch (op) {
    case EXP: return Math.exp(x);
    case LOG: return Math.log(x);
    case TANH: return Math.tanh(x);
    case SIGMOID: return sigmoid(x);
    case GELU: return 0.5 * x * (1 + erf(x * SQRT_HALF));
    case GELU_TANH: {
      const u = SQRT_2_OVER_PI * (x + GELU_C * x * x * x);
      return 0.5 * x * (1 + Math.tanh(u));
    }
    default: return NaN;
  }
}

function unaryDerivative(op: i32, x: f64): f64 {
  switch (op) {
    case EXP: return Math.exp(x);
    case LOG: return 1 / x;
    case SQRT: return 0.5 / Math.sqrt(x);
    case TANH: {
      const t = Math.tanh(x);
      return 1 - t * t;
    }
    case SIGMOID: {
      const s = sigmoid(x);
      return s * (1 - s);
    }
    case GELU: return 0.5 * (1 + erf(x * SQRT_HALF)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
    case GELU_TANH: {
      const u = SQRT_2_OVER_PI * (x + GELU_C * x * x * x);
      const t = Math.tanh(u);
      const du = SQRT_2_OVER_PI * (1 + 3 * GELU_C * x * x);
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du;
    }
    default: return NaN;
  }
}


// ---- vectorised GELU -------------------------------------------------------------------------
// erf by Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7, below float32's resolution of 1 + erf), with
// the vector exp; GELU's derivative reuses the same exp(−x²/2). tanh(u) = 1 − 2/(e^{2u} + 1).

/** erf(z) for four lanes, given e = exp(−z²). */
@inline function verf(z: v128, e: v128): v128 {
  const az = f32x4.abs(z);
  const t = f32x4.div(f32x4.splat(1), madd(f32x4.splat(0.3275911), az, f32x4.splat(1)));
  let p = madd(f32x4.splat(1.061405429), t, f32x4.splat(-1.453152027));
  p = madd(p, t, f32x4.splat(1.421413741));
  p = madd(p, t, f32x4.splat(-0.284496736));
  p = madd(p, t, f32x4.splat(0.254829592));
  const y = f32x4.sub(f32x4.splat(1), f32x4.mul(f32x4.mul(p, t), e));
  return v128.or(y, v128.and(z, i32x4.splat(0x80000000)));
}

// erf(u) ≈ u·P(u²)/Q(u²), u clamped to [−4, 4] (beyond, erf is ±1 in float32): a rational fit made by
// scripts/fit_erf.py, |error| ≤ 3.3e-7 evaluated in float32 (A&S 7.1.26 above measures 5.2e-7 so).
// No exp: the forward GELU needs no exp(−u²) otherwise, and this costs half of verf + vexp.
@inline function verfRational(u0: v128): v128 {
  const u = f32x4.min(f32x4.max(u0, f32x4.splat(-4)), f32x4.splat(4));
  const z = f32x4.mul(u, u);
  let p = madd(f32x4.splat(-1.317381226328962e-8), z, f32x4.splat(4.680651727539953e-6));
  p = madd(p, z, f32x4.splat(0.0003794243384618312));
  p = madd(p, z, f32x4.splat(0.003846895880997181));
  p = madd(p, z, f32x4.splat(0.054306015372276306));
  p = madd(p, z, f32x4.splat(0.18514513969421387));
  p = madd(p, z, f32x4.splat(1.128379225730896));
  let q = madd(f32x4.splat(6.30737267783843e-5), z, f32x4.splat(0.001306784339249134));
  q = madd(q, z, f32x4.splat(0.01545590627938509));
  q = madd(q, z, f32x4.splat(0.11393159627914429));
  q = madd(q, z, f32x4.splat(0.4974140226840973));
  q = madd(q, z, f32x4.splat(1));
  return f32x4.div(f32x4.mul(u, p), q);
}

@inline function vtanh(u: v128): v128 {
  const e = vexp(f32x4.add(u, u));
  return f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(e, f32x4.splat(1))));
}

/** GELU (op 7) or GELU-tanh (op 8) of four lanes: the value when dy is null, else dy·f'(x). */
@inline function vgelu(op: i32, x: v128, backward: bool, dy: v128): v128 {
  const half = f32x4.splat(0.5);
  const one = f32x4.splat(1);
  if (op == GELU) {
    const z = f32x4.mul(x, f32x4.splat(<f32>SQRT_HALF));
    if (!backward) return f32x4.mul(x, f32x4.mul(half, f32x4.add(one, verfRational(z))));
    const e = vexp(f32x4.neg(f32x4.mul(z, z)));
    const cdf = f32x4.mul(half, f32x4.add(one, verf(z, e)));
    if (!backward) return f32x4.mul(x, cdf);
    return f32x4.mul(dy, madd(f32x4.mul(x, f32x4.splat(<f32>INV_SQRT_2PI)), e, cdf));
  }
  const x2 = f32x4.mul(x, x);
  const u = f32x4.mul(f32x4.splat(<f32>SQRT_2_OVER_PI), madd(f32x4.mul(f32x4.splat(<f32>GELU_C), x2), x, x));
  const t = vtanh(u);
  if (!backward) return f32x4.mul(f32x4.mul(half, x), f32x4.add(one, t));
  const du = f32x4.mul(f32x4.splat(<f32>SQRT_2_OVER_PI), madd(f32x4.splat(<f32>(3 * GELU_C)), x2, one));
  const d = madd(f32x4.mul(f32x4.mul(half, x), f32x4.sub(one, f32x4.mul(t, t))), du, f32x4.mul(half, f32x4.add(one, t)));
  return f32x4.mul(dy, d);
}

/**
 * The vector loop for GELU ops, forward (dy = 0) or backward; returns how many elements it did. One
 * loop per (op, direction) with literal arguments, so vgelu's branches fold away, and two vectors per
 * step so their long, independent dependency chains overlap (~35% faster than one generic loop).
 */
function geluLoop(op: i32, x: usize, dy: usize, out: usize, n: i32): i32 {
  const n4 = n & ~3;
  const zero = f32x4.splat(0);
  let i = 0;
  if (dy == 0 && op == GELU) {
    for (; i + 8 <= n4; i += 8) {
      const o = <usize>i << 2;
      const a = vgelu(GELU, v128.load(x + o), false, zero);
      const b = vgelu(GELU, v128.load(x + o, 16), false, zero);
      v128.store(out + o, a);
      v128.store(out + o, b, 16);
    }
    if (i < n4) v128.store(out + (<usize>i << 2), vgelu(GELU, v128.load(x + (<usize>i << 2)), false, zero));
  } else if (dy == 0) {
    for (; i + 8 <= n4; i += 8) {
      const o = <usize>i << 2;
      const a = vgelu(GELU_TANH, v128.load(x + o), false, zero);
      const b = vgelu(GELU_TANH, v128.load(x + o, 16), false, zero);
      v128.store(out + o, a);
      v128.store(out + o, b, 16);
    }
    if (i < n4) v128.store(out + (<usize>i << 2), vgelu(GELU_TANH, v128.load(x + (<usize>i << 2)), false, zero));
  } else if (op == GELU) {
    for (; i + 8 <= n4; i += 8) {
      const o = <usize>i << 2;
      const a = vgelu(GELU, v128.load(x + o), true, v128.load(dy + o));
      const b = vgelu(GELU, v128.load(x + o, 16), true, v128.load(dy + o, 16));
      v128.store(out + o, a);
      v128.store(out + o, b, 16);
    }
    if (i < n4) v128.store(out + (<usize>i << 2), vgelu(GELU, v128.load(x + (<usize>i << 2)), true, v128.load(dy + (<usize>i << 2))));
  } else {
    for (; i + 8 <= n4; i += 8) {
      const o = <usize>i << 2;
      const a = vgelu(GELU_TANH, v128.load(x + o), true, v128.load(dy + o));
      const b = vgelu(GELU_TANH, v128.load(x + o, 16), true, v128.load(dy + o, 16));
      v128.store(out + o, a);
      v128.store(out + o, b, 16);
    }
    if (i < n4) v128.store(out + (<usize>i << 2), vgelu(GELU_TANH, v128.load(x + (<usize>i << 2)), true, v128.load(dy + (<usize>i << 2))));
  }
  return n4;
}

export function unary(op: i32, x: usize, out: usize, n: i32): void {
  let i = op == GELU || op == GELU_TANH ? geluLoop(op, x, 0, out, n) : 0;
  if (op == NEG || op == RELU || op == SQRT) {
    // Exact in float32: neg and relu trivially, sqrt because IEEE sqrt is correctly rounded.
    const zero = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const v = v128.load(x + o);
      const r = op == NEG ? f32x4.neg(v) : op == RELU ? f32x4.pmax(zero, v) : f32x4.sqrt(v);
      v128.store(out + o, r);
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      const v = load<f32>(x + o);
      store<f32>(out + o, op == NEG ? -v : op == RELU ? (v > 0 ? v : 0) : Mathf.sqrt(v));
    }
    return;
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, <f32>unaryValue(op, <f64>load<f32>(x + o)));
  }
}

/**
 * ReLU's backward, dy·(x > 0 ? 1 : 0), four lanes at a time; returns how many elements it did. The
 * float32 product is the scalar loop's float64 one rounded (dy·1 = dy, dy·0 = ±0, NaN stays NaN), so
 * the two agree bit for bit. The ResNet and the MLP take one per activation.
 */
function reluBackwardLoop(x: usize, dy: usize, dx: usize, n: i32): i32 {
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const d = v128.bitselect(one, zero, f32x4.gt(v128.load(x + o), zero));
    v128.store(dx + o, f32x4.mul(v128.load(dy + o), d));
  }
  return i;
}

export function unaryBackward(op: i32, x: usize, dy: usize, dx: usize, n: i32): void {
  const start = op == GELU || op == GELU_TANH ? geluLoop(op, x, dy, dx, n) : op == RELU ? reluBackwardLoop(x, dy, dx, n) : 0;
  for (let i = start; i < n; i++) {
    const o = <usize>i << 2;
    const xv = <f64>load<f32>(x + o);
    const g = <f64>load<f32>(dy + o);
    let d: f64;
    if (op == NEG) d = -1;
    else if (op == RELU) d = xv > 0 ? 1 : 0;
    else d = unaryDerivative(op, xv);
    store<f32>(dx + o, <f32>(g * d));
  }
}

/** out = alpha·x + beta. */
export function affine(x: usize, out: usize, n: i32, alpha: f32, beta: f32): void {
  const va = f32x4.splat(alpha);
  const vb = f32x4.splat(beta);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, madd(va, v128.load(x + o), vb));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, alpha * load<f32>(x + o) + beta);
  }
}

/** dst += alpha·src. */
export function axpy(src: usize, dst: usize, n: i32, alpha: f32): void {
  const va = f32x4.splat(alpha);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, madd(va, v128.load(src + o), v128.load(dst + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(dst + o) + alpha * load<f32>(src + o));
  }
}

// ---- binary with broadcasting -------------------------------------------------------------------
// Any other code is BINARY_EQUAL.
@inline function vop(op: i32, a: v128, b: v128): v128 {
  switch (op) {
    case ADD: return f32x4.add(a, b);
    case SUB: return f32x4.sub(a, b);
    case MUL: return f32x4.mul(a, b);
    case DIV: return f32x4.div(a, b);
    default: return v128.and(f32x4.eq(a, b), f32x4.splat(1));
  }
}

@inline function sop(op: i32, a: f32, b: f32): f32 {
  switch (op) {
    case ADD: return a + b;
    case SUB: return a - b;
    case MUL: return a * b;
    case DIV: return a / b;
    default: return a == b ? 1 : 0;
  }
}

/** One innermost run of n outputs, a and b advancing by sa, sb ∈ {0, 1} elements. */
function binaryRun(op: i32, a: usize, sa: i32, b: usize, sb: i32, out: usize, n: i32): void {
  let i = 0;
  if (sa == 1 && sb == 1) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, vop(op, v128.load(a + o), v128.load(b + o)));
    }
  } else if (sa == 1 && sb == 0) {
    const vb = v128.load32_splat(b);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, vop(op, v128.load(a + o), vb));
    }
  } else if (sa == 0 && sb == 1) {
    const va = v128.load32_splat(a);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, vop(op, va, v128.load(b + o)));
    }
  }
  for (; i < n; i++) {
    store<f32>(out + (<usize>i << 2), sop(op, load<f32>(a + (<usize>(i * sa) << 2)), load<f32>(b + (<usize>(i * sb) << 2))));
  }
}

/**
 * out = a op b over outShape with element strides for a and b (0 where a dim broadcasts).
 * meta holds rank i32s each of: outShape, aStrides, bStrides; dims are already merged where possible.
 * Thread tid's share: a range of the innermost runs, or a 4-aligned chunk of the single run
 * when the merged shape has one (same-shape operands). idx is this thread's own scratch.
 */
export function binaryRange(op: i32, a: usize, b: usize, out: usize, rank: i32, meta: usize, idx: usize, tid: i32,
  threads: i32): void {
  const shape = meta;
  const sa = meta + (<usize>rank << 2);
  const sb = meta + (<usize>(2 * rank) << 2);
  let total = 1;
  for (let d = 0; d < rank; d++) total *= load<i32>(shape + (<usize>d << 2));
  if (total == 0) return;
  if (rank == 0) {
    if (tid == 0) store<f32>(out, sop(op, load<f32>(a), load<f32>(b)));
    return;
  }
  const last = rank - 1;
  const inner = load<i32>(shape + (<usize>last << 2));
  const ia = load<i32>(sa + (<usize>last << 2));
  const ib = load<i32>(sb + (<usize>last << 2));
  const outer = total / inner;
  if (outer == 1) {
    const c = chunk(inner, tid, threads);
    const i0 = <i32>(c >> 32);
    binaryRun(op, a + (<usize>(i0 * ia) << 2), ia, b + (<usize>(i0 * ib) << 2), ib, out + (<usize>i0 << 2), <i32>(c & 0xffffffff));
    return;
  }
  const r0 = <i32>((<i64>outer * tid) / threads);
  const r1 = <i32>((<i64>outer * (tid + 1)) / threads);
  seekRun(meta, rank, r0, idx, 0, 0);
  let oo = r0 * inner;
  for (let r = r0; r < r1; r++) {
    binaryRun(op, a + (<usize>runOff0 << 2), ia, b + (<usize>runOff1 << 2), ib, out + (<usize>oo << 2), inner);
    oo += inner;
    nextRun(meta, rank, idx);
  }
}

/** [i0, i1) of n elements for thread tid: chunks are multiples of 4, so the SIMD/tail split (and so every bit) matches one thread. */
@inline export function chunk(n: i32, tid: i32, threads: i32): i64 {
  const size = ((n + threads - 1) / threads + 3) & ~3;
  const i0 = min<i32>(n, tid * size);
  return (<i64>i0 << 32) | <i64>(min<i32>(n, i0 + size) - i0);
}

export function unaryPart(op: i32, x: usize, out: usize, n: i32, tid: i32, threads: i32): void {
  const c = chunk(n, tid, threads);
  const o = <usize>(<i32>(c >> 32)) << 2;
  unary(op, x + o, out + o, <i32>(c & 0xffffffff));
}

export function unaryBackwardPart(op: i32, x: usize, dy: usize, dx: usize, n: i32, tid: i32, threads: i32): void {
  if (threads == 1) { // one share: all; and a second call, to keep unaryBackward out of line (see assembly/parts.ts)
    unaryBackward(op, x, dy, dx, n);
    return;
  }
  const c = chunk(n, tid, threads);
  const o = <usize>(<i32>(c >> 32)) << 2;
  unaryBackward(op, x + o, dy + o, dx + o, <i32>(c & 0xffffffff));
}
