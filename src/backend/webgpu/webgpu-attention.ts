// The WebGPU backend's fused attention (forward, backward, inference) over strided (B, H, T, D) views,
// flash-style: the launches of wgsl-attention.ts, which never hold a Tq × Tk matrix. The op front-end
// calls these for attention, packedAttention, crossAttention and cachedAttention; every other layer
// comes from webgpu-core.ts and webgpu-backend.ts.

import type { AttentionKeys, HeadLayout, Storage } from '../backend.ts';
import { attentionExtents, attentionInferenceExtents } from '../kernel-shapes.ts';
import { grid2d, GpuStorage, Params, WebGpuCore } from './webgpu-core.ts';
import { WG } from './wgsl.ts';
import { ATTENTION_MAX_D, attentionBackwardKeyWgsl, attentionBackwardQueryWgsl, attentionForwardWgsl, attentionRowsWgsl } from './wgsl-attention.ts';

/** What one attention launch reads: sizes, and every operand's offset and strides (wgsl-attention.ts's parameter block). */
interface Geometry {
  B: number;
  H: number;
  Tq: number;
  Tk: number;
  D: number;
  scale: number;
  causal: boolean;
  q: GpuStorage;
  qL: HeadLayout;
  k: GpuStorage;
  v: GpuStorage;
  kvL: HeadLayout;
  o: GpuStorage;
  oL: HeadLayout;
  lse: GpuStorage | null;
  mask: GpuStorage | null;
  dq?: GpuStorage;
  gL?: HeadLayout;
  dk?: GpuStorage;
  dv?: GpuStorage;
  dkvL?: HeadLayout;
}

const layout = (l: HeadLayout | undefined): number[] => (l ? [l.batch, l.head, l.row] : [0, 0, 0]);

function params(g: Geometry, tiles: number): Params {
  return new Params()
    .u(g.B, g.H, g.Tq, g.Tk, +g.causal, tiles).f(g.scale)
    .u(g.q.offset, ...layout(g.qL), g.k.offset, g.v.offset, ...layout(g.kvL))
    .u(g.o.offset, ...layout(g.oL), g.lse?.offset ?? 0, g.mask?.offset ?? 0, 0)
    .u(g.dq?.offset ?? 0, ...layout(g.gL), g.dk?.offset ?? 0, g.dv?.offset ?? 0, ...layout(g.dkvL), g.D, g.B * g.H * g.Tq);
}

export class WebGpuAttention extends WebGpuCore {
  /** The storage, refusing one shorter than the `need` elements its layout spans. */
  private span(s: Storage, need: number, what: string): GpuStorage {
    const g = this.st(s, what);
    if (g.length < need) throw new Error(`${what}: its layout spans ${need} elements, but the buffer holds ${g.length}`);
    return g;
  }

  private checkD(op: string, D: number): void {
    if (!(D >= 1 && D <= ATTENTION_MAX_D)) throw new Error(`${op}: the WebGPU attention kernels take head sizes 1 ≤ D ≤ ${ATTENTION_MAX_D}, got D = ${D}; use fewer, wider heads or the wasm backend`);
  }

  /** A workgroup per (b, h) and 64 rows of `rows`. */
  private perHead(label: string, src: string, g: Geometry, rows: number, reads: GpuStorage[], writes: GpuStorage[]): void {
    const tiles = Math.ceil(rows / WG);
    if (g.B * g.H * tiles === 0) return;
    this.dispatch(label, src, grid2d(g.B * g.H * tiles), params(g, tiles), reads, writes);
  }

  private forward(label: string, g: Geometry): void {
    if (g.B * g.H * g.Tq === 0) return;
    this.checkD(label, g.D);
    const reads = [g.q, g.k, g.v, ...(g.mask ? [g.mask] : [])];
    this.perHead(label, attentionForwardWgsl(g.D, g.mask !== null, g.lse !== null), g, g.Tq, reads, [g.o, ...(g.lse ? [g.lse] : [])]);
  }

  attentionForward(q: Storage, k: Storage, v: Storage, inLayout: HeadLayout, out: Storage, outLayout: HeadLayout, lse: Storage,
    B: number, H: number, T: number, D: number, scale: number, causal: boolean, keys?: AttentionKeys): void {
    const need = attentionExtents('attentionForward', inLayout, outLayout, null, B, H, T, D, keys);
    this.forward('attentionForward', {
      B, H, Tq: T, Tk: keys?.Tk ?? T, D, scale, causal,
      q: this.span(q, need.qkv, 'q'), qL: inLayout, k: this.span(k, need.kv, 'k'), v: this.span(v, need.kv, 'v'), kvL: keys?.kvLayout ?? inLayout,
      o: this.span(out, need.out, 'out'), oL: outLayout, lse: this.span(lse, need.lse, 'lse'),
      mask: keys?.keyMask ? this.span(keys.keyMask, need.mask, 'keyMask') : null,
    });
  }

  attentionInference(q: Storage, qLayout: HeadLayout, k: Storage, v: Storage, kvLayout: HeadLayout, out: Storage, outLayout: HeadLayout,
    B: number, H: number, Tq: number, Tk: number, D: number, scale: number, causal: boolean): void {
    const need = attentionInferenceExtents(qLayout, kvLayout, outLayout, B, H, Tq, Tk, D);
    this.forward('attentionInference', {
      B, H, Tq, Tk, D, scale, causal, q: this.span(q, need.q, 'q'), qL: qLayout, k: this.span(k, need.kv, 'k'), v: this.span(v, need.kv, 'v'),
      kvL: kvLayout, o: this.span(out, need.out, 'out'), oL: outLayout, lse: null, mask: null,
    });
  }

  attentionBackward(q: Storage, k: Storage, v: Storage, inLayout: HeadLayout, out: Storage, dout: Storage, outLayout: HeadLayout, lse: Storage,
    dq: Storage, dk: Storage, dv: Storage, gradLayout: HeadLayout, B: number, H: number, T: number, D: number, scale: number, causal: boolean,
    keys?: AttentionKeys): void {
    const need = attentionExtents('attentionBackward', inLayout, outLayout, gradLayout, B, H, T, D, keys);
    const Tk = keys?.Tk ?? T;
    if (B * H === 0 || (T === 0 && Tk === 0)) return;
    this.checkD('attentionBackward', D);
    const g: Geometry = {
      B, H, Tq: T, Tk, D, scale, causal,
      q: this.span(q, need.qkv, 'q'), qL: inLayout, k: this.span(k, need.kv, 'k'), v: this.span(v, need.kv, 'v'), kvL: keys?.kvLayout ?? inLayout,
      o: this.span(out, need.out, 'out'), oL: outLayout, lse: this.span(lse, need.lse, 'lse'),
      mask: keys?.keyMask ? this.span(keys.keyMask, need.mask, 'keyMask') : null,
      dq: this.span(dq, need.grad, 'dq'), gL: gradLayout, dk: this.span(dk, need.dkv, 'dk'), dv: this.span(dv, need.dkv, 'dv'),
      dkvL: keys ? (keys.dkvLayout ?? keys.kvLayout) : gradLayout,
    };
    const G = this.span(dout, need.out, 'dout');
    // Δ = rowsum(dO∘O) first, beside lse and the key mask in one row buffer that dq's and dk, dv's launches read.
    const n = B * H * T;
    const rows = this.scratch('float32', Math.max(1, 2 * n + (g.mask ? B * Tk : 0)));
    const cover = Math.max(n, g.mask ? B * Tk : 0);
    if (cover > 0) {
      this.dispatch('attentionRows', attentionRowsWgsl(g.mask !== null), grid2d(Math.ceil(cover / WG)), params(g, 0), [g.o, G, g.lse!, ...(g.mask ? [g.mask] : [])], [rows]);
    }
    const reads = [g.q, g.k, g.v, G, rows];
    this.perHead('attentionBackwardQuery', attentionBackwardQueryWgsl(D, g.mask !== null), g, T, reads, [g.dq!]);
    const shared = g.dk!.buffer === g.dv!.buffer;
    this.perHead('attentionBackwardKey', attentionBackwardKeyWgsl(D, g.mask !== null, shared), g, Tk, reads, shared ? [g.dk!] : [g.dk!, g.dv!]);
  }
}
