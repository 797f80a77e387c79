// Scaled dot-product attention per head over strided (B, H, T, D) float32 operands (rows of D contiguous,
// so q, k, v are read in place from a packed (B, T, 3C) projection and out written heads-merged), forward,
// backward and inference; Tq queries against Tk keys of their own layout (cross-attention) with an
// optional (B, Tk) key mask. Like the reference (the FlashAttention recipe, Dao et al. 2022) it keeps one
// row of Tk scores at a time and recomputes probabilities in backward from the saved logsumexp. Kᵀ (and
// Vᵀ for backward) of the head is copied once into scratch, so a row of scores is 16 keys per step of
// f32x4 multiply-adds with no horizontal sums; row updates are f32x4 axpys; exp is the vectorised one.
import { axpyRow, dot, madd } from './simd';
import { rowMax, rowSumExp } from './softmax';

/** Keys padded to a multiple of 16, so the score loop never needs a tail. */
@inline function padded(T: i32): i32 {
  return (T + 15) & ~15;
}

/**
 * dst (D × Tp, row stride Tp) = src (T × D, rows srcRow floats apart)ᵀ, zero in the padding columns.
 * Four keys at a time as 4×4 blocks transposed in registers, so src is read row by row: its rows may lie
 * far apart (a packed (B, T, 3C) projection), and a column-order walk would touch every one per d.
 */
function transposeHead(src: usize, T: i32, D: i32, dst: usize, Tp: i32, srcRow: i32 = D): void {
  const sRow = <usize>srcRow << 2;
  const dRow = <usize>Tp << 2;
  let j = 0;
  for (; j + 4 <= T; j += 4) {
    const s0 = src + <usize>j * sRow;
    const s1 = s0 + sRow, s2 = s1 + sRow, s3 = s2 + sRow;
    const o = dst + (<usize>j << 2);
    let d = 0;
    for (; d + 4 <= D; d += 4) {
      const off = <usize>d << 2;
      const r0 = v128.load(s0 + off), r1 = v128.load(s1 + off), r2 = v128.load(s2 + off), r3 = v128.load(s3 + off);
      const a = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
      const b = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
      const c = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
      const e = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
      const q = o + <usize>d * dRow;
      v128.store(q, v128.shuffle<f32>(a, b, 0, 1, 4, 5));
      v128.store(q + dRow, v128.shuffle<f32>(a, b, 2, 3, 6, 7));
      v128.store(q + 2 * dRow, v128.shuffle<f32>(c, e, 0, 1, 4, 5));
      v128.store(q + 3 * dRow, v128.shuffle<f32>(c, e, 2, 3, 6, 7));
    }
    for (; d < D; d++) {
      const off = <usize>d << 2;
      const q = o + <usize>d * dRow;
      store<f32>(q, load<f32>(s0 + off));
      store<f32>(q, load<f32>(s1 + off), 4);
      store<f32>(q, load<f32>(s2 + off), 8);
      store<f32>(q, load<f32>(s3 + off), 12);
    }
  }
  for (; j < T; j++) {
    const sj = src + <usize>j * sRow;
    for (let d = 0; d < D; d++) store<f32>(dst + <usize>d * dRow + (<usize>j << 2), load<f32>(sj + (<usize>d << 2)));
  }
  for (let d = 0; d < D; d++) {
    const row = dst + <usize>d * dRow;
    for (let jj = T; jj < Tp; jj++) store<f32>(row + (<usize>jj << 2), 0);
  }
}

/** s[j] = scale·Σ_d x[d]·Mᵀ[d, j] for j < keys rounded up to 16 (M = K for scores, V for dP). */
function rowTimesT(x: usize, mt: usize, Tp: i32, keys: i32, D: i32, scale: f32, s: usize): void {
  const vs = f32x4.splat(scale);
  const stride = <usize>Tp << 2;
  for (let j0 = 0; j0 < keys; j0 += 16) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let p = mt + (<usize>j0 << 2);
    for (let d = 0; d < D; d++) {
      const xd = v128.load32_splat(x + (<usize>d << 2));
      a0 = madd(xd, v128.load(p), a0);
      a1 = madd(xd, v128.load(p, 16), a1);
      a2 = madd(xd, v128.load(p, 32), a2);
      a3 = madd(xd, v128.load(p, 48), a3);
      p += stride;
    }
    const o = s + (<usize>j0 << 2);
    v128.store(o, f32x4.mul(a0, vs));
    v128.store(o, f32x4.mul(a1, vs), 16);
    v128.store(o, f32x4.mul(a2, vs), 32);
    v128.store(o, f32x4.mul(a3, vs), 48);
  }
}

/** rowTimesT for two rows x0, x1 at once (sharing the loads of Mᵀ): s0, s1; the same sums as two calls. */
function rowTimesT2(x0: usize, x1: usize, mt: usize, Tp: i32, keys: i32, D: i32, scale: f32, s0: usize, s1: usize): void {
  const vs = f32x4.splat(scale);
  const stride = <usize>Tp << 2;
  for (let j0 = 0; j0 < keys; j0 += 16) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
    let p = mt + (<usize>j0 << 2);
    for (let d = 0; d < D; d++) {
      const xd = v128.load32_splat(x0 + (<usize>d << 2));
      const yd = v128.load32_splat(x1 + (<usize>d << 2));
      const m0 = v128.load(p), m1 = v128.load(p, 16), m2 = v128.load(p, 32), m3 = v128.load(p, 48);
      a0 = madd(xd, m0, a0);
      a1 = madd(xd, m1, a1);
      a2 = madd(xd, m2, a2);
      a3 = madd(xd, m3, a3);
      b0 = madd(yd, m0, b0);
      b1 = madd(yd, m1, b1);
      b2 = madd(yd, m2, b2);
      b3 = madd(yd, m3, b3);
      p += stride;
    }
    const o = s0 + (<usize>j0 << 2);
    v128.store(o, f32x4.mul(a0, vs));
    v128.store(o, f32x4.mul(a1, vs), 16);
    v128.store(o, f32x4.mul(a2, vs), 32);
    v128.store(o, f32x4.mul(a3, vs), 48);
    const u = s1 + (<usize>j0 << 2);
    v128.store(u, f32x4.mul(b0, vs));
    v128.store(u, f32x4.mul(b1, vs), 16);
    v128.store(u, f32x4.mul(b2, vs), 32);
    v128.store(u, f32x4.mul(b3, vs), 48);
  }
}

/**
 * out[d] = inv·Σ_j p[j]·v[j, d] for j < keys (v's rows vRow bytes apart): the output row stays in
 * registers, 16 floats at a time, over all keys (the same multiply-adds in the same order as adding
 * p[j]·v_j into a zeroed row, without storing and reloading that row for every key).
 */
function weightedRows(p: usize, v: usize, vRow: usize, keys: i32, D: i32, inv: f32, out: usize): void {
  const vinv = f32x4.splat(inv);
  let d = 0;
  for (; d + 16 <= D; d += 16) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let vp = v + (<usize>d << 2);
    for (let j = 0; j < keys; j++) {
      const pj = v128.load32_splat(p + (<usize>j << 2));
      a0 = madd(pj, v128.load(vp), a0);
      a1 = madd(pj, v128.load(vp, 16), a1);
      a2 = madd(pj, v128.load(vp, 32), a2);
      a3 = madd(pj, v128.load(vp, 48), a3);
      vp += vRow;
    }
    const o = out + (<usize>d << 2);
    v128.store(o, f32x4.mul(a0, vinv));
    v128.store(o, f32x4.mul(a1, vinv), 16);
    v128.store(o, f32x4.mul(a2, vinv), 32);
    v128.store(o, f32x4.mul(a3, vinv), 48);
  }
  for (; d + 4 <= D; d += 4) {
    let a = f32x4.splat(0);
    let vp = v + (<usize>d << 2);
    for (let j = 0; j < keys; j++) {
      a = madd(v128.load32_splat(p + (<usize>j << 2)), v128.load(vp), a);
      vp += vRow;
    }
    v128.store(out + (<usize>d << 2), f32x4.mul(a, vinv));
  }
  for (; d < D; d++) {
    let a: f32 = 0;
    let vp = v + (<usize>d << 2);
    for (let j = 0; j < keys; j++) {
      a = a + load<f32>(p + (<usize>j << 2)) * load<f32>(vp);
      vp += vRow;
    }
    store<f32>(out + (<usize>d << 2), a * inv);
  }
}

/**
 * weightedRows for two rows at once, sharing the loads of v's rows: out0 = inv0·Σ_{j<n0} p0[j]·v_j and
 * out1 = inv1·Σ_{j<n1} p1[j]·v_j (n1 ≥ n0; the same sums as two calls). D a multiple of 16.
 */
function weightedRowsPair(p0: usize, p1: usize, v: usize, vRow: usize, n0: i32, n1: i32, D: i32, inv0: f32, inv1: f32, out0: usize,
  out1: usize): void {
  const vi0 = f32x4.splat(inv0);
  const vi1 = f32x4.splat(inv1);
  for (let d = 0; d < D; d += 16) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
    let vp = v + (<usize>d << 2);
    let j = 0;
    for (; j < n0; j++) {
      const jo = <usize>j << 2;
      const x = v128.load32_splat(p0 + jo);
      const y = v128.load32_splat(p1 + jo);
      const v0 = v128.load(vp), v1 = v128.load(vp, 16), v2 = v128.load(vp, 32), v3 = v128.load(vp, 48);
      a0 = madd(x, v0, a0);
      a1 = madd(x, v1, a1);
      a2 = madd(x, v2, a2);
      a3 = madd(x, v3, a3);
      b0 = madd(y, v0, b0);
      b1 = madd(y, v1, b1);
      b2 = madd(y, v2, b2);
      b3 = madd(y, v3, b3);
      vp += vRow;
    }
    for (; j < n1; j++) {
      const y = v128.load32_splat(p1 + (<usize>j << 2));
      b0 = madd(y, v128.load(vp), b0);
      b1 = madd(y, v128.load(vp, 16), b1);
      b2 = madd(y, v128.load(vp, 32), b2);
      b3 = madd(y, v128.load(vp, 48), b3);
      vp += vRow;
    }
    const o0 = out0 + (<usize>d << 2);
    const o1 = out1 + (<usize>d << 2);
    v128.store(o0, f32x4.mul(a0, vi0));
    v128.store(o0, f32x4.mul(a1, vi0), 16);
    v128.store(o0, f32x4.mul(a2, vi0), 32);
    v128.store(o0, f32x4.mul(a3, vi0), 48);
    v128.store(o1, f32x4.mul(b0, vi1));
    v128.store(o1, f32x4.mul(b1, vi1), 16);
    v128.store(o1, f32x4.mul(b2, vi1), 32);
    v128.store(o1, f32x4.mul(b3, vi1), 48);
  }
}

/** Queries per block in attentionBackward: P and dS of a block are kept, transposed, for dV and dK. */
const QB: i32 = 32;

/**
 * out[d] += Σ_j p[j]·v[j, d] for j < n (v's rows vRow bytes apart; out starts from its contents), the
 * row kept in registers: the same multiply-adds in the same order as adding p[j]·v_j into out key by key.
 */
function addWeightedRows(p: usize, v: usize, vRow: usize, n: i32, D: i32, out: usize): void {
  let d = 0;
  for (; d + 16 <= D; d += 16) {
    const o = out + (<usize>d << 2);
    let a0 = v128.load(o), a1 = v128.load(o, 16), a2 = v128.load(o, 32), a3 = v128.load(o, 48);
    let vp = v + (<usize>d << 2);
    let pp = p;
    for (let j = 0; j < n; j++) {
      const pj = v128.load32_splat(pp);
      a0 = madd(pj, v128.load(vp), a0);
      a1 = madd(pj, v128.load(vp, 16), a1);
      a2 = madd(pj, v128.load(vp, 32), a2);
      a3 = madd(pj, v128.load(vp, 48), a3);
      vp += vRow;
      pp += 4;
    }
    v128.store(o, a0);
    v128.store(o, a1, 16);
    v128.store(o, a2, 32);
    v128.store(o, a3, 48);
  }
  for (; d + 4 <= D; d += 4) {
    const o = out + (<usize>d << 2);
    let a = v128.load(o);
    let vp = v + (<usize>d << 2);
    let pp = p;
    for (let j = 0; j < n; j++) {
      a = madd(v128.load32_splat(pp), v128.load(vp), a);
      vp += vRow;
      pp += 4;
    }
    v128.store(o, a);
  }
  for (; d < D; d++) {
    const o = out + (<usize>d << 2);
    let a = load<f32>(o);
    let vp = v + (<usize>d << 2);
    let pp = p;
    for (let j = 0; j < n; j++) {
      a = a + load<f32>(pp) * load<f32>(vp);
      vp += vRow;
      pp += 4;
    }
    store<f32>(o, a);
  }
}

/**
 * addWeightedRows for two keys at once, sharing the loads of v's rows: out0 += Σ_j p0[j]·v_j and
 * out1 += Σ_j p1[j]·v_j (same order and roundings as two calls). D a multiple of 16.
 */
function addWeightedRows2(p0: usize, p1: usize, v: usize, vRow: usize, n: i32, D: i32, out0: usize, out1: usize): void {
  for (let d = 0; d < D; d += 16) {
    const o0 = out0 + (<usize>d << 2);
    const o1 = out1 + (<usize>d << 2);
    let a0 = v128.load(o0), a1 = v128.load(o0, 16), a2 = v128.load(o0, 32), a3 = v128.load(o0, 48);
    let b0 = v128.load(o1), b1 = v128.load(o1, 16), b2 = v128.load(o1, 32), b3 = v128.load(o1, 48);
    let vp = v + (<usize>d << 2);
    for (let j = 0; j < n; j++) {
      const jo = <usize>j << 2;
      const x = v128.load32_splat(p0 + jo);
      const y = v128.load32_splat(p1 + jo);
      const v0 = v128.load(vp), v1 = v128.load(vp, 16), v2 = v128.load(vp, 32), v3 = v128.load(vp, 48);
      a0 = madd(x, v0, a0);
      a1 = madd(x, v1, a1);
      a2 = madd(x, v2, a2);
      a3 = madd(x, v3, a3);
      b0 = madd(y, v0, b0);
      b1 = madd(y, v1, b1);
      b2 = madd(y, v2, b2);
      b3 = madd(y, v3, b3);
      vp += vRow;
    }
    v128.store(o0, a0);
    v128.store(o0, a1, 16);
    v128.store(o0, a2, 32);
    v128.store(o0, a3, 48);
    v128.store(o1, b0);
    v128.store(o1, b1, 16);
    v128.store(o1, b2, 32);
    v128.store(o1, b3, 48);
  }
}

/**
 * Two output rows from zero, sharing the loads of v's rows: out0 = Σ_j p0[j]·v_j, out1 = Σ_j p1[j]·v_j
 * for j < n, p0 and p1 strided by pStride bytes (as weightedRows with inv = 1). D a multiple of 16.
 */
function weightedRows2(p0: usize, p1: usize, pStride: usize, v: usize, vRow: usize, n: i32, D: i32, out0: usize, out1: usize): void {
  for (let d = 0; d < D; d += 16) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
    let vp = v + (<usize>d << 2);
    let pp = 0 as usize;
    for (let j = 0; j < n; j++) {
      const x = v128.load32_splat(p0 + pp);
      const y = v128.load32_splat(p1 + pp);
      const v0 = v128.load(vp), v1 = v128.load(vp, 16), v2 = v128.load(vp, 32), v3 = v128.load(vp, 48);
      a0 = madd(x, v0, a0);
      a1 = madd(x, v1, a1);
      a2 = madd(x, v2, a2);
      a3 = madd(x, v3, a3);
      b0 = madd(y, v0, b0);
      b1 = madd(y, v1, b1);
      b2 = madd(y, v2, b2);
      b3 = madd(y, v3, b3);
      vp += vRow;
      pp += pStride;
    }
    const o0 = out0 + (<usize>d << 2);
    const o1 = out1 + (<usize>d << 2);
    v128.store(o0, a0);
    v128.store(o0, a1, 16);
    v128.store(o0, a2, 32);
    v128.store(o0, a3, 48);
    v128.store(o1, b0);
    v128.store(o1, b1, 16);
    v128.store(o1, b2, 32);
    v128.store(o1, b3, 48);
  }
}

/**
 * Scratch floats the kernels need: two padded rows (P and dP), Kᵀ and (backward) Vᵀ of one head,
 * (backward) Pᵀ and dSᵀ of a block of QB queries and a second pair of rows, and six T × D heads that
 * hold strided operands as contiguous rows (q, v, out forward; q, k, dO, dQ, dK, dV backward). T is the
 * larger of the query and key counts.
 */
export function attentionScratchFloats(T: i32, D: i32): i32 {
  const Tp = padded(T);
  return Tp * (4 + 8 * D + 2 * QB);
}

/**
 * The T rows of D floats at src (rows srcRow bytes apart) as contiguous rows: src itself when they
 * already are, else a copy in dst. A strided operand (a third of the packed (B, T, 3C) projection) read
 * row by row inside the kernels' loops misses the cache on every row when cold (no prefetcher follows
 * it), one miss at a time between the multiply-adds: measured 30-40% slower than dense operands. Copied
 * here in one tight loop, the misses overlap. T·D floats beside T²·D multiply-adds; results unchanged.
 */
function gatherRows(src: usize, srcRow: usize, T: i32, D: i32, dst: usize): usize {
  const rowBytes = <usize>D << 2;
  if (srcRow == rowBytes) return src;
  for (let j = 0; j < T; j++) copyRow(src + <usize>j * srcRow, dst + <usize>j * rowBytes, D);
  return dst;
}

/** The inverse of gatherRows: T contiguous rows of D floats at src to dst, rows dstRow bytes apart. */
function scatterRows(src: usize, dst: usize, dstRow: usize, T: i32, D: i32): void {
  if (src == dst) return;
  const rowBytes = <usize>D << 2;
  for (let j = 0; j < T; j++) copyRow(src + <usize>j * rowBytes, dst + <usize>j * dstRow, D);
}

@inline function copyRow(src: usize, dst: usize, D: i32): void {
  let d = 0;
  for (; d + 4 <= D; d += 4) v128.store(dst + (<usize>d << 2), v128.load(src + (<usize>d << 2)));
  for (; d < D; d++) store<f32>(dst + (<usize>d << 2), load<f32>(src + (<usize>d << 2)));
}

/** How many of Tk keys query t of Tq sees: j ≤ Tk − Tq + t when causal (the queries are the last Tq positions), all otherwise. */
@inline function visibleKeys(t: i32, Tq: i32, Tk: i32, causal: bool): i32 {
  return causal ? min(Tk, max(0, Tk - Tq + t + 1)) : Tk;
}

/** Sets s[j] = −∞ for the keys j < keys whose mask entry is 0 (padding): exp then gives them exactly 0. */
function maskScores(s: usize, mrow: usize, keys: i32): void {
  for (let j = 0; j < keys; j++) {
    const jo = <usize>j << 2;
    if (load<f32>(mrow + jo) == 0) store<f32>(s + jo, -Infinity);
  }
}

/**
 * The softmax numerator of a (masked) score row in place, s = exp(s − max), returning 1/Σ and writing
 * lse = max + log Σ at `lseAt`. A row with no key left (all masked, or none visible) becomes zeros, with
 * 1/Σ = 0 (so its output row is 0) and lse = +∞ (so backward's exp(s − lse) is 0 for it).
 */
@inline function rowProbabilities(s: usize, keys: i32, lseAt: usize): f32 {
  const m = rowMax(s, keys);
  if (m == -Infinity) {
    memory.fill(s, 0, <usize>keys << 2);
    store<f32>(lseAt, Infinity);
    return 0;
  }
  const sum = rowSumExp(s, keys, m, s); // s now holds unnormalised probabilities
  store<f32>(lseAt, <f32>(<f64>m + Math.log(<f64>sum)));
  return <f32>(1 / <f64>sum);
}

/**
 * attentionForward for the (b, h) pairs [bh0, bh1): Tq queries (layout qb, qh, qr: batch, head, row
 * strides in floats, rows of D contiguous) against Tk keys and values (kb, kh, kr), out (ob, oh, or);
 * lse is (B, H, Tq) contiguous; mask, when not 0, (B, Tk) floats, 0 for a padded key. Strided heads
 * go through contiguous scratch (gatherRows), so the loops below see dense rows.
 */
function attentionForwardRange(q: usize, k: usize, v: usize, qb: i32, qh_: i32, qr: i32, kb: i32, kh_: i32, kr: i32, out: usize,
  ob: i32, oh: i32, or: i32, lse: usize, mask: usize, H: i32, Tq: i32, Tk: i32, D: i32, scale: f32, causal: bool, scratch: usize,
  bh0: i32, bh1: i32): void {
  const Tp = padded(max(Tq, Tk)); // the scratch regions' size (attentionScratchFloats)
  const Tkp = padded(Tk); // Kᵀ's row stride
  const srow = scratch;
  const kt = scratch + (<usize>Tp << 2);
  const srow2 = kt + (<usize>(Tp * D) << 2); // a second score row, past Kᵀ (the backward keeps Vᵀ there)
  const qCopy = srow2 + (<usize>Tp << 2);
  const vCopy = qCopy + (<usize>(Tp * D) << 2);
  const outCopy = vCopy + (<usize>(Tp * D) << 2);
  const rowBytes = <usize>D << 2;
  const qRow = <usize>qr << 2;
  const kvRow = <usize>kr << 2;
  const outRow = <usize>or << 2;
  for (let bh = bh0; bh < bh1; bh++) {
    const b = bh / H, h = bh % H;
    const kvBase = <usize>(b * kb + h * kh_) << 2;
    const qh = gatherRows(q + (<usize>(b * qb + h * qh_) << 2), qRow, Tq, D, qCopy);
    const vh = gatherRows(v + kvBase, kvRow, Tk, D, vCopy);
    const outDst = out + (<usize>(b * ob + h * oh) << 2);
    const outh = outRow == rowBytes ? outDst : outCopy;
    const lseh = lse + (<usize>(bh * Tq) << 2);
    const mrow = mask + (<usize>(b * Tk) << 2);
    transposeHead(k + kvBase, Tk, D, kt, Tkp, kr);
    let t = 0;
    if ((D & 15) == 0) {
      // Two queries at a time: their score rows share the Kᵀ loads, their outputs the V loads.
      for (; t + 2 <= Tq; t += 2) {
        const keys = visibleKeys(t, Tq, Tk, causal);
        const keys1 = visibleKeys(t + 1, Tq, Tk, causal);
        const qt = qh + <usize>t * rowBytes;
        const ot = outh + <usize>t * rowBytes;
        rowTimesT2(qt, qt + rowBytes, kt, Tkp, keys1, D, scale, srow, srow2);
        if (mask != 0) {
          maskScores(srow, mrow, keys);
          maskScores(srow2, mrow, keys1);
        }
        const inv = rowProbabilities(srow, keys, lseh + (<usize>t << 2));
        const inv1 = rowProbabilities(srow2, keys1, lseh + (<usize>(t + 1) << 2));
        weightedRowsPair(srow, srow2, vh, rowBytes, keys, keys1, D, inv, inv1, ot, ot + rowBytes);
      }
    }
    for (; t < Tq; t++) {
      const keys = visibleKeys(t, Tq, Tk, causal);
      rowTimesT(qh + <usize>t * rowBytes, kt, Tkp, keys, D, scale, srow);
      if (mask != 0) maskScores(srow, mrow, keys);
      const inv = rowProbabilities(srow, keys, lseh + (<usize>t << 2));
      weightedRows(srow, vh, rowBytes, keys, D, inv, outh + <usize>t * rowBytes);
    }
    scatterRows(outh, outDst, outRow, Tq, D);
  }
}

/**
 * One query's share of attentionBackward once its scores (srow) and dP = dO·Vᵀ (dprow) are in: P from
 * lse, Δ, dS; P and dS go to column col of the block's Pᵀ and dSᵀ; dQ here unless D is a multiple of 16.
 * A masked score (−∞) or a row without keys (lse = +∞) gives P = 0, so dS = 0 there.
 */
@inline function queryGrads(srow: usize, dprow: usize, lseT: usize, keys: i32, scale: f32, pt: usize, dst: usize, col: i32,
  kh: usize, rowBytes: usize, D: i32, dqt: usize): void {
  const blockRow = <usize>QB << 2;
  rowSumExp(srow, keys, load<f32>(lseT), srow); // srow = P_t
  // Δ_t = Σ_j P_tj·dP_tj (= dO_t·O_t in exact arithmetic), summed from the same dP values that
  // ds uses, so dS rows sum to zero and a single visible key (T = 1) gives exactly dS = 0.
  const delta = dot(srow, dprow, keys);
  const co = <usize>col << 2;
  for (let j = 0; j < keys; j++) {
    const jo = <usize>j << 2;
    const p = load<f32>(srow + jo);
    const ds = scale * p * (load<f32>(dprow + jo) - delta);
    store<f32>(dprow + jo, ds); // dprow now holds dS_t
    store<f32>(pt + <usize>j * blockRow + co, p);
    store<f32>(dst + <usize>j * blockRow + co, ds);
  }
  // dQ_t = Σ_j dS_tj·K_j (×1 is exact); with D a multiple of 16, after the block, two queries at once.
  if ((D & 15) != 0) weightedRows(dprow, kh, rowBytes, keys, D, 1, dqt);
}

/**
 * With P = exp(S − lse) and Δ_t = Σ_j P_tj·dP_tj: dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P⊙(dP − Δ),
 * dQ = scale·dS·K, dK = scale·dSᵀ·Q. Queries go in blocks of QB: each query's P and dS rows are
 * stored transposed, then every key's dV and dK rows take the block's terms in registers (query order,
 * as adding them one query at a time would: results do not depend on QB). For the (b, h) pairs
 * [bh0, bh1); layouts as in attentionForwardRange, dout (ob, oh, or), dq (gb, gh, gr), dk and dv
 * (db, dh, dr); strided heads go through contiguous scratch (gatherRows). out is not read: Δ is summed
 * from P and dP.
 */
function attentionBackwardRange(q: usize, k: usize, v: usize, qb: i32, qh_: i32, qr: i32, kb: i32, kh_: i32, kr: i32, dout: usize,
  ob: i32, oh: i32, or: i32, lse: usize, dq: usize, dk: usize, dv: usize, gb: i32, gh: i32, gr: i32, db: i32, dh: i32, dr: i32,
  mask: usize, H: i32, Tq: i32, Tk: i32, D: i32, scale: f32, causal: bool, scratch: usize, bh0: i32, bh1: i32): void {
  const Tp = padded(max(Tq, Tk)); // the scratch regions' size (attentionScratchFloats)
  const Tkp = padded(Tk); // Kᵀ's and Vᵀ's row stride
  const srow = scratch;
  const dprow = scratch + (<usize>Tp << 2);
  const kt = dprow + (<usize>Tp << 2);
  const vt = kt + (<usize>(Tp * D) << 2);
  const pt = vt + (<usize>(Tp * D) << 2); // Pᵀ of the block: Tp rows of QB
  const dst = pt + (<usize>(Tp * QB) << 2); // dSᵀ of the block
  const srow2 = dst + (<usize>(Tp * QB) << 2);
  const dprow2 = srow2 + (<usize>Tp << 2);
  const headBytes = <usize>(Tp * D) << 2;
  const qCopy = dprow2 + (<usize>Tp << 2);
  const kCopy = qCopy + headBytes;
  const doutCopy = kCopy + headBytes;
  const dqCopy = doutCopy + headBytes;
  const dkCopy = dqCopy + headBytes;
  const dvCopy = dkCopy + headBytes;
  const rowBytes = <usize>D << 2;
  const kvRow = <usize>kr << 2;
  const gRow = <usize>gr << 2;
  const dRow = <usize>dr << 2;
  const blockRow = <usize>QB << 2;
  const shift = Tk - Tq; // causal: query t sees keys j ≤ t + shift
  for (let bh = bh0; bh < bh1; bh++) {
    const b = bh / H, h = bh % H;
    const kvBase = <usize>(b * kb + h * kh_) << 2;
    const qh = gatherRows(q + (<usize>(b * qb + h * qh_) << 2), <usize>qr << 2, Tq, D, qCopy);
    const kh = gatherRows(k + kvBase, kvRow, Tk, D, kCopy);
    const douth = gatherRows(dout + (<usize>(b * ob + h * oh) << 2), <usize>or << 2, Tq, D, doutCopy);
    const lseh = lse + (<usize>(bh * Tq) << 2);
    const mrow = mask + (<usize>(b * Tk) << 2);
    const gBase = <usize>(b * gb + h * gh) << 2;
    const dBase = <usize>(b * db + h * dh) << 2;
    const dqh = gRow == rowBytes ? dq + gBase : dqCopy;
    const dkh = dRow == rowBytes ? dk + dBase : dkCopy;
    const dvh = dRow == rowBytes ? dv + dBase : dvCopy;
    transposeHead(kh, Tk, D, kt, Tkp);
    transposeHead(v + kvBase, Tk, D, vt, Tkp, kr);
    memory.fill(dkh, 0, <usize>Tk * rowBytes);
    memory.fill(dvh, 0, <usize>Tk * rowBytes);
    for (let t0 = 0; t0 < Tq; t0 += QB) {
      const t1 = min(Tq, t0 + QB);
      for (let t = t0; t < t1;) {
        // Two queries at a time where the block has them: their score and dP rows share the Kᵀ, Vᵀ loads.
        const ro = <usize>t * rowBytes;
        const keys = visibleKeys(t, Tq, Tk, causal);
        if (t + 1 < t1) {
          const keys1 = visibleKeys(t + 1, Tq, Tk, causal);
          rowTimesT2(qh + ro, qh + ro + rowBytes, kt, Tkp, keys1, D, scale, srow, srow2);
          rowTimesT2(douth + ro, douth + ro + rowBytes, vt, Tkp, keys1, D, 1, dprow, dprow2);
          if (mask != 0) {
            maskScores(srow, mrow, keys);
            maskScores(srow2, mrow, keys1);
          }
          queryGrads(srow, dprow, lseh + (<usize>t << 2), keys, scale, pt, dst, t - t0, kh, rowBytes, D, dqh + ro);
          queryGrads(srow2, dprow2, lseh + (<usize>(t + 1) << 2), keys1, scale, pt, dst, t + 1 - t0, kh, rowBytes, D,
            dqh + ro + rowBytes);
          t += 2;
        } else {
          rowTimesT(qh + ro, kt, Tkp, keys, D, scale, srow);
          rowTimesT(douth + ro, vt, Tkp, keys, D, 1, dprow);
          if (mask != 0) maskScores(srow, mrow, keys);
          queryGrads(srow, dprow, lseh + (<usize>t << 2), keys, scale, pt, dst, t - t0, kh, rowBytes, D, dqh + ro);
          t++;
        }
      }
      if ((D & 15) == 0) {
        let t = t0;
        for (; t + 2 <= t1; t += 2) {
          const col = dst + (<usize>(t - t0) << 2);
          const dqt = dqh + <usize>t * rowBytes;
          const keys = visibleKeys(t, Tq, Tk, causal);
          const keys1 = visibleKeys(t + 1, Tq, Tk, causal); // keys or keys + 1
          weightedRows2(col, col + 4, blockRow, kh, rowBytes, keys, D, dqt, dqt + rowBytes);
          // Query t + 1's last key (causal): its term comes last, as in weightedRows.
          if (keys1 > keys) addWeightedRows(col + 4 + <usize>keys * blockRow, kh + <usize>keys * rowBytes, rowBytes, 1, D, dqt + rowBytes);
        }
        if (t < t1) {
          const keys = visibleKeys(t, Tq, Tk, causal);
          weightedRows2(dst + (<usize>(t - t0) << 2), dst + (<usize>(t - t0) << 2), blockRow, kh, rowBytes, keys, D,
            dqh + <usize>t * rowBytes, dqh + <usize>t * rowBytes);
        }
      }
      // Key j is seen by the block's queries t ≥ j − shift (all of them when not causal).
      const jEnd = causal ? min(Tk, max(0, t1 + shift)) : Tk;
      let j = 0;
      if ((D & 15) == 0) {
        // Keys in pairs: key j's term from query j − shift (causal, inside the block) comes first on its own.
        for (; j + 2 <= jEnd; j += 2) {
          let ta = causal ? max(t0, j - shift) : t0;
          const jo = <usize>j * rowBytes;
          const j1o = jo + rowBytes;
          const pj = <usize>j * blockRow;
          if (causal && ta == j - shift) {
            const ro = <usize>ta * rowBytes;
            const off = pj + (<usize>(ta - t0) << 2);
            addWeightedRows(pt + off, douth + ro, rowBytes, 1, D, dvh + jo);
            addWeightedRows(dst + off, qh + ro, rowBytes, 1, D, dkh + jo);
            ta++;
          }
          if (ta < t1) {
            const ro = <usize>ta * rowBytes;
            const off = pj + (<usize>(ta - t0) << 2);
            addWeightedRows2(pt + off, pt + off + blockRow, douth + ro, rowBytes, t1 - ta, D, dvh + jo, dvh + j1o);
            addWeightedRows2(dst + off, dst + off + blockRow, qh + ro, rowBytes, t1 - ta, D, dkh + jo, dkh + j1o);
          }
        }
      }
      for (; j < jEnd; j++) {
        const ta = causal ? max(t0, j - shift) : t0;
        const off = <usize>j * blockRow + (<usize>(ta - t0) << 2);
        const ro = <usize>ta * rowBytes;
        const jo = <usize>j * rowBytes;
        addWeightedRows(pt + off, douth + ro, rowBytes, t1 - ta, D, dvh + jo);
        addWeightedRows(dst + off, qh + ro, rowBytes, t1 - ta, D, dkh + jo);
      }
    }
    scatterRows(dqh, dq + gBase, gRow, Tq, D);
    scatterRows(dkh, dk + dBase, dRow, Tk, D);
    scatterRows(dvh, dv + dBase, dRow, Tk, D);
  }
}

/** The (b, h) pairs [bh0, bh1) of thread tid's share: a contiguous range of the B·H. */
@inline function shareStart(BH: i32, tid: i32, threads: i32): i32 {
  return <i32>((<i64>BH * tid) / threads);
}

/**
 * Thread tid's share of Backend.attentionForward (scaled dot-product attention over strided operands,
 * q, k, v sharing one layout): a contiguous range of the B·H (batch, head) pairs.
 */
export function attentionForwardPart(q: usize, k: usize, v: usize, ib: i32, ih: i32, ir: i32, out: usize, ob: i32, oh: i32, or: i32,
  lse: usize, B: i32, H: i32, T: i32, D: i32, scale: f32, causal: bool, scratch0: usize, scratchStride: i32, tid: i32,
  threads: i32): void {
  attentionForwardRange(q, k, v, ib, ih, ir, ib, ih, ir, out, ob, oh, or, lse, 0, H, T, T, D, scale, causal,
    scratch0 + <usize>tid * <usize>scratchStride, shareStart(B * H, tid, threads), shareStart(B * H, tid + 1, threads));
}

/** Thread tid's share of Backend.attentionBackward (out is not read): a contiguous range of (batch, head) pairs, as in the forward. */
export function attentionBackwardPart(q: usize, k: usize, v: usize, ib: i32, ih: i32, ir: i32, dout: usize, ob: i32, oh: i32,
  or: i32, lse: usize, dq: usize, dk: usize, dv: usize, gb: i32, gh: i32, gr: i32, B: i32, H: i32, T: i32, D: i32, scale: f32,
  causal: bool, scratch0: usize, scratchStride: i32, tid: i32, threads: i32): void {
  attentionBackwardRange(q, k, v, ib, ih, ir, ib, ih, ir, dout, ob, oh, or, lse, dq, dk, dv, gb, gh, gr, gb, gh, gr, 0, H, T, T, D,
    scale, causal, scratch0 + <usize>tid * <usize>scratchStride, shareStart(B * H, tid, threads), shareStart(B * H, tid + 1, threads));
}

/**
 * Thread tid's share of Backend.attentionForward with AttentionKeys: Tq queries against Tk keys and
 * values of their own layout, mask (B, Tk) or 0. The layouts come as i32 (batch, head, row) triples
 * at meta: q, k/v, out (too many for a pool job's arguments).
 */
export function attentionKeysForwardPart(q: usize, k: usize, v: usize, out: usize, lse: usize, mask: usize, meta: usize, B: i32,
  H: i32, Tq: i32, Tk: i32, D: i32, scale: f32, causal: bool, scratch0: usize, scratchStride: i32, tid: i32, threads: i32): void {
  attentionForwardRange(q, k, v, load<i32>(meta), load<i32>(meta, 4), load<i32>(meta, 8), load<i32>(meta, 12), load<i32>(meta, 16),
    load<i32>(meta, 20), out, load<i32>(meta, 24), load<i32>(meta, 28), load<i32>(meta, 32), lse, mask, H, Tq, Tk, D, scale, causal,
    scratch0 + <usize>tid * <usize>scratchStride, shareStart(B * H, tid, threads), shareStart(B * H, tid + 1, threads));
}

/**
 * Thread tid's share of Backend.attentionBackward with AttentionKeys; the layouts at meta are q, k/v,
 * dout, dq, dk/dv (i32 triples).
 */
export function attentionKeysBackwardPart(q: usize, k: usize, v: usize, dout: usize, lse: usize, dq: usize, dk: usize, dv: usize,
  mask: usize, meta: usize, B: i32, H: i32, Tq: i32, Tk: i32, D: i32, scale: f32, causal: bool, scratch0: usize, scratchStride: i32,
  tid: i32, threads: i32): void {
  attentionBackwardRange(q, k, v, load<i32>(meta), load<i32>(meta, 4), load<i32>(meta, 8), load<i32>(meta, 12), load<i32>(meta, 16),
    load<i32>(meta, 20), dout, load<i32>(meta, 24), load<i32>(meta, 28), load<i32>(meta, 32), lse, dq, dk, dv, load<i32>(meta, 36),
    load<i32>(meta, 40), load<i32>(meta, 44), load<i32>(meta, 48), load<i32>(meta, 52), load<i32>(meta, 56), mask, H, Tq, Tk, D, scale,
    causal, scratch0 + <usize>tid * <usize>scratchStride, shareStart(B * H, tid, threads), shareStart(B * H, tid + 1, threads));
}

/** Below this many queries, scores are direct dot products: transposing K costs more than it saves. */
const DIRECT_QUERIES: i32 = 4;

/**
 * Inference attention over strided operands (Backend.attentionInference), for the (b, h) pairs
 * [bh0, bh1): Tq queries that are the last of Tk positions, query t seeing keys j ≤ Tk − Tq + t when
 * causal. Layouts are (batch, head, row) strides in floats; rows of D are contiguous. No lse.
 */
function attentionInferenceRange(q: usize, qb: i32, qh: i32, qr: i32, k: usize, v: usize, kb: i32, kh: i32, kr: i32, out: usize,
  ob: i32, oh: i32, or: i32, H: i32, Tq: i32, Tk: i32, D: i32, scale: f32, causal: bool, scratch: usize, bh0: i32, bh1: i32): void {
  const Tp = padded(Tk);
  const srow = scratch;
  const kt = scratch + (<usize>Tp << 2);
  const rowBytes = <usize>D << 2;
  const kvRow = <usize>kr << 2;
  const direct = Tq < DIRECT_QUERIES;
  for (let bh = bh0; bh < bh1; bh++) {
    const b = bh / H, h = bh % H;
    const qbase = q + (<usize>(b * qb + h * qh) << 2);
    const kbase = k + (<usize>(b * kb + h * kh) << 2);
    const vbase = v + (<usize>(b * kb + h * kh) << 2);
    const obase = out + (<usize>(b * ob + h * oh) << 2);
    if (!direct) transposeHead(kbase, Tk, D, kt, Tp, kr);
    for (let t = 0; t < Tq; t++) {
      const keys = causal ? Tk - Tq + t + 1 : Tk;
      const qt = qbase + (<usize>(t * qr) << 2);
      if (direct) {
        for (let j = 0; j < keys; j++) store<f32>(srow + (<usize>j << 2), scale * dot(qt, kbase + <usize>j * kvRow, D));
      } else {
        rowTimesT(qt, kt, Tp, keys, D, scale, srow);
      }
      const m = rowMax(srow, keys);
      const sum = rowSumExp(srow, keys, m, srow);
      const ot = obase + (<usize>(t * or) << 2);
      weightedRows(srow, vbase, kvRow, keys, D, <f32>(1 / <f64>sum), ot);
    }
  }
}

/** Thread tid's share of attentionInference: a contiguous range of the B·H (batch, head) pairs. */
export function attentionInferencePart(q: usize, qb: i32, qh: i32, qr: i32, k: usize, v: usize, kb: i32, kh: i32, kr: i32,
  out: usize, ob: i32, oh: i32, or: i32, B: i32, H: i32, Tq: i32, Tk: i32, D: i32, scale: f32, causal: bool, scratch0: usize,
  scratchStride: i32, tid: i32, threads: i32): void {
  const BH = B * H;
  const bh0 = <i32>((<i64>BH * tid) / threads);
  const bh1 = <i32>((<i64>BH * (tid + 1)) / threads);
  attentionInferenceRange(q, qb, qh, qr, k, v, kb, kh, kr, out, ob, oh, or, H, Tq, Tk, D, scale, causal,
    scratch0 + <usize>tid * <usize>scratchStride, bh0, bh1);
}
