// backward's freeGraph (what every training step uses): the graph's buffers are freed as backward
// passes them, the gradients are bit-identical to a backward that keeps everything, views of a
// buffer keep it alive until the last of them is passed, the root and a caller's gradRoot survive,
// and a tensor of the graph read afterwards says what freed it.
import { describe, expect, it } from 'vitest';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { add, backward, exp, matmul, mul, reshape, stepScope, sum, tanh, tensor, type Tensor } from '../../src/tensor/index.ts';

const be = createRefBackend();
const data = (n: number, s: number) => Float64Array.from({ length: n }, (_, i) => Math.sin(i * s) * 0.5);

/** A graph with a reshape view, a tensor used twice, ops whose backward reads their output (exp, tanh). */
function graph(w: Tensor, v: Tensor) {
  const x = tensor(data(12, 0.7), [3, 4], { backend: be });
  const h = exp(matmul(x, w)); // (3, 2): exp's backward reads its output
  const r = reshape(h, [6]); // shares h's buffer
  const u = tanh(mul(r, r)); // r used twice
  const loss = sum(add(u, reshape(mul(h, v), [6])));
  return { loss, h, u };
}

function run(freeGraph: boolean) {
  const w = tensor(data(8, 1.3), [4, 2], { backend: be, requiresGrad: true });
  const v = tensor(data(6, 0.4), [3, 2], { backend: be, requiresGrad: true });
  return stepScope(() => {
    const { loss, h, u } = graph(w, v);
    const before = be.memoryStats().liveBytes;
    backward(loss, undefined, { freeGraph });
    const after = be.memoryStats().liveBytes;
    const lossValue = loss.toArraySync()[0];
    return { gw: w.grad!.toArraySync(), gv: v.grad!.toArraySync(), before, after, lossValue, h, u };
  });
}

describe('backward with freeGraph', () => {
  it('gives the same gradients while freeing what backward went past', () => {
    const keep = run(false);
    const free = run(true);
    expect(free.gw).toEqual(keep.gw);
    expect(free.gv).toEqual(keep.gv);
    expect(free.lossValue).toBe(keep.lossValue); // the root survives
    // Without it, backward only adds (gradients); with it, the graph's activations and gradients go.
    expect(keep.after).toBeGreaterThan(keep.before);
    expect(free.after).toBeLessThan(free.before);
  });

  it('frees the tensors of the graph, and reading one says why', () => {
    const w = tensor(data(8, 1.3), [4, 2], { backend: be, requiresGrad: true });
    const v = tensor(data(6, 0.4), [3, 2], { backend: be, requiresGrad: true });
    stepScope(() => {
      const { loss, h } = graph(w, v);
      backward(loss, undefined, { freeGraph: true });
      expect(() => h.toArraySync()).toThrow(/by a backward with freeGraph/);
      expect(w.grad!.toArraySync().length).toBe(8); // leaves and their gradients are the caller's
    });
  });

  it('leaves a gradient the caller passed in', () => {
    const w = tensor(data(8, 1.3), [4, 2], { backend: be, requiresGrad: true });
    stepScope(() => {
      const x = tensor(data(12, 0.7), [3, 4], { backend: be });
      const y = exp(matmul(x, w));
      const g = tensor(data(6, 2.1), [3, 2], { backend: be });
      backward(y, g, { freeGraph: true });
      expect(g.toArraySync().length).toBe(6);
      expect(y.toArraySync().length).toBe(6);
    });
  });
});

describe('backward with freeGraph and views of leaves', () => {
  it('keeps a parameter whose reshaped view the graph recorded (a per-channel weight broadcast along an axis)', () => {
    const w = tensor(data(3, 1.1), [3], { backend: be, requiresGrad: true });
    stepScope(() => {
      const x = tensor(data(12, 0.7), [2, 3, 2], { backend: be });
      const loss = sum(mul(x, reshape(w, [3, 1])));
      backward(loss, undefined, { freeGraph: true });
      expect(w.grad!.toArraySync().length).toBe(3);
    });
    // Freed with the view, the weight would throw here (and in the next step's forward).
    expect(Array.from(w.toArraySync())).toEqual(Array.from(data(3, 1.1)));
  });
});
