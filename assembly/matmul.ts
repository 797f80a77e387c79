// Packed, cache-blocked, register-tiled sgemm (the Goto/BLIS loop nest, Goto & van de Geijn 2008):
// B is packed into kc×NR column strips that stay in L2/L3, A into MR×kc row strips that stay in L1/L2,
// and a 6×8 micro-kernel keeps its 12 f32x4 accumulators in registers (15 of the 16 vector registers). Packing reads A and B through
// (row, col) strides, so all four transpose cases share one micro-kernel, and edge tiles are
// zero-padded so the micro-kernel never branches.
import { GEMV_CHUNK, gemv, gemvFits } from './gemv';
import { madd } from './simd';

const MR: i32 = 6;
const NR: i32 = 8;
export const KC: i32 = 256;
export const MC: i32 = 120; // a multiple of MR: packed A strips are always whole
export const NC: i32 = 2048;

/** Bytes of scratch matmul needs: packed A block, packed B panel, one spilled C tile. */
export function matmulScratchBytes(): i32 {
  return (MC * KC + KC * NC + MR * NR) * 4;
}

/** dst[(s·kc + p)·MR + r] = A(i0 + s·MR + r, p0 + p), zero past the last row. */
function packA(a: usize, aRow: i32, aCol: i32, i0: i32, mc: i32, p0: i32, kc: i32, dst: usize): void {
  for (let s = 0; s < mc; s += MR) {
    const rows = min<i32>(MR, mc - s);
    const strip = dst + (<usize>(s * kc) << 2);
    if (rows == MR && aCol == 1) {
      const r0 = a + (<usize>((i0 + s) * aRow + p0) << 2);
      const stride = <usize>aRow << 2;
      for (let p = 0; p < kc; p++) {
        const o = r0 + (<usize>p << 2);
        const q = strip + (<usize>(p * MR) << 2);
        store<f32>(q, load<f32>(o));
        store<f32>(q, load<f32>(o + stride), 4);
        store<f32>(q, load<f32>(o + 2 * stride), 8);
        store<f32>(q, load<f32>(o + 3 * stride), 12);
        store<f32>(q, load<f32>(o + 4 * stride), 16);
        store<f32>(q, load<f32>(o + 5 * stride), 20);
      }
    } else if (rows == MR && aRow == 1) {
      // transA: A(i, p) = a[p·m + i], so an MR-row slice of column p is 6 contiguous floats.
      for (let p = 0; p < kc; p++) {
        const src = a + (<usize>((p0 + p) * aCol + i0 + s) << 2);
        const q = strip + (<usize>(p * MR) << 2);
        v128.store(q, v128.load(src));
        store<u64>(q, load<u64>(src, 16), 16);
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let r = 0; r < MR; r++) {
          const v: f32 = r < rows ? load<f32>(a + (<usize>((i0 + s + r) * aRow + (p0 + p) * aCol) << 2)) : 0;
          store<f32>(strip + (<usize>(p * MR + r) << 2), v);
        }
      }
    }
  }
}

/** Rows r0..r3 (4 floats each) stored transposed at q, q + NR·4, q + 2·NR·4, q + 3·NR·4 bytes. */
@inline function transpose4(r0: v128, r1: v128, r2: v128, r3: v128, q: usize): void {
  const a = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const b = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const c = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const d = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  const row = <usize>NR << 2;
  v128.store(q, v128.shuffle<f32>(a, b, 0, 1, 4, 5));
  v128.store(q + row, v128.shuffle<f32>(a, b, 2, 3, 6, 7));
  v128.store(q + 2 * row, v128.shuffle<f32>(c, d, 0, 1, 4, 5));
  v128.store(q + 3 * row, v128.shuffle<f32>(c, d, 2, 3, 6, 7));
}

/** dst[(s·kc + p)·NR + c] = B(p0 + p, j0 + s·NR + c), zero past the last column. */
function packB(b: usize, bRow: i32, bCol: i32, p0: i32, kc: i32, j0: i32, nc: i32, dst: usize): void {
  for (let s = 0; s < nc; s += NR) {
    const cols = min<i32>(NR, nc - s);
    const strip = dst + (<usize>(s * kc) << 2);
    if (cols == NR && bCol == 1) {
      for (let p = 0; p < kc; p++) {
        const src = b + (<usize>((p0 + p) * bRow + j0 + s) << 2);
        const q = strip + (<usize>(p * NR) << 2);
        v128.store(q, v128.load(src));
        v128.store(q, v128.load(src, 16), 16);
      }
    } else if (cols == NR && bRow == 1) {
      // transB: column j of B is row j of b, contiguous in p. Read 4 p's from each of the 8 columns and
      // transpose two 4×4 blocks in registers, instead of 32 strided scalar loads.
      const stride = <usize>bCol << 2;
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const src = b + (<usize>((j0 + s) * bCol + p0 + p) << 2);
        const q = strip + (<usize>(p * NR) << 2);
        transpose4(v128.load(src), v128.load(src + stride), v128.load(src + 2 * stride), v128.load(src + 3 * stride), q);
        transpose4(v128.load(src + 4 * stride), v128.load(src + 5 * stride), v128.load(src + 6 * stride), v128.load(src + 7 * stride), q + 16);
      }
      for (; p < kc; p++) {
        for (let c = 0; c < NR; c++) {
          store<f32>(strip + (<usize>(p * NR + c) << 2), load<f32>(b + (<usize>((j0 + s + c) * bCol + p0 + p) << 2)));
        }
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let c = 0; c < NR; c++) {
          const v: f32 = c < cols ? load<f32>(b + (<usize>((p0 + p) * bRow + (j0 + s + c) * bCol) << 2)) : 0;
          store<f32>(strip + (<usize>(p * NR + c) << 2), v);
        }
      }
    }
  }
}

/**
 * C tile (rows × cols, row stride ldc floats) = or += A strip · packed B strip; 12 f32x4 accumulators.
 * The strip's MR values of each p are contiguous, aStep bytes after those of p − 1: a packed strip
 * (MR·4), or a transposed A read in place (its row stride).
 */
function microKernel(pa: usize, aStep: usize, pb: usize, kc: i32, c: usize, ldc: i32, rows: i32, cols: i32, add: bool, tmp: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
  let c50 = f32x4.splat(0), c51 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    a = v128.load32_splat(pa, 16);
    c40 = madd(a, b0, c40);
    c41 = madd(a, b1, c41);
    a = v128.load32_splat(pa, 20);
    c50 = madd(a, b0, c50);
    c51 = madd(a, b1, c51);
    pa += aStep;
    pb += 32;
  }
  const ld = <usize>ldc << 2;
  if (rows == MR && cols == NR) {
    if (add) {
      c00 = f32x4.add(c00, v128.load(c));
      c01 = f32x4.add(c01, v128.load(c, 16));
      c10 = f32x4.add(c10, v128.load(c + ld));
      c11 = f32x4.add(c11, v128.load(c + ld, 16));
      c20 = f32x4.add(c20, v128.load(c + 2 * ld));
      c21 = f32x4.add(c21, v128.load(c + 2 * ld, 16));
      c30 = f32x4.add(c30, v128.load(c + 3 * ld));
      c31 = f32x4.add(c31, v128.load(c + 3 * ld, 16));
      c40 = f32x4.add(c40, v128.load(c + 4 * ld));
      c41 = f32x4.add(c41, v128.load(c + 4 * ld, 16));
      c50 = f32x4.add(c50, v128.load(c + 5 * ld));
      c51 = f32x4.add(c51, v128.load(c + 5 * ld, 16));
    }
    v128.store(c, c00);
    v128.store(c, c01, 16);
    v128.store(c + ld, c10);
    v128.store(c + ld, c11, 16);
    v128.store(c + 2 * ld, c20);
    v128.store(c + 2 * ld, c21, 16);
    v128.store(c + 3 * ld, c30);
    v128.store(c + 3 * ld, c31, 16);
    v128.store(c + 4 * ld, c40);
    v128.store(c + 4 * ld, c41, 16);
    v128.store(c + 5 * ld, c50);
    v128.store(c + 5 * ld, c51, 16);
    return;
  }
  // Edge tile: spill the accumulators and copy the part that lies inside C.
  v128.store(tmp, c00);
  v128.store(tmp, c01, 16);
  v128.store(tmp, c10, 32);
  v128.store(tmp, c11, 48);
  v128.store(tmp, c20, 64);
  v128.store(tmp, c21, 80);
  v128.store(tmp, c30, 96);
  v128.store(tmp, c31, 112);
  v128.store(tmp, c40, 128);
  v128.store(tmp, c41, 144);
  v128.store(tmp, c50, 160);
  v128.store(tmp, c51, 176);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) {
      const dst = c + <usize>r * ld + (<usize>j << 2);
      const v = load<f32>(tmp + (<usize>(r * NR + j) << 2));
      store<f32>(dst, add ? load<f32>(dst) + v : v);
    }
  }
}

/** One product: C (m × n, row stride ldc) = or += A·B with A(i, p) = a[i·aRow + p·aCol], B(p, j) = b[p·bRow + j·bCol]. */
function gemm(a: usize, aRow: i32, aCol: i32, b: usize, bRow: i32, bCol: i32, c: usize, ldc: i32, m: i32, n: i32, k: i32,
  accumulate: bool, scratch: usize): void {
  if (m <= 0 || n <= 0) return;
  if (k == 0) {
    if (!accumulate) for (let i = 0; i < m; i++) memory.fill(c + (<usize>(i * ldc) << 2), 0, <usize>n << 2);
    return;
  }
  const packedA = scratch;
  const packedB = scratch + (<usize>(MC * KC) << 2);
  const tmp = packedB + (<usize>(KC * NC) << 2);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min<i32>(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min<i32>(KC, k - pc);
      const add = accumulate || pc > 0;
      packB(b, bRow, bCol, pc, kc, jc, nc, packedB);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min<i32>(MC, m - ic);
        // A narrow product (a convolution's Cout columns) would use each packed A strip for only a few
        // column strips, so packing A would cost about as much as the product. A transposed A already
        // holds each p's MR values side by side: read it in place. Whole strips only (a ragged last
        // strip would read past A's rows); the same multiply-adds in the same order either way.
        const direct = aRow == 1 && nc <= 4 * NR;
        if (!direct || mc % MR != 0) packA(a, aRow, aCol, ic, mc, pc, kc, packedA);
        for (let jr = 0; jr < nc; jr += NR) {
          const cols = min<i32>(NR, nc - jr);
          const pb = packedB + (<usize>(jr * kc) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const rows = min<i32>(MR, mc - ir);
            const cp = c + (<usize>((ic + ir) * ldc + jc + jr) << 2);
            if (direct && mc % MR == 0) {
              microKernel(a + (<usize>(pc * aCol + ic + ir) << 2), <usize>aCol << 2, pb, kc, cp, ldc, rows, cols, add, tmp);
            } else {
              microKernel(packedA + (<usize>(ir * kc) << 2), <usize>(MR << 2), pb, kc, cp, ldc, rows, cols, add, tmp);
            }
          }
        }
      }
    }
  }
}

/**
 * Thread `tid` of `threads`' share (its scratch at scratch0 + tid·scratchStride bytes) of C[b] (= or +=) op(A[b])·op(B[b]) for b < batch: whole batches
 * when there are at least as many as threads, else a band of rows (a multiple of MR) of every batch, or
 * of columns (a multiple of NR) where there are fewer rows than columns.
 * Each element of C is computed by one thread in the same order whatever the thread count, so the
 * result is bit-identical for 1 or N threads. Pointers in bytes, strides in elements.
 */
export function matmulPart(
  a: usize, b: usize, c: usize, batch: i32, m: i32, n: i32, k: i32,
  transA: bool, transB: bool, strideA: i32, strideB: i32, accumulate: bool, scratch0: usize, scratchStride: i32, tid: i32,
  threads: i32,
): void {
  const scratch = scratch0 + <usize>tid * <usize>scratchStride;
  const aRow = transA ? 1 : k;
  const aCol = transA ? m : 1;
  const bRow = transB ? 1 : n;
  const bCol = transB ? k : 1;
  let b0 = 0, b1 = batch, i0 = 0, i1 = m;
  if (gemvFits(m, transA, transB)) {
    // Few rows: no packing. Whole batches per thread, or else chunks of columns of every batch.
    let j0 = 0, j1 = n;
    if (batch >= threads) {
      b0 = <i32>((<i64>batch * tid) / threads);
      b1 = <i32>((<i64>batch * (tid + 1)) / threads);
    } else {
      const chunk = ((n + threads - 1) / threads + GEMV_CHUNK - 1) / GEMV_CHUNK * GEMV_CHUNK;
      j0 = min<i32>(n, tid * chunk);
      j1 = min<i32>(n, j0 + chunk);
    }
    for (let bi = b0; bi < b1; bi++) {
      gemv(a + (<usize>(bi * strideA) << 2), aRow, aCol, b + (<usize>(bi * strideB) << 2), transB, c + (<usize>(bi * m * n) << 2),
        m, n, k, j0, j1, accumulate);
    }
    return;
  }
  let j0 = 0, j1 = n;
  if (batch >= threads) {
    b0 = <i32>((<i64>batch * tid) / threads);
    b1 = <i32>((<i64>batch * (tid + 1)) / threads);
  } else if (m >= n) {
    const band = ((m + threads - 1) / threads + MR - 1) / MR * MR;
    i0 = min<i32>(m, tid * band);
    i1 = min<i32>(m, i0 + band);
  } else {
    // Fewer rows than columns (the weight gradients Xᵀ·dY of a widening layer): split the columns,
    // so that each thread packs only its part of B. A row split packs all of B on every thread, and
    // with few rows per thread that packing is a large part of the work. The rows it repacks instead
    // are fewer.
    const band = ((n + threads - 1) / threads + NR - 1) / NR * NR;
    j0 = min<i32>(n, tid * band);
    j1 = min<i32>(n, j0 + band);
  }
  for (let bi = b0; bi < b1; bi++) {
    const ab = a + (<usize>(bi * strideA + i0 * aRow) << 2);
    const bb = b + (<usize>(bi * strideB + j0 * bCol) << 2);
    const cb = c + (<usize>(bi * m * n + i0 * n + j0) << 2);
    gemm(ab, aRow, aCol, bb, bRow, bCol, cb, n, i1 - i0, j1 - j0, k, accumulate, scratch);
  }
}
