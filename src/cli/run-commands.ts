// `resnorm sample`, `resnorm eval` and `resnorm info`: commands that read a finished (or running) run.

import { splitTrainVal } from '../data/corpus.ts';
import { bestCheckpoint, type RunStore } from '../io/run-store.ts';
import { taskOfRunKind, type Task } from '../train/tasks/kinds.ts';
import { evalTaskCommand, infoTaskCommand, predictCommand as predictTaskCommand, translateCommand as translateTaskCommand } from './task-commands.ts';
import { promptFor } from '../data/tokenizer.ts';
import { generate } from '../models/generate.ts';
import { evaluateText } from '../train/evaluate.ts';
import { CHECKPOINT_FILES } from '../train/checkpoint.ts';
import { loadCheckpoint, modelOf } from '../train/run-checkpoints.ts';
import { loadCorpus, runDataPath } from './corpus-files.ts';
import { UserError } from './errors.ts';
import { loadForInference, openRun } from './run-dir.ts';
import { describeDesign } from '../nn/design.ts';

function num(v: string, flag: string, integer = false): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new UserError(`${flag} must be ${integer ? 'an integer' : 'a number'}, got '${v}'`);
  return n;
}

/** The run's task, from run.json; the other tasks' runs go to their own commands. */
async function openWithTask(dir: string): Promise<{ store: RunStore; task: Task }> {
  const store = await openRun(dir);
  return { store, task: taskOfRunKind(store.kind) };
}

export async function sampleCommand(dir: string, o: { prompt?: string; tokens: string; temperature: string; topK: string; topP: string; seed: string; step?: string }): Promise<void> {
  const { task } = await openWithTask(dir);
  if (task !== 'lm') throw new UserError(`${dir} is a ${task} run; resnorm sample generates from language models — use resnorm ${task === 'translate' ? 'translate' : 'predict'} ${dir}`);
  const { ckpt: run, model } = await loadForInference(dir, o.step);
  // Without --prompt, start from a newline (or a space) when the vocabulary has one: a text with
  // neither would refuse a fixed default.
  const promptText = o.prompt ?? run.tokenizer.decode(promptFor(run.tokenizer, ''));
  const prompt = run.tokenizer.encode(promptText);
  if (prompt.length === 0) throw new UserError('--prompt encodes to no tokens; give at least one character');
  process.stdout.write(promptText);
  const ids: number[] = [];
  let printed = 0;
  await generate(model, prompt, {
    maxNewTokens: num(o.tokens, '--tokens', true),
    temperature: num(o.temperature, '--temperature'),
    topK: num(o.topK, '--top-k', true),
    topP: num(o.topP, '--top-p'),
    seed: num(o.seed, '--seed', true),
    onToken: (id) => {
      ids.push(id);
      // Byte-level tokens can end inside a character: print only what decodes completely.
      const text = run.tokenizer.decode(ids);
      const safe = text.endsWith('\uFFFD') ? text.slice(0, -1) : text;
      if (safe.length > printed) {
        process.stdout.write(safe.slice(printed));
        printed = safe.length;
      }
    },
  });
  const text = run.tokenizer.decode(ids);
  process.stdout.write(text.slice(printed) + '\n');
}

export async function evalCommand(dir: string, o: { data?: string; step?: string; split?: string; beam?: string; limit?: string }): Promise<void> {
  const { store, task } = await openWithTask(dir);
  if (task !== 'lm') return evalTaskCommand(store, task, o);
  if (o.split !== undefined && o.split !== 'val') throw new UserError(`--split ${o.split}: a language-model run has a validation split only (or pass --data FILE)`);
  if (o.beam !== undefined || o.limit !== undefined) throw new UserError(`--${o.beam !== undefined ? 'beam' : 'limit'} is for the other tasks' runs; ${dir} is a language model`);
  const { ckpt: run, model } = await loadForInference(dir, o.step);
  const corpus = loadCorpus(o.data ?? runDataPath(run.config.train.data, dir));
  const ids = Int32Array.from(run.tokenizer.encode(corpus.text));
  const evalIds = o.data ? ids : splitTrainVal(ids, run.config.train.valFraction).val;
  const what = o.data ? corpus.source : `the validation split of ${corpus.source}`;
  console.log(`evaluating the checkpoint of step ${run.entry.step} on ${evalIds.length.toLocaleString('en-US')} tokens of ${what}…`);
  const r = await evaluateText(model, evalIds, run.config.train.batchSize, (done, total) => {
    if (process.stdout.isTTY) process.stdout.write(`\r${done}/${total} windows`);
  });
  if (process.stdout.isTTY) process.stdout.write('\r\x1b[K');
  const chars = [...run.tokenizer.decode(Array.from(evalIds.subarray(1)))].length;
  console.log(`loss        ${r.loss.toFixed(4)} nats/token over ${r.tokens.toLocaleString('en-US')} predicted tokens`);
  console.log(`perplexity  ${r.perplexity.toFixed(3)}`);
  console.log(`bits/token  ${r.bitsPerToken.toFixed(4)}`);
  console.log(`bits/char   ${((r.loss * r.tokens) / Math.LN2 / chars).toFixed(4)}`);
}

export async function infoCommand(dir: string): Promise<void> {
  const { store, task } = await openWithTask(dir);
  if (task !== 'lm') return infoTaskCommand(store, task);
  const all = await store.checkpoints();
  // Every file is read (not stat'ed): a trainer running now may prune this checkpoint at any moment.
  const run = await loadCheckpoint(store, 'latest', { forTraining: true });
  const model = modelOf(run);
  const t = run.config.train;
  const m = run.config.model;
  const size = (f: string) => `${(run.files.get(f)!.length / 1024).toFixed(1)} KiB`;
  console.log(`run           ${dir}`);
  console.log('task          lm');
  console.log(`data          ${t.data ?? 'Moby-Dick (bundled default)'}`);
  console.log(`tokenizer     ${run.tokenizer.kind}, ${run.tokenizer.vocabSize} tokens`);
  console.log(`model         ${m.nLayer} layers, ${m.nHead} heads, width ${m.nEmbd}, block ${m.blockSize}, ${describeDesign(m)}, ${m.positional} positions, ${m.tieWeights ? 'tied' : 'untied'} head`);
  console.log(`parameters    ${model.numParameters().toLocaleString('en-US')}`);
  console.log(`steps         ${run.state.step} of ${t.maxIters}`);
  console.log(`val loss      last ${run.state.lastValLoss?.toFixed(4) ?? '—'}, best ${run.state.bestValLoss?.toFixed(4) ?? '—'}`);
  console.log(`optimizer     AdamW lr ${t.lr} → ${t.minLr}, warmup ${t.warmupIters}, decay to step ${t.lrDecayIters ?? t.maxIters}, weight decay ${t.weightDecay}, clip ${t.gradClip}`);
  const best = bestCheckpoint(all);
  console.log(`checkpoints   ${all.length} kept (the last ${t.keepCheckpoints}${t.keepBest ? ' and the best' : ''}); sample or eval one with --step N`);
  for (const e of all) {
    const tags = [e === best ? 'best' : '', e === all[all.length - 1] ? 'latest' : ''].filter(Boolean).join(', ');
    console.log(`  step ${String(e.step).padStart(7)}  val loss ${e.valLoss?.toFixed(4) ?? '—     '}  ${e.savedAt.slice(0, 19).replace('T', ' ') || '(format-1 run)'}  ${e.dir}${tags ? `  (${tags})` : ''}`);
  }
  console.log(`files         ${CHECKPOINT_FILES.map((f) => `${f} ${size(f)}`).join(', ')} (latest)`);
  console.log(`config        ${JSON.stringify(t)}`);
}

export async function translateCommand(dir: string, sources: string[], o: { beam?: string; step?: string }): Promise<void> {
  const { store, task } = await openWithTask(dir);
  if (task === 'lm') throw new UserError(`${dir} is a language model; resnorm translate needs a run of --task translate (generate text with resnorm sample)`);
  return translateTaskCommand(store, task, sources, o);
}

export async function predictCommand(dir: string, texts: string[], o: { images?: string; limit?: string; step?: string }): Promise<void> {
  const { store, task } = await openWithTask(dir);
  if (task === 'lm') throw new UserError(`${dir} is a language model; resnorm predict needs a run of --task classify or image (generate text with resnorm sample)`);
  return predictTaskCommand(store, task, texts, o);
}
