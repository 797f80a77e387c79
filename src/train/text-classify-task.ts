// Text classification (ham vs spam, sentiment, any labelled TSV): texts as token ids padded to one
// length with their mask (one shape, so the training step is captured once), the classifier's
// cross-entropy, and at evaluation the loss and classification metrics (accuracy, per-class and macro
// F1, scikit-learn's definitions: src/metrics) over the whole validation split.

import type { LabelledText } from '../data/datasets/types.ts';
import { classificationReport } from '../metrics/classification.ts';
import type { TextClassifier } from '../models/text-classifier.ts';
import { Rng } from '../tensor/rng.ts';
import { tensor, type Tensor } from '../tensor/tensor.ts';
import { classificationLoss, lossAndPredictions, type Predictions } from './classification.ts';
import type { HostInput } from './step.ts';
import type { TaskEvaluation, TaskProbe, TrainTask } from './task.ts';

/** A text as the classifier reads it: at most maxLen token ids (the class token first, with 'cls' pooling). */
interface EncodedText {
  ids: Int32Array;
  label: number;
}

export interface TextClassifyOptions {
  /** Token ids of a text (a tokenizer's encode). Ids must be below the model's vocabulary (and the class token). */
  encode: (text: string) => number[];
  /** The class token's id, prepended to every text when the model pools at position 0. */
  clsId?: number;
}

export class TextClassifyTask implements TrainTask<TextClassifier> {
  readonly loss;
  private readonly train: EncodedText[];
  private readonly val: EncodedText[];
  /** Texts longer than the model's maxLen keep their first maxLen tokens. */
  readonly truncated: number;
  private readonly encodeText: (text: string, what: string) => Int32Array;

  constructor(
    readonly model: TextClassifier,
    data: { train: LabelledText[]; val: LabelledText[] },
    o: TextClassifyOptions,
  ) {
    const { maxLen, pooling } = model.config;
    if (pooling === 'cls' && o.clsId === undefined) throw new Error("TextClassifyTask: 'cls' pooling needs the class token's id (clsId)");
    let truncated = 0;
    this.encodeText = (text, what) => {
      const ids = pooling === 'cls' ? [o.clsId!, ...o.encode(text)] : o.encode(text);
      if (ids.length === 0) throw new RangeError(`${what}: the text has no tokens; every text needs at least one`);
      if (ids.length > maxLen) truncated++;
      return Int32Array.from(ids.slice(0, maxLen));
    };
    const encodeAll = (texts: LabelledText[], split: string) => {
      if (texts.length === 0) throw new RangeError(`the ${split} split has no texts`);
      return texts.map((t) => this.encodeLabelled(t));
    };
    this.train = encodeAll(data.train, 'training');
    this.val = encodeAll(data.val, 'validation');
    this.truncated = truncated;
    this.loss = ([ids, mask, labels]: readonly Tensor[]) => this.lossOf(ids, mask, labels);
  }

  private encodeLabelled(t: LabelledText): EncodedText {
    const classes = this.model.config.classes;
    if (!(Number.isInteger(t.label) && t.label >= 0 && t.label < classes)) throw new RangeError(`${t.id}: label ${t.label} is outside the model's ${classes} classes`);
    return { ids: this.encodeText(t.text, t.id), label: t.label };
  }

  /**
   * Every text in order, in batches of `B`: the mean loss against their labels, and each one's class
   * and its probability. Texts without a label (prediction) pass label 0 and ignore the loss.
   */
  predictTexts(texts: readonly LabelledText[], B: number): Promise<Predictions> {
    const encoded = texts.map((t) => this.encodeLabelled(t));
    const batches: EncodedText[][] = [];
    for (let i = 0; i < encoded.length; i += B) batches.push(encoded.slice(i, i + B));
    return this.score(batches);
  }

  /** The diagnostics' probe: `n` validation texts drawn with `seed`, through the classifier's logits. */
  probe(n: number, seed: number): TaskProbe {
    const rng = new Rng(seed);
    const texts = Array.from({ length: Math.min(n, this.val.length) }, () => this.val[rng.int(this.val.length)]);
    const [ids, mask] = this.batch(texts);
    const be = this.model.backend;
    const T = this.model.config.maxLen;
    return {
      probe: { ids: ids.data as Int32Array, sequences: texts.length, length: T, source: 'validation split', seed },
      forward: () => this.model.logits(tensor(ids.data, ids.shape, { backend: be }), tensor(mask.data, mask.shape, { backend: be })),
    };
  }

  private lossOf(ids: Tensor, mask: Tensor, labels: Tensor): Tensor {
    return classificationLoss(this.model.logits(ids, mask), labels);
  }

  trainBatch(rng: Rng, B: number): HostInput[] {
    return this.batch(Array.from({ length: B }, () => this.train[rng.int(this.train.length)]));
  }

  /** ids (B, maxLen) padded with 0, mask (B, maxLen), labels (B). */
  private batch(texts: EncodedText[]): HostInput[] {
    const T = this.model.config.maxLen;
    const B = texts.length;
    const ids = new Int32Array(B * T);
    const mask = new Float32Array(B * T);
    texts.forEach((t, b) => {
      ids.set(t.ids, b * T);
      mask.fill(1, b * T, b * T + t.ids.length);
    });
    return [
      { data: ids, shape: [B, T] },
      { data: mask, shape: [B, T] },
      { data: Int32Array.from(texts, (t) => t.label), shape: [B] },
    ];
  }

  /** Train loss over `iters` random batches (seeded); validation loss and metrics over the whole split. */
  async evaluate(batchSize: number, iters: number, seed: number): Promise<TaskEvaluation> {
    const rng = new Rng(seed + 1);
    const trainBatches = Array.from({ length: iters }, () => Array.from({ length: batchSize }, () => this.train[rng.int(this.train.length)]));
    const valBatches: EncodedText[][] = [];
    for (let i = 0; i < this.val.length; i += batchSize) valBatches.push(this.val.slice(i, i + batchSize));
    const train = await this.score(trainBatches);
    const val = await this.score(valBatches);
    const report = classificationReport(val.labels, val.predicted, { labels: Array.from({ length: this.model.config.classes }, (_, k) => k) });
    const metrics: Record<string, number> = { accuracy: report.accuracy, macroF1: report.macro.f1 };
    for (const c of report.perClass) metrics[`f1.${c.label}`] = c.f1;
    return { trainLoss: train.loss, valLoss: val.loss, metrics };
  }

  /** Mean loss (weighted by batch size), and every text's label and predicted class. */
  private score(batches: EncodedText[][]): Promise<Predictions & { labels: number[] }> {
    const be = this.model.backend;
    return this.model.inEvalMode(async () => {
      let loss = 0;
      let n = 0;
      const labels: number[] = [];
      const predicted: number[] = [];
      const probability: number[] = [];
      for (const texts of batches) {
        const [ids, mask, y] = this.batch(texts);
        const r = await lossAndPredictions(be, () => this.model.logits(tensor(ids.data, ids.shape, { backend: be }), tensor(mask.data, mask.shape, { backend: be })), y.data as Int32Array);
        loss += r.loss * texts.length;
        n += texts.length;
        labels.push(...texts.map((t) => t.label));
        predicted.push(...r.predicted);
        probability.push(...r.probability);
      }
      return { loss: loss / n, labels, predicted: Int32Array.from(predicted), probability: Float32Array.from(probability) };
    });
  }
}
