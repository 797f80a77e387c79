// `resnorm eval`, `info`, `translate` and `predict` for runs of the tasks besides the language model:
// the held-out split scored with the task's metrics (exact match, error rates and BLEU; accuracy,
// per-class precision, recall and F1, macro and micro averages and the confusion matrix), a run's
// settings, and the model applied to the user's own words, texts or images.

import { readFileSync } from 'node:fs';
import { bestCheckpoint, type RunStore } from '../io/run-store.ts';
import { classificationReport, type ClassificationReport } from '../metrics/classification.ts';
import { Seq2Seq } from '../models/seq2seq.ts';
import { TextClassifier } from '../models/text-classifier.ts';
import { ImageTask, imagesAsInputs } from '../train/image-task.ts';
import type { OtherTask } from '../train/tasks/kinds.ts';
import { loadTaskCheckpoint, TASK_CHECKPOINT_FILES, taskModelOf, type LoadedTaskCheckpoint, type TaskRun } from '../train/tasks/task-run.ts';
import { TextClassifyTask } from '../train/text-classify-task.ts';
import { translateSequences, TranslateTask } from '../train/translate-task.ts';
import { loadIdxImages } from './dataset-files.ts';
import { UserError } from './errors.ts';
import { parseStepFlag } from './run-dir.ts';
import { describeMetrics, describeTaskModel } from './task-describe.ts';
import { buildTask, fittingPairs, loadTaskData, type Split } from './task-data.ts';

/** Examples per forward pass at evaluation and prediction. */
const EVAL_BATCH = 64;

function intFlag(v: string | undefined, flag: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min) throw new UserError(`${flag} must be an integer ≥ ${min}, got '${v}'`);
  return n;
}

export function splitFlag(v: string | undefined): Split {
  if (v === undefined || v === 'val' || v === 'validation') return 'val';
  if (v === 'test') return 'test';
  throw new UserError(`--split must be 'val' or 'test', got '${v}'`);
}

/** The translator's outputs printed as their data spells them: phonemes spaced, text joined. */
const joinerOf = (run: TaskRun) => (run.task === 'translate' && run.vocab.units === 'symbols' ? ' ' : '');

function printReport(report: ClassificationReport, names: readonly string[], n: number): void {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`.padStart(7);
  const w = Math.max(9, ...names.map((s) => s.length));
  console.log(`accuracy    ${(100 * report.accuracy).toFixed(2)}% of ${n.toLocaleString('en-US')}`);
  console.log(`${'class'.padEnd(w)}  precision  recall     F1  support`);
  for (const c of report.perClass) console.log(`${names[c.label].padEnd(w)}  ${pct(c.precision)}  ${pct(c.recall)} ${pct(c.f1)}  ${String(c.support).padStart(7)}`);
  for (const [name, a] of [['macro avg', report.macro], ['micro avg', report.micro], ['weighted', report.weighted]] as const) {
    console.log(`${name.padEnd(w)}  ${pct(a.precision)}  ${pct(a.recall)} ${pct(a.f1)}`);
  }
  console.log('confusion matrix (rows: true class, columns: predicted)');
  const cw = Math.max(5, ...report.confusion.flat().map((x) => String(x).length));
  console.log(`${''.padEnd(w)}  ${report.labels.map((k) => String(k).padStart(cw)).join(' ')}`);
  report.confusion.forEach((row, i) => console.log(`${`${report.labels[i]} ${names[report.labels[i]]}`.slice(0, w).padEnd(w)}  ${row.map((x) => String(x).padStart(cw)).join(' ')}`));
}

async function loadTaskRun(store: RunStore, task: OtherTask, step: string | undefined): Promise<{ ckpt: LoadedTaskCheckpoint; model: ReturnType<typeof taskModelOf> }> {
  const ckpt = await loadTaskCheckpoint(store, task, parseStepFlag(step), { forTraining: false });
  return { ckpt, model: taskModelOf(ckpt) };
}

export async function evalTaskCommand(store: RunStore, task: OtherTask, o: { data?: string; step?: string; split?: string; beam?: string; limit?: string }): Promise<void> {
  const split = splitFlag(o.split);
  const beam = intFlag(o.beam, '--beam', 1);
  const limit = intFlag(o.limit, '--limit', 1);
  const { ckpt, model } = await loadTaskRun(store, task, o.step);
  const run: TaskRun = ckpt.run.task === 'translate' && beam !== undefined ? { ...ckpt.run, train: { ...ckpt.run.train, beam } } : ckpt.run;
  const data = loadTaskData(run, { data: o.data, vocab: run.vocab });
  const { task: built } = buildTask(run, model, data, split);
  const what = `the ${split === 'val' ? 'validation' : 'test'} split of ${data.loaded.source}`;
  console.log(`evaluating the checkpoint of step ${ckpt.entry.step} on ${what}…`);
  if (built instanceof TranslateTask && data.task === 'translate' && run.task === 'translate') {
    const { kept } = fittingPairs(data.loaded.data[split], run.vocab, run.model.maxSource, run.model.maxTarget, split);
    const pairs = limit ? kept.slice(0, limit) : kept;
    const t0 = performance.now();
    const { metrics, hypotheses } = await built.scorePairs(pairs, EVAL_BATCH);
    const j = joinerOf(run);
    console.log(`${pairs.length.toLocaleString('en-US')} pairs, ${run.train.beam > 1 ? `beam search (width ${run.train.beam})` : 'greedy decoding'}, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    for (const [k, v] of Object.entries(metrics)) console.log(`${k.padEnd(20)} ${k === 'bleu' ? v.toFixed(4) : `${(100 * v).toFixed(2)}%`}`);
    console.log('examples:');
    pairs.slice(0, 5).forEach((p, i) => console.log(`  ${p.source.join('')} → ${hypotheses[i].join(j)}   (reference: ${p.target.join(j)})`));
    return;
  }
  if (built instanceof TextClassifyTask && data.task === 'classify' && run.task === 'classify') {
    const texts = data.loaded.data[split];
    const chosen = limit ? texts.slice(0, limit) : texts;
    const r = await built.predictTexts(chosen, EVAL_BATCH);
    console.log(`loss        ${r.loss.toFixed(4)}`);
    printReport(classificationReport(chosen.map((t) => t.label), r.predicted, { labels: run.vocab.labels.map((_, k) => k) }), run.vocab.labels, chosen.length);
    return;
  }
  if (built instanceof ImageTask && data.task === 'image' && run.task === 'image') {
    const set = imagesAsInputs(data.loaded.data[split]);
    const r = await built.predictSet(limit ? { size: set.size, inputs: set.inputs.subarray(0, limit * set.size), labels: set.labels.subarray(0, limit) } : set, EVAL_BATCH);
    const labels = limit ? set.labels.subarray(0, limit) : set.labels;
    console.log(`loss        ${r.loss.toFixed(4)}`);
    printReport(classificationReport(labels, r.predicted, { labels: run.vocab.classNames.map((_, k) => k) }), run.vocab.classNames, labels.length);
    return;
  }
  throw new Error(`eval: no scorer for the ${task} task`);
}

/** The last evaluation logged in metrics.jsonl with task metrics, if any. */
function lastMetrics(store: RunStore): { step: number; metrics: Record<string, number> } | null {
  let text: string;
  try {
    text = readFileSync(store.logPath('metrics.jsonl'), 'utf8');
  } catch {
    return null;
  }
  let last: { step: number; metrics: Record<string, number> } | null = null;
  for (const line of text.split('\n')) {
    try {
      const r = JSON.parse(line) as { step?: unknown; metrics?: unknown };
      if (typeof r.step === 'number' && r.metrics && typeof r.metrics === 'object') last = { step: r.step, metrics: r.metrics as Record<string, number> };
    } catch {
      // a torn last line: the previous record stands
    }
  }
  return last;
}

function describeVocab(run: TaskRun): string {
  switch (run.task) {
    case 'translate': {
      const side = (s: typeof run.vocab.source) => (s.kind === 'symbols' ? `${s.codec.symbols.length} symbols` : `${s.codec.tokenizer.kind} tokenizer of ${s.codec.tokenizer.vocabSize} tokens`);
      return `source ${side(run.vocab.source)}, target ${side(run.vocab.target)}${run.vocab.source === run.vocab.target ? ' (shared)' : ''}; metrics over ${run.vocab.units}`;
    }
    case 'classify':
      return `${run.vocab.tokenizer.kind} tokenizer of ${run.vocab.tokenizer.vocabSize} tokens; labels ${run.vocab.labels.join(', ')}`;
    case 'image':
      return `${run.vocab.rows}×${run.vocab.cols} greyscale; classes ${run.vocab.classNames.join(', ')}`;
  }
}

const DEFAULT_DATA: Record<OtherTask, string> = {
  translate: 'CMU Pronouncing Dictionary, grapheme → phoneme (bundled default)',
  classify: 'SpamAssassin ham vs spam (bundled default)',
  image: "Fashion-MNIST (Debian's dataset-fashion-mnist, the default)",
};

export async function infoTaskCommand(store: RunStore, task: OtherTask): Promise<void> {
  const all = await store.checkpoints();
  const ckpt = await loadTaskCheckpoint(store, task, 'latest', { forTraining: true });
  const model = taskModelOf(ckpt);
  const t = ckpt.run.train;
  const size = (f: string) => `${(ckpt.files.get(f)!.length / 1024).toFixed(1)} KiB`;
  console.log(`run           ${store.dir}`);
  console.log(`task          ${task}`);
  console.log(`data          ${t.data ?? DEFAULT_DATA[task]}`);
  console.log(`vocabulary    ${describeVocab(ckpt.run)}`);
  console.log(`model         ${describeTaskModel(ckpt.run)}`);
  console.log(`parameters    ${model.numParameters().toLocaleString('en-US')}`);
  console.log(`steps         ${ckpt.state.step} of ${t.maxIters}`);
  console.log(`val loss      last ${ckpt.state.lastValLoss?.toFixed(4) ?? '—'}, best ${ckpt.state.bestValLoss?.toFixed(4) ?? '—'}`);
  const m = lastMetrics(store);
  if (m) console.log(`val metrics   ${describeMetrics(m.metrics)} (step ${m.step})`);
  console.log(`optimizer     AdamW lr ${t.lr} → ${t.minLr}, warmup ${t.warmupIters}, decay to step ${t.lrDecayIters ?? t.maxIters}, weight decay ${t.weightDecay}, clip ${t.gradClip}`);
  const best = bestCheckpoint(all);
  console.log(`checkpoints   ${all.length} kept (the last ${t.keepCheckpoints}${t.keepBest ? ' and the best' : ''}); evaluate one with --step N`);
  for (const e of all) {
    const tags = [e === best ? 'best' : '', e === all[all.length - 1] ? 'latest' : ''].filter(Boolean).join(', ');
    console.log(`  step ${String(e.step).padStart(7)}  val loss ${e.valLoss?.toFixed(4) ?? '—     '}  ${e.savedAt.slice(0, 19).replace('T', ' ')}  ${e.dir}${tags ? `  (${tags})` : ''}`);
  }
  console.log(`files         ${TASK_CHECKPOINT_FILES.map((f) => `${f} ${size(f)}`).join(', ')} (latest)`);
  console.log(`config        ${JSON.stringify(t)}`);
}

/** Lines given as arguments, or else read from stdin (one per line, blank lines skipped). */
function inputLines(args: readonly string[], what: string): string[] {
  const lines = args.length > 0 ? [...args] : readFileSync(0, 'utf8').split(/\r?\n/);
  const kept = lines.map((l) => l.trim()).filter((l) => l.length > 0);
  if (kept.length === 0) throw new UserError(`no ${what} given: pass them as arguments, or one per line on stdin`);
  return kept;
}

export async function translateCommand(store: RunStore, task: OtherTask, args: string[], o: { beam?: string; step?: string }): Promise<void> {
  if (task !== 'translate') throw new UserError(`${store.dir} is a ${task} run; resnorm translate needs a run of --task translate (for ${task === 'image' ? 'images' : 'texts'}, use resnorm predict)`);
  const beam = intFlag(o.beam, '--beam', 1) ?? 1;
  const { ckpt, model } = await loadTaskRun(store, task, o.step);
  const run = ckpt.run;
  if (run.task !== 'translate' || !(model instanceof Seq2Seq)) throw new Error('translate: not a translation run');
  const lines = inputLines(args, 'sources');
  // CMUdict's words are lowercase letters; a text side is translated as written.
  const sources = lines.map((l) => (run.vocab.units === 'symbols' ? [...l.toLowerCase()] : [...l]));
  const out = await translateSequences(model, { source: run.vocab.source.codec, target: run.vocab.target.codec, beam }, sources, EVAL_BATCH);
  const j = joinerOf(run);
  lines.forEach((l, i) => console.log(args.length === 1 && lines.length === 1 ? out[i].join(j) : `${l}\t${out[i].join(j)}`));
}

export async function predictCommand(store: RunStore, task: OtherTask, args: string[], o: { images?: string; limit?: string; step?: string }): Promise<void> {
  if (task === 'translate') throw new UserError(`${store.dir} is a translate run; use resnorm translate ${store.dir} …`);
  const { ckpt, model } = await loadTaskRun(store, task, o.step);
  const run = ckpt.run;
  if (run.task === 'classify' && model instanceof TextClassifier) {
    if (o.images) throw new UserError('--images is for image runs; this run classifies texts: pass them as arguments or on stdin');
    const lines = inputLines(args, 'texts');
    const tok = run.vocab.tokenizer;
    // Unlabelled texts: label 0 for each, whose loss is not read.
    const texts = lines.map((text, i) => ({ id: `text ${i + 1}`, text, label: 0 }));
    const t = new TextClassifyTask(model, { train: texts, val: texts }, { encode: (x) => tok.encode(x), clsId: run.model.pooling === 'cls' ? tok.vocabSize : undefined });
    const r = await t.predictTexts(texts, EVAL_BATCH);
    lines.forEach((l, i) => console.log(`${run.vocab.labels[r.predicted[i]]}\t${r.probability[i].toFixed(3)}\t${l.length > 70 ? `${l.slice(0, 70)}…` : l}`));
    return;
  }
  if (run.task === 'image') {
    if (args.length > 0) throw new UserError(`an image run reads its images from --images FILE (an IDX images file), not from arguments (got ${args.length})`);
    if (!o.images) throw new UserError('an image run predicts the images of an IDX file: pass --images FILE (…-images-idx3-ubyte, plain or .gz)');
    const limit = intFlag(o.limit, '--limit', 1);
    const set = loadIdxImages(o.images, run.vocab.rows, run.vocab.cols);
    const inputs = imagesAsInputs(set);
    const n = Math.min(limit ?? set.count, set.count);
    const t = new ImageTask(model as never, { train: inputs, val: inputs }, run.train.model === 'mlp' ? [set.rows * set.cols] : [1, set.rows, set.cols]);
    const r = await t.predictSet({ size: inputs.size, inputs: inputs.inputs.subarray(0, n * inputs.size), labels: inputs.labels.subarray(0, n) }, EVAL_BATCH);
    for (let i = 0; i < n; i++) console.log(`${i}\t${run.vocab.classNames[r.predicted[i]]}\t${r.probability[i].toFixed(3)}`);
    return;
  }
  throw new Error(`predict: no predictor for the ${task} task`);
}
