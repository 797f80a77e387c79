// Finite-difference gradient check of the whole tiny encoder-decoder, in float64 on the reference
// backend, for a design of each family: for a few random coordinates of every parameter tensor, the
// analytic gradient of the label-smoothed loss (over a padded batch, so the source mask and the
// ignored targets are in it) must match a fourth-order central difference. The weights are the
// init plus noise, so that ReZero's α = 0 or the hyper-connections' zero dynamic weights hide no path.

import { describe, expect, it } from 'vitest';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { Seq2Seq, type Seq2SeqConfig } from '../../src/models/seq2seq.ts';
import type { HostTensor } from '../../src/nn/parameter-store.ts';
import { backward, noGrad, Rng, stepScope, tensor } from '../../src/tensor/index.ts';
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

    lossOf(true);
    const grads = new Map(store.entries.map((e) => [e.name, e.param.value.grad!.toArraySync()]));
    const theta = (await backend.read(store.data)) as Float64Array;
    expect(theta).toBeInstanceOf(Float64Array);
    const set = (i: number, v: number) => backend.write(backend.view(store.data, i, 1), [v]);
    const failures: string[] = [];
    noGrad(() => {
      for (const e of store.entries) {
        const picks = new Set<number>();
        while (picks.size < Math.min(COORDS, e.size)) picks.add(rng.int(e.size));
        const analytic: number[] = [];
        const numeric: number[] = [];
        for (const j of picks) {
          const i = e.offset + j;
          const x0 = theta[i];
          const at = (dx: number) => {
            set(i, x0 + dx);
            return lossOf(false);
          };
          numeric.push((8 * (at(H) - at(-H)) - (at(2 * H) - at(-2 * H))) / (12 * H));
          set(i, x0);
          analytic.push(grads.get(e.name)![j]);
        }
        const scale = Math.max(...numeric.map(Math.abs), 1e-4);
        const err = Math.max(...analytic.map((a, n) => Math.abs(a - numeric[n]))) / scale;
        if (!(err <= TOL)) failures.push(`${e.name}: rel err ${err.toExponential(2)} (analytic ${analytic.map((v) => v.toExponential(4)).join(', ')}; numeric ${numeric.map((v) => v.toExponential(4)).join(', ')})`);
      }
    });
    expect(failures).toEqual([]);
  });
});
