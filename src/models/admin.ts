// Admin's initialisation (Liu et al. 2020): profile the untrained model once, then weight each
// sub-layer's stream by how much output variance has accumulated before it, so no branch dominates
// the post-add norm at the start. The profile is one no-grad pass with ω = 1, observed through the
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
 * ω_i = sqrt(Var[x_0] + Σ_{j<i} Var[f_j]) in all C entries of each `omega_k` (docs/designs.md).
 * Returns the values it set.
 */
export async function profileAdmin(model: GPT, idx: Tensor): Promise<AdminProfile> {
  if (model.config.residual !== 'admin') throw new Error(`profileAdmin: the model's residual is '${model.config.residual}', not 'admin'`);
  const store = model.store!;
  const omegas = store.entries.filter((e) => /^h\.\d+\.omega_\d$/.test(e.name));
  for (const e of omegas) store.backend.fill(store.backend.view(store.data, e.offset, e.size), 1);

  const variances: Tensor[] = []; // [Var x_0, Var f_1, Var f_2, …]
  const variance = (t: Tensor): Tensor => {
    const centred = sub(t, mean(t));
    return reshape(sumOfSquares(centred), [1]);
  };
  const sizes: number[] = [];
  let first = true;
  const sink: TapSink = {
    norm: () => {},
    attention: () => {},
    block: () => {},
    residual: (_sublayer: Module, stream: Tensor, update: Tensor) => {
      if (first) {
        variances.push(variance(stream));
        sizes.push(stream.size);
        first = false;
      }
      variances.push(variance(update));
      sizes.push(update.size);
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
  if (values.length !== expected + 1) throw new Error(`profileAdmin: saw ${values.length - 1} residual branches, expected ${expected}`);
  const profile: AdminProfile = new Map();
  let accumulated = values[0];
  for (let i = 0; i < expected; i++) {
    const name = `h.${Math.floor(i / 2)}.omega_${(i % 2) + 1}`;
    const e = omegas.find((o) => o.name === name);
    if (!e) throw new Error(`profileAdmin: the model has no parameter '${name}'`);
    const omega = Math.sqrt(accumulated);
    store.backend.fill(store.backend.view(store.data, e.offset, e.size), omega);
    profile.set(name, omega);
    accumulated += values[i + 1];
  }
  return profile;
}
