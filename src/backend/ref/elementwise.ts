// Elementwise kernels of the reference backend: unary ops and their derivatives, affine, axpy, and
// the broadcasting binary ops. Every value passes through a JS number (float64) on its way.
import type { BinaryOp, HostArray, UnaryOp } from '../backend.ts';
import { erf } from './erf.ts';
import { broadcastStrides } from '../kernel-shapes.ts';

const SQRT_HALF = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_TANH_C = 0.044715;

/** The logistic function, written so that neither branch overflows exp. */
function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

export function unaryValue(op: UnaryOp, x: number): number {
  switch (op) {
    case 'neg':
      return -x;
    case 'exp':
      return Math.exp(x);
    case 'log':
      return Math.log(x);
    case 'sqrt':
      return Math.sqrt(x);
    case 'tanh':
      return Math.tanh(x);
    case 'relu':
      return x > 0 ? x : 0;
    case 'sigmoid':
      return sigmoid(x);
    case 'gelu':
      // Hendrycks & Gimpel 2016: x·Φ(x), Φ(x) = ½(1 + erf(x/√2))
      return 0.5 * x * (1 + erf(x * SQRT_HALF));
    case 'gelu_tanh': {
      // GPT-2's gelu_new: ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
      const u = SQRT_2_OVER_PI * (x + GELU_TANH_C * x * x * x);
      return 0.5 * x * (1 + Math.tanh(u));
    }
    default: {
      const never: never = op;
      throw new Error(`Unknown unary op '${String(never)}'.`);
    }
  }
}

/** f'(x), evaluated at the input x (not at the output). */
export function unaryDerivative(op: UnaryOp, x: number): number {
  switch (op) {
    case 'neg':
      return -1;
    case 'exp':
      return Math.exp(x);
    case 'log':
      return 1 / x;
    case 'sqrt':
      return 0.5 / Math.sqrt(x);
    case 'tanh': {
      const t = Math.tanh(x);
      return 1 - t * t;
    }
    case 'relu':
      // PyTorch's convention: the subgradient at 0 is 0.
      return x > 0 ? 1 : 0;
    case 'sigmoid': {
      const s = sigmoid(x);
      return s * (1 - s);
    }
    case 'gelu':
      // d/dx x·Φ(x) = Φ(x) + x·φ(x), φ the standard normal density.
      return 0.5 * (1 + erf(x * SQRT_HALF)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
    case 'gelu_tanh': {
      // y = ½x(1 + t), t = tanh(u), u' = √(2/π)(1 + 3·0.044715x²):  y' = ½(1 + t) + ½x(1 − t²)u'
      const u = SQRT_2_OVER_PI * (x + GELU_TANH_C * x * x * x);
      const t = Math.tanh(u);
      const du = SQRT_2_OVER_PI * (1 + 3 * GELU_TANH_C * x * x);
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du;
    }
    default: {
      const never: never = op;
      throw new Error(`Unknown unary op '${String(never)}'.`);
    }
  }
}

export function unary(op: UnaryOp, x: HostArray, out: HostArray): void {
  for (let i = 0; i < out.length; i++) out[i] = unaryValue(op, x[i]);
}

export function unaryBackward(op: UnaryOp, x: HostArray, dy: HostArray, dx: HostArray): void {
  for (let i = 0; i < dx.length; i++) dx[i] = dy[i] * unaryDerivative(op, x[i]);
}

export function affine(x: HostArray, out: HostArray, alpha: number, beta: number): void {
  for (let i = 0; i < out.length; i++) out[i] = alpha * x[i] + beta;
}

export function axpy(src: HostArray, dst: HostArray, alpha: number): void {
  for (let i = 0; i < dst.length; i++) dst[i] += alpha * src[i];
}

function binaryValue(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case 'add':
      return a + b;
    case 'sub':
      return a - b;
    case 'mul':
      return a * b;
    case 'div':
      return a / b;
    default: {
      const never: never = op;
      throw new Error(`Unknown binary op '${String(never)}'.`);
    }
  }
}


/**
 * Calls visit(ia, ib) for every index of outShape in row-major order, with the element offsets of
 * a and b under NumPy broadcasting (equal ranks; a dim of size 1 repeats).
 */
function forEachBroadcast(
  aShape: readonly number[],
  bShape: readonly number[],
  outShape: readonly number[],
  visit: (i: number, ia: number, ib: number) => void,
): void {
  const rank = outShape.length;
  if (aShape.length !== rank || bShape.length !== rank) {
    throw new Error(
      `Broadcast shapes must have equal rank: a [${aShape}], b [${bShape}], out [${outShape}]; pad with 1s first.`,
    );
  }
  for (let d = 0; d < rank; d++) {
    const n = outShape[d];
    if ((aShape[d] !== n && aShape[d] !== 1) || (bShape[d] !== n && bShape[d] !== 1)) {
      throw new Error(`Shapes a [${aShape}] and b [${bShape}] do not broadcast to [${outShape}] at dim ${d}.`);
    }
  }
  let total = 1;
  for (const n of outShape) total *= n;
  if (total === 0) return;
  const sa = broadcastStrides(aShape);
  const sb = broadcastStrides(bShape);
  const idx = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  for (let i = 0; i < total; i++) {
    visit(i, ia, ib);
    // Odometer step: bump the last dim, carry into earlier ones, keeping ia and ib in step.
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      ia += sa[d];
      ib += sb[d];
      if (idx[d] < outShape[d]) break;
      ia -= sa[d] * outShape[d];
      ib -= sb[d] * outShape[d];
      idx[d] = 0;
    }
  }
}

function sameShape(x: readonly number[], y: readonly number[]): boolean {
  return x.length === y.length && x.every((n, d) => n === y[d]);
}

export function binary(
  op: BinaryOp,
  a: HostArray,
  aShape: readonly number[],
  b: HostArray,
  bShape: readonly number[],
  out: HostArray,
  outShape: readonly number[],
): void {
  if (sameShape(aShape, outShape) && sameShape(bShape, outShape)) {
    for (let i = 0; i < out.length; i++) out[i] = binaryValue(op, a[i], b[i]);
    return;
  }
  forEachBroadcast(aShape, bShape, outShape, (i, ia, ib) => {
    out[i] = binaryValue(op, a[ia], b[ib]);
  });
}

/** The broadcast of two equal-rank shapes (each dim the larger of the pair). */
export function broadcastShape(aShape: readonly number[], bShape: readonly number[]): number[] {
  return aShape.map((n, d) => (n === 1 ? bShape[d] : n));
}

export function equal(
  a: HostArray,
  aShape: readonly number[],
  b: HostArray,
  bShape: readonly number[],
  out: HostArray,
): void {
  forEachBroadcast(aShape, bShape, broadcastShape(aShape, bShape), (i, ia, ib) => {
    out[i] = a[ia] === b[ib] ? 1 : 0;
  });
}
