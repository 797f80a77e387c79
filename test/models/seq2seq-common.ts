// What the encoder-decoder's test files share: a tiny config and random padded batches.

import { DEFAULT_SEQ2SEQ_CONFIG, type Seq2SeqConfig } from '../../src/models/seq2seq.ts';
import { Rng } from '../../src/tensor/index.ts';

export const tinySeq2Seq: Seq2SeqConfig = {
  ...DEFAULT_SEQ2SEQ_CONFIG,
  sourceVocab: 7, targetVocab: 9, maxSource: 6, maxTarget: 5, encoderLayers: 2, decoderLayers: 2, nHead: 2, nEmbd: 8,
};

/** A padded batch: source lengths and target lengths drawn per row, ids in range, −100 after each target's end. */
export function randomBatch(c: Seq2SeqConfig, B: number, S: number, T: number, seed: number) {
  const r = new Rng(seed);
  const src = new Int32Array(B * S);
  const srcMask = new Float32Array(B * S);
  const tgtIn = new Int32Array(B * T);
  const tgtOut = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const sLen = b === 0 ? S : 1 + r.int(S); // the first row full, the others padded
    const tLen = b === 0 ? T : 1 + r.int(T);
    for (let s = 0; s < S; s++) {
      src[b * S + s] = s < sLen ? r.int(c.sourceVocab) : 0;
      srcMask[b * S + s] = s < sLen ? 1 : 0;
    }
    for (let t = 0; t < T; t++) {
      tgtIn[b * T + t] = t < tLen ? r.int(c.targetVocab) : 0;
      tgtOut[b * T + t] = t < tLen ? r.int(c.targetVocab) : -100;
    }
  }
  return { src, srcMask, tgtIn, tgtOut, B, S, T };
}

export type Batch = ReturnType<typeof randomBatch>;
