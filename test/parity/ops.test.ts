// Every op, forward and backward, against PyTorch fixtures, on every backend.
// Forward relative error ≤ 1e-5 and gradient relative error ≤ 1e-4 (the core issue's bounds).

import { describe, expect, it } from 'vitest';
import { backward, stepScope, tensor, type Tensor } from '../../src/tensor/index.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { relError } from '../helpers/compare.ts';
import { get, listFixtures, loadFixture } from '../helpers/fixtures.ts';
import { INT_INPUTS, runOp, type Inputs } from './op-cases.ts';

const cases = listFixtures('ops').map((f) => loadFixture('ops', f));

describe.each(BACKENDS)('op parity with PyTorch on $name', ({ make }) => {
  const backend = make();
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, fx) => {
    stepScope(() => {
      const args = JSON.parse(fx.metadata.args) as Record<string, unknown>;
      const inputs: Inputs = {};
      for (const [name, t] of fx.tensors) {
        if (name === 'out' || name === 'dout' || name.startsWith('grad.')) continue;
        const isInt = INT_INPUTS.has(name);
        inputs[name] = tensor(t.data as ArrayLike<number>, t.shape, { backend, dtype: isInt ? 'int32' : 'float32', requiresGrad: !isInt });
      }
      const out: Tensor = runOp(fx.metadata.op, inputs, args);
      const expected = get(fx, 'out');
      expect(out.shape).toEqual(expected.shape);
      expect(relError(out.toArraySync(), expected.data as ArrayLike<number>)).toBeLessThanOrEqual(1e-5);

      const dout = get(fx, 'dout');
      backward(out, tensor(dout.data as ArrayLike<number>, dout.shape, { backend }));
      for (const [name, t] of Object.entries(inputs)) {
        if (INT_INPUTS.has(name)) continue;
        const g = get(fx, `grad.${name}`);
        expect(t.grad, `gradient of ${name}`).not.toBeNull();
        const err = relError(t.grad!.toArraySync(), g.data as ArrayLike<number>);
        expect(err, `gradient of ${name}`).toBeLessThanOrEqual(1e-4);
      }
    });
  });
});
