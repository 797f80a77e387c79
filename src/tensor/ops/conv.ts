// 2-D convolution over NCHW tensors (dilation 1, groups 1), torch.nn.functional.conv2d's semantics.
// One fused kernel forward and one backward where the backend has them; otherwise composed from the
// core: im2col as a row gather (the embedding primitive) from the input's (B·H·W, Cin) rows plus one
// zero row that every padded tap reads, then one matmul; autograd's scatter-add of the gather is col2im.
// The window geometry and its gather indices are shared with pooling (pool.ts).

import type { Conv2dArgs, Window2d } from '../../backend/backend.ts';
import { record } from '../autograd.ts';
import { fmt, ShapeError } from '../shape.ts';
import { tensor, zeros, type Tensor } from '../tensor.ts';
import { allocOut, checkInputs } from './common.ts';
import { embedding } from './embedding.ts';
import { concat, permute, reshape } from './layout.ts';
import { linear } from './matmul.ts';

/** A size per spatial axis (H, W), or one for both. */
export type Pair = number | readonly [number, number];

export interface Conv2dOptions {
  /** Default 1. */
  stride?: Pair;
  /** Zeros added on each side of H and W; default 0. */
  padding?: Pair;
}

function pair(op: string, what: string, v: Pair, min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (p.length !== 2 || p.some((n) => !Number.isInteger(n) || n < min)) {
    throw new ShapeError(`${op}: ${what} must be an integer ≥ ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p;
}

/**
 * The output size of every window position, checked: Ho = ⌊(H + 2·padH − kH)/strideH⌋ + 1 ≥ 1.
 * Pooling passes padAtMostHalf (torch's rule: padding at most half the kernel, so no window is all padding).
 */
export function window2d(op: string, x: Tensor, kernel: Pair, stride: Pair, padding: Pair, padAtMostHalf = false): Window2d {
  if (x.rank !== 4) throw new ShapeError(`${op}: expected an input (B, C, H, W), got ${fmt(x.shape)}`);
  const [B, , H, W] = x.shape;
  const [kH, kW] = pair(op, 'kernel size', kernel, 1);
  const [strideH, strideW] = pair(op, 'stride', stride, 1);
  const [padH, padW] = pair(op, 'padding', padding, 0);
  if (padAtMostHalf && (2 * padH > kH || 2 * padW > kW)) {
    throw new ShapeError(`${op}: padding [${padH}, ${padW}] must be at most half the kernel [${kH}, ${kW}]`);
  }
  const Ho = Math.floor((H + 2 * padH - kH) / strideH) + 1;
  const Wo = Math.floor((W + 2 * padW - kW) / strideW) + 1;
  if (H + 2 * padH < kH || W + 2 * padW < kW) {
    throw new ShapeError(`${op}: the kernel [${kH}, ${kW}] is larger than the padded input [${H + 2 * padH}, ${W + 2 * padW}] of ${fmt(x.shape)}`);
  }
  return { B, H, W, kH, kW, strideH, strideW, padH, padW, Ho, Wo };
}

/**
 * Gather indices of every window tap: for plane p < planes, output (i, j) and tap (kh, kw), the row
 * p·H·W + h·W + w of the input, or planes·H·W (the padding row after the last) outside the plane.
 * (planes, Ho, Wo, kH, kW) int32.
 */
export function windowIds(like: Tensor, a: Window2d, planes: number): Tensor {
  const { H, W, kH, kW, strideH, strideW, padH, padW, Ho, Wo } = a;
  const ids = new Int32Array(planes * Ho * Wo * kH * kW);
  const pad = planes * H * W;
  let n = 0;
  for (let p = 0; p < planes; p++) {
    for (let i = 0; i < Ho; i++) {
      for (let j = 0; j < Wo; j++) {
        for (let kh = 0; kh < kH; kh++) {
          const h = i * strideH - padH + kh;
          for (let kw = 0; kw < kW; kw++) {
            const w = j * strideW - padW + kw;
            ids[n++] = h >= 0 && h < H && w >= 0 && w < W ? (p * H + h) * W + w : pad;
          }
        }
      }
    }
  }
  return tensor(ids, [planes, Ho, Wo, kH, kW], { backend: like.backend, dtype: 'int32' });
}

/** x (B, Cin, H, W) ∗ weight (Cout, Cin, kH, kW) + bias (Cout) → (B, Cout, Ho, Wo). */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  checkInputs('conv2d', x, weight, ...(bias ? [bias] : []));
  if (weight.rank !== 4) throw new ShapeError(`conv2d: weight must be (Cout, Cin, kH, kW), got ${fmt(weight.shape)}`);
  const [Cout, Cin, kH, kW] = weight.shape;
  if (x.rank !== 4 || x.shape[1] !== Cin) {
    throw new ShapeError(`conv2d: input ${fmt(x.shape)} does not match weight ${fmt(weight.shape)}; expected (B, ${Cin}, H, W)`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== Cout)) {
    throw new ShapeError(`conv2d: bias ${fmt(bias.shape)} does not match weight ${fmt(weight.shape)}; expected [${Cout}]`);
  }
  const a: Conv2dArgs = { ...window2d('conv2d', x, [kH, kW], opts.stride ?? 1, opts.padding ?? 0), Cin, Cout };
  const be = x.backend;
  if (!be.conv2dForward || !be.conv2dBackward) return conv2dComposed(x, weight, bias, a);
  const out = allocOut(x, [a.B, Cout, a.Ho, a.Wo]);
  be.conv2dForward(x.storage, weight.storage, bias?.storage ?? null, out.storage, a);
  return record(out, 'conv2d', bias ? [x, weight, bias] : [x, weight], (g) => {
    const dx = x.requiresGrad ? allocOut(x, x.shape) : null;
    const dw = weight.requiresGrad ? allocOut(weight, weight.shape) : null;
    const db = bias?.requiresGrad ? allocOut(bias, bias.shape) : null;
    be.conv2dBackward!(g.storage, x.storage, weight.storage, dx?.storage ?? null, dw?.storage ?? null, db?.storage ?? null, a);
    return [dx, dw, db];
  });
}

/** The composition from the core: gather the windows as rows of (kH·kW·Cin), then one linear layer. */
function conv2dComposed(x: Tensor, weight: Tensor, bias: Tensor | null, a: Conv2dArgs): Tensor {
  const { B, H, W, kH, kW, Ho, Wo, Cin, Cout } = a;
  const rows = reshape(permute(x, [0, 2, 3, 1]), [B * H * W, Cin]); // (B·H·W, Cin)
  const table = concat([rows, zeros([1, Cin], { backend: x.backend, dtype: x.dtype })], 0); // + the padding row
  const cols = reshape(embedding(table, windowIds(x, a, B)), [B * Ho * Wo, kH * kW * Cin]); // im2col
  const w2 = reshape(permute(weight, [0, 2, 3, 1]), [Cout, kH * kW * Cin]); // taps in the columns' order
  const y = linear(cols, w2, bias); // (B·Ho·Wo, Cout)
  return permute(reshape(y, [B, Ho, Wo, Cout]), [0, 3, 1, 2]);
}
