// packedAttention (qkv (B, T, 3C) → (B, T, C), heads read and written in place) against the
// composition it replaces in SelfAttention: slice q, k, v, permute each to (B, H, T, D),
// attention, permute back. Same kernels on the same numbers, so values and gradients match exactly.

import { describe, expect, it } from 'vitest';
import * as F from '../../src/tensor/index.ts';
import { backward, stepScope, tensor, type Tensor } from '../../src/tensor/index.ts';
import { rand } from '../wasm-backend/harness.ts';
import { BACKENDS } from '../helpers/backends.ts';

/** The unfused path: (B, T, 3C) → q, k, v (B, H, T, D) → attention → (B, T, C). */
function composed(qkv: Tensor, H: number, causal: boolean): Tensor {
  const [B, T, C3] = qkv.shape;
  const C = C3 / 3;
  const heads = (x: Tensor) => F.permute(F.reshape(x, [B, T, H, C / H]), [0, 2, 1, 3]);
  const [q, k, v] = [0, 1, 2].map((i) => heads(F.slice(qkv, 2, i * C, (i + 1) * C)));
  return F.reshape(F.permute(F.attention(q, k, v, causal), [0, 2, 1, 3]), [B, T, C]);
}

// [B, H, T, D]: T = 1, primes, B = 1, several heads, D a multiple of 16 (the wasm kernels' paired paths) and not.
const CASES = [[1, 1, 1, 1], [2, 3, 1, 4], [1, 2, 7, 5], [3, 4, 13, 3], [2, 2, 37, 16], [1, 3, 33, 32]];

describe.each(BACKENDS)('packedAttention on $name', ({ make }) => {
  const backend = make();
  it.each(CASES)('B %i, H %i, T %i, D %i: values and gradients equal slice/permute/attention/permute', (B, H, T, D) => {
    const C = H * D;
    const data = rand(B * T * 3 * C, B + H + T + D, -2, 2);
    const dout = rand(B * T * C, 7);
    for (const causal of [true, false]) {
      stepScope(() => {
        const run = (f: (x: Tensor) => Tensor) => {
          const qkv = tensor(data, [B, T, 3 * C], { backend, requiresGrad: true });
          const y = f(qkv);
          backward(y, tensor(dout, [B, T, C], { backend }));
          return { y: Array.from(y.toArraySync()), g: Array.from(qkv.grad!.toArraySync()) };
        };
        const fused = run((x) => F.packedAttention(x, H, causal));
        const unfused = run((x) => composed(x, H, causal));
        expect(fused.y).toEqual(unfused.y);
        expect(fused.g).toEqual(unfused.g);
        expect(fused.g.every(Number.isFinite)).toBe(true);
      });
    }
  });

  it('rejects shapes that are not (B, T, 3C) with C divisible by the head count', () => {
    stepScope(() => {
      const x = (shape: number[]) => F.zeros(shape, { backend });
      expect(() => F.packedAttention(x([2, 12]), 2)).toThrow(/packedAttention: qkv must be \(B, T, 3C\).*got \[2, 12\]/);
      expect(() => F.packedAttention(x([1, 2, 10]), 2)).toThrow(/last dimension divisible by 3, got \[1, 2, 10\]/);
      expect(() => F.packedAttention(x([1, 2, 12]), 3)).toThrow(/has C = 4, which is not divisible by nHead = 3/);
      expect(() => F.packedAttention(x([1, 2, 12]), 0)).toThrow(/nHead must be a positive integer, got 0/);
    });
  });
});
