// `resnorm import-gpt2 DIR [--out RUN]` and `resnorm export-gpt2 RUN OUT`: Hugging Face GPT-2 model
// directories in and out (docs/gpt2.md). These read and write the files; gpt2-run.ts converts.

import type { Command } from 'commander';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GPT2_INPUT_FILES, importGpt2Config, type Gpt2InputFiles } from '../io/gpt2/gpt2-import.ts';
import { GPT2_EXPORT_DTYPES, GPT2_OUTPUT_FILES, type Gpt2ExportDType } from '../io/gpt2/gpt2-export.ts';
import { Gpt2FormatError } from '../io/gpt2/gpt2-error.ts';
import { fsErrorCode } from '../io/run-fs.ts';
import { describeFsError, type RunStore } from '../io/run-store.ts';
import { describeDesign } from '../nn/design.ts';
import { MAX_CHECKPOINT_PARAMETERS } from '../train/checkpoint-readers.ts';
import { loadCheckpoint } from '../train/run-checkpoints.ts';
import { UserError } from './errors.ts';
import { gpt2ToRun, runToGpt2, type Gpt2Run } from './gpt2-run.ts';
import { openRun, parseStepFlag, timestampDir, withFsErrors } from './run-dir.ts';
import { createRun, refuseUnusableOut } from './run-open.ts';
import { withoutBackend } from './backend-free.ts';

export interface ImportGpt2Options {
  out?: string;
  dropout?: string;
}

export interface ExportGpt2Options {
  step?: string;
  dtype: string;
}

export function registerGpt2Commands(program: Command): void {
  withoutBackend(program.command('import-gpt2'))
    .description('make a run from a Hugging Face GPT-2 model directory (config.json, model.safetensors, vocab.json + merges.txt or tokenizer.json), to sample, evaluate or fine-tune (docs/gpt2.md)')
    .argument('<dir>', 'the GPT-2 model directory')
    .option('--out <dir>', 'run directory (default runs/<timestamp>)')
    .option('--dropout <p>', "the run's dropout, for fine-tuning (default: config.json's resid_pdrop)")
    .action((dir: string, opts: ImportGpt2Options) => importGpt2Command(dir, opts));
  withoutBackend(program.command('export-gpt2'))
    .description("write a run's checkpoint as a Hugging Face GPT-2 model directory (config.json, model.safetensors, vocab.json, merges.txt); only GPT-2's design can be written (docs/gpt2.md)")
    .argument('<run-dir>', 'a run directory written by resnorm train or import-gpt2')
    .argument('<out>', 'the directory to write, new or empty')
    .option('--step <n>', "the checkpoint to export: a step number, 'latest' or 'best'", 'latest')
    .option('--dtype <type>', `the weights' type in model.safetensors (${GPT2_EXPORT_DTYPES.map((d) => d.toLowerCase()).join('|')}); f32 keeps them exact`, 'f32')
    .action((runDir: string, out: string, opts: ExportGpt2Options) => exportGpt2Command(runDir, out, opts));
}

/** The conversion's refusals, as the CLI's user errors. */
async function userFacing<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw e instanceof Gpt2FormatError ? new UserError(e.message) : e;
  }
}

async function kindOf(path: string): Promise<'file' | 'dir' | null> {
  try {
    return (await stat(path)).isDirectory() ? 'dir' : 'file';
  } catch (e) {
    if (fsErrorCode(e) === 'ENOENT') return null;
    throw new UserError(`cannot read ${path}: ${describeFsError(e)}`);
  }
}

/** The directory's GPT-2 files that exist, and every name in it (for messages about missing files). */
async function readGpt2Dir(dir: string): Promise<{ files: Gpt2InputFiles; present: string[] }> {
  const what = await kindOf(dir);
  if (what === null) throw new UserError(`${dir}: no such directory; pass a GPT-2 model directory (config.json, model.safetensors, vocab.json, merges.txt)`);
  if (what === 'file') throw new UserError(`${dir} is a file; pass the GPT-2 model directory that holds it`);
  const present = await withFsErrors(`cannot read ${dir}`, 'check its permissions', () => readdir(dir));
  const files: Gpt2InputFiles = {};
  const read = async (name: (typeof GPT2_INPUT_FILES)[number]) => {
    if (present.includes(name)) files[name] = await withFsErrors(`cannot read ${join(dir, name)}`, 'check its permissions', async () => new Uint8Array(await readFile(join(dir, name))));
  };
  for (const name of GPT2_INPUT_FILES) if (name !== 'model.safetensors') await read(name);
  // A model too large for a run is refused from its config.json, before its weights are read.
  await userFacing(() => importGpt2Config(files, dir, { maxParameters: MAX_CHECKPOINT_PARAMETERS }));
  await read('model.safetensors');
  return { files, present };
}

function parseDropout(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const p = Number(v);
  if (v.trim() === '' || !(p >= 0 && p < 1)) throw new UserError(`--dropout must be a probability in [0, 1), got '${v}'`);
  return p;
}

/**
 * What `import-gpt2` does before it prints: reads `dir`, converts it, and commits the checkpoint to a
 * new run at `out` under its lock (the bench times this).
 */
export async function importGpt2Dir(dir: string, out: string, opts: { dropout?: number } = {}): Promise<{ run: Gpt2Run; store: RunStore }> {
  await refuseUnusableOut(out); // said before a large model is read
  const { files, present } = await readGpt2Dir(dir);
  const run = await userFacing(() => gpt2ToRun(files, dir, { dropout: opts.dropout, present }));
  const { store, lock } = await createRun(out);
  try {
    await store.commit(run.files, { step: 0, valLoss: null }, { last: run.train.keepCheckpoints, best: run.train.keepBest });
  } finally {
    lock.release();
  }
  return { run, store };
}

export async function importGpt2Command(dir: string, opts: ImportGpt2Options): Promise<void> {
  const { run, store } = await importGpt2Dir(dir, opts.out ?? timestampDir(), { dropout: parseDropout(opts.dropout) });
  const { model, tokenizer, tokenizerSource, dtypes, notes } = run.imported;
  const eot = tokenizer.specials.length > 0 ? `, special ${tokenizer.specials.map((s, i) => `${s} = ${tokenizer.vocabSize - tokenizer.specials.length + i}`).join(', ')}` : '';
  console.log(`read ${dir}: GPT-2, ${model.nLayer} layers, ${model.nHead} heads, width ${model.nEmbd}, block ${model.blockSize}, vocabulary ${model.vocabSize}; weights ${dtypes.join('/')}`);
  console.log(`tokenizer: byte-level BPE from ${tokenizerSource}, ${tokenizer.merges.length} merges${eot}`);
  console.log(`model: ${describeDesign(model)}, GELU ${model.activation === 'gelu-tanh' ? 'tanh approximation' : 'exact'}, learned positions, ${model.tieWeights ? 'head tied to wte' : 'untied head (lm_head)'}, dropout ${model.dropout}; ${run.parameters.toLocaleString('en-US')} parameters`);
  for (const n of notes) console.log(`note: ${n}`);
  console.log(`run directory: ${store.dir} (a checkpoint at step 0)`);
  console.log(`next: resnorm sample ${store.dir} --prompt "…"   resnorm eval ${store.dir} --data FILE   resnorm train --resume ${store.dir} --data FILE`);
}

function parseDtype(v: string): Gpt2ExportDType {
  const d = v.toUpperCase();
  if (!(GPT2_EXPORT_DTYPES as readonly string[]).includes(d)) throw new UserError(`--dtype must be one of ${GPT2_EXPORT_DTYPES.map((x) => x.toLowerCase()).join(', ')}, got '${v}'`);
  return d as Gpt2ExportDType;
}

export async function exportGpt2Command(runDir: string, out: string, opts: ExportGpt2Options): Promise<void> {
  const dtype = parseDtype(opts.dtype);
  const step = parseStepFlag(opts.step);
  const store = await openRun(runDir);
  if (store.kind !== 'gpt') throw new UserError(`${runDir} is a ${store.kind} run; export-gpt2 writes language models (GPT runs) only`);
  const what = await kindOf(out);
  if (what === 'file') throw new UserError(`${out} is a file; pass a new or empty directory for the GPT-2 files`);
  if (what === 'dir') {
    const names = await withFsErrors(`cannot read ${out}`, 'check its permissions', () => readdir(out));
    if (names.length > 0) throw new UserError(`${out} is not empty (it holds ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}); pass a new or empty directory`);
  }
  const ckpt = await loadCheckpoint(store, step, { forTraining: false });
  const files = await userFacing(() => runToGpt2(ckpt, dtype));
  const hint = 'choose another OUT, or fix the permissions';
  await withFsErrors(`cannot create ${out}`, hint, () => mkdir(out, { recursive: true }));
  for (const name of GPT2_OUTPUT_FILES) await withFsErrors(`cannot write ${join(out, name)}`, hint, () => writeFile(join(out, name), files[name]));
  const m = ckpt.config.model;
  console.log(`wrote ${out}: GPT-2, ${m.nLayer} layers, ${m.nHead} heads, width ${m.nEmbd}, block ${m.blockSize}, vocabulary ${m.vocabSize}, ${m.tieWeights ? 'tied' : 'untied'} head; weights ${dtype}, from the checkpoint of step ${ckpt.entry.step} (${ckpt.source})`);
  console.log(`files: ${GPT2_OUTPUT_FILES.join(', ')}`);
}
