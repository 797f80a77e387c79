// The encoder-decoder's training-step case for the `models` rows: 3 + 3 layers, width 128, batch 64 of
// synthetic symbol pairs with realistic padding (sources of 3..14 symbols and targets of 3..13 in
// tables of 24), driven through TranslateTask, the task that trains it.

import type { Backend } from '../src/backend/backend.ts';
import type { Pair } from '../src/data/datasets/types.ts';
import { Seq2SeqConfigSchema } from '../src/models/seq2seq-config.ts';
import { Seq2Seq } from '../src/models/seq2seq.ts';
import { Rng } from '../src/tensor/index.ts';
import { SymbolVocab, TranslateTask } from '../src/train/translate-task.ts';
import type { ModelStepCase } from './model-step.ts';

/** Default design: pre-LN LayerNorm, plain residual, erf GELU, learned positions, tied target embedding, label smoothing 0.1. */
const CONFIG = Seq2SeqConfigSchema.parse({
  encoderLayers: 3, decoderLayers: 3, nEmbd: 128, nHead: 4, maxSource: 24, maxTarget: 24, sourceVocab: 30, targetVocab: 42, dropout: 0,
});
const B = 64;

/** `n` symbols named by `prefix`: with padding, start and end, a vocabulary of n + 3 ids. */
const symbols = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

export const SEQ2SEQ_CASE: ModelStepCase = {
  name: `encoder-decoder 3+3 layers C128 H4, S/T 24, B${B}, padded`,
  kind: 'seq2seq_train_step',
  batchSize: B,
  reps: { quick: 5, full: 20 },
  setup(backend: Backend) {
    const source = new SymbolVocab(symbols('s', CONFIG.sourceVocab - 3));
    const target = new SymbolVocab(symbols('t', CONFIG.targetVocab - 3));
    const rng = new Rng(0);
    const seq = (from: readonly string[], lo: number, hi: number) => Array.from({ length: lo + rng.int(hi - lo + 1) }, () => from[rng.int(from.length)]);
    const pairs: Pair[] = Array.from({ length: 4 * B }, () => ({ source: seq(source.symbols, 3, 14), target: seq(target.symbols, 3, 13) }));
    const model = Seq2Seq.create(CONFIG, { backend, seed: 0 });
    const task = new TranslateTask(model, { train: pairs, val: pairs }, { source, target });
    return { model, loss: task.loss, batch: task.trainBatch(rng, B), config: model.config };
  },
  // [src, srcMask, tgtIn, tgtOut] as seq2seqBatch lays them out; tgtOut is −100 at padding.
  torchInputs: ([src, srcMask, tgtIn, tgtOut]) => ({
    src: Array.from(src.data), srcMask: Array.from(srcMask.data), tgtIn: Array.from(tgtIn.data), tgtOut: Array.from(tgtOut.data),
  }),
};
