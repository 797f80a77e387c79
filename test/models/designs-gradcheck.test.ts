// Finite-difference gradient check of the whole tiny GPT, in float64 on the reference backend, for
// every design of docs/designs.md (the configs of test/fixtures/designs/). The weights start from the
// fixture's (every norm and rule parameter away from its init, so ReZero's α = 0 or the
// hyper-connections' zero dynamic weights hide no path) plus noise, so the gradients are large enough
// for the difference quotients to resolve. For a few random coordinates of every parameter tensor the
// analytic gradient of the mean cross-entropy must match a fourth-order central difference. BatchNorm runs in
// training mode: its batch statistics are deterministic, and the running buffers it updates do not
// enter the training-mode output.

import { describe, expect, it } from 'vitest';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { GPT } from '../../src/models/gpt.ts';
import type { HostTensor } from '../../src/nn/parameter-store.ts';
import { backward, Rng, stepScope, tensor } from '../../src/tensor/index.ts';
import { modelGradcheck } from '../helpers/model-gradcheck.ts';
import { get, gptConfigOf, listFixtures, loadFixture, modelStateOf } from '../helpers/fixtures.ts';

// Fourth-order central difference (8·(L(+h) − L(−h)) − (L(+2h) − L(−2h))) / 12h: truncation ~h⁴·L⁽⁵⁾/30,
// rounding ~1.5·ε·L/h ≈ 1e-11. The worst error seen over every case is ~5e-8 of the tensor's scale
// (DyT's small gradients, at the 1e-4 floor), so TOL leaves a 20× margin; a wrong term shows as ≫ 1e-4.
const H = 1e-4;
const COORDS = 4; // per parameter tensor
const NOISE = 0.2; // added to every fixture weight (which are N(0, 0.02) for the Linears)
const TOL = 1e-6;

const CASES = listFixtures('designs').map((f) => f.replace(/\.safetensors$/, ''));

describe('whole-model finite-difference gradient check (float64, ref backend)', () => {
  const backend = createRefBackend();

  it.each(CASES)('%s', async (name) => {
    const fx = loadFixture('designs', `${name}.safetensors`);
    const model = GPT.create(gptConfigOf(fx), { backend, seed: 11, dtype: 'float64' });
    const rng = new Rng(name.length * 7919 + name.charCodeAt(0));
    const state = new Map<string, HostTensor>();
    for (const [k, t] of modelStateOf(fx)) {
      const isBuffer = /running_(mean|var)$/.test(k);
      state.set(k, { shape: t.shape, data: Float64Array.from(t.data, (v) => (isBuffer ? v : v + NOISE * rng.normal())) });
    }
    model.store!.loadStateDict(state, name);
    const store = model.store!;
    const idxT = get(fx, 'idx');
    const [B, T] = idxT.shape;
    const idx = idxT.data as Int32Array;
    const tgt = get(fx, 'targets').data as Int32Array;
    const lossOf = (withGrad: boolean): number =>
      stepScope(() => {
        const { loss } = model.forward(tensor(idx, [B, T], { backend, dtype: 'int32' }), tensor(tgt, [B, T], { backend, dtype: 'int32' }));
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
