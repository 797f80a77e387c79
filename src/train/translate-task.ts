// Sequence-to-sequence translation (grapheme-to-phoneme on CMUdict, any tab-separated parallel text):
// symbol pairs as padded id batches of one shape (so the step is captured once), teacher forcing with
// the encoder-decoder's label-smoothed loss, and at evaluation the loss and, from greedy decoding of
// validation pairs, exact match, word and phoneme (token) error rates and corpus BLEU (src/metrics).

import type { Pair } from '../data/datasets/types.ts';
import { corpusBleu } from '../metrics/bleu.ts';
import { g2pWordErrorRate, phonemeErrorRate, tokenErrorRate } from '../metrics/error-rates.ts';
import { beamSearch, greedyDecode } from '../models/seq2seq-decode.ts';
import { seq2seqBatch, seq2seqLoss, type Seq2Seq } from '../models/seq2seq.ts';
import { readAfterScope } from '../tensor/arena.ts';
import { noGrad } from '../tensor/autograd.ts';
import { IGNORE_INDEX } from '../tensor/ops/softmax.ts';
import { Rng } from '../tensor/rng.ts';
import { tensor } from '../tensor/tensor.ts';
import type { HostInput } from './step.ts';
import type { TaskEvaluation, TaskProbe, TrainTask } from './task.ts';

/**
 * One side of a translation as the model reads it: symbol sequences (letters, phonemes, characters)
 * ↔ ids, where ids 0, 1, 2 are padding, start and end.
 */
export interface SideCodec {
  /** Ids in use, the three special ones included. */
  readonly size: number;
  /** Throws a RangeError naming `what` when a symbol has no id. */
  encode(seq: readonly string[], what: string): number[];
  /** Ids to symbols, stopping at the end token. */
  decode(ids: readonly number[]): string[];
}

/** How the error rates and BLEU count: per symbol (G2P's phonemes), or per whitespace-separated word of the text. */
export const METRIC_UNITS = ['symbols', 'words'] as const;
export type MetricUnits = (typeof METRIC_UNITS)[number];

/** Symbols ↔ ids of one side; ids 0, 1, 2 are padding, start and end. */
export class SymbolVocab implements SideCodec {
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
  source: SideCodec;
  target: SideCodec;
  /** What the metrics count (default 'symbols'); 'words' joins a side's symbols into text and splits it at whitespace. */
  units?: MetricUnits;
  /** Beam width of the decoding behind the metrics (default 1: greedy). */
  beam?: number;
  /** Validation pairs decoded at each evaluation for the error rates and BLEU (spread evenly over the split). */
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

  /**
   * The diagnostics' probe: `n` validation pairs drawn with `seed`, teacher-forced through the whole
   * model. Its ids are the decoder's inputs, whose causal self-attention the attention maps show.
   */
  probe(n: number, seed: number): TaskProbe {
    const rng = new Rng(seed);
    const inputs = this.batch(Array.from({ length: Math.min(n, this.val.length) }, () => this.val[rng.int(this.val.length)]));
    const be = this.model.backend;
    const [B, T] = inputs[2].shape;
    return {
      probe: { ids: inputs[2].data as Int32Array, sequences: B, length: T, source: 'validation split (decoder inputs)', seed },
      forward: () => this.loss(inputs.map((h) => tensor(h.data, h.shape, { backend: be }))),
    };
  }

  private batchLoss(pairs: EncodedPair[]): Promise<number> {
    const be = this.model.backend;
    const inputs = this.batch(pairs);
    return this.model.inEvalMode(async () => (await readAfterScope(() => noGrad(() => this.loss(inputs.map((h) => tensor(h.data, h.shape, { backend: be }))))))[0]);
  }

  /** Translations of source sequences, in symbols (see translateSequences). */
  translate(sources: readonly (readonly string[])[], batchSize: number): Promise<string[][]> {
    return translateSequences(this.model, this.o, sources, batchSize);
  }

  /** The metrics of translating `pairs` (at each evaluation, decodeSubset's validation pairs). */
  async scorePairs(pairs: readonly Pair[], batchSize: number): Promise<{ metrics: Record<string, number>; hypotheses: string[][] }> {
    const hypotheses = await this.translate(pairs.map((p) => p.source), batchSize);
    return { metrics: translationMetrics(hypotheses, pairs.map((p) => p.target), this.o.units ?? 'symbols'), hypotheses };
  }

  private async decodeMetrics(batchSize: number): Promise<Record<string, number>> {
    return (await this.scorePairs(this.decodeSubset().map((p) => p.pair), batchSize)).metrics;
  }

  /**
   * The validation pairs decoded at each evaluation: `decodePairs` of them spread evenly over the split,
   * the same ones every time. Not the first ones: a split in dictionary order would score only words in a….
   */
  private decodeSubset(): EncodedPair[] {
    const n = Math.min(this.o.decodePairs ?? 200, this.val.length);
    return Array.from({ length: n }, (_, i) => this.val[Math.floor((i * this.val.length) / n)]);
  }
}

/**
 * Translations of source sequences, in symbols: greedy in batches, or beam search one at a time
 * (o.beam > 1). Sources must fit the model (1 to maxSource symbols of the vocabulary).
 */
export function translateSequences(model: Seq2Seq, o: Pick<TranslateOptions, 'source' | 'target' | 'beam'>, sources: readonly (readonly string[])[], batchSize: number): Promise<string[][]> {
  const { maxSource: S, maxTarget } = model.config;
  const decode = { bos: SymbolVocab.BOS, eos: SymbolVocab.EOS, maxLen: maxTarget };
  const encode = (seq: readonly string[], i: number) => {
    const ids = o.source.encode(seq, `source ${i + 1}`);
    if (ids.length === 0 || ids.length > S) throw new RangeError(`source ${i + 1} (${seq.join('')}) has ${ids.length} symbols; this model reads 1 to ${S}`);
    return ids;
  };
  const beam = o.beam ?? 1;
  const out: string[][] = [];
  return model.inEvalMode(async () => {
    if (beam > 1) {
      for (let i = 0; i < sources.length; i++) {
        const [best] = await beamSearch(model, encode(sources[i], i), { ...decode, beamWidth: beam });
        out.push(o.target.decode(best.tokens));
      }
      return out;
    }
    for (let i = 0; i < sources.length; i += batchSize) {
      const group = sources.slice(i, i + batchSize);
      const src = new Int32Array(group.length * S);
      const mask = new Float32Array(group.length * S);
      group.forEach((seq, b) => {
        const ids = encode(seq, i + b);
        src.set(ids, b * S);
        mask.fill(1, b * S, b * S + ids.length);
      });
      const ids = await greedyDecode(model, src, mask, group.length, S, decode);
      out.push(...ids.map((seq) => o.target.decode(seq)));
    }
    return out;
  });
}

/** Symbols as the metrics count them: themselves, or the words of the text they spell. */
export function metricTokens(seq: readonly string[], units: MetricUnits): string[] {
  switch (units) {
    case 'symbols':
      return [...seq];
    case 'words':
      return seq.join('').split(/\s+/).filter((w) => w.length > 0);
  }
}

/**
 * Exact match (the whole output right), word error rate, the symbol error rate (phonemes for G2P,
 * characters for text) and corpus BLEU. G2P's word error rate is the share of words with any error
 * (Yolchuyeva et al. 2019); for sentences it is the edit distance over words (the ASR definition).
 */
export function translationMetrics(hyps: readonly (readonly string[])[], refs: readonly (readonly string[])[], units: MetricUnits): Record<string, number> {
  const n = hyps.length;
  const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((s, j) => s === b[j]);
  const exactMatch = hyps.filter((h, i) => same(h, refs[i])).length / n;
  const hw = hyps.map((h) => metricTokens(h, units));
  const rw = refs.map((r) => metricTokens(r, units));
  // NLTK's method1 smoothing (ε = 0.1): a short corpus without a 4-gram match still scores.
  const bleu = corpusBleu(hw, rw.map((r) => [r]), { smoothing: 'epsilon' }).bleu;
  switch (units) {
    case 'symbols':
      return { exactMatch, wordErrorRate: g2pWordErrorRate(hyps, refs), phonemeErrorRate: phonemeErrorRate(hyps, refs), bleu };
    case 'words':
      return { exactMatch, wordErrorRate: tokenErrorRate(hw, rw), characterErrorRate: tokenErrorRate(hyps, refs), bleu };
  }
}
