// Why BatchNorm fits a language model badly (Shen et al. 2020, PowerNorm §3): its statistics are
// means and variances over a batch of a few sequences, and the positions of one sequence are far from
// independent samples. At every normalization layer's input (B, T, C) this measures, per channel:
// - the design effect T·Var_seq(μ_seq)/σ²: how much more the mean of one sequence of T positions
//   varies than the mean of T independent positions would (1 = as if independent);
// - how far batch statistics (over B sequences, the training batch) stray from the population's:
//   RMS of (μ_B − μ)/σ and of σ²_B/σ² − 1 over batches, the quantities of Shen et al.'s Fig. 2.
// Per-sequence sums are reduced on the backend (one read per batch); the rest is float64 on the host.

import type { Batch } from '../../data/corpus.ts';
import type { GPT } from '../../models/gpt.ts';
import type { Module } from '../../nn/module.ts';
import { withTaps, type TapSink } from '../../nn/taps.ts';
import { noGrad } from '../../tensor/autograd.ts';
import { readAfterScope } from '../../tensor/arena.ts';
import { mul } from '../../tensor/ops/elementwise.ts';
import { concat, reshape } from '../../tensor/ops/layout.ts';
import { mean } from '../../tensor/ops/reduce.ts';
import { tensor, type Tensor } from '../../tensor/tensor.ts';
import { median } from '../stats.ts';

/** Per-sequence first and second moments of one norm's input: m[b·C + c] = mean_t x, q[…] = mean_t x². */
export interface SequenceMoments {
  name: string;
  /** Positions per sequence. */
  T: number;
  C: number;
  m: Float64Array;
  q: Float64Array;
}

class MomentSink implements TapSink {
  readonly parts: Tensor[] = [];
  readonly layers: { name: string; T: number; C: number }[] = [];
  constructor(
    private readonly names: Map<Module, string>,
    private readonly C: number,
  ) {}
  norm(layer: Module, input: Tensor): void {
    // Only norms over the model width on the stream: not QK-norm's per-head vectors.
    if (input.shape[input.rank - 1] !== this.C || input.rank < 3) return;
    const [B] = input.shape;
    const C = this.C;
    const x = reshape(input, [B, input.size / (B * C), C]); // (B, T', C); hyper-connections' n streams count as positions
    this.parts.push(reshape(mean(x, [1]), [B * C]), reshape(mean(mul(x, x), [1]), [B * C]));
    this.layers.push({ name: this.names.get(layer) ?? layer.constructor.name, T: x.shape[1], C });
  }
  residual(): void {}
  block(): void {}
  attention(): void {}
}

/** Per-sequence moments at every norm input, over all the batches' sequences (in order). */
export async function sequenceMoments(model: GPT, batches: readonly Batch[], B: number, T: number): Promise<SequenceMoments[]> {
  const be = model.backend;
  const names = new Map(model.namedModules().map(([n, m]) => [m, n] as const));
  let out: SequenceMoments[] | null = null;
  const S = batches.length * B;
  await model.inEvalMode(async () => {
    for (const [k, { x }] of batches.entries()) {
      let layers: MomentSink['layers'] = [];
      const v = await readAfterScope(() =>
        noGrad(() => {
          const sink = new MomentSink(names, model.config.nEmbd);
          withTaps(sink, () => model.forward(tensor(x, [B, T], { backend: be, dtype: 'int32' })));
          layers = sink.layers;
          if (sink.parts.length === 0) throw new Error('batch statistics: the model has no normalization layer over its width');
          return concat(sink.parts, 0);
        }),
      );
      out ??= layers.map((l) => ({ ...l, m: new Float64Array(S * l.C), q: new Float64Array(S * l.C) }));
      let at = 0;
      for (const layer of out) {
        const n = B * layer.C;
        layer.m.set(v.subarray(at, at + n), k * n);
        layer.q.set(v.subarray(at + n, at + 2 * n), k * n);
        at += 2 * n;
      }
    }
  });
  return out ?? [];
}

export interface LayerSpread {
  name: string;
  /** Medians over channels. */
  designEffect: number;
  batchMeanDev: number;
  batchVarDev: number;
}

/** The spreads of one layer's moments, the sequences taken in batches of B consecutive ones. */
export function layerSpread(s: SequenceMoments, B: number): LayerSpread {
  const { C, T } = s;
  const S = s.m.length / C;
  const K = Math.floor(S / B);
  const design: number[] = [];
  const meanDev: number[] = [];
  const varDev: number[] = [];
  for (let c = 0; c < C; c++) {
    let mu = 0;
    let ex2 = 0;
    for (let b = 0; b < S; b++) {
      mu += s.m[b * C + c];
      ex2 += s.q[b * C + c];
    }
    mu /= S;
    ex2 /= S;
    const v = ex2 - mu * mu; // population variance over every position
    if (!(v > 1e-12)) continue; // a constant channel has no statistics to stray
    let vm = 0;
    for (let b = 0; b < S; b++) vm += (s.m[b * C + c] - mu) ** 2;
    design.push((T * (vm / S)) / v);
    let md = 0;
    let vd = 0;
    for (let k = 0; k < K; k++) {
      let bm = 0;
      let bq = 0;
      for (let b = k * B; b < (k + 1) * B; b++) {
        bm += s.m[b * C + c];
        bq += s.q[b * C + c];
      }
      bm /= B;
      bq /= B;
      md += ((bm - mu) / Math.sqrt(v)) ** 2;
      vd += ((bq - bm * bm) / v - 1) ** 2;
    }
    meanDev.push(Math.sqrt(md / K));
    varDev.push(Math.sqrt(vd / K));
  }
  return { name: s.name, designEffect: median(design), batchMeanDev: median(meanDev), batchVarDev: median(varDev) };
}

export interface BatchStats {
  layers: LayerSpread[];
  /** Medians over layers. */
  designEffect: number;
  batchMeanDev: number;
  batchVarDev: number;
  /** What batchMeanDev would be for B·T independent positions: 1/sqrt(B·T). */
  iidMeanDev: number;
}

export async function batchStatistics(model: GPT, batches: readonly Batch[], B: number, T: number): Promise<BatchStats> {
  const layers = (await sequenceMoments(model, batches, B, T)).map((s) => layerSpread(s, B));
  return {
    layers,
    designEffect: median(layers.map((l) => l.designEffect)),
    batchMeanDev: median(layers.map((l) => l.batchMeanDev)),
    batchVarDev: median(layers.map((l) => l.batchVarDev)),
    iidMeanDev: 1 / Math.sqrt(B * T),
  };
}
