// Finite-difference gradient checks in float64 on the reference backend and its core-only view, for every op case in the
// fixture set (reusing the fixtures' inputs, cast to float64): the analytic gradient of
// L = Σ out·dout must match the central difference (L(x + h) − L(x − h)) / 2h.

import { describe, expect, it } from 'vitest';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { coreOnly } from '../../src/backend/views.ts';
import { backward, noGrad, stepScope, tensor, type Tensor } from '../../src/tensor/index.ts';
import { relError } from '../helpers/compare.ts';
import { get, listFixtures, loadFixture } from '../helpers/fixtures.ts';
import { INT_INPUTS, runOp, type Inputs } from '../parity/op-cases.ts';

const H = 1e-6;
const cases = listFixtures('ops').map((f) => loadFixture('ops', f));

function lossOf(out: Tensor, dout: Float64Array): number {
  const o = out.toArraySync();
  let s = 0;
  for (let i = 0; i < o.length; i++) s += o[i] * dout[i];
  return s;
}

// On the fused kernels, and on their compositions from the core (the core-only view).
describe.each([
  ['ref', createRefBackend()],
  ['ref (core only)', coreOnly(createRefBackend())],
] as const)('finite-difference gradient check (float64, %s backend)', (_b, backend) => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, fx) => {
    stepScope(() => {
      const op = fx.metadata.op;
      const args = JSON.parse(fx.metadata.args) as Record<string, unknown>;
      const host: Record<string, Float64Array | Int32Array> = {};
      const shapes: Record<string, number[]> = {};
      for (const [name, t] of fx.tensors) {
        if (name === 'out' || name === 'dout' || name.startsWith('grad.')) continue;
        host[name] = INT_INPUTS.has(name) ? Int32Array.from(t.data as ArrayLike<number>) : Float64Array.from(t.data as ArrayLike<number>);
        shapes[name] = t.shape;
      }
      const make = (requiresGrad: boolean): Inputs =>
        Object.fromEntries(
          Object.entries(host).map(([n, d]) => [n, tensor(d, shapes[n], { backend, requiresGrad: requiresGrad && !INT_INPUTS.has(n) })]),
        );
      const dout = Float64Array.from(get(fx, 'dout').data as ArrayLike<number>);

      const inputs = make(true);
      const out = runOp(op, inputs, args);
      backward(out, tensor(dout, out.shape, { backend }));

      for (const [name, data] of Object.entries(host)) {
        if (INT_INPUTS.has(name)) continue;
        const numeric = new Float64Array(data.length);
        noGrad(() => {
          for (let i = 0; i < data.length; i++) {
            const x0 = data[i];
            data[i] = x0 + H;
            const lp = lossOf(runOp(op, make(false), args), dout);
            data[i] = x0 - H;
            const lm = lossOf(runOp(op, make(false), args), dout);
            data[i] = x0;
            numeric[i] = (lp - lm) / (2 * H);
          }
        });
        const analytic = inputs[name].grad!.toArraySync();
        // The 1e4-offset LayerNorm case loses ~8 digits to the offset in the difference quotient.
        const tol = fx.name.includes('offset1e4') ? 1e-3 : 1e-6;
        expect(relError(analytic, numeric), `d/d${name}`).toBeLessThanOrEqual(tol);
      }
    });
  });
});
