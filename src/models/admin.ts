// Admin's initialisation (Liu et al. 2020): profile the untrained model once, then weight each
// sub-layer's stream by how much output variance has accumulated before it, so no branch dominates
// the post-add norm at the start. The paper writes ω_i = sqrt(Σ_{j<i} Var[f_j]) for streams of unit
// variance (each is a LayerNorm's output); dividing by the stream's measured variance keeps that
// meaning for the first sub-layer, whose stream is the raw embedding (Var ≈ 4e-4 at GPT-2's init). The profile is one no-grad pass with ω = 1, observed through the
// residual taps, which see each branch's output in the order the sub-layers run.

import type { Module } from '../nn/module.ts';
import type { TapSink } from '../nn/taps.ts';
import { withTaps } from '../nn/taps.ts';
import { noGrad } from '../tensor/autograd.ts';
import { mean, sumOfSquares } from '../tensor/ops/reduce.ts';
import { concat, reshape } from '../tensor/ops/layout.ts';
import { sub } from '../tensor/ops/elementwise.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { GPT } from './gpt.ts';

/** The profiled ω of each sub-layer, by parameter name (`h.{i}.omega_{k}`), one value per sub-layer. */
export type AdminProfile = Map<string, number>;

/**
 * Sets every ω = 1, runs `idx` (int32 (B, T)) through the model in eval mode, and sets
 * ω_i = sqrt((Var[x_0] + Σ_{j<i} Var[f_j]) / Var[x_{i−1}]) in all C entries of each `omega_k`
 * (docs/designs.md): the stream then weighs in sub-layer i's sum as the accumulated stream of a
 * pre-LN network would. Returns the values it set.
 */
export async function profileAdmin(model: GPT, idx: Tensor): Promise<AdminProfile> {
  if (model.config.residual !== 'admin') throw new Error(`profileAdmin: the model's residual is '${model.config.residual}', not 'admin'`);
  const store = model.store!;
  const omegas = store.entries.filter((e) => /^h\.\d+\.omega_\d$/.test(e.name));
  for (const e of omegas) store.backend.fill(store.backend.view(store.data, e.offset, e.size), 1);

  // Per sub-layer, in the order they run: Var[x_{i−1}] of the stream it reads, Var[f_i] of its output.
  const variances: Tensor[] = [];
  const sizes: number[] = [];
  const variance = (t: Tensor): Tensor => reshape(sumOfSquares(sub(t, mean(t))), [1]);
  const sink: TapSink = {
    norm: () => {},
    attention: () => {},
    block: () => {},
    residual: (_sublayer: Module, stream: Tensor, update: Tensor) => {
      variances.push(variance(stream), variance(update));
      sizes.push(stream.size, update.size);
    },
  };
  const wasTraining = model.training;
  model.eval();
  let values: Float64Array;
  try {
    const all = noGrad(() => withTaps(sink, () => {
      model.forward(idx);
      return concat(variances, 0);
    }));
    const host = await all.toArray();
    values = Float64Array.from(host, (v, i) => v / sizes[i]);
  } finally {
    model.train(wasTraining);
  }
  const expected = 2 * model.config.nLayer;
  if (values.length !== 2 * expected) throw new Error(`profileAdmin: saw ${values.length / 2} residual branches, expected ${expected}`);
  const profile: AdminProfile = new Map();
  let accumulated = values[0]; // Var[x_0]: the stream entering the first sub-layer
  for (let i = 0; i < expected; i++) {
    const name = `h.${Math.floor(i / 2)}.omega_${(i % 2) + 1}`;
    const e = omegas.find((o) => o.name === name);
    if (!e) throw new Error(`profileAdmin: the model has no parameter '${name}'`);
    const omega = Math.sqrt(accumulated / values[2 * i]);
    store.backend.fill(store.backend.view(store.data, e.offset, e.size), omega);
    profile.set(name, omega);
    accumulated += values[2 * i + 1];
  }
  return profile;
}
