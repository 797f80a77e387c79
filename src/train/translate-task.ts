// Sequence-to-sequence translation (grapheme-to-phoneme on CMUdict, any tab-separated parallel text):
// symbol pairs as padded id batches of one shape (so the step is captured once), teacher forcing with
// the encoder-decoder's label-smoothed loss, and at evaluation the loss and, from greedy decoding of
// validation pairs, exact match, word and phoneme (token) error rates and corpus BLEU (src/metrics).

import type { Pair } from '../data/datasets/types.ts';
import { corpusBleu } from '../metrics/bleu.ts';
import { g2pWordErrorRate, phonemeErrorRate } from '../metrics/error-rates.ts';
import { greedyDecode } from '../models/seq2seq-decode.ts';
import { seq2seqBatch, seq2seqLoss, type Seq2Seq } from '../models/seq2seq.ts';
import { readAfterScope } from '../tensor/arena.ts';
import { noGrad } from '../tensor/autograd.ts';
import { IGNORE_INDEX } from '../tensor/ops/softmax.ts';
import { Rng } from '../tensor/rng.ts';
import { tensor } from '../tensor/tensor.ts';
import type { HostInput } from './step.ts';
import type { TaskEvaluation, TrainTask } from './task.ts';

/** Symbols ↔ ids of one side; ids 0, 1, 2 are padding, start and end. */
export class SymbolVocab {
  static readonly PAD = 0;
  static readonly BOS = 1;
  static readonly EOS = 2;
  private readonly ids = new Map<string, number>();
  constructor(readonly symbols: readonly string[]) {
    symbols.forEach((s, i) => this.ids.set(s, i + 3));
  }
  get size(): number {
    return this.symbols.length + 3;
  }
  encode(seq: readonly string[], what: string): number[] {
    return seq.map((s) => {
      const id = this.ids.get(s);
      if (id === undefined) throw new RangeError(`${what}: the symbol '${s}' is not in the vocabulary of the training data`);
      return id;
    });
  }
  /** Ids to symbols, stopping at the end token. */
  decode(ids: readonly number[]): string[] {
    const out: string[] = [];
    for (const id of ids) {
      if (id === SymbolVocab.EOS) break;
      if (id >= 3) out.push(this.symbols[id - 3]);
    }
    return out;
  }
}

interface EncodedPair {
  src: number[];
  tgt: number[];
  pair: Pair;
}

export interface TranslateOptions {
  source: SymbolVocab;
  target: SymbolVocab;
  /** Validation pairs decoded at each evaluation for the error rates and BLEU (the first ones, in order). */
  decodePairs?: number;
}

export class TranslateTask implements TrainTask<Seq2Seq> {
  readonly loss;
  private readonly train: EncodedPair[];
  private readonly val: EncodedPair[];

  constructor(
    readonly model: Seq2Seq,
    data: { train: Pair[]; val: Pair[] },
    readonly o: TranslateOptions,
  ) {
    const { maxSource, maxTarget, sourceVocab, targetVocab } = model.config;
    if (o.source.size > sourceVocab || o.target.size > targetVocab) {
      throw new RangeError(`the vocabularies (${o.source.size} source, ${o.target.size} target symbols with padding, start and end) exceed the model's (${sourceVocab}, ${targetVocab})`);
    }
    const encodeAll = (pairs: Pair[], split: string) => {
      if (pairs.length === 0) throw new RangeError(`the ${split} split has no pairs`);
      return pairs.map((pair, i) => {
        const what = `${split} pair ${i + 1} (${pair.source.join('')})`;
        const src = o.source.encode(pair.source, what);
        const tgt = o.target.encode(pair.target, what);
        if (src.length === 0 || src.length > maxSource) throw new RangeError(`${what}: the source has ${src.length} symbols; it needs 1 to maxSource = ${maxSource}`);
        if (tgt.length + 1 > maxTarget) throw new RangeError(`${what}: the target has ${tgt.length} symbols, and with its end token it exceeds maxTarget = ${maxTarget}`);
        return { src, tgt, pair };
      });
    };
    this.train = encodeAll(data.train, 'training');
    this.val = encodeAll(data.val, 'validation');
    this.loss = seq2seqLoss(model);
  }

  trainBatch(rng: Rng, B: number): HostInput[] {
    return this.batch(Array.from({ length: B }, () => this.train[rng.int(this.train.length)]));
  }

  /** src (B, maxSource) with its mask; tgtIn = [BOS, y…], tgtOut = [y…, EOS], both (B, maxTarget), tgtOut −100 at padding. */
  private batch(pairs: EncodedPair[]): HostInput[] {
    const { maxSource: S, maxTarget: T } = this.model.config;
    const B = pairs.length;
    const src = new Int32Array(B * S);
    const srcMask = new Float32Array(B * S);
    const tgtIn = new Int32Array(B * T);
    const tgtOut = new Int32Array(B * T).fill(IGNORE_INDEX);
    pairs.forEach((p, b) => {
      src.set(p.src, b * S);
      srcMask.fill(1, b * S, b * S + p.src.length);
      tgtIn.set([SymbolVocab.BOS, ...p.tgt], b * T);
      tgtOut.set([...p.tgt, SymbolVocab.EOS], b * T);
    });
    return seq2seqBatch({ src, srcMask, tgtIn, tgtOut, B, S, T });
  }

  async evaluate(batchSize: number, iters: number, seed: number): Promise<TaskEvaluation> {
    const loss = async (set: EncodedPair[], s: number) => {
      const rng = new Rng(s);
      let sum = 0;
      for (let i = 0; i < iters; i++) sum += await this.batchLoss(Array.from({ length: batchSize }, () => set[rng.int(set.length)]));
      return sum / iters;
    };
    const trainLoss = await loss(this.train, seed + 1);
    const valLoss = await loss(this.val, seed + 2);
    return { trainLoss, valLoss, metrics: await this.decodeMetrics(batchSize) };
  }

  private batchLoss(pairs: EncodedPair[]): Promise<number> {
    const be = this.model.backend;
    const inputs = this.batch(pairs);
    return this.model.inEvalMode(async () => (await readAfterScope(() => noGrad(() => this.loss(inputs.map((h) => tensor(h.data, h.shape, { backend: be }))))))[0]);
  }

  /** Greedy translations of the first `decodePairs` validation pairs, in symbols. */
  translate(pairs: Pair[], batchSize: number): Promise<string[][]> {
    const S = this.model.config.maxSource;
    const out: string[][] = [];
    return this.model.inEvalMode(async () => {
      for (let i = 0; i < pairs.length; i += batchSize) {
        const group = pairs.slice(i, i + batchSize);
        const src = new Int32Array(group.length * S);
        const mask = new Float32Array(group.length * S);
        group.forEach((p, b) => {
          const ids = this.o.source.encode(p.source, `pair ${i + b + 1}`);
          src.set(ids, b * S);
          mask.fill(1, b * S, b * S + ids.length);
        });
        const ids = await greedyDecode(this.model, src, mask, group.length, S, { bos: SymbolVocab.BOS, eos: SymbolVocab.EOS, maxLen: this.model.config.maxTarget });
        out.push(...ids.map((seq) => this.o.target.decode(seq)));
      }
      return out;
    });
  }

  private async decodeMetrics(batchSize: number): Promise<Record<string, number>> {
    const n = Math.min(this.o.decodePairs ?? 200, this.val.length);
    const pairs = this.val.slice(0, n).map((p) => p.pair);
    const hyps = await this.translate(pairs, batchSize);
    const refs = pairs.map((p) => p.target);
    const exact = hyps.filter((h, i) => h.length === refs[i].length && h.every((s, j) => s === refs[i][j])).length / n;
    return {
      exactMatch: exact,
      wordErrorRate: g2pWordErrorRate(hyps, refs),
      phonemeErrorRate: phonemeErrorRate(hyps, refs),
      // NLTK's method1 smoothing (ε = 0.1): a short corpus without a 4-gram match still scores.
      bleu: corpusBleu(hyps, refs.map((r) => [r]), { smoothing: 'epsilon' }).bleu,
    };
  }
}
