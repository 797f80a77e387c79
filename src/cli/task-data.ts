// The data of the tasks besides the language model, on the command line: load the task's dataset
// (the bundled default or --data), make a new run's vocabulary from its training split, and build the
// TrainTask that trains and evaluates the run's model on it. Every problem with the data is a
// one-line UserError (dataset-files.ts).

import { trainBpe } from '../data/bpe-tokenizer.ts';
import { CharTokenizer } from '../data/char-tokenizer.ts';
import type { ImageDataset, LabelledText, Pair, PairDataset, TextClassificationDataset } from '../data/datasets/types.ts';
import { Seq2Seq } from '../models/seq2seq.ts';
import { TextClassifier } from '../models/text-classifier.ts';
import { ImageTask, imagesAsInputs, type ClassifierModel } from '../train/image-task.ts';
import type { TaskModel, TrainTask } from '../train/task.ts';
import type { ClassifyConfig } from '../train/tasks/classify-config.ts';
import type { ImageConfig } from '../train/tasks/image-config.ts';
import type { TaskRun } from '../train/tasks/task-run.ts';
import { TokenizerCodec, type ClassifyVocab, type ImageVocab, type Side, type TranslateVocab } from '../train/tasks/task-vocab.ts';
import type { TranslateConfig } from '../train/tasks/translate-config.ts';
import { TextClassifyTask } from '../train/text-classify-task.ts';
import { SymbolVocab, TranslateTask } from '../train/translate-task.ts';
import { CMUDICT_SOURCE, loadCmudict, loadImages, loadLabelledTsv, loadParallelTsv, loadSpamAssassin, type Loaded } from './dataset-files.ts';
import { UserError } from './errors.ts';

/** BPE learns its merges from at most this much training text: enough for a 1k–8k vocabulary, seconds not minutes. */
const BPE_TRAINING_CHARS = 4_000_000;

export type TaskData =
  | { task: 'translate'; loaded: Loaded<PairDataset> }
  | { task: 'classify'; loaded: Loaded<TextClassificationDataset> }
  | { task: 'image'; loaded: Loaded<ImageDataset> };

/** The run's dataset: `--data` (for eval, another file) or the task's bundled default. */
export function loadTaskData(run: Pick<TaskRun, 'task'> & { train: { data?: string } }, o: { data?: string; vocab?: TaskRun['vocab'] } = {}): TaskData {
  const data = o.data ?? run.train.data;
  switch (run.task) {
    case 'translate':
      return { task: 'translate', loaded: data === undefined ? loadCmudict() : loadParallelTsv(data) };
    case 'classify': {
      const labels = o.vocab?.task === 'classify' ? { labels: o.vocab.labels } : {};
      return { task: 'classify', loaded: data === undefined ? loadSpamAssassin() : loadLabelledTsv(data, labels) };
    }
    case 'image': {
      const v = o.vocab?.task === 'image' ? o.vocab : null;
      const opts = { valFraction: (run.train as ImageConfig).valFraction, ...(v ? { rows: v.rows, cols: v.cols, classNames: v.classNames } : {}) };
      return { task: 'image', loaded: loadImages(data, opts) };
    }
  }
}

function symbolsSide(symbols: string[]): Side {
  return { kind: 'symbols', codec: new SymbolVocab(symbols) };
}

function textOf(pairs: readonly Pair[], side: 'source' | 'target'): string {
  let text = '';
  for (const p of pairs) {
    if (text.length > BPE_TRAINING_CHARS) break;
    text += p[side].join('') + '\n';
  }
  return text;
}

export function newTranslateVocab(c: TranslateConfig, d: Loaded<PairDataset>): TranslateVocab {
  const units = d.source === CMUDICT_SOURCE ? 'symbols' : 'words';
  if (c.vocab === 'symbols') return { task: 'translate', units, source: symbolsSide(d.data.sourceSymbols), target: symbolsSide(d.data.targetSymbols) };
  console.log(`training ${c.sharedVocab ? 'one byte-level BPE vocabulary' : 'a byte-level BPE vocabulary per side'} of ${c.bpeVocabSize} tokens…`);
  if (c.sharedVocab) {
    const side: Side = { kind: 'tokenizer', codec: new TokenizerCodec(trainBpe(textOf(d.data.train, 'source') + textOf(d.data.train, 'target'), c.bpeVocabSize)) };
    return { task: 'translate', units, source: side, target: side };
  }
  const side = (s: 'source' | 'target'): Side => ({ kind: 'tokenizer', codec: new TokenizerCodec(trainBpe(textOf(d.data.train, s), c.bpeVocabSize)) });
  return { task: 'translate', units, source: side('source'), target: side('target') };
}

export function newClassifyVocab(c: ClassifyConfig, d: Loaded<TextClassificationDataset>): ClassifyVocab {
  const { train, val, test, labels } = d.data;
  if (c.tokenizer === 'char') {
    // Every split's characters, as the language model's vocabulary covers its whole corpus.
    return { task: 'classify', tokenizer: CharTokenizer.fromText([...train, ...val, ...test].map((t) => t.text).join('\n')), labels };
  }
  console.log(`training a byte-level BPE vocabulary of ${c.bpeVocabSize} tokens…`);
  let text = '';
  for (const t of train) {
    if (text.length > BPE_TRAINING_CHARS) break;
    text += t.text + '\n';
  }
  return { task: 'classify', tokenizer: trainBpe(text, c.bpeVocabSize), labels };
}

export function newImageVocab(d: Loaded<ImageDataset>): ImageVocab {
  return { task: 'image', classNames: d.data.classNames, rows: d.data.train.rows, cols: d.data.train.cols };
}

/** A new run's vocabulary, from its data. */
export function newVocab(train: TaskRun['train'], d: TaskData): TaskRun['vocab'] {
  switch (d.task) {
    case 'translate':
      return newTranslateVocab(train as TranslateConfig, d.loaded);
    case 'classify':
      return newClassifyVocab(train as ClassifyConfig, d.loaded);
    case 'image':
      return newImageVocab(d.loaded);
  }
}

/** Pairs the model can take (source 1…maxSource symbols, target with its end ≤ maxTarget), and how many were not. */
export function fittingPairs(pairs: readonly Pair[], v: TranslateVocab, maxSource: number, maxTarget: number, what: string): { kept: Pair[]; dropped: number } {
  const kept = pairs.filter((p, i) => {
    const name = `${what} pair ${i + 1} (${p.source.join('')})`;
    const s = v.source.codec.encode(p.source, name).length;
    return s >= 1 && s <= maxSource && v.target.codec.encode(p.target, name).length + 1 <= maxTarget;
  });
  return { kept, dropped: pairs.length - kept.length };
}

/** The texts of a split as the classifier task reads them. */
export type Split = 'val' | 'test';

export interface BuiltTask {
  task: TrainTask<TaskModel>;
  /** Lines about the data for the console. */
  summary: string[];
}

/** The TrainTask of a run's model on its data (`split`: what evaluation reads as the validation split; training uses 'val'). */
export function buildTask(run: TaskRun, model: TaskModel, d: TaskData, split: Split = 'val'): BuiltTask {
  switch (run.task) {
    case 'translate': {
      if (d.task !== 'translate' || !(model instanceof Seq2Seq)) throw new Error('buildTask: the data or the model is not a translation one');
      const { maxSource, maxTarget } = run.model;
      const train = fittingPairs(d.loaded.data.train, run.vocab, maxSource, maxTarget, 'training');
      const held = fittingPairs(d.loaded.data[split], run.vocab, maxSource, maxTarget, split === 'val' ? 'validation' : 'test');
      if (held.kept.length === 0) throw new UserError(`no ${split === 'val' ? 'validation' : 'test'} pair of ${d.loaded.source} fits maxSource = ${maxSource}, maxTarget = ${maxTarget}; raise them`);
      const summary = [`${train.kept.length.toLocaleString('en-US')} training / ${held.kept.length.toLocaleString('en-US')} ${split === 'val' ? 'validation' : 'test'} pairs`];
      if (train.dropped + held.dropped > 0) summary.push(`left out ${train.dropped} training and ${held.dropped} held-out pairs longer than maxSource = ${maxSource} / maxTarget = ${maxTarget} (with the end token)`);
      const task = new TranslateTask(model, { train: train.kept.length > 0 ? train.kept : held.kept, val: held.kept }, {
        source: run.vocab.source.codec, target: run.vocab.target.codec, units: run.vocab.units, beam: run.train.beam, decodePairs: run.train.decodePairs,
      });
      return { task, summary };
    }
    case 'classify': {
      if (d.task !== 'classify' || !(model instanceof TextClassifier)) throw new Error('buildTask: the data or the model is not a classification one');
      const { train, labels } = d.loaded.data;
      const held: LabelledText[] = d.loaded.data[split];
      if (held.length === 0) throw new UserError(`${d.loaded.source} has no ${split === 'val' ? 'validation' : 'test'} texts; give a file with more lines`);
      const tok = run.vocab.tokenizer;
      const task = new TextClassifyTask(model, { train: train.length > 0 ? train : held, val: held }, { encode: (t) => tok.encode(t), clsId: run.model.pooling === 'cls' ? tok.vocabSize : undefined });
      const counts = d.loaded.data.counts;
      return {
        task,
        summary: [
          `${train.length.toLocaleString('en-US')} training / ${held.length.toLocaleString('en-US')} ${split === 'val' ? 'validation' : 'test'} texts; labels ${labels.map((l, k) => `${l} (${counts.train[k]} / ${counts[split][k]})`).join(', ')}`,
          `texts longer than ${run.model.maxLen} tokens keep their first ${run.model.maxLen}: ${task.truncated} of them`,
        ],
      };
    }
    case 'image': {
      if (d.task !== 'image') throw new Error('buildTask: the data is not an image one');
      const { rows, cols } = run.vocab;
      const inputShape = run.train.model === 'mlp' ? [rows * cols] : [1, rows, cols];
      const train = imagesAsInputs(d.loaded.data.train);
      const held = imagesAsInputs(d.loaded.data[split]);
      const task = new ImageTask(model as ClassifierModel, { train, val: held }, inputShape);
      return { task, summary: [`${train.labels.length.toLocaleString('en-US')} training / ${held.labels.length.toLocaleString('en-US')} ${split === 'val' ? 'validation' : 'test'} images of ${rows}×${cols}; classes ${run.vocab.classNames.join(', ')}`] };
    }
  }
}
