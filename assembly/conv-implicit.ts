// Stride-1 convolution as an implicit GEMM: no im2col matrix. The image is copied once, zero-padded,
// and a 6 × 8 micro-kernel computes six neighbouring outputs of a row for eight output channels,
// walking K = C·kH·kW taps: the six input values a tap multiplies lie side by side in the padded row,
// at an offset the tap's table entry gives, so the kernel reads them in place (six splat loads, two
// loads of packed weights, twelve multiply-adds per tap) and nothing is gathered or packed per tile.
//
// It serves the forward pass and, with the kernel flipped and the channels exchanged, the input
// gradient of a stride-1 convolution, which is the convolution of dy with padding k − 1 − p. The
// weight gradient is the other product (implicitFilterGrad): dy's rows against the padded rows at each
// tap, four outputs a step, for blocks of 2 channels × 4 taps.
// Work is split by (image, output row); every output sums its taps in the same order on any thread.
import { hsum, madd } from './simd';

const MR: i32 = 6;
const NR: i32 = 8;
/** Floats read past the last padded row by a ragged strip of outputs (their lanes are discarded). */
const SLACK: i32 = 16;

/** Scratch floats one thread needs: the padded image, the packed weights, the tap table, one tile. */
export function implicitScratchFloats(C: i32, Cout: i32, H: i32, W: i32, kH: i32, kW: i32, pH: i32, pW: i32): i32 {
  const K = C * kH * kW;
  const filter = ((Cout + 1) / 2) * ((K + 3) / 4) * 8; // implicitFilterGrad's block sums (WCO·WTAPS each)
  return C * (H + 2 * pH) * (W + 2 * pW) + SLACK + max<i32>(((Cout + NR - 1) / NR) * NR * K + MR * NR, filter) + K + 16;
}

/** The C planes of image src (H × W) into dst, (H + 2pH) × (W + 2pW) each, zero around. */
function padImage(src: usize, C: i32, H: i32, W: i32, pH: i32, pW: i32, dst: usize): void {
  const Wp = W + 2 * pW;
  let d = dst;
  for (let c = 0; c < C; c++) {
    memory.fill(d, 0, <usize>(pH * Wp) << 2);
    d += <usize>(pH * Wp) << 2;
    for (let h = 0; h < H; h++) {
      const s = src + (<usize>((c * H + h) * W) << 2);
      for (let q = 0; q < pW; q++) store<f32>(d + (<usize>q << 2), 0);
      let q = 0;
      for (; q + 4 <= W; q += 4) v128.store(d + (<usize>(pW + q) << 2), v128.load(s + (<usize>q << 2)));
      for (; q < W; q++) store<f32>(d + (<usize>(pW + q) << 2), load<f32>(s + (<usize>q << 2)));
      for (let r = 0; r < pW; r++) store<f32>(d + (<usize>(pW + W + r) << 2), 0);
      d += <usize>Wp << 2;
    }
    memory.fill(d, 0, <usize>(pH * Wp) << 2);
    d += <usize>(pH * Wp) << 2;
  }
  memory.fill(d, 0, <usize>SLACK << 2);
}

/**
 * The weights as strips of NR output channels, (strip, tap, NR), zero past the last channel. flip:
 * the input gradient's kernel, output channel j = an input channel of the convolution and taps over its
 * output channels, each window turned by 180°: w[c][j][kH−1−kh][kW−1−kw].
 */
function packWeights(w: usize, Cin: i32, Cout: i32, kH: i32, kW: i32, flip: bool, dst: usize): void {
  const K2 = kH * kW;
  const taps = (flip ? Cout : Cin) * K2;
  const outs = flip ? Cin : Cout;
  for (let s = 0; s < outs; s += NR) {
    for (let p = 0; p < taps; p++) {
      const c = p / K2, kh = (p % K2) / kW, kw = p % kW;
      for (let j = 0; j < NR; j++) {
        let v: f32 = 0;
        if (s + j < outs) {
          v = flip ? load<f32>(w + (<usize>(((c * Cin + s + j) * kH + kH - 1 - kh) * kW + kW - 1 - kw) << 2))
            : load<f32>(w + (<usize>((s + j) * taps + p) << 2));
        }
        store<f32>(dst + (<usize>((s * taps + p * NR) + j) << 2), v);
      }
    }
  }
}

/** offs[p] = the byte offset of tap p = (channel, kh, kw) in a padded image of Hp × Wp planes. */
function tapTable(offs: usize, taps: i32, kH: i32, kW: i32, Hp: i32, Wp: i32): void {
  const K2 = kH * kW;
  for (let p = 0; p < taps; p++) {
    const c = p / K2, kh = (p % K2) / kW, kw = p % kW;
    store<i32>(offs + (<usize>p << 2), ((c * Hp + kh) * Wp + kw) << 2);
  }
}

/**
 * 6 outputs × 8 channels over `taps` taps: a + offs[p] holds the six inputs of tap p; the tile to tmp
 * (6 rows of 8). The body is matmul.ts's micro-kernel with A's address read from the tap table; they are
 * not one function because any change to that loop so far has changed how V8 allocates its vector
 * registers (two variants measured at half speed), so each stays as measured.
 */
function tile(a: usize, offs: usize, pb: usize, taps: i32, tmp: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
  let c50 = f32x4.splat(0), c51 = f32x4.splat(0);
  let o = offs;
  const end = offs + (<usize>taps << 2);
  while (o < end) {
    const pa = a + <usize>load<i32>(o);
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let x = v128.load32_splat(pa);
    c00 = madd(x, b0, c00);
    c01 = madd(x, b1, c01);
    x = v128.load32_splat(pa, 4);
    c10 = madd(x, b0, c10);
    c11 = madd(x, b1, c11);
    x = v128.load32_splat(pa, 8);
    c20 = madd(x, b0, c20);
    c21 = madd(x, b1, c21);
    x = v128.load32_splat(pa, 12);
    c30 = madd(x, b0, c30);
    c31 = madd(x, b1, c31);
    x = v128.load32_splat(pa, 16);
    c40 = madd(x, b0, c40);
    c41 = madd(x, b1, c41);
    x = v128.load32_splat(pa, 20);
    c50 = madd(x, b0, c50);
    c51 = madd(x, b1, c51);
    o += 4;
    pb += 32;
  }
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
}

/** rows × cols of a tile (tmp, rows of NR) into channels co0.. of output row ob at x0, plus their bias. */
function storeTile(tmp: usize, ob: usize, bias: usize, co0: i32, cols: i32, rows: i32, x0: i32, plane: i32): void {
  for (let j = 0; j < cols; j++) {
    const v: f32 = bias != 0 ? load<f32>(bias + (<usize>(co0 + j) << 2)) : 0;
    const o = ob + (<usize>((co0 + j) * plane + x0) << 2);
    for (let r = 0; r < rows; r++) store<f32>(o + (<usize>r << 2), load<f32>(tmp + (<usize>(r * NR + j) << 2)) + v);
  }
}

/**
 * Thread tid's (image, output row) pairs of a stride-1 convolution of x (B, C, H, W) padded by (pH, pW),
 * with kH × kW windows, into out (B, outs, Ho, Wo), plus bias (0: none). flip: x is dy, w the forward's
 * weight, out dx (the input gradient; outs = the forward's Cin, C its Cout).
 */
export function implicitConv(x: usize, w: usize, bias: usize, out: usize, B: i32, Cin: i32, Cout: i32, H: i32, W: i32, kH: i32, kW: i32,
  pH: i32, pW: i32, flip: bool, scratch: usize, tid: i32, threads: i32): void {
  const C = flip ? Cout : Cin; // channels read
  const outs = flip ? Cin : Cout; // channels written
  const Hp = H + 2 * pH, Wp = W + 2 * pW;
  const Ho = Hp - kH + 1, Wo = Wp - kW + 1;
  const K2 = kH * kW;
  const taps = C * K2;
  const pad = scratch;
  const packed = pad + (<usize>(C * Hp * Wp + SLACK) << 2);
  const strips = (outs + NR - 1) / NR;
  const offs = packed + (<usize>(strips * NR * taps) << 2);
  const tmp = offs + (<usize>taps << 2);
  packWeights(w, Cin, Cout, kH, kW, flip, packed);
  tapTable(offs, taps, kH, kW, Hp, Wp);
  const items = B * Ho;
  const i0 = <i32>((<i64>items * tid) / threads), i1 = <i32>((<i64>items * (tid + 1)) / threads);
  let padded = -1;
  for (let it = i0; it < i1; it++) {
    const b = it / Ho, y = it - b * Ho;
    if (b != padded) {
      padImage(x + (<usize>(b * C * H * W) << 2), C, H, W, pH, pW, pad);
      padded = b;
    }
    const row = pad + (<usize>(y * Wp) << 2);
    const ob = out + (<usize>((b * outs * Ho + y) * Wo) << 2);
    // Whole strips of MR outputs, then the ragged one: two call sites keep tile() out of line (inlined
    // into this function, V8 ran out of vector registers and spilled accumulators: half the speed).
    const whole = Wo - Wo % MR;
    for (let x0 = 0; x0 < whole; x0 += MR) {
      for (let s = 0; s < strips; s++) {
        tile(row + (<usize>x0 << 2), offs, packed + (<usize>(s * NR * taps) << 2), taps, tmp);
        storeTile(tmp, ob, bias, s * NR, min<i32>(NR, outs - s * NR), MR, x0, Ho * Wo);
      }
    }
    if (whole < Wo) {
      for (let s = 0; s < strips; s++) {
        tile(row + (<usize>whole << 2), offs, packed + (<usize>(s * NR * taps) << 2), taps, tmp);
        storeTile(tmp, ob, bias, s * NR, min<i32>(NR, outs - s * NR), Wo - whole, whole, Ho * Wo);
      }
    }
  }
}

// ---- the weight gradient -----------------------------------------------------------------------

const WCO: i32 = 2; // output channels per block
const WTAPS: i32 = 4; // taps per block

/** Four floats at p, or only the first n < 4 of them (the rest 0): a row's tail, never read past. */
@inline function loadPart(p: usize, n: i32): v128 {
  if (n == 1) return v128.load32_zero(p);
  if (n == 2) return v128.load64_zero(p);
  return v128.load32_lane(p + 8, v128.load64_zero(p), 2);
}

@inline function addTo(acc: usize, i: i32, v: v128): void {
  const p = acc + (<usize>i << 2);
  store<f32>(p, load<f32>(p) + hsum(v));
}

/**
 * One image's contribution to a block of dW: for WCO output channels (dy planes d0, d1) and WTAPS taps
 * (x0..x3: the padded image at each tap's offset), Σ over the Ho × Wo outputs of dy·x, four outputs a
 * step, into acc (WCO·WTAPS floats, added to).
 */
function filterBlock(d0: usize, d1: usize, x0: usize, x1: usize, x2: usize, x3: usize, Ho: i32, Wo: i32, Wp: i32, acc: usize): void {
  let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a02 = f32x4.splat(0), a03 = f32x4.splat(0);
  let a10 = f32x4.splat(0), a11 = f32x4.splat(0), a12 = f32x4.splat(0), a13 = f32x4.splat(0);
  const whole = <usize>((Wo & ~3) << 2);
  const tail = Wo & 3;
  const dRow = <usize>Wo << 2, xRow = <usize>Wp << 2;
  let dy = <usize>0, xo = <usize>0;
  for (let y = 0; y < Ho; y++) {
    let q = <usize>0;
    for (; q < whole; q += 16) {
      const g0 = v128.load(d0 + dy + q), g1 = v128.load(d1 + dy + q);
      let v = v128.load(x0 + xo + q);
      a00 = madd(g0, v, a00);
      a10 = madd(g1, v, a10);
      v = v128.load(x1 + xo + q);
      a01 = madd(g0, v, a01);
      a11 = madd(g1, v, a11);
      v = v128.load(x2 + xo + q);
      a02 = madd(g0, v, a02);
      a12 = madd(g1, v, a12);
      v = v128.load(x3 + xo + q);
      a03 = madd(g0, v, a03);
      a13 = madd(g1, v, a13);
    }
    if (tail != 0) {
      const g0 = loadPart(d0 + dy + q, tail), g1 = loadPart(d1 + dy + q, tail);
      let v = loadPart(x0 + xo + q, tail);
      a00 = madd(g0, v, a00);
      a10 = madd(g1, v, a10);
      v = loadPart(x1 + xo + q, tail);
      a01 = madd(g0, v, a01);
      a11 = madd(g1, v, a11);
      v = loadPart(x2 + xo + q, tail);
      a02 = madd(g0, v, a02);
      a12 = madd(g1, v, a12);
      v = loadPart(x3 + xo + q, tail);
      a03 = madd(g0, v, a03);
      a13 = madd(g1, v, a13);
    }
    dy += dRow;
    xo += xRow;
  }
  addTo(acc, 0, a00);
  addTo(acc, 1, a01);
  addTo(acc, 2, a02);
  addTo(acc, 3, a03);
  addTo(acc, 4, a10);
  addTo(acc, 5, a11);
  addTo(acc, 6, a12);
  addTo(acc, 7, a13);
}

/** Tap p's byte offset in the padded image, or tap 0's past the last (a ragged block's dropped column). */
@inline function tapOffset(offs: usize, p: i32, taps: i32): usize {
  return <usize>load<i32>(offs + (<usize>(p < taps ? p : <i32>0) << 2));
}

/**
 * Thread tid's blocks of the weight gradient of a stride-1 convolution (dW as (Cout, taps), taps =
 * Cin·kH·kW), written (not accumulated): blocks of WCO channels × WTAPS taps, each summed image by image
 * in order (per image: four output positions a lane, then the lanes), so every element's sum has one
 * order on any thread count. Ragged blocks repeat their last channel or tap and drop it.
 */
export function implicitFilterGrad(dy: usize, x: usize, dw: usize, B: i32, Cin: i32, Cout: i32, H: i32, W: i32, kH: i32, kW: i32, pH: i32,
  pW: i32, scratch: usize, tid: i32, threads: i32): void {
  const Hp = H + 2 * pH, Wp = W + 2 * pW;
  const Ho = Hp - kH + 1, Wo = Wp - kW + 1;
  const K2 = kH * kW;
  const taps = Cin * K2;
  const pad = scratch;
  const offs = pad + (<usize>(Cin * Hp * Wp + SLACK) << 2);
  const acc = offs + (<usize>taps << 2);
  tapTable(offs, taps, kH, kW, Hp, Wp);
  const coBlocks = (Cout + WCO - 1) / WCO, tapBlocks = (taps + WTAPS - 1) / WTAPS;
  const blocks = coBlocks * tapBlocks;
  const q0 = <i32>((<i64>blocks * tid) / threads), q1 = <i32>((<i64>blocks * (tid + 1)) / threads);
  if (q0 >= q1) return;
  memory.fill(acc, 0, <usize>((q1 - q0) * WCO * WTAPS) << 2);
  const plane = <usize>(Ho * Wo) << 2;
  for (let b = 0; b < B; b++) {
    padImage(x + (<usize>(b * Cin * H * W) << 2), Cin, H, W, pH, pW, pad);
    const db = dy + <usize>(b * Cout) * plane;
    for (let q = q0; q < q1; q++) {
      const co = (q / tapBlocks) * WCO, t = (q % tapBlocks) * WTAPS;
      const d0 = db + <usize>co * plane;
      const d1 = co + 1 < Cout ? d0 + plane : d0;
      filterBlock(d0, d1, pad + tapOffset(offs, t, taps), pad + tapOffset(offs, t + 1, taps), pad + tapOffset(offs, t + 2, taps),
        pad + tapOffset(offs, t + 3, taps), Ho, Wo, Wp, acc + (<usize>((q - q0) * WCO * WTAPS) << 2));
    }
  }
  for (let q = q0; q < q1; q++) {
    const co = (q / tapBlocks) * WCO, t = (q % tapBlocks) * WTAPS;
    for (let i = 0; i < WCO; i++) {
      for (let j = 0; j < WTAPS; j++) {
        if (co + i < Cout && t + j < taps) {
          store<f32>(dw + (<usize>((co + i) * taps + t + j) << 2), load<f32>(acc + (<usize>(((q - q0) * WCO + i) * WTAPS + j) << 2)));
        }
      }
    }
  }
}
