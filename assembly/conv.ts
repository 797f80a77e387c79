// 2-D convolution (NCHW, dilation 1, groups 1) and pooling. Convolution is im2col + the packed sgemm
// (matmul.ts): the output positions of the batch, image after image, are cut into tiles of TILE; a tile's
// window taps are gathered into a (Cin·kH·kW) × TILE matrix in scratch and multiplied by the weight,
// (Cout, Cin·kH·kW). Tiles span images, so a batch of small images still makes full-width products.
// Backward, the input gradient is Wᵀ·dy per tile scattered back (col2im), split by blocks of input
// channels, and the weight gradient Σ_tiles cols·dyᵀ, split by blocks of its rows.
//
// Thread shares are whole tiles (forward), channel blocks (dx) and row blocks (dw), on grids fixed by the
// shapes alone: every product has the same m, n, k whatever the thread count, every output element is
// written by one thread in the same order, so results are bit-identical for 1 and N threads.
// Pooling is split by planes. Pointers are bytes; sizes and strides are elements.
import { implicitConv, implicitFilterGrad, implicitScratchFloats } from './conv-implicit';
import { matmulPart } from './matmul';

/** Output positions per tile (columns of the im2col matrix). */
const TILE: i32 = 256;
/** Rows of the im2col matrix per weight-gradient block, and (rounded to whole channels) per input-gradient block. */
const ROWS: i32 = 96;

// The geometry of the current call (module globals: each thread's instance has its own).
let gCin: i32 = 0, gH: i32 = 0, gW: i32 = 0, gCout: i32 = 0, gkH: i32 = 0, gkW: i32 = 0;
let gsH: i32 = 0, gsW: i32 = 0, gpH: i32 = 0, gpW: i32 = 0, gHo: i32 = 0, gWo: i32 = 0;

function setGeometry(Cin: i32, H: i32, W: i32, Cout: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, Ho: i32,
  Wo: i32): void {
  gCin = Cin; gH = H; gW = W; gCout = Cout; gkH = kH; gkW = kW;
  gsH = sH; gsW = sW; gpH = pH; gpW = pW; gHo = Ho; gWo = Wo;
}

@inline function lo(n: i32, tid: i32, threads: i32): i32 {
  return <i32>((<i64>n * tid) / threads);
}

@inline function ceilDiv(a: i32, b: i32): i32 {
  return (a + b - 1) / b;
}

/** A 1×1 kernel, stride 1, no padding: the im2col matrix of an image is the image itself. */
@inline function pointwise(): bool {
  return gkH == 1 && gkW == 1 && gsH == 1 && gsW == 1 && gpH == 0 && gpW == 0;
}

/** Input-gradient channels per block: whole channels, about ROWS rows of the im2col matrix. */
@inline function channelBlock(): i32 {
  return max<i32>(1, ROWS / (gkH * gkW));
}

/** Scratch floats one thread needs for any of the three convolution jobs. */
export function conv2dScratchFloats(Cin: i32, Cout: i32, H: i32, W: i32, kH: i32, kW: i32, pH: i32, pW: i32): i32 {
  const K2 = kH * kW;
  const padded = Cin * (H + 2 * pH) * (W + 2 * pW); // (an upper bound for a block of channels)
  const forward = Cin * K2 * TILE + Cout * TILE + padded;
  const m = max<i32>(1, ROWS / K2) * K2;
  const data = m * Cout + Cout * TILE + m * TILE + padded;
  const filter = ROWS * TILE + Cout * TILE + ROWS * Cout + padded;
  // The stride-1 paths (conv-implicit.ts): forward over x, and the input gradient over dy (Ho × Wo,
  // padded by k − 1 − p); a bound for any stride, since Ho ≤ H + 2p − k + 1.
  const Ho = max<i32>(0, H + 2 * pH - kH + 1), Wo = max<i32>(0, W + 2 * pW - kW + 1);
  const implicit = max<i32>(implicitScratchFloats(Cin, Cout, H, W, kH, kW, pH, pW),
    implicitScratchFloats(Cout, Cin, Ho, Wo, kH, kW, max<i32>(0, kH - 1 - pH), max<i32>(0, kW - 1 - pW)));
  return max<i32>(max<i32>(forward, implicit), max<i32>(data, filter));
}

// Window rows are short (an output row of a small image: 4 to 64 floats), where memory.copy and
// memory.fill calls cost more than the copy: with these loops instead, B = 8, C = 32 → 32, 16×16, 3×3 took
// 1.4 ms forward (was 2.9), 1.2 ms for dx (1.7) and 1.4 ms for dW (2.5), 1 thread, relaxed build.
@inline function copyFloats(dst: usize, src: usize, n: i32): void {
  let q = 0;
  for (; q + 4 <= n; q += 4) v128.store(dst + (<usize>q << 2), v128.load(src + (<usize>q << 2)));
  for (; q < n; q++) store<f32>(dst + (<usize>q << 2), load<f32>(src + (<usize>q << 2)));
}

@inline function zeroFloats(dst: usize, n: i32): void {
  let q = 0;
  for (; q + 4 <= n; q += 4) v128.store(dst + (<usize>q << 2), i32x4.splat(0));
  for (; q < n; q++) store<f32>(dst + (<usize>q << 2), 0);
}

/**
 * Channels [c0, c1) of image xb zero-padded by (pH, pW) on each side, into dst, (c1 − c0) × Hp × Wp; or,
 * with no padding, the image itself: so that gathering the window taps needs no bounds checks.
 */
function padded(xb: usize, c0: i32, c1: i32, dst: usize): usize {
  const plane = gH * gW;
  if (gpH == 0 && gpW == 0) return xb + (<usize>(c0 * plane) << 2);
  const Wp = gW + 2 * gpW;
  let d = dst;
  for (let c = c0; c < c1; c++) {
    zeroFloats(d, gpH * Wp);
    d += <usize>(gpH * Wp) << 2;
    for (let h = 0; h < gH; h++) {
      zeroFloats(d, gpW);
      copyFloats(d + (<usize>gpW << 2), xb + (<usize>(c * plane + h * gW) << 2), gW);
      zeroFloats(d + (<usize>(gpW + gW) << 2), gpW);
      d += <usize>Wp << 2;
    }
    zeroFloats(d, gpH * Wp);
    d += <usize>(gpH * Wp) << 2;
  }
  return dst;
}

/**
 * im2col rows [r0, r1) at positions [l0, l0 + cnt) of one image, from its padded copy pad (channel c0
 * first), into dst (row stride ld): a copy per row of output positions, no bounds to check. Copying the
 * image once this way instead of clipping every tap took the forward at B = 8, C = 64 → 64, 8×8 from
 * 1.5 to 1.2 ms (1 thread, relaxed build), where taps are runs of 8.
 */
function gatherRows(pad: usize, c0: i32, r0: i32, r1: i32, l0: i32, cnt: i32, dst: usize, ld: i32): void {
  const K2 = gkH * gkW;
  const Hp = gH + 2 * gpH, Wp = gW + 2 * gpW;
  const end = l0 + cnt;
  const i0 = l0 / gWo, i1 = (end - 1) / gWo;
  const j0 = l0 - i0 * gWo, j1 = end - i1 * gWo;
  for (let r = r0; r < r1; r++) {
    const ci = r / K2;
    const kh = (r - ci * K2) / gkW;
    const kw = r - ci * K2 - kh * gkW;
    const base = pad + (<usize>(((ci - c0) * Hp + kh) * Wp + kw) << 2);
    let d = dst + (<usize>((r - r0) * ld) << 2);
    for (let i = i0; i <= i1; i++) {
      const js = i == i0 ? j0 : 0;
      const c = (i == i1 ? j1 : gWo) - js;
      const src = base + (<usize>(i * gsH * Wp + js * gsW) << 2);
      if (gsW == 1) copyFloats(d, src, c);
      else for (let q = 0; q < c; q++) store<f32>(d + (<usize>q << 2), load<f32>(src + (<usize>(q * gsW) << 2)));
      d += <usize>c << 2;
    }
  }
}

/** The adjoint of gatherRows: src's rows added into the padded copy pad at the taps they came from. */
function scatterRows(pad: usize, c0: i32, r0: i32, r1: i32, l0: i32, cnt: i32, src: usize, ld: i32): void {
  const K2 = gkH * gkW;
  const Hp = gH + 2 * gpH, Wp = gW + 2 * gpW;
  const end = l0 + cnt;
  const i0 = l0 / gWo, i1 = (end - 1) / gWo;
  const j0 = l0 - i0 * gWo, j1 = end - i1 * gWo;
  for (let r = r0; r < r1; r++) {
    const ci = r / K2;
    const kh = (r - ci * K2) / gkW;
    const kw = r - ci * K2 - kh * gkW;
    const base = pad + (<usize>(((ci - c0) * Hp + kh) * Wp + kw) << 2);
    let s = src + (<usize>((r - r0) * ld) << 2);
    for (let i = i0; i <= i1; i++) {
      const js = i == i0 ? j0 : 0;
      const c = (i == i1 ? j1 : gWo) - js;
      const d = base + (<usize>(i * gsH * Wp + js * gsW) << 2);
      if (gsW == 1) {
        let q = 0;
        for (; q + 4 <= c; q += 4) {
          const o = <usize>q << 2;
          v128.store(d + o, f32x4.add(v128.load(d + o), v128.load(s + o)));
        }
        for (; q < c; q++) store<f32>(d + (<usize>q << 2), load<f32>(d + (<usize>q << 2)) + load<f32>(s + (<usize>q << 2)));
      } else {
        for (let q = 0; q < c; q++) {
          const dq = d + (<usize>(q * gsW) << 2);
          store<f32>(dq, load<f32>(dq) + load<f32>(s + (<usize>q << 2)));
        }
      }
      s += <usize>c << 2;
    }
  }
}

/**
 * Padded rows [hp0, hp1) of channels [c0, c1) of pad: zeroed (add false), or their interior added into
 * image xb (add true). The rows the taps of output rows [i0, i1] reach are hp = i·strideH + kh.
 */
function paddedRows(pad: usize, c0: i32, c1: i32, hp0: i32, hp1: i32, xb: usize, add: bool): void {
  const Wp = gW + 2 * gpW;
  const Hp = gH + 2 * gpH;
  for (let c = c0; c < c1; c++) {
    if (!add) {
      zeroFloats(pad + (<usize>(((c - c0) * Hp + hp0) * Wp) << 2), (hp1 - hp0) * Wp);
      continue;
    }
    const h1 = min<i32>(gH, hp1 - gpH);
    for (let h = max<i32>(0, hp0 - gpH); h < h1; h++) {
      const s = pad + (<usize>(((c - c0) * Hp + h + gpH) * Wp + gpW) << 2);
      const d = xb + (<usize>((c * gH + h) * gW) << 2);
      let q = 0;
      for (; q + 4 <= gW; q += 4) {
        const o = <usize>q << 2;
        v128.store(d + o, f32x4.add(v128.load(d + o), v128.load(s + o)));
      }
      for (; q < gW; q++) store<f32>(d + (<usize>q << 2), load<f32>(d + (<usize>q << 2)) + load<f32>(s + (<usize>q << 2)));
    }
  }
}

/**
 * The batch's im2col rows [r0, r1) at positions [g0, g0 + n) of the flattened (image, position) axis
 * (a tile may span images), into dst (r1 − r0) × n, through pad (scratch for a padded image); or, with
 * add, dst added back into the images (col2im).
 */
function tileRows(x: usize, r0: i32, r1: i32, g0: i32, n: i32, L: i32, dst: usize, add: bool, pad: usize): void {
  const imageBytes = <usize>(gCin * gH * gW) << 2;
  const K2 = gkH * gkW;
  const c0 = r0 / K2, c1 = (r1 - 1) / K2 + 1;
  const direct = gpH == 0 && gpW == 0;
  let g = g0;
  while (g < g0 + n) {
    const b = g / L;
    const l = g - b * L;
    const cnt = min<i32>(L - l, g0 + n - g);
    const xb = x + <usize>b * imageBytes;
    const d = dst + (<usize>(g - g0) << 2);
    if (!add) {
      gatherRows(padded(xb, c0, c1, pad), c0, r0, r1, l, cnt, d, n);
    } else if (direct) {
      scatterRows(xb + (<usize>(c0 * gH * gW) << 2), c0, r0, r1, l, cnt, d, n);
    } else {
      // Into a zeroed padded copy of the rows this piece reaches, then its interior into the image.
      const hp0 = (l / gWo) * gsH;
      const hp1 = min<i32>(gH + 2 * gpH, ((l + cnt - 1) / gWo) * gsH + gkH);
      paddedRows(pad, c0, c1, hp0, hp1, xb, false);
      scatterRows(pad, c0, r0, r1, l, cnt, d, n);
      paddedRows(pad, c0, c1, hp0, hp1, xb, true);
    }
    g += cnt;
  }
}

/** dy at positions [g0, g0 + n) as a dense (Cout, n) matrix in dst. */
function dyTile(dy: usize, g0: i32, n: i32, L: i32, dst: usize): void {
  let g = g0;
  while (g < g0 + n) {
    const b = g / L;
    const l = g - b * L;
    const cnt = min<i32>(L - l, g0 + n - g);
    for (let co = 0; co < gCout; co++) {
      copyFloats(dst + (<usize>(co * n + g - g0) << 2), dy + (<usize>((b * gCout + co) * L + l) << 2), cnt);
    }
    g += cnt;
  }
}

/**
 * Forward, thread tid's tiles of TILE positions of the batch (images back to back, so small images share
 * a product): out[:, tile] = W · cols(tile) + bias. A tile that is one whole image is computed in place.
 */
export function conv2dForwardPart(x: usize, w: usize, bias: usize, out: usize, B: i32, Cin: i32, H: i32, W: i32, Cout: i32, kH: i32,
  kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, Ho: i32, Wo: i32, scratch0: usize, scratchStride: i32, mm0: usize, mmStride: i32,
  tid: i32, threads: i32): void {
  setGeometry(Cin, H, W, Cout, kH, kW, sH, sW, pH, pW, Ho, Wo);
  const scratch = scratch0 + <usize>tid * <usize>scratchStride;
  if (sH == 1 && sW == 1 && (pH > 0 || pW > 0)) {
    implicitConv(x, w, bias, out, B, Cin, Cout, H, W, kH, kW, pH, pW, false, scratch, tid, threads);
    return;
  }
  const L = Ho * Wo;
  const K = Cin * kH * kW;
  const total = B * L;
  const tiles = ceilDiv(total, TILE);
  const cols = scratch;
  const ctile = cols + (<usize>(K * TILE) << 2);
  const pad = ctile + (<usize>(Cout * TILE) << 2);
  const mm = mm0 + <usize>tid * <usize>mmStride;
  const t1 = lo(tiles, tid + 1, threads);
  for (let t = lo(tiles, tid, threads); t < t1; t++) {
    const g0 = t * TILE;
    const n = min<i32>(TILE, total - g0);
    if (n == L && g0 % L == 0 && pointwise()) {
      // A 1×1, stride-1, unpadded kernel over image b: the image is its own im2col matrix, and the
      // product lands in place, onto the bias.
      const b = g0 / L;
      const xb = x + (<usize>(b * Cin * H * W) << 2);
      const ob = out + (<usize>(b * Cout * L) << 2);
      if (bias != 0) {
        for (let co = 0; co < Cout; co++) {
          const v = load<f32>(bias + (<usize>co << 2));
          const o = ob + (<usize>(co * L) << 2);
          for (let l = 0; l < L; l++) store<f32>(o + (<usize>l << 2), v);
        }
      }
      matmulPart(w, xb, ob, 1, Cout, n, K, false, false, 0, 0, bias != 0, mm, 0, 0, 1);
      continue;
    }
    // The tile's outputs as rows: colsᵀ (n × K) · Wᵀ (K × Cout), so the product has n (up to TILE) rows
    // rather than Cout (often 16 or 32: a few micro-kernel strips, one of them ragged, with B repacked per
    // call); each element sums its K products in the same order either way.
    tileRows(x, 0, K, g0, n, L, cols, false, pad);
    matmulPart(cols, w, ctile, 1, n, Cout, K, true, true, 0, 0, false, mm, 0, 0, 1);
    let g = g0;
    while (g < g0 + n) {
      const b = g / L;
      const l = g - b * L;
      const cnt = min<i32>(L - l, g0 + n - g);
      for (let co = 0; co < Cout; co++) {
        const v: f32 = bias != 0 ? load<f32>(bias + (<usize>co << 2)) : 0;
        const s = ctile + (<usize>((g - g0) * Cout + co) << 2);
        const o = out + (<usize>((b * Cout + co) * L + l) << 2);
        for (let q = 0; q < cnt; q++) store<f32>(o + (<usize>q << 2), load<f32>(s + (<usize>(q * Cout) << 2)) + v);
      }
      g += cnt;
    }
  }
}

/** Backward, input gradient: thread tid's blocks of input channels, dx[:, block] = col2im(Wᵀ[block] · dy), tile by tile. */
export function conv2dBackwardDataPart(dy: usize, w: usize, dx: usize, B: i32, Cin: i32, H: i32, W: i32, Cout: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, Ho: i32, Wo: i32, scratch0: usize, scratchStride: i32, mm0: usize, mmStride: i32, tid: i32,
  threads: i32): void {
  setGeometry(Cin, H, W, Cout, kH, kW, sH, sW, pH, pW, Ho, Wo);
  if (sH == 1 && sW == 1 && pH < kH && pW < kW && (kH - 1 - pH > 0 || kW - 1 - pW > 0)) {
    // Stride 1: dx is dy convolved with the flipped kernel, padded by k − 1 − p (Ho + k − 1 − 2p = H).
    implicitConv(dy, w, 0, dx, B, Cin, Cout, Ho, Wo, kH, kW, kH - 1 - pH, kW - 1 - pW, true, scratch0 + <usize>tid * <usize>scratchStride,
      tid, threads);
    return;
  }
  const L = Ho * Wo;
  const K2 = kH * kW;
  const K = Cin * K2;
  const plane = H * W;
  const total = B * L;
  const tiles = ceilDiv(total, TILE);
  const cb = channelBlock();
  const blocks = ceilDiv(Cin, cb);
  const mmax = cb * K2;
  const scratch = scratch0 + <usize>tid * <usize>scratchStride;
  const wt = scratch; // (m, Cout): rows of Wᵀ
  const dyt = wt + (<usize>(mmax * Cout) << 2); // (Cout, TILE)
  const dcols = dyt + (<usize>(Cout * TILE) << 2); // (m, TILE)
  const pad = dcols + (<usize>(mmax * TILE) << 2); // a padded image's block of channels
  const mm = mm0 + <usize>tid * <usize>mmStride;
  const q1 = lo(blocks, tid + 1, threads);
  for (let q = lo(blocks, tid, threads); q < q1; q++) {
    const c0 = q * cb;
    const c1 = min<i32>(Cin, c0 + cb);
    const r0 = c0 * K2;
    const m = (c1 - c0) * K2;
    for (let r = 0; r < m; r++) {
      for (let co = 0; co < Cout; co++) {
        store<f32>(wt + (<usize>(r * Cout + co) << 2), load<f32>(w + (<usize>(co * K + r0 + r) << 2)));
      }
    }
    for (let b = 0; b < B; b++) memory.fill(dx + (<usize>((b * Cin + c0) * plane) << 2), 0, <usize>((c1 - c0) * plane) << 2);
    for (let t = 0; t < tiles; t++) {
      const g0 = t * TILE;
      const n = min<i32>(TILE, total - g0);
      const whole = n == L && g0 % L == 0;
      const b = g0 / L;
      if (whole && pointwise()) {
        // col2im of a 1×1, stride-1, unpadded kernel is the identity: the product is dx itself.
        matmulPart(wt, dy + (<usize>(b * Cout * L) << 2), dx + (<usize>((b * Cin + c0) * plane) << 2), 1, m, L, Cout, false, false, 0, 0,
          false, mm, 0, 0, 1);
        continue;
      }
      let g = dyt;
      if (whole) g = dy + (<usize>(b * Cout * L) << 2);
      else dyTile(dy, g0, n, L, dyt);
      matmulPart(wt, g, dcols, 1, m, n, Cout, false, false, 0, 0, false, mm, 0, 0, 1);
      tileRows(dx, r0, r0 + m, g0, n, L, dcols, true, pad);
    }
  }
}

/**
 * Backward, weight and bias gradients: thread tid's blocks of ROWS rows of dW viewed as (Cout, Cin·kH·kW)
 * (dWᵀ[block] = Σ_tiles cols[block]·dyᵀ, in tile order), and its share of the channels of dbias (float64
 * sums in order). dw or db may be 0 (not wanted).
 */
export function conv2dBackwardFilterPart(dy: usize, x: usize, dw: usize, db: usize, B: i32, Cin: i32, H: i32, W: i32, Cout: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, Ho: i32, Wo: i32, scratch0: usize, scratchStride: i32, mm0: usize,
  mmStride: i32, tid: i32, threads: i32): void {
  setGeometry(Cin, H, W, Cout, kH, kW, sH, sW, pH, pW, Ho, Wo);
  const L = Ho * Wo;
  const K = Cin * kH * kW;
  const total = B * L;
  const tiles = ceilDiv(total, TILE);
  const scratch = scratch0 + <usize>tid * <usize>scratchStride;
  const cols = scratch; // (ROWS, TILE)
  const dyt = cols + (<usize>(ROWS * TILE) << 2); // (Cout, TILE)
  const acc = dyt + (<usize>(Cout * TILE) << 2); // (ROWS, Cout)
  const pad = acc + (<usize>(ROWS * Cout) << 2); // a padded image
  const mm = mm0 + <usize>tid * <usize>mmStride;
  if (dw != 0 && sH == 1 && sW == 1 && (pH > 0 || pW > 0) && Wo >= 16) {
    // Stride 1: the products of dy with the padded image read in place (conv-implicit.ts), no im2col.
    // Rows of at least 16 outputs: on 14-wide rows (3.5 vectors, half a step wasted per row) it ran
    // slower than im2col (26 vs 32 GFLOP/s, 64×32×14×14, 1 thread); on 28-wide ones 42 vs 25.
    implicitFilterGrad(dy, x, dw, B, Cin, Cout, H, W, kH, kW, pH, pW, scratch, tid, threads);
  } else if (dw != 0) {
    const blocks = ceilDiv(K, ROWS);
    const q1 = lo(blocks, tid + 1, threads);
    for (let q = lo(blocks, tid, threads); q < q1; q++) {
      const r0 = q * ROWS;
      const m = min<i32>(ROWS, K - r0);
      for (let t = 0; t < tiles; t++) {
        const g0 = t * TILE;
        const n = min<i32>(TILE, total - g0);
        const whole = n == L && g0 % L == 0;
        const b = g0 / L;
        let g = dyt;
        if (whole) g = dy + (<usize>(b * Cout * L) << 2);
        else dyTile(dy, g0, n, L, dyt);
        let a = cols;
        if (whole && pointwise()) a = x + (<usize>((b * Cin * H * W) + r0 * L) << 2);
        else tileRows(x, r0, r0 + m, g0, n, L, cols, false, pad);
        matmulPart(a, g, acc, 1, m, Cout, n, false, true, 0, 0, t > 0, mm, 0, 0, 1);
      }
      for (let r = 0; r < m; r++) {
        for (let co = 0; co < Cout; co++) {
          store<f32>(dw + (<usize>(co * K + r0 + r) << 2), tiles > 0 ? load<f32>(acc + (<usize>(r * Cout + co) << 2)) : <f32>0);
        }
      }
    }
  }
  if (db != 0) {
    const co1 = lo(Cout, tid + 1, threads);
    for (let co = lo(Cout, tid, threads); co < co1; co++) {
      let s: f64 = 0;
      for (let b = 0; b < B; b++) {
        const p = dy + (<usize>((b * Cout + co) * L) << 2);
        for (let l = 0; l < L; l++) s += <f64>load<f32>(p + (<usize>l << 2));
      }
      store<f32>(db + (<usize>co << 2), <f32>s);
    }
  }
}

// ---- pooling ------------------------------------------------------------------------------------

/** Max over each window, padding never chosen; argmax gets h·W + w of the first maximum (a NaN wins, the last one). */
export function maxPool2dForwardPart(x: usize, out: usize, argmax: usize, planes: i32, H: i32, W: i32, kH: i32, kW: i32, sH: i32,
  sW: i32, pH: i32, pW: i32, Ho: i32, Wo: i32, tid: i32, threads: i32): void {
  const p1 = lo(planes, tid + 1, threads);
  for (let p = lo(planes, tid, threads); p < p1; p++) {
    const xp = x + (<usize>(p * H * W) << 2);
    let o = <usize>(p * Ho * Wo) << 2;
    for (let i = 0; i < Ho; i++) {
      const h0 = max<i32>(i * sH - pH, 0), h1 = min<i32>(i * sH - pH + kH, H);
      for (let j = 0; j < Wo; j++) {
        const w0 = max<i32>(j * sW - pW, 0), w1 = min<i32>(j * sW - pW + kW, W);
        let best: f32 = -Infinity;
        let at = h0 * W + w0;
        for (let h = h0; h < h1; h++) {
          for (let ww = w0; ww < w1; ww++) {
            const v = load<f32>(xp + (<usize>(h * W + ww) << 2));
            if (v > best || v != v) {
              best = v;
              at = h * W + ww;
            }
          }
        }
        store<f32>(out + o, best);
        store<i32>(argmax + o, at);
        o += 4;
      }
    }
  }
}

/** dx of max pooling: each plane zeroed, then every output's dy added at its argmax, in output order. */
export function maxPool2dBackwardPart(dy: usize, argmax: usize, dx: usize, planes: i32, H: i32, W: i32, Ho: i32, Wo: i32, tid: i32,
  threads: i32): void {
  const p1 = lo(planes, tid + 1, threads);
  for (let p = lo(planes, tid, threads); p < p1; p++) {
    const dxp = dx + (<usize>(p * H * W) << 2);
    memory.fill(dxp, 0, <usize>(H * W) << 2);
    const o0 = <usize>(p * Ho * Wo) << 2;
    for (let o = 0; o < Ho * Wo; o++) {
      const q = o0 + (<usize>o << 2);
      const d = dxp + (<usize>load<i32>(argmax + q) << 2);
      store<f32>(d, load<f32>(d) + load<f32>(dy + q));
    }
  }
}

/** Mean over each window, padding counted as zeros: Σ/(kH·kW). */
export function avgPool2dForwardPart(x: usize, out: usize, planes: i32, H: i32, W: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32,
  pW: i32, Ho: i32, Wo: i32, tid: i32, threads: i32): void {
  const inv: f32 = 1 / <f32>(kH * kW);
  const p1 = lo(planes, tid + 1, threads);
  for (let p = lo(planes, tid, threads); p < p1; p++) {
    const xp = x + (<usize>(p * H * W) << 2);
    let o = out + (<usize>(p * Ho * Wo) << 2);
    for (let i = 0; i < Ho; i++) {
      const h0 = max<i32>(i * sH - pH, 0), h1 = min<i32>(i * sH - pH + kH, H);
      for (let j = 0; j < Wo; j++) {
        const w0 = max<i32>(j * sW - pW, 0), w1 = min<i32>(j * sW - pW + kW, W);
        let s: f32 = 0;
        for (let h = h0; h < h1; h++) for (let ww = w0; ww < w1; ww++) s += load<f32>(xp + (<usize>(h * W + ww) << 2));
        store<f32>(o, s * inv);
        o += 4;
      }
    }
  }
}

/** dx of average pooling: each plane zeroed, then every window's dy/(kH·kW) added to its elements. */
export function avgPool2dBackwardPart(dy: usize, dx: usize, planes: i32, H: i32, W: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32,
  pW: i32, Ho: i32, Wo: i32, tid: i32, threads: i32): void {
  const inv: f32 = 1 / <f32>(kH * kW);
  const p1 = lo(planes, tid + 1, threads);
  for (let p = lo(planes, tid, threads); p < p1; p++) {
    const dxp = dx + (<usize>(p * H * W) << 2);
    memory.fill(dxp, 0, <usize>(H * W) << 2);
    let o = dy + (<usize>(p * Ho * Wo) << 2);
    for (let i = 0; i < Ho; i++) {
      const h0 = max<i32>(i * sH - pH, 0), h1 = min<i32>(i * sH - pH + kH, H);
      for (let j = 0; j < Wo; j++) {
        const w0 = max<i32>(j * sW - pW, 0), w1 = min<i32>(j * sW - pW + kW, W);
        const g = load<f32>(o) * inv;
        for (let h = h0; h < h1; h++) {
          for (let ww = w0; ww < w1; ww++) {
            const d = dxp + (<usize>(h * W + ww) << 2);
            store<f32>(d, load<f32>(d) + g);
          }
        }
        o += 4;
      }
    }
  }
}
