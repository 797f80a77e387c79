// Shape helpers shared by every backend's kernels (the ref oracle and the fast backends must read
// broadcast shapes and reduction axes the same way, so they share one implementation).

/** Element strides of a dense row-major shape, 0 where the dim has size 1 (it broadcasts). */
export function broadcastStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = shape[d] === 1 ? 0 : s;
    s *= shape[d];
  }
  return strides;
}

/** Which dims of `shape` a reduction over `axes` removes; axes must be sorted, unique and in range. */
export function reducedDims(shape: readonly number[], axes: readonly number[]): boolean[] {
  const rank = shape.length;
  const reduced = new Array<boolean>(rank).fill(false);
  for (let i = 0; i < axes.length; i++) {
    const ax = axes[i];
    if (!Number.isInteger(ax) || ax < 0 || ax >= rank || (i > 0 && ax <= axes[i - 1])) {
      throw new Error(`reduce axes [${axes}] must be sorted, unique and lie in [0, ${rank}) for shape [${shape}].`);
    }
    reduced[ax] = true;
  }
  return reduced;
}

interface Layout {
  batch: number;
  head: number;
  row: number;
}

/** The layout of a dense (B, H, T, D) operand, heads contiguous: what attention on (B, H, T, D) tensors passes. */
export function denseHeads(H: number, T: number, D: number): Layout {
  return { batch: H * T * D, head: T * D, row: D };
}

function isIndex(v: number): boolean {
  return Number.isInteger(v) && v >= 0;
}

/** Elements a strided (B, H, T, D) operand spans: its last element's index + 1. */
function headExtent(op: string, name: string, l: Layout, B: number, H: number, T: number, D: number): number {
  if (!(isIndex(l.batch) && isIndex(l.head) && isIndex(l.row))) {
    throw new Error(`${op}: the ${name} layout's strides must be non-negative integers, got ${JSON.stringify(l)}.`);
  }
  if (B === 0 || H === 0 || T === 0 || D === 0) return 0;
  return (B - 1) * l.batch + (H - 1) * l.head + (T - 1) * l.row + D;
}

/**
 * Checks attentionInference's sizes (1 ≤ Tq ≤ Tk, layouts of non-negative integers) and returns the
 * elements each operand must hold, so every backend rejects the same calls before its kernel runs.
 */
export function attentionInferenceExtents(qLayout: Layout, kvLayout: Layout, outLayout: Layout, B: number, H: number, Tq: number,
  Tk: number, D: number): { q: number; kv: number; out: number } {
  if (!(Number.isInteger(Tq) && Number.isInteger(Tk) && Tq >= 1 && Tq <= Tk)) {
    throw new Error(`attentionInference needs 1 ≤ Tq ≤ Tk (the queries are the last Tq of Tk positions), got Tq = ${Tq}, Tk = ${Tk}.`);
  }
  const op = 'attentionInference';
  return {
    q: headExtent(op, 'q', qLayout, B, H, Tq, D),
    kv: headExtent(op, 'k/v', kvLayout, B, H, Tk, D),
    out: headExtent(op, 'out', outLayout, B, H, Tq, D),
  };
}

/** What AttentionKeys (src/backend/backend.ts) tells the kernels; repeated here so this file imports nothing. */
interface Keys {
  Tk: number;
  kvLayout: Layout;
  dkvLayout?: Layout;
  keyMask: { length: number } | null;
}

/**
 * Checks attentionForward/Backward's sizes and layouts and returns the elements each operand must
 * hold: q (`qkv`; k and v too without `keys`), k and v (`kv`), out and dout (`out`), dq (`grad`; dk,
 * dv too without keys, when a gradient layout is given), dk and dv (`dkv`), the contiguous (B, H, T)
 * lse, and the (B, Tk) key mask (`mask`, 0 without one).
 */
export function attentionExtents(op: string, inLayout: Layout, outLayout: Layout, gradLayout: Layout | null, B: number, H: number,
  T: number, D: number, keys?: Keys): { qkv: number; kv: number; out: number; grad: number; dkv: number; lse: number; mask: number } {
  const Tk = keys ? keys.Tk : T;
  if (![B, H, T, D, Tk].every(isIndex)) {
    throw new Error(`${op} needs B, H, T, D and Tk to be non-negative integers, got B = ${B}, H = ${H}, T = ${T}, D = ${D}, Tk = ${Tk}.`);
  }
  const q = headExtent(op, keys ? 'q' : 'q/k/v', inLayout, B, H, T, D);
  const grad = gradLayout ? headExtent(op, keys ? 'dq' : 'dq/dk/dv', gradLayout, B, H, T, D) : 0;
  return {
    qkv: q,
    kv: keys ? headExtent(op, 'k/v', keys.kvLayout, B, H, Tk, D) : q,
    out: headExtent(op, 'out', outLayout, B, H, T, D),
    grad,
    dkv: !gradLayout ? 0 : keys ? headExtent(op, 'dk/dv', keys.dkvLayout ?? keys.kvLayout, B, H, Tk, D) : grad,
    lse: B * H * T,
    mask: keys?.keyMask ? B * Tk : 0,
  };
}
