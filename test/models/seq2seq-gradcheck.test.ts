// Finite-difference gradient check of the whole tiny encoder-decoder, in float64 on the reference
// backend, for a design of each family: for a few random coordinates of every parameter tensor, the
// analytic gradient of the label-smoothed loss (over a padded batch, so the source mask and the
// ignored targets are in it) must match a fourth-order central difference. The weights are the
// init plus noise, so that ReZero's α = 0 or the hyper-connections' zero dynamic weights hide no path.

import { describe, expect, it } from 'vitest';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { Seq2Seq, type Seq2SeqConfig } from '../../src/models/seq2seq.ts';
import type { HostTensor } from '../../src/nn/parameter-store.ts';
import { backward, Rng, stepScope, tensor } from '../../src/tensor/index.ts';
import { modelGradcheck } from '../helpers/model-gradcheck.ts';
import { randomBatch, tinySeq2Seq } from './seq2seq-common.ts';

// As in designs-gradcheck.test.ts: (8·(L(+h) − L(−h)) − (L(+2h) − L(−2h))) / 12h, rounding ~1e-11.
const H = 1e-4;
const COORDS = 3;
const NOISE = 0.2;
const TOL = 1e-6;

const CASES: Partial<Seq2SeqConfig>[] = [
  {},
  { placement: 'post', positional: 'sinusoidal', tieTargetEmbedding: false },
  { placement: 'post', residual: 'deepnorm' },
  { placement: 'post', residual: 'admin', norm: 'rmsnorm' },
  { placement: 'peri', qkNorm: true },
  { residual: 'hyper', hyperStreams: 2 },
  { residual: 'value-residual', norm: 'dyt' },
  { placement: 'none', residual: 'rezero', shareEmbeddings: true, targetVocab: 7 },
  { norm: 'batchnorm', bias: false },
];

describe('seq2seq whole-model finite-difference gradient check (float64, ref backend)', () => {
  const backend = createRefBackend();

  it.each(CASES.map((d) => [JSON.stringify(d), d] as const))('%s', async (name, d) => {
    const c: Seq2SeqConfig = { ...tinySeq2Seq, nEmbd: 4, ...d };
    const model = Seq2Seq.create(c, { backend, seed: 11, dtype: 'float64' });
    const rng = new Rng(name.length * 7919 + 17);
    const state = new Map<string, HostTensor>();
    for (const [k, t] of await model.store!.stateDict()) {
      state.set(k, { shape: t.shape, data: Float64Array.from(t.data, (v) => (/running_/.test(k) ? v : v + NOISE * rng.normal())) });
    }
    model.store!.loadStateDict(state);
    const store = model.store!;
    const b = randomBatch(c, 3, 5, 4, 7);
    const lossOf = (withGrad: boolean): number =>
      stepScope(() => {
        const { loss } = model.forward(
          tensor(b.src, [b.B, b.S], { backend }),
          tensor(Float64Array.from(b.srcMask), [b.B, b.S], { backend }),
          tensor(b.tgtIn, [b.B, b.T], { backend }),
          tensor(b.tgtOut, [b.B, b.T], { backend }),
        );
        if (withGrad) {
          store.zeroGrad();
          backward(loss!);
        }
        return loss!.item();
      });

    const failures = await modelGradcheck(store, lossOf, rng, { coords: COORDS, tol: TOL, h: H });
    expect(failures).toEqual([]);
  });
});
