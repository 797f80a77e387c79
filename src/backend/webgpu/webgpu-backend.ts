// The WebGPU backend: the required core (webgpu-core.ts), fused attention (webgpu-attention.ts), and the
// fused kernels of wgsl-fused.ts (LayerNorm, RMSNorm, softmax, log-softmax and cross-entropy, forward
// and backward, AdamW over the flat parameter buffer, dropout), of wgsl-batchnorm.ts (BatchNorm with the
// batch's statistics, forward and backward) and of wgsl-conv.ts (convolution, max and average pooling,
// forward and backward). The op front-end uses each one it finds and composes the rest from the core,
// as for any backend.

import type { AdamWArgs, Conv2dArgs, Pool2dArgs, Storage, Window2d } from '../backend.ts';
import { mixSeed } from '../counter-hash.ts';
import { grid2d, GpuStorage, Params } from './webgpu-core.ts';
import { WebGpuAttention } from './webgpu-attention.ts';
import { WG } from './wgsl.ts';
import {
  adamwWgsl, crossEntropyBackwardWgsl, dropoutWgsl, crossEntropyMeanWgsl, crossEntropyRowsWgsl, layerNormBackwardRowsWgsl, layerNormForwardWgsl,
  normChannelsWgsl, rmsNormBackwardRowsWgsl, rmsNormForwardWgsl, rowMeanWgsl, softmaxBackwardWgsl, softmaxForwardWgsl,
} from './wgsl-fused.ts';
import { batchNormBackwardWgsl, batchNormForwardWgsl } from './wgsl-batchnorm.ts';
import {
  avgPool2dBackwardWgsl, avgPool2dForwardWgsl, conv2dBackwardDataWgsl, conv2dBackwardParamsWgsl, conv2dForwardWgsl, maxPool2dBackwardWgsl,
  maxPool2dForwardWgsl,
} from './wgsl-conv.ts';

/** wgsl-conv.ts's parameter words 0–12 (C is Cin for a convolution, the planes' channels for a pooling), then `offsets`. */
function windowParams(a: Window2d, C: number, Cout: number, offsets: number[]): Params {
  return new Params().u(a.B, C, a.H, a.W, Cout, a.kH, a.kW, a.strideH, a.strideW, a.padH, a.padW, a.Ho, a.Wo, ...offsets);
}

export class WebGpuBackend extends WebGpuAttention {
  /** A 16-byte buffer bound where an optional operand (γ, β) is absent; never read. */
  private dummy: GpuStorage | null = null;

  private optional(s: Storage | null, what: string): { s: GpuStorage; has: number } {
    if (s) return { s: this.st(s, what), has: 1 };
    this.dummy ??= this.st(this.alloc('float32', 4), 'dummy');
    return { s: this.dummy, has: 0 };
  }

  /** One workgroup per row. */
  private rows(label: string, src: string, rows: number, p: Params, reads: GpuStorage[], writes: GpuStorage[], errors = false): void {
    if (rows > 0) this.dispatch(label, src, grid2d(rows), p, reads, writes, errors);
  }

  /** A per-channel sum over the rows (normChannelsWgsl): kind 0 Σ dy, 1 Σ dy·(x − μ)·s, 2 Σ dy·x·ρ. */
  private channels(kind: number, dy: GpuStorage, x: GpuStorage, stat: GpuStorage, mean: GpuStorage, out: GpuStorage, rows: number, C: number): void {
    const p = new Params().u(rows, C, dy.offset, x.offset, stat.offset, out.offset, kind, mean.offset);
    this.dispatch('normChannels', normChannelsWgsl(), [Math.ceil(C / WG), 1, 1], p, [dy, x, stat, mean], [out]);
  }

  layerNormForward(x: Storage, w: Storage | null, b: Storage | null, out: Storage, mean: Storage, rstd: Storage, rows: number, C: number, eps: number): void {
    const [X, O, M, S] = [this.st(x, 'x'), this.st(out, 'out'), this.st(mean, 'mean'), this.st(rstd, 'rstd')];
    const W = this.optional(w, 'weight');
    const B = this.optional(b, 'bias');
    const p = new Params().u(rows, C, X.offset, W.s.offset, B.s.offset, O.offset, M.offset, S.offset, W.has, B.has).f(eps);
    this.rows('layerNormForward', layerNormForwardWgsl(), rows, p, [X, W.s, B.s], [O, M, S]);
  }

  layerNormBackward(dy: Storage, x: Storage, w: Storage | null, _mean: Storage, rstd: Storage, dx: Storage, dw: Storage | null, db: Storage | null,
    rows: number, C: number): void {
    const [D, X, S, O] = [this.st(dy, 'dy'), this.st(x, 'x'), this.st(rstd, 'rstd'), this.st(dx, 'dx')];
    const W = this.optional(w, 'weight');
    this.rows('layerNormBackward', layerNormBackwardRowsWgsl(), rows, new Params().u(rows, C, D.offset, X.offset, W.s.offset, S.offset, O.offset, W.has), [D, X, W.s, S], [O]);
    if (dw) {
      // μ as the row kernel computes it (the reference recomputes it too, rather than read the saved one).
      const mu = this.scratch('float32', 2 * rows);
      this.rows('rowMean', rowMeanWgsl(), rows, new Params().u(rows, C, X.offset), [X], [mu]);
      this.channels(1, D, X, S, mu, this.st(dw, 'dweight'), rows, C);
    }
    if (db) this.channels(0, D, X, S, S, this.st(db, 'dbias'), rows, C);
  }

  rmsNormForward(x: Storage, w: Storage | null, out: Storage, rrms: Storage, rows: number, C: number, eps: number): void {
    const [X, O, R] = [this.st(x, 'x'), this.st(out, 'out'), this.st(rrms, 'rrms')];
    const W = this.optional(w, 'weight');
    this.rows('rmsNormForward', rmsNormForwardWgsl(), rows, new Params().u(rows, C, X.offset, W.s.offset, O.offset, R.offset, W.has).f(eps), [X, W.s], [O, R]);
  }

  rmsNormBackward(dy: Storage, x: Storage, w: Storage | null, rrms: Storage, dx: Storage, dw: Storage | null, rows: number, C: number): void {
    const [D, X, R, O] = [this.st(dy, 'dy'), this.st(x, 'x'), this.st(rrms, 'rrms'), this.st(dx, 'dx')];
    const W = this.optional(w, 'weight');
    this.rows('rmsNormBackward', rmsNormBackwardRowsWgsl(), rows, new Params().u(rows, C, D.offset, X.offset, W.s.offset, R.offset, O.offset, W.has), [D, X, W.s, R], [O]);
    if (dw) this.channels(2, D, X, R, R, this.st(dw, 'dweight'), rows, C);
  }

  batchNormForward(x: Storage, w: Storage | null, b: Storage | null, out: Storage, mean: Storage, variance: Storage, rstd: Storage,
    outer: number, C: number, inner: number, eps: number): void {
    const [X, O, M, V, S] = [this.st(x, 'x'), this.st(out, 'out'), this.st(mean, 'mean'), this.st(variance, 'variance'), this.st(rstd, 'rstd')];
    const W = this.optional(w, 'weight');
    const B = this.optional(b, 'bias');
    const p = new Params().u(outer, C, inner, X.offset, W.s.offset, B.s.offset, O.offset, M.offset, V.offset, S.offset, W.has, B.has).f(eps);
    // A workgroup per channel, as rows() gives one per row.
    this.rows('batchNormForward', batchNormForwardWgsl(), C, p, [X, W.s, B.s], [O, M, V, S]);
  }

  batchNormBackward(dy: Storage, x: Storage, w: Storage | null, _mean: Storage, rstd: Storage, dx: Storage, dw: Storage | null, db: Storage | null,
    outer: number, C: number, inner: number): void {
    const [D, X, S, O] = [this.st(dy, 'dy'), this.st(x, 'x'), this.st(rstd, 'rstd'), this.st(dx, 'dx')];
    const W = this.optional(w, 'weight');
    const DW = dw ? this.st(dw, 'dweight') : null;
    const DB = db ? this.st(db, 'dbias') : null;
    const p = new Params().u(outer, C, inner, D.offset, X.offset, W.s.offset, S.offset, O.offset, DW?.offset ?? 0, DB?.offset ?? 0, W.has);
    const writes = [O, ...(DW ? [DW] : []), ...(DB ? [DB] : [])];
    this.rows('batchNormBackward', batchNormBackwardWgsl(DW !== null, DB !== null), C, p, [D, X, W.s, S], writes);
  }

  private softmaxRows(log: number, x: Storage, out: Storage, rows: number, C: number): void {
    const [X, O] = [this.st(x, 'x'), this.st(out, 'out')];
    this.rows(log ? 'logSoftmaxForward' : 'softmaxForward', softmaxForwardWgsl(), rows, new Params().u(rows, C, X.offset, O.offset, log), [X], [O]);
  }

  private softmaxGrad(log: number, y: Storage, dy: Storage, dx: Storage, rows: number, C: number): void {
    const [Y, D, O] = [this.st(y, 'y'), this.st(dy, 'dy'), this.st(dx, 'dx')];
    this.rows(log ? 'logSoftmaxBackward' : 'softmaxBackward', softmaxBackwardWgsl(), rows, new Params().u(rows, C, Y.offset, D.offset, O.offset, log), [Y, D], [O]);
  }

  softmaxForward(x: Storage, out: Storage, rows: number, C: number): void {
    this.softmaxRows(0, x, out, rows, C);
  }

  softmaxBackward(y: Storage, dy: Storage, dx: Storage, rows: number, C: number): void {
    this.softmaxGrad(0, y, dy, dx, rows, C);
  }

  logSoftmaxForward(x: Storage, out: Storage, rows: number, C: number): void {
    this.softmaxRows(1, x, out, rows, C);
  }

  logSoftmaxBackward(y: Storage, dy: Storage, dx: Storage, rows: number, C: number): void {
    this.softmaxGrad(1, y, dy, dx, rows, C);
  }

  crossEntropyForward(logits: Storage, targets: Storage, loss: Storage, lse: Storage, rows: number, V: number, ignoreIndex: number): void {
    const [Z, T, O, L] = [this.st(logits, 'logits'), this.st(targets, 'targets'), this.st(loss, 'loss'), this.st(lse, 'lse')];
    const terms = this.scratch('float32', rows);
    this.rows('crossEntropyForward', crossEntropyRowsWgsl(), rows, new Params().u(rows, V, Z.offset, T.offset, L.offset, 0, ignoreIndex), [Z, T], [L, terms], true);
    this.dispatch('crossEntropyMean', crossEntropyMeanWgsl(), [1, 1, 1], new Params().u(rows, T.offset, O.offset, ignoreIndex), [T, terms], [O]);
  }

  crossEntropyBackward(logits: Storage, targets: Storage, lse: Storage, dloss: Storage, dlogits: Storage, rows: number, V: number, ignoreIndex: number): void {
    const [Z, T, L, G, O] = [this.st(logits, 'logits'), this.st(targets, 'targets'), this.st(lse, 'lse'), this.st(dloss, 'dloss'), this.st(dlogits, 'dlogits')];
    const p = new Params().u(rows, V, Z.offset, T.offset, L.offset, G.offset, O.offset, ignoreIndex);
    this.rows('crossEntropyBackward', crossEntropyBackwardWgsl(), rows, p, [Z, T, L, G], [O]);
  }

  adamw(param: Storage, grad: Storage, m: Storage, v: Storage, a: AdamWArgs): void {
    const [W, G, M, V] = [this.st(param, 'param'), this.st(grad, 'grad'), this.st(m, 'm'), this.st(v, 'v')];
    const n = W.length;
    const p = new Params().u(n, W.offset, G.offset, M.offset, V.offset).f(a.lr).f(a.beta1).f(a.beta2).f(a.eps).f(a.weightDecay).f(a.biasCorrection1).f(a.biasCorrection2);
    if (n > 0) this.dispatch('adamw', adamwWgsl(), grid2d(Math.ceil(n / WG)), p, [G], [W, M, V]);
  }

  dropoutForward(x: Storage, out: Storage, mask: Storage, p: number, seed: number): void {
    if (!(p >= 0 && p <= 1)) throw new Error(`Dropout probability must lie in [0, 1], got ${p}.`);
    const [X, O, M] = [this.st(x, 'x'), this.st(out, 'out'), this.st(mask, 'mask')];
    this.refuseCapture('dropout draws a fresh mask every step, and a replay would repeat this one');
    const n = O.length;
    // k/2²⁴ ≥ p ⇔ k ≥ ⌈p·2²⁴⌉ for the integer k: p·2²⁴ is exact in float64.
    const prm = new Params().u(n, X.offset, O.offset, M.offset, Math.ceil(p * 16777216), mixSeed(seed >>> 0)).f(p === 1 ? 0 : 1 / (1 - p));
    if (n > 0) this.dispatch('dropoutForward', dropoutWgsl(), grid2d(Math.ceil(n / WG)), prm, [X], [O, M]);
  }

  /** One invocation per element of a window kernel's output (n of them). */
  private each(label: string, src: string, n: number, p: Params, reads: GpuStorage[], writes: GpuStorage[]): void {
    if (n > 0) this.dispatch(label, src, grid2d(Math.ceil(n / WG)), p, reads, writes);
  }

  conv2dForward(x: Storage, w: Storage, bias: Storage | null, out: Storage, a: Conv2dArgs): void {
    const [X, K, O] = [this.st(x, 'x'), this.st(w, 'weight'), this.st(out, 'out')];
    const Bs = bias ? this.st(bias, 'bias') : null;
    const p = windowParams(a, a.Cin, a.Cout, [X.offset, K.offset, Bs?.offset ?? 0, O.offset]);
    this.each('conv2dForward', conv2dForwardWgsl(Bs !== null), a.B * a.Cout * a.Ho * a.Wo, p, Bs ? [X, K, Bs] : [X, K], [O]);
  }

  conv2dBackward(dy: Storage, x: Storage, w: Storage, dx: Storage | null, dw: Storage | null, dbias: Storage | null, a: Conv2dArgs): void {
    const [G, X, K] = [this.st(dy, 'dy'), this.st(x, 'x'), this.st(w, 'weight')];
    if (dx) {
      const O = this.st(dx, 'dx');
      this.each('conv2dBackwardData', conv2dBackwardDataWgsl(), a.B * a.Cin * a.H * a.W, windowParams(a, a.Cin, a.Cout, [G.offset, K.offset, O.offset]), [G, K], [O]);
    }
    // A workgroup per weight (or bias) element, its sum over the batch's windows as a fixed tree.
    const params = (weight: boolean, out: Storage, n: number, what: string) => {
      const O = this.st(out, what);
      if (n > 0) this.dispatch(what, conv2dBackwardParamsWgsl(weight), grid2d(n), windowParams(a, a.Cin, a.Cout, [G.offset, X.offset, O.offset]), weight ? [G, X] : [G], [O]);
    };
    if (dw) params(true, dw, a.Cout * a.Cin * a.kH * a.kW, 'conv2dBackwardWeight');
    if (dbias) params(false, dbias, a.Cout, 'conv2dBackwardBias');
  }

  maxPool2dForward(x: Storage, out: Storage, argmax: Storage, a: Pool2dArgs): void {
    const [X, O, A] = [this.st(x, 'x'), this.st(out, 'out'), this.st(argmax, 'argmax')];
    this.each('maxPool2dForward', maxPool2dForwardWgsl(), a.B * a.C * a.Ho * a.Wo, windowParams(a, a.C, a.C, [X.offset, O.offset, A.offset]), [X], [O, A]);
  }

  maxPool2dBackward(dy: Storage, argmax: Storage, dx: Storage, a: Pool2dArgs): void {
    const [G, A, O] = [this.st(dy, 'dy'), this.st(argmax, 'argmax'), this.st(dx, 'dx')];
    this.each('maxPool2dBackward', maxPool2dBackwardWgsl(), a.B * a.C * a.H * a.W, windowParams(a, a.C, a.C, [G.offset, A.offset, O.offset]), [G, A], [O]);
  }

  avgPool2dForward(x: Storage, out: Storage, a: Pool2dArgs): void {
    const [X, O] = [this.st(x, 'x'), this.st(out, 'out')];
    this.each('avgPool2dForward', avgPool2dForwardWgsl(), a.B * a.C * a.Ho * a.Wo, windowParams(a, a.C, a.C, [X.offset, O.offset]), [X], [O]);
  }

  avgPool2dBackward(dy: Storage, dx: Storage, a: Pool2dArgs): void {
    const [G, O] = [this.st(dy, 'dy'), this.st(dx, 'dx')];
    this.each('avgPool2dBackward', avgPool2dBackwardWgsl(), a.B * a.C * a.H * a.W, windowParams(a, a.C, a.C, [G.offset, O.offset]), [G], [O]);
  }
}
