// Products with few rows of A (generation: one token at a time, m = 1) without packing. sgemm packs
// all of B for every call, which costs as much as the product itself when m is tiny; here B is read
// in place, once per row of A. Columns are split between threads in chunks of GEMV_CHUNK, and each
// column of C is computed the same way whatever chunk it falls in, so results do not depend on the
// thread count.
import { madd } from './simd';

/** Products with at most this many rows of A take this path (below sgemm's 6-row register tile). */
export const GEMV_MAX_M: i32 = 4;
/** Column chunks handed to threads are multiples of this (four f32x4 accumulators). */
export const GEMV_CHUNK: i32 = 16;

/** [(a0+a2)+(a1+a3), same for b, c, d]: four horizontal sums in hsum's order, as one vector. */
@inline function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 1, 4, 5), v128.shuffle<f32>(a, b, 2, 3, 6, 7));
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 1, 4, 5), v128.shuffle<f32>(c, d, 2, 3, 6, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 2, 4, 6), v128.shuffle<f32>(ab, cd, 1, 3, 5, 7));
}

/** Σ_p x[p]·w[p] with f32x4 lanes over p, summed as hsum4 does, then the tail in order. */
@inline function dotRow(x: usize, w: usize, k: i32): f32 {
  let acc = f32x4.splat(0);
  let p = 0;
  for (; p + 4 <= k; p += 4) acc = madd(v128.load(x + (<usize>p << 2)), v128.load(w + (<usize>p << 2)), acc);
  const s = f32x4.add(acc, v128.shuffle<f32>(acc, acc, 2, 3, 0, 1));
  let r = f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1);
  for (; p < k; p++) r += load<f32>(x + (<usize>p << 2)) * load<f32>(w + (<usize>p << 2));
  return r;
}

/**
 * C[i, j] (= or +=) Σ_p A(i, p)·B(j, p) for i < m, j in [j0, j1), with B stored (n, k) (transB: a
 * Linear layer's weight) and A's rows contiguous. Four columns at a time share each load of A.
 */
function gemvTransB(a: usize, aRow: i32, b: usize, c: usize, ldc: i32, m: i32, j0: i32, j1: i32, k: i32, accumulate: bool): void {
  const kb = <usize>k << 2;
  const k4 = k & ~3;
  for (let i = 0; i < m; i++) {
    const x = a + (<usize>(i * aRow) << 2);
    const ci = c + (<usize>(i * ldc) << 2);
    let j = j0;
    for (; j + 4 <= j1; j += 4) {
      const w0 = b + <usize>j * kb;
      const w1 = w0 + kb, w2 = w1 + kb, w3 = w2 + kb;
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      for (let p = 0; p < k4; p += 4) {
        const o = <usize>p << 2;
        const xv = v128.load(x + o);
        s0 = madd(xv, v128.load(w0 + o), s0);
        s1 = madd(xv, v128.load(w1 + o), s1);
        s2 = madd(xv, v128.load(w2 + o), s2);
        s3 = madd(xv, v128.load(w3 + o), s3);
      }
      let r = hsum4(s0, s1, s2, s3);
      if (k4 < k) {
        let r0 = f32x4.extract_lane(r, 0), r1 = f32x4.extract_lane(r, 1), r2 = f32x4.extract_lane(r, 2), r3 = f32x4.extract_lane(r, 3);
        for (let p = k4; p < k; p++) {
          const o = <usize>p << 2;
          const xp = load<f32>(x + o);
          r0 += xp * load<f32>(w0 + o);
          r1 += xp * load<f32>(w1 + o);
          r2 += xp * load<f32>(w2 + o);
          r3 += xp * load<f32>(w3 + o);
        }
        r = f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(r, 0, r0), 1, r1), 2, r2), 3, r3);
      }
      const cp = ci + (<usize>j << 2);
      v128.store(cp, accumulate ? f32x4.add(v128.load(cp), r) : r);
    }
    for (; j < j1; j++) {
      const cp = ci + (<usize>j << 2);
      const r = dotRow(x, b + <usize>j * kb, k);
      store<f32>(cp, accumulate ? load<f32>(cp) + r : r);
    }
  }
}

/**
 * C[i, j] (= or +=) Σ_p A(i, p)·B(p, j) for i < m, j in [j0, j1), with B stored (k, n): rows of B
 * scaled by A(i, p) and added, 16 columns of C held in registers over all of k.
 */
function gemvRowsB(a: usize, aRow: i32, aCol: i32, b: usize, n: i32, c: usize, ldc: i32, m: i32, j0: i32, j1: i32, k: i32,
  accumulate: bool): void {
  const nb = <usize>n << 2;
  for (let i = 0; i < m; i++) {
    const ci = c + (<usize>(i * ldc) << 2);
    let j = j0;
    for (; j + 16 <= j1; j += 16) {
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      let bp = b + (<usize>j << 2);
      for (let p = 0; p < k; p++) {
        const av = v128.load32_splat(a + (<usize>(i * aRow + p * aCol) << 2));
        s0 = madd(av, v128.load(bp), s0);
        s1 = madd(av, v128.load(bp, 16), s1);
        s2 = madd(av, v128.load(bp, 32), s2);
        s3 = madd(av, v128.load(bp, 48), s3);
        bp += nb;
      }
      const cp = ci + (<usize>j << 2);
      if (accumulate) {
        s0 = f32x4.add(v128.load(cp), s0);
        s1 = f32x4.add(v128.load(cp, 16), s1);
        s2 = f32x4.add(v128.load(cp, 32), s2);
        s3 = f32x4.add(v128.load(cp, 48), s3);
      }
      v128.store(cp, s0);
      v128.store(cp, s1, 16);
      v128.store(cp, s2, 32);
      v128.store(cp, s3, 48);
    }
    for (; j + 4 <= j1; j += 4) {
      let s = f32x4.splat(0);
      let bp = b + (<usize>j << 2);
      for (let p = 0; p < k; p++) {
        s = madd(v128.load32_splat(a + (<usize>(i * aRow + p * aCol) << 2)), v128.load(bp), s);
        bp += nb;
      }
      const cp = ci + (<usize>j << 2);
      v128.store(cp, accumulate ? f32x4.add(v128.load(cp), s) : s);
    }
    for (; j < j1; j++) {
      // One lane of the vector path: the same multiply-adds in the same order, so a column's value
      // does not depend on whether it falls in a full group.
      let s = f32x4.splat(0);
      let bp = b + (<usize>j << 2);
      for (let p = 0; p < k; p++) {
        s = madd(v128.load32_splat(a + (<usize>(i * aRow + p * aCol) << 2)), v128.load32_zero(bp), s);
        bp += nb;
      }
      const cp = ci + (<usize>j << 2);
      const r = f32x4.extract_lane(s, 0);
      store<f32>(cp, accumulate ? load<f32>(cp) + r : r);
    }
  }
}

/** Whether gemv serves this product: few rows, and for transB rows of A that are contiguous. */
export function gemvFits(m: i32, transA: bool, transB: bool): bool {
  return m <= GEMV_MAX_M && !(transA && transB);
}

/**
 * One product's columns [j0, j1) of C (m × n, row stride n) = or += op(A)·op(B) without packing.
 * A(i, p) = a[i·aRow + p·aCol]; B is (n, k) when transB, else (k, n). Pointers in bytes.
 */
export function gemv(a: usize, aRow: i32, aCol: i32, b: usize, transB: bool, c: usize, m: i32, n: i32, k: i32, j0: i32, j1: i32,
  accumulate: bool): void {
  if (j0 >= j1) return;
  if (transB) gemvTransB(a, aRow, b, c, n, m, j0, j1, k, accumulate);
  else gemvRowsB(a, aRow, aCol, b, n, c, n, m, j0, j1, k, accumulate);
}
