// Admin's initialisation (Liu et al. 2020): profile the untrained model once, then weight each
// sub-layer's stream by how much output variance has accumulated before it in its stack, so no branch
// dominates the post-add norm at the start. The paper writes ω_i = sqrt(Σ_{j<i} Var[f_j]) for streams of unit
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
import type { Seq2Seq } from './seq2seq.ts';

/** The profiled ω of each sub-layer, by parameter name (`h.{i}.omega_{k}`), one value per sub-layer. */
export type AdminProfile = Map<string, number>;

/**
 * One stack of residual layers as the profile sees it: parameters `${prefix}.{i}.omega_{k}` for
 * layers i < layers and sub-layers k = 1 … sublayers. The stacks run one after the other in one pass.
 */
export interface AdminStack {
  prefix: string;
  layers: number;
  sublayers: number;
}

/**
 * Sets every ω = 1, runs `idx` (int32 (B, T)) through the model in eval mode, and sets
 * ω_i = sqrt((Var[x_0] + Σ_{j<i} Var[f_j]) / Var[x_{i−1}]) in all C entries of each `omega_k`
 * (docs/designs.md): the stream then weighs in sub-layer i's sum as the accumulated stream of a
 * pre-LN network would. Returns the values it set.
 */
export async function profileAdmin(model: GPT, idx: Tensor): Promise<AdminProfile> {
  if (model.config.residual !== 'admin') throw new Error(`profileAdmin: the model's residual is '${model.config.residual}', not 'admin'`);
  return profileAdminStacks(model, [{ prefix: 'h', layers: model.config.nLayer, sublayers: 2 }], () => model.forward(idx));
}

/**
 * The encoder-decoder's profile: one teacher-forced pass on src int32 (B, S), srcMask float (B, S),
 * tgtIn int32 (B, T); the encoder's 2N sub-layers, then the decoder's 3M (self-attention,
 * cross-attention, feed-forward), each stack accumulating from its own embedding.
 */
export async function profileSeq2SeqAdmin(model: Seq2Seq, src: Tensor, srcMask: Tensor, tgtIn: Tensor): Promise<AdminProfile> {
  const c = model.config;
  if (c.residual !== 'admin') throw new Error(`profileSeq2SeqAdmin: the model's residual is '${c.residual}', not 'admin'`);
  const stacks = [
    { prefix: 'encoder.h', layers: c.encoderLayers, sublayers: 2 },
    { prefix: 'decoder.h', layers: c.decoderLayers, sublayers: 3 },
  ];
  return profileAdminStacks(model, stacks, () => model.forward(src, srcMask, tgtIn));
}

/**
 * Admin's profile of any model made of residual stacks (the GPT's one, the encoder-decoder's two):
 * `run` is one forward pass, in which the stacks' sub-layers run in the order listed. Each stack
 * restarts the accumulation: its x_0 is the stream entering its own first sub-layer (the encoder's
 * the source embedding, the decoder's the target embedding).
 */
export async function profileAdminStacks(model: Module, stacks: readonly AdminStack[], run: () => void): Promise<AdminProfile> {
  const store = model.store!;
  const omegas = store.entries.filter((e) => /(^|\.)h\.\d+\.omega_\d$/.test(e.name));
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
  const values = await model.inEvalMode(async () => {
    const all = noGrad(() => withTaps(sink, () => {
      run();
      return concat(variances, 0);
    }));
    const host = await all.toArray();
    return Float64Array.from(host, (v, i) => v / sizes[i]);
  });
  const expected = stacks.reduce((n, s) => n + s.layers * s.sublayers, 0);
  if (values.length !== 2 * expected) throw new Error(`profileAdmin: saw ${values.length / 2} residual branches, expected ${expected}`);
  const profile: AdminProfile = new Map();
  let i = 0; // the sub-layer's index in the whole pass
  for (const stack of stacks) {
    let accumulated = values[2 * i]; // Var[x_0]: the stream entering the stack's first sub-layer
    for (let j = 0; j < stack.layers * stack.sublayers; j++, i++) {
      const name = `${stack.prefix}.${Math.floor(j / stack.sublayers)}.omega_${(j % stack.sublayers) + 1}`;
      const e = omegas.find((o) => o.name === name);
      if (!e) throw new Error(`profileAdmin: the model has no parameter '${name}'`);
      const omega = Math.sqrt(accumulated / values[2 * i]);
      store.backend.fill(store.backend.view(store.data, e.offset, e.size), omega);
      profile.set(name, omega);
      accumulated += values[2 * i + 1];
    }
  }
  return profile;
}
