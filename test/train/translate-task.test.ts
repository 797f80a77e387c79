// The translation task: batches as the encoder-decoder reads them (teacher forcing: [BOS, y…] in,
// [y…, EOS] out, padding ignored), clear errors for symbols and lengths the model cannot take, and
// through the task loop it learns a sequence transduction (reversal), measured by exact match, the
// error rates and BLEU from greedy decoding.

import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.ts';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { loadWasmKernels } from '../../src/backend/wasm/index.ts';
import type { Pair } from '../../src/data/datasets/types.ts';
import { DEFAULT_SEQ2SEQ_CONFIG, Seq2Seq } from '../../src/models/seq2seq.ts';
import { parseTrainConfig } from '../../src/train/config.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { SymbolVocab, TranslateTask } from '../../src/train/translate-task.ts';
import { Rng } from '../../src/tensor/index.ts';

const letters = 'abcdefgh'.split('');
function pairs(n: number, seed: number): Pair[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const source = Array.from({ length: 2 + rng.int(4) }, () => letters[rng.int(letters.length)]);
    return { source, target: [...source].reverse().map((s) => s.toUpperCase()) };
  });
}
const vocab = { source: new SymbolVocab(letters), target: new SymbolVocab(letters.map((s) => s.toUpperCase())) };
const kernels = await loadWasmKernels();
const model = (seed = 1, backend: Backend = createRefBackend()) =>
  Seq2Seq.create({ ...DEFAULT_SEQ2SEQ_CONFIG, sourceVocab: 11, targetVocab: 11, maxSource: 6, maxTarget: 7, encoderLayers: 2, decoderLayers: 2, nHead: 2, nEmbd: 32, labelSmoothing: 0 }, { backend, seed });

describe('translation task', () => {
  it('makes teacher-forcing batches: [BOS, y…] in, [y…, EOS] out, −100 at padding, and the source mask', () => {
    const task = new TranslateTask(model(), { train: [{ source: ['a', 'b'], target: ['B', 'A'] }], val: pairs(2, 1) }, vocab);
    const [src, mask, tgtIn, tgtOut] = task.trainBatch(new Rng(1), 1);
    expect(Array.from(src.data)).toEqual([3, 4, 0, 0, 0, 0]);
    expect(Array.from(mask.data)).toEqual([1, 1, 0, 0, 0, 0]);
    expect(Array.from(tgtIn.data)).toEqual([1, 4, 3, 0, 0, 0, 0]);
    expect(Array.from(tgtOut.data)).toEqual([4, 3, 2, -100, -100, -100, -100]);
  });

  it('refuses a symbol outside the vocabulary and sequences longer than the model takes', () => {
    expect(() => new TranslateTask(model(), { train: [{ source: ['a', 'z'], target: ['A'] }], val: pairs(2, 1) }, vocab)).toThrow(/training pair 1 \(az\): the symbol 'z' is not in the vocabulary/);
    expect(() => new TranslateTask(model(), { train: [{ source: letters.slice(0, 7), target: ['A'] }], val: pairs(2, 1) }, vocab)).toThrow(/the source has 7 symbols; it needs 1 to maxSource = 6/);
    expect(() => new TranslateTask(model(), { train: [{ source: ['a'], target: Array(7).fill('A') }], val: pairs(2, 1) }, vocab)).toThrow(/exceeds maxTarget = 7/);
  });

  it('learns to reverse sequences: exact match, error rates and BLEU from greedy decoding', async () => {
    const m = model(3, kernels.createBackend());
    const task = new TranslateTask(m, { train: pairs(2000, 1), val: pairs(100, 2) }, { ...vocab, decodePairs: 100 });
    const config = parseTrainConfig({ batchSize: 32, maxIters: 400, warmupIters: 20, lr: 3e-3, minLr: 3e-4, evalInterval: 400, evalIters: 2, diagInterval: 0, seed: 1 });
    const before = await task.evaluate(32, 2, 1);
    await new Trainer(task, config).run(400);
    const after = await task.evaluate(32, 2, 1);
    expect(before.metrics!.exactMatch).toBeLessThan(0.05);
    expect(after.metrics!.exactMatch).toBeGreaterThan(0.8);
    expect(after.metrics!.phonemeErrorRate).toBeLessThan(0.1);
    expect(after.metrics!.bleu).toBeGreaterThan(0.8);
    expect(after.valLoss).toBeLessThan(before.valLoss / 3);
  });
});
