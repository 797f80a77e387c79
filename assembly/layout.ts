// Data movement and reductions over 4-byte elements (float32 or int32): the N-d strided copy that
// permute, slice and concat reduce to, and sum/max/sumsq over any axes with float64 accumulators.
import { nextRun, runOff0, runOff1, seekRun } from './runs';
import { REDUCE_MAX as MAX, REDUCE_SUM as SUM, REDUCE_SUMSQ as SUMSQ } from './codes';

/**
 * dst[dstOff + Σ i·dstStrides] = src[srcOff + Σ i·srcStrides] for every index < shape.
 * meta holds rank i32s each of: shape, srcStrides, dstStrides. Thread tid's share: a range of the
 * innermost runs (idx0: rank i32s of scratch per thread).
 */
export function stridedCopyPart(src: usize, srcOff: i32, dst: usize, dstOff: i32, rank: i32, meta: usize, idx0: usize, tid: i32,
  threads: i32): void {
  stridedCopyRange(src, srcOff, dst, dstOff, rank, meta, idx0 + (<usize>(tid * max<i32>(rank, 1)) << 2), tid, threads);
}

function stridedCopyRange(src: usize, srcOff: i32, dst: usize, dstOff: i32, rank: i32, meta: usize, idx: usize, tid: i32,
  threads: i32): void {
  const shape = meta;
  const ss = meta + (<usize>rank << 2);
  const ds = meta + (<usize>(2 * rank) << 2);
  let total = 1;
  for (let d = 0; d < rank; d++) total *= load<i32>(shape + (<usize>d << 2));
  if (total == 0) return;
  if (rank == 0) {
    if (tid == 0) store<i32>(dst + (<usize>dstOff << 2), load<i32>(src + (<usize>srcOff << 2)));
    return;
  }
  const last = rank - 1;
  const inner = load<i32>(shape + (<usize>last << 2));
  const is = load<i32>(ss + (<usize>last << 2));
  const id = load<i32>(ds + (<usize>last << 2));
  const outer = total / inner;
  // Runs [r0, r1) for this thread.
  const r0 = <i32>((<i64>outer * tid) / threads);
  const r1 = <i32>((<i64>outer * (tid + 1)) / threads);
  seekRun(meta, rank, r0, idx, srcOff, dstOff);
  for (let r = r0; r < r1; r++) {
    const os = runOff0, od = runOff1;
    if (is == 1 && id == 1) {
      memory.copy(dst + (<usize>od << 2), src + (<usize>os << 2), <usize>inner << 2);
    } else {
      let ps = os, pd = od;
      for (let i = 0; i < inner; i++) {
        store<i32>(dst + (<usize>pd << 2), load<i32>(src + (<usize>ps << 2)));
        ps += is;
        pd += id;
      }
    }
    nextRun(meta, rank, idx);
  }
}

/**
 * Reduces dense x over the dims whose output stride is 0. meta holds rank i32s each of: shape,
 * outStrides; acc is outLen float64s of scratch; idx is rank i32s of scratch. Sums accumulate in
 * float64; max propagates NaN; an empty reduction gives 0 for sums and −Infinity for max.
 */
export function reduce(op: i32, x: usize, out: usize, outLen: i32, rank: i32, meta: usize, acc: usize, idx: usize): void {
  const init: f64 = op == MAX ? -Infinity : 0;
  for (let j = 0; j < outLen; j++) store<f64>(acc + (<usize>j << 3), init);
  const shape = meta;
  const os = meta + (<usize>rank << 2);
  let total = 1;
  for (let d = 0; d < rank; d++) total *= load<i32>(shape + (<usize>d << 2));
  if (total > 0 && rank > 0) {
    const last = rank - 1;
    const inner = load<i32>(shape + (<usize>last << 2));
    const io = load<i32>(os + (<usize>last << 2));
    for (let d = 0; d < last; d++) store<i32>(idx + (<usize>d << 2), 0);
    let j = 0;
    let xi = 0;
    const outer = total / inner;
    for (let r = 0; r < outer; r++) {
      const xp = x + (<usize>xi << 2);
      if (io == 0) {
        const ap = acc + (<usize>j << 3);
        let s = load<f64>(ap);
        if (op == SUM || op == SUMSQ) {
          // Two f64x2 accumulators over pairs of floats, then the odd tail.
          let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
          let i = 0;
          for (; i + 4 <= inner; i += 4) {
            const v0 = f64x2.promote_low_f32x4(v128.load64_zero(xp + (<usize>i << 2)));
            const v1 = f64x2.promote_low_f32x4(v128.load64_zero(xp + (<usize>i << 2), 8));
            a0 = f64x2.add(a0, op == SUM ? v0 : f64x2.mul(v0, v0));
            a1 = f64x2.add(a1, op == SUM ? v1 : f64x2.mul(v1, v1));
          }
          const a = f64x2.add(a0, a1);
          s += f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
          for (; i < inner; i++) {
            const v = <f64>load<f32>(xp + (<usize>i << 2));
            s += op == SUM ? v : v * v;
          }
        } else {
          for (let i = 0; i < inner; i++) {
            const v = <f64>load<f32>(xp + (<usize>i << 2));
            if (v > s || isNaN<f64>(v)) s = v;
          }
        }
        store<f64>(ap, s);
      } else if (op == SUM || op == SUMSQ) {
        // A kept inner dim (a bias gradient: sum over rows): accumulate two columns per f64x2.
        const a0 = acc + (<usize>j << 3);
        let i = 0;
        for (; i + 2 <= inner; i += 2) {
          const v = f64x2.promote_low_f32x4(v128.load64_zero(xp + (<usize>i << 2)));
          const ap = a0 + (<usize>i << 3);
          v128.store(ap, f64x2.add(v128.load(ap), op == SUM ? v : f64x2.mul(v, v)));
        }
        if (i < inner) {
          const v = <f64>load<f32>(xp + (<usize>i << 2));
          const ap = a0 + (<usize>i << 3);
          store<f64>(ap, load<f64>(ap) + (op == SUM ? v : v * v));
        }
      } else {
        for (let i = 0; i < inner; i++) {
          const ap = acc + (<usize>(j + i) << 3);
          const v = <f64>load<f32>(xp + (<usize>i << 2));
          const s = load<f64>(ap);
          if (op == SUM) store<f64>(ap, s + v);
          else if (op == SUMSQ) store<f64>(ap, s + v * v);
          else if (v > s || isNaN<f64>(v)) store<f64>(ap, v);
        }
      }
      xi += inner;
      for (let d = last - 1; d >= 0; d--) {
        const p = idx + (<usize>d << 2);
        const n = load<i32>(shape + (<usize>d << 2));
        const i = load<i32>(p) + 1;
        const ds = load<i32>(os + (<usize>d << 2));
        j += ds;
        if (i < n) {
          store<i32>(p, i);
          break;
        }
        j -= ds * n;
        store<i32>(p, 0);
      }
    }
  } else if (total > 0) {
    // rank 0: a single element
    const v = <f64>load<f32>(x);
    store<f64>(acc, op == SUMSQ ? v * v : v);
  }
  for (let j = 0; j < outLen; j++) store<f32>(out + (<usize>j << 2), <f32>load<f64>(acc + (<usize>j << 3)));
}

/**
 * Column sums (op SUM) or sums of squares (SUMSQ) of a dense (R, C) matrix: a bias gradient, Σ over
 * rows of dy. The general reduce walks rows and round-trips a float64 accumulator through memory per
 * element; here 8 columns' float64 accumulators stay in registers while the rows stream past. Each
 * column is still summed in row order in float64, so the result is bit-identical to reduce's.
 * Thread tid takes an 8-aligned range of columns.
 */
export function columnSumsPart(op: i32, x: usize, out: usize, R: i32, C: i32, tid: i32, threads: i32): void {
  const per = (((C + threads - 1) / threads + 15) & ~15);
  const c0 = min<i32>(C, tid * per), c1 = min<i32>(C, c0 + per);
  let c = c0;
  for (; c + 16 <= c1; c += 16) {
    columnBlock(op, x + (<usize>c << 2), out + (<usize>c << 2), R, C, 16);
  }
  for (; c + 8 <= c1; c += 8) columnBlock(op, x + (<usize>c << 2), out + (<usize>c << 2), R, C, 8);
  for (; c < c1; c++) {
    let s: f64 = 0;
    let p = x + (<usize>c << 2);
    for (let r = 0; r < R; r++, p += <usize>C << 2) {
      const v = <f64>load<f32>(p);
      s += op == SUMSQ ? v * v : v;
    }
    store<f32>(out + (<usize>c << 2), <f32>s);
  }
}

/** Four float32s at p widened to two f64x2 (squared for SUMSQ). */
@inline function widen(op: i32, v: v128, high: bool): v128 {
  const w = f64x2.promote_low_f32x4(high ? i32x4.shuffle(v, v, 2, 3, 0, 1) : v);
  return op == SUMSQ ? f64x2.mul(w, w) : w;
}

/**
 * `width` (8 or 16) columns: one float64 accumulator pair per 4 columns, all in registers. With 16
 * columns, 8 independent add chains hide the add latency, and each row reads one whole cache line.
 */
@inline function columnBlock(op: i32, x: usize, out: usize, R: i32, C: i32, width: i32): void {
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
  let a4 = f64x2.splat(0), a5 = f64x2.splat(0), a6 = f64x2.splat(0), a7 = f64x2.splat(0);
  const rowBytes = <usize>C << 2;
  let p = x;
  for (let r = 0; r < R; r++, p += rowBytes) {
    const u0 = v128.load(p), u1 = v128.load(p, 16);
    a0 = f64x2.add(a0, widen(op, u0, false)); a1 = f64x2.add(a1, widen(op, u0, true));
    a2 = f64x2.add(a2, widen(op, u1, false)); a3 = f64x2.add(a3, widen(op, u1, true));
    if (width == 16) {
      const u2 = v128.load(p, 32), u3 = v128.load(p, 48);
      a4 = f64x2.add(a4, widen(op, u2, false)); a5 = f64x2.add(a5, widen(op, u2, true));
      a6 = f64x2.add(a6, widen(op, u3, false)); a7 = f64x2.add(a7, widen(op, u3, true));
    }
  }
  v128.store64_lane(out, f32x4.demote_f64x2_zero(a0), 0);
  v128.store64_lane(out, f32x4.demote_f64x2_zero(a1), 0, 8);
  v128.store64_lane(out, f32x4.demote_f64x2_zero(a2), 0, 16);
  v128.store64_lane(out, f32x4.demote_f64x2_zero(a3), 0, 24);
  if (width == 16) {
    v128.store64_lane(out, f32x4.demote_f64x2_zero(a4), 0, 32);
    v128.store64_lane(out, f32x4.demote_f64x2_zero(a5), 0, 40);
    v128.store64_lane(out, f32x4.demote_f64x2_zero(a6), 0, 48);
    v128.store64_lane(out, f32x4.demote_f64x2_zero(a7), 0, 56);
  }
}

/** n 4-byte elements at p set to the bit pattern `bits` (a float32's or an int32's). */
export function fill32(p: usize, n: i32, bits: i32): void {
  const v = i32x4.splat(bits);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(p + (<usize>i << 2), v);
  for (; i < n; i++) store<i32>(p + (<usize>i << 2), bits);
}

/** Zeroes `bytes` bytes at p (V8's TypedArray.fill on shared memory is ~15x slower than this memset). */
export function zero(p: usize, bytes: usize): void {
  memory.fill(p, 0, bytes);
}
