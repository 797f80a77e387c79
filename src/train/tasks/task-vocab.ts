// How each task's inputs and outputs become ids and back, and its vocab.json form: the translate
// task's two sides (symbols, or a tokenizer), the classifier's tokenizer and label names, the image
// task's class names and image size. Parsing checks every field, so a damaged file is a message.

import { z } from 'zod';
import { tokenizerFromJSON, TokenizerError, type Tokenizer, type TokenizerJSON } from '../../data/tokenizer.ts';
import { METRIC_UNITS, SymbolVocab, type MetricUnits, type SideCodec } from '../translate-task.ts';
import { CheckpointError } from '../checkpoint-readers.ts';

/** A side encoded by a tokenizer (byte-level BPE): its ids shifted past padding, start and end. */
export class TokenizerCodec implements SideCodec {
  constructor(readonly tokenizer: Tokenizer) {}
  get size(): number {
    return this.tokenizer.vocabSize + 3;
  }
  encode(seq: readonly string[]): number[] {
    return this.tokenizer.encode(seq.join('')).map((id) => id + 3);
  }
  decode(ids: readonly number[]): string[] {
    const end = ids.indexOf(SymbolVocab.EOS);
    const real = (end < 0 ? ids : ids.slice(0, end)).filter((id) => id >= 3).map((id) => id - 3);
    return [...this.tokenizer.decode(real)];
  }
}

export type Side = { kind: 'symbols'; codec: SymbolVocab } | { kind: 'tokenizer'; codec: TokenizerCodec };

export interface TranslateVocab {
  task: 'translate';
  /** What the metrics count; also how outputs print: symbols spaced (phonemes) or joined (text). */
  units: MetricUnits;
  source: Side;
  target: Side;
}

export interface ClassifyVocab {
  task: 'classify';
  tokenizer: Tokenizer;
  labels: string[];
}

export interface ImageVocab {
  task: 'image';
  classNames: string[];
  rows: number;
  cols: number;
}

export type TaskVocab = TranslateVocab | ClassifyVocab | ImageVocab;

function sideJSON(s: Side): unknown {
  switch (s.kind) {
    case 'symbols':
      return { kind: 'symbols', symbols: s.codec.symbols };
    case 'tokenizer':
      return { kind: 'tokenizer', tokenizer: s.codec.tokenizer.toJSON() };
  }
}

export function vocabToJSON(v: TaskVocab): unknown {
  switch (v.task) {
    case 'translate':
      return { task: v.task, units: v.units, source: sideJSON(v.source), target: sideJSON(v.target) };
    case 'classify':
      return { task: v.task, tokenizer: v.tokenizer.toJSON(), labels: v.labels };
    case 'image':
      return { task: v.task, classNames: v.classNames, rows: v.rows, cols: v.cols };
  }
}

const names = z.array(z.string().min(1)).min(1).max(1 << 20);
const distinct = (xs: string[]) => new Set(xs).size === xs.length;
const SideSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('symbols'), symbols: names.refine(distinct, 'symbols must be distinct') }).strict(),
  z.object({ kind: z.literal('tokenizer'), tokenizer: z.unknown() }).strict(),
]);
const VocabSchema = z.discriminatedUnion('task', [
  z.object({ task: z.literal('translate'), units: z.enum(METRIC_UNITS), source: SideSchema, target: SideSchema }).strict(),
  z.object({ task: z.literal('classify'), tokenizer: z.unknown(), labels: names.min(2).refine(distinct, 'labels must be distinct') }).strict(),
  z.object({ task: z.literal('image'), classNames: names.min(2), rows: z.number().int().min(1).max(4096), cols: z.number().int().min(1).max(4096) }).strict(),
]);

const CORRUPT = 'the file is corrupt — choose an earlier checkpoint with --step (resnorm info lists them), or start a new run';

function tokenizerOf(json: unknown, file: string): Tokenizer {
  try {
    return tokenizerFromJSON(json as TokenizerJSON);
  } catch (e) {
    if (e instanceof TokenizerError) throw new CheckpointError(`${file}: ${e.message}; ${CORRUPT}`);
    throw e;
  }
}

/** Reads vocab.json (already parsed as JSON); `file` names it in messages. */
export function vocabFromJSON(json: unknown, file: string): TaskVocab {
  const r = VocabSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new CheckpointError(`${file}: ${issue.path.join('.') || '(top level)'}: ${issue.message}; ${CORRUPT}`);
  }
  const v = r.data;
  const side = (s: z.output<typeof SideSchema>): Side =>
    s.kind === 'symbols' ? { kind: 'symbols', codec: new SymbolVocab(s.symbols) } : { kind: 'tokenizer', codec: new TokenizerCodec(tokenizerOf(s.tokenizer, file)) };
  switch (v.task) {
    case 'translate':
      return { task: 'translate', units: v.units, source: side(v.source), target: side(v.target) };
    case 'classify':
      return { task: 'classify', tokenizer: tokenizerOf(v.tokenizer, file), labels: v.labels };
    case 'image':
      return { task: 'image', classNames: v.classNames, rows: v.rows, cols: v.cols };
  }
}
