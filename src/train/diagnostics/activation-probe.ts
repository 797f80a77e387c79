// Activation statistics of one no-grad pass over the probe batch: a TapSink (src/nn/taps.ts) that
// turns every tap into a few reductions on the backend, concatenated into one tensor so that the
// whole pass is read once. Decoding on the host then turns the sums into RMS, mean, std and entropy.

import type { Module } from '../../nn/module.ts';
import type { TapSink } from '../../nn/taps.ts';
import { add, mul, scale } from '../../tensor/ops/elementwise.ts';
import { causalMask, splitHeads } from '../../tensor/ops/composed.ts';
import { concat, reshape, slice, transpose } from '../../tensor/ops/layout.ts';
import { matmul } from '../../tensor/ops/matmul.ts';
import { max, mean, sum, sumOfSquares } from '../../tensor/ops/reduce.ts';
import { logSoftmax, softmax } from '../../tensor/ops/softmax.ts';
import type { HostArray } from '../../backend/backend.ts';
import { stepScope } from '../../tensor/arena.ts';
import { keep as keepTensor, type Tensor } from '../../tensor/tensor.ts';
import type { ActivationStats, AttentionMap } from './records.ts';

/** Masked scores: finite, so that p·log p is 0·(−1e9) = 0 where p underflows to 0 (−∞ would give NaN). */
const MASKED = -1e9;

/** Reads values out of the one host array, in the order the taps asked for them. */
type Decoder = (values: HostArray, stats: ActivationStats, maps: AttentionMap[]) => void;

export class ActivationProbe implements TapSink {
  private readonly names = new Map<Module, string>();
  private readonly parts: Tensor[] = [];
  private offset = 0;
  private readonly decoders: Decoder[] = [];

  /** mapLength > 0: also keep the first sequence's attention maps, cut to that many tokens. */
  constructor(
    model: Module,
    private readonly mapLength = 0,
  ) {
    for (const [name, m] of model.namedModules()) this.names.set(m, name);
  }

  private nameOf(m: Module): string {
    return this.names.get(m) ?? m.constructor.name;
  }

  /**
   * Computes a tap's reductions in a scope of their own and queues them (see keep): the temporaries
   * behind them (a layer's T×T attention scores, probabilities and p·log p) are freed at once rather
   * than held, every layer's, until the probe's scope closes (a 5-step `resnorm train` of the large
   * config peaked at 1,804 MiB RSS before, 1,558 MiB after).
   */
  private reduced(fn: () => Tensor[]): number[] {
    return stepScope(() => fn().map((t) => this.keep(keepTensor(t))));
  }

  /** Queues a tensor's values for the one read; returns where they will start in it. */
  private keep(t: Tensor): number {
    const at = this.offset;
    this.parts.push(reshape(t, [t.size]));
    this.offset += t.size;
    return at;
  }

  norm(layer: Module, input: Tensor, output: Tensor, gain: Tensor | null): void {
    const name = this.nameOf(layer);
    const n = input.size;
    const [s, ss, os] = this.reduced(() => [sum(input), sumOfSquares(input), sumOfSquares(output)]);
    const g = gain ? this.reduced(() => [sum(gain), max(gain), max(scale(gain, -1))]) : null;
    this.decoders.push((v, stats) => {
      const m = v[s] / n;
      stats.norms.push({
        name,
        inMean: m,
        inStd: Math.sqrt(Math.max(0, v[ss] / n - m * m)),
        outRms: Math.sqrt(v[os] / output.size),
        gainMean: g ? v[g[0]] / gain!.size : null,
        gainMax: g ? v[g[1]] : null,
        gainMin: g ? -v[g[2]] : null,
      });
    });
  }

  residual(sublayer: Module, stream: Tensor, update: Tensor): void {
    const name = this.nameOf(sublayer);
    const block = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : '';
    const [xs, fs] = this.reduced(() => [sumOfSquares(stream), sumOfSquares(update)]);
    this.decoders.push((v, stats) => {
      const rmsIn = Math.sqrt(v[xs] / stream.size);
      const rmsUpdate = Math.sqrt(v[fs] / update.size);
      stats.sublayers.push({ name, block, rmsIn, rmsUpdate, ratio: rmsIn > 0 ? rmsUpdate / rmsIn : Number.POSITIVE_INFINITY });
    });
  }

  block(block: Module, input: Tensor, output: Tensor): void {
    const name = this.nameOf(block);
    const [a, b] = this.reduced(() => [sumOfSquares(input), sumOfSquares(output)]);
    this.decoders.push((v, stats) => stats.blocks.push({ name, rmsIn: Math.sqrt(v[a] / input.size), rmsOut: Math.sqrt(v[b] / output.size) }));
  }

  attention(layer: Module, qkv: Tensor, nHead: number, causal: boolean): void {
    const name = this.nameOf(layer);
    const [, T, C3] = qkv.shape;
    const C = C3 / 3;
    const D = C / nHead;
    const L = Math.min(this.mapLength, T);
    const [at, mapAt = -1] = this.reduced(() => {
      const heads = (i: number) => splitHeads(slice(qkv, 2, i * C, (i + 1) * C), nHead); // (B, H, T, D)
      let scores = scale(matmul(heads(0), transpose(heads(1), 2, 3)), 1 / Math.sqrt(D)); // (B, H, T, T)
      if (causal) scores = add(scores, causalMask(qkv, T, T, MASKED));
      const p = softmax(scores);
      const plogp = mul(p, logSoftmax(scores));
      // Entropy per head: −Σ_keys p log p, then the mean over sequences and queries.
      const entropy = scale(mean(sum(plogp, [3]), [0, 2]), -1);
      return L > 0 ? [entropy, slice(slice(slice(p, 0, 0, 1), 2, 0, L), 3, 0, L)] : [entropy];
    });
    this.decoders.push((v, stats, maps) => {
      stats.attention.push({ name, entropy: Array.from(v.subarray(at, at + nHead)) });
      if (mapAt < 0) return;
      const round = (x: number) => Math.round(x * 1e4) / 1e4;
      const map = Array.from({ length: nHead }, (_, h) =>
        Array.from({ length: L }, (_, t) => Array.from(v.subarray(mapAt + (h * L + t) * L, mapAt + (h * L + t) * L + t + 1), round)),
      );
      maps.push({ name, heads: map });
    });
  }

  /** Everything the taps asked for, as one tensor (call inside the probe's scope, after the forward). */
  collected(): Tensor {
    if (this.parts.length === 0) throw new Error('ActivationProbe: the model called no taps; is it built from resnorm.nn modules?');
    return concat(this.parts, 0);
  }

  /** Decodes the read values, in model order. */
  decode(values: HostArray): { stats: ActivationStats; maps: AttentionMap[] } {
    const stats: ActivationStats = { blocks: [], sublayers: [], norms: [], attention: [] };
    const maps: AttentionMap[] = [];
    for (const d of this.decoders) d(values, stats, maps);
    return { stats, maps };
  }
}
