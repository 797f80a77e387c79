// A forward with no graph (evaluation, sampling) runs each block in a scope of its own: the same
// logits, bit for bit, as the forward that records a graph, for every design (value residual and
// hyper-connections carry state between blocks), while holding one block's activations at a time.

import { describe, expect, it } from 'vitest';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { DEFAULT_GPT_CONFIG, GPT, type GPTConfig } from '../../src/models/gpt.ts';
import { noGrad, stepScope, tensor } from '../../src/tensor/index.ts';
import { DESIGN_SAMPLES } from '../helpers/designs.ts';

const cfg: GPTConfig = { ...DEFAULT_GPT_CONFIG, vocabSize: 11, blockSize: 16, nLayer: 8, nHead: 2, nEmbd: 16 };
const ids = Int32Array.from({ length: 3 * 16 }, (_, i) => (i * 7) % 11);

/** The logits of one forward and the peak live bytes it added, on a fresh backend. */
function forwardOnce(design: Partial<GPTConfig>, grad: boolean): { logits: Float32Array; peak: number } {
  const backend = createRefBackend();
  const model = GPT.create({ ...cfg, ...design }, { seed: 4, backend }).eval();
  const before = backend.memoryStats().liveBytes;
  const run = () => stepScope(() => Float32Array.from(model.forward(tensor(ids, [3, 16], { backend })).logits.toArraySync()));
  const logits = grad ? run() : noGrad(run);
  return { logits, peak: backend.memoryStats().peakBytes - before };
}

describe('a forward without a graph', () => {
  it('gives the logits of the recorded forward, bit for bit, for every design', () => {
    for (const design of [{}, ...DESIGN_SAMPLES]) {
      expect(forwardOnce(design, false).logits, JSON.stringify(design)).toEqual(forwardOnce(design, true).logits);
    }
  });

  it('holds one block at a time: 8 blocks peak at well under half the memory of the recorded forward', () => {
    for (const design of [{}, { residual: 'value-residual' as const }, { residual: 'hyper' as const, hyperStreams: 2 }]) {
      const [free, held] = [forwardOnce(design, false).peak, forwardOnce(design, true).peak];
      expect(free, JSON.stringify(design)).toBeLessThan(0.4 * held);
    }
  });
});
