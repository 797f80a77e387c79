// `resnorm export-pytorch RUN OUT` and `resnorm import-pytorch DIR --out RUN`: a run continued in PyTorch
// (one process, or many under torchrun with DistributedDataParallel) and brought back (docs/pytorch.md).
// OUT holds the model of every design (python/resnorm_gpt.py, the file the PyTorch fixtures are made
// with), train.py, the run's config, tokenizer and weights, and its text as token ids split as
// `resnorm train` splits it, so the PyTorch side needs neither our tokenizer nor our data loading.

import type { Command } from 'commander';
import { copyFile, mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRefBackend } from '../backend/ref/ref-backend.ts';
import { splitTrainVal } from '../data/corpus.ts';
import { fsErrorCode } from '../io/run-fs.ts';
import { describeFsError } from '../io/run-store.ts';
import { GPT } from '../models/gpt.ts';
import { describeDesign } from '../nn/design.ts';
import { CheckpointError, decodeWeights, encodeCheckpoint, parseRunConfig, parseTokenizer } from '../train/checkpoint.ts';
import { parseTrainConfig } from '../train/config.ts';
import { loadCheckpoint } from '../train/run-checkpoints.ts';
import { Trainer } from '../train/trainer.ts';
import { loadCorpus, runDataPath } from './corpus-files.ts';
import { UserError } from './errors.ts';
import { openRun, parseStepFlag, timestampDir, withFsErrors } from './run-dir.ts';
import { createRun, refuseUnusableOut } from './run-open.ts';
import { withoutBackend } from './backend-free.ts';

/** The Python files shipped with the package (python/ at its root, beside src/ and dist/). */
const PYTHON_DIR = new URL('../../python/', import.meta.url);
export const PYTHON_FILES = ['resnorm_gpt.py', 'train.py'] as const;

export function registerPytorchCommands(program: Command): void {
  withoutBackend(program.command('export-pytorch'))
    .description("write a run as a PyTorch project: the model (every design), train.py (one process or torchrun with DDP), the weights, tokenizer and token ids (docs/pytorch.md)")
    .argument('<run-dir>', 'a run directory written by resnorm train')
    .argument('<out>', 'the directory to write, new or empty')
    .option('--step <n>', "the checkpoint to export: a step number, 'latest' or 'best'", 'latest')
    .action((runDir: string, out: string, opts: { step?: string }) => exportPytorchCommand(runDir, out, opts));
  withoutBackend(program.command('import-pytorch'))
    .description('make a run from what train.py of export-pytorch wrote (config.json, tokenizer.json, model.safetensors, trained.json), to sample, evaluate, inspect or train on')
    .argument('<dir>', "train.py's output directory (OUT/trained by default)")
    .option('--out <dir>', 'run directory (default runs/<timestamp>)')
    .action((dir: string, opts: { out?: string }) => importPytorchCommand(dir, opts));
}

async function refuseNonEmpty(out: string): Promise<void> {
  let names: string[];
  try {
    if (!(await stat(out)).isDirectory()) throw new UserError(`${out} is a file; pass a new or empty directory`);
    names = await readdir(out);
  } catch (e) {
    if (e instanceof UserError) throw e;
    if (fsErrorCode(e) === 'ENOENT') return;
    throw new UserError(`cannot read ${out}: ${describeFsError(e)}`);
  }
  if (names.length > 0) throw new UserError(`${out} is not empty (it holds ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}); pass a new or empty directory`);
}

/** Token ids as little-endian int32, the layout train.py reads with numpy.fromfile. */
function int32Bytes(ids: Int32Array): Uint8Array {
  const out = new Uint8Array(ids.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < ids.length; i++) view.setInt32(i * 4, ids[i], true);
  return out;
}

export async function exportPytorchCommand(runDir: string, out: string, opts: { step?: string }): Promise<void> {
  const store = await openRun(runDir);
  if (store.kind !== 'gpt') throw new UserError(`${runDir} is a ${store.kind} run; export-pytorch writes language models (GPT runs) only`);
  await refuseNonEmpty(out);
  const ckpt = await loadCheckpoint(store, parseStepFlag(opts.step), { forTraining: false });
  const { train, model } = ckpt.config;
  const corpus = loadCorpus(runDataPath(train.data, runDir));
  const ids = Int32Array.from(ckpt.tokenizer.encode(corpus.text));
  const data = splitTrainVal(ids, train.valFraction);
  const hint = 'choose another OUT, or fix the permissions';
  await withFsErrors(`cannot create ${out}`, hint, () => mkdir(out, { recursive: true }));
  const files: [string, Uint8Array][] = [
    ['config.json', ckpt.files.get('config.json')!],
    ['tokenizer.json', ckpt.files.get('tokenizer.json')!],
    ['model.safetensors', ckpt.files.get('model.safetensors')!],
    ['train.bin', int32Bytes(data.train)],
    ['val.bin', int32Bytes(data.val)],
  ];
  // Each file whole or not at all: written beside, then renamed.
  for (const [name, bytes] of files) {
    const path = join(out, name);
    await withFsErrors(`cannot write ${path}`, hint, async () => {
      await writeFile(`${path}.tmp`, bytes);
      await rename(`${path}.tmp`, path);
    });
  }
  for (const name of PYTHON_FILES) {
    await withFsErrors(`cannot write ${join(out, name)}`, hint, () => copyFile(new URL(name, PYTHON_DIR), join(out, name)));
  }
  console.log(`wrote ${out}: ${describeDesign(model)}, ${model.nLayer} layers, width ${model.nEmbd}, from the checkpoint of step ${ckpt.entry.step} (${ckpt.source})`);
  console.log(`data: ${corpus.source}, ${data.train.length.toLocaleString('en-US')} train / ${data.val.length.toLocaleString('en-US')} validation tokens (train.bin, val.bin)`);
  console.log(`next: cd ${out} && python3 train.py --steps 100   or   torchrun --nproc_per_node=2 train.py --steps 100`);
  console.log(`then: resnorm import-pytorch ${join(out, 'trained')} --out RUN`);
}

async function readIn(dir: string, name: string): Promise<Uint8Array> {
  const path = join(dir, name);
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    if (fsErrorCode(e) === 'ENOENT') throw new UserError(`${dir} has no ${name}; pass the directory train.py wrote (by default OUT/trained of export-pytorch)`);
    throw new UserError(`cannot read ${path}: ${describeFsError(e)}`);
  }
}

export async function importPytorchCommand(dir: string, opts: { out?: string }): Promise<void> {
  const out = opts.out ?? timestampDir();
  await refuseUnusableOut(out);
  const text = async (name: string) => new TextDecoder().decode(await readIn(dir, name));
  let files;
  let steps = 0;
  let summary = '';
  try {
    const config = parseRunConfig(await text('config.json'), dir);
    const tokenizer = parseTokenizer(await text('tokenizer.json'), dir);
    const { state } = decodeWeights(await readIn(dir, 'model.safetensors'), `${dir}/model.safetensors`);
    const trained = (JSON.parse(await text('trained.json').catch(() => '{}')) ?? {}) as { steps?: unknown; processes?: unknown; valLossAfter?: unknown };
    steps = Number.isSafeInteger(trained.steps) && (trained.steps as number) >= 0 ? (trained.steps as number) : 0;
    if (typeof trained.valLossAfter === 'number') summary = `; PyTorch's validation loss ${trained.valLossAfter.toFixed(4)} on ${String(trained.processes ?? 1)} process(es)`;
    // Steps past the run's maxIters were trained in PyTorch: the run's length grows to include them.
    const train = parseTrainConfig({ ...config.train, maxIters: Math.max(config.train.maxIters, steps) }, `${dir}/config.json`);
    const model = GPT.create(config.model, { backend: createRefBackend(), initialise: false }); // loadStateDict sets every value, or refuses
    try {
      model.store!.loadStateDict(state, `${dir}/model.safetensors`);
      // The trainer needs token ids to exist; the run's text is loaded again when it is resumed.
      const none = new Int32Array(config.model.blockSize + 1);
      const trainer = new Trainer(model, train, { train: none, val: none }, { capture: false });
      trainer.step = steps;
      trainer.opt.step = steps;
      files = await encodeCheckpoint(trainer, tokenizer);
      trainer.opt.store.backend.free(trainer.opt.m);
      trainer.opt.store.backend.free(trainer.opt.v);
    } finally {
      model.store!.release();
    }
  } catch (e) {
    if (e instanceof CheckpointError || e instanceof SyntaxError) throw new UserError(`${dir}: ${(e as Error).message}`);
    if (e instanceof Error && !(e instanceof UserError) && /loadStateDict|state dict|shape|missing/i.test(e.message)) throw new UserError(e.message);
    throw e;
  }
  const { store, lock } = await createRun(out);
  try {
    await store.commit(files, { step: steps, valLoss: null }, { last: 3, best: false });
  } finally {
    lock.release();
  }
  console.log(`run directory: ${store.dir}: the weights of ${dir} at step ${steps}${summary} (AdamW's moments start again at zero)`);
  console.log(`next: resnorm sample ${store.dir}   resnorm eval ${store.dir}   resnorm train --resume ${store.dir}`);
}
