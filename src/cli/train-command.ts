// `resnorm train`: builds or resumes a run under its lock, trains with progress, evaluates, samples,
// commits checkpoints as a whole (src/io/run-store.ts), and saves cleanly on Ctrl-C.

import { CharTokenizer } from '../data/char-tokenizer.ts';
import { splitTrainVal } from '../data/corpus.ts';
import { trainBpe } from '../data/bpe-tokenizer.ts';
import { promptFor, type Tokenizer } from '../data/tokenizer.ts';
import { repairJsonl } from '../io/jsonl-log.ts';
import { RUN_LOGS, type RunStore } from '../io/run-store.ts';
import { generate } from '../models/generate.ts';
import { GPT } from '../models/gpt.ts';
import { modelConfigOf, parseTrainConfig, type TrainConfig } from '../train/config.ts';
import { encodeCheckpoint } from '../train/checkpoint.ts';
import { resumeTrainer, type LoadedCheckpoint } from '../train/run-checkpoints.ts';
import { Trainer } from '../train/trainer.ts';
import { configOverrides } from './config-flags.ts';
import { loadCorpus, runDataPath } from './corpus-files.ts';
import { UserError } from './errors.ts';
import { nodeRunFs } from './node-run-fs.ts';
import { timestampDir } from './run-dir.ts';
import type { RunLock } from './run-lock.ts';
import { createRun, openForResume, refuseUnusableOut } from './run-open.ts';
import { dashboardPort, runTrainLoop } from './train-loop.ts';
import { chooseIterations } from './time-budget.ts';
import { describeDesign } from '../nn/design.ts';
import { TASKS, taskOfRunKind, type Task } from '../train/tasks/kinds.ts';
import { openRun } from './run-dir.ts';
import { trainTaskCommand } from './task-train.ts';
import { readConfigFile, RESUMABLE_OVERRIDES, type TrainOptions } from './train-options.ts';
import { settleAuto } from './backend-choice.ts';
import { getDefaultBackend } from '../tensor/backend-registry.ts';

/** The task of `train`: --task, or the resumed run's; the two must agree. */
async function taskOf(opts: TrainOptions): Promise<Task> {
  const given = opts.task;
  if (given !== undefined && !(TASKS as readonly string[]).includes(given)) throw new UserError(`--task must be one of ${TASKS.join(', ')}, got '${given}'`);
  if (!opts.resume) return (given as Task | undefined) ?? 'lm';
  const task = taskOfRunKind((await openRun(opts.resume)).kind);
  if (given !== undefined && given !== task) throw new UserError(`${opts.resume} is a run of --task ${task}, not ${given}; drop --task to resume it`);
  return task;
}

export async function trainCommand(opts: TrainOptions): Promise<void> {
  const task = await taskOf(opts);
  if (task !== 'lm') return trainTaskCommand(task, opts);
  if (opts.dashboard) dashboardPort(opts.dashboardPort); // a bad port is said before any run directory is made
  const overrides = configOverrides(opts, 'lm');
  let config: TrainConfig;
  let tokenizer: Tokenizer | null = null;
  let fileConfig: Record<string, unknown> = {};
  let resumed: { store: RunStore; lock: RunLock; ckpt: LoadedCheckpoint } | null = null;
  if (opts.resume) {
    const bad = Object.keys(overrides).filter((k) => !RESUMABLE_OVERRIDES.has(k));
    if (bad.length > 0 || opts.config) {
      throw new UserError(`--resume continues a run exactly, so only ${[...RESUMABLE_OVERRIDES].join(', ')} may change; drop ${opts.config ? '--config' : bad.map((k) => `--${k}`).join(', ')}`);
    }
    resumed = await openForResume(opts.resume);
    config = parseTrainConfig({ ...resumed.ckpt.config.train, ...overrides }, 'resumed config');
    if (overrides.data === undefined) config = { ...config, data: runDataPath(config.data, opts.resume) };
    tokenizer = resumed.ckpt.tokenizer;
  } else {
    fileConfig = opts.config ? readConfigFile(opts.config) : {};
    config = parseTrainConfig({ ...fileConfig, ...overrides }, opts.config ?? 'flags');
    // Said before the corpus loads; createRun checks again under the lock.
    if (opts.out !== undefined) await refuseUnusableOut(opts.out);
  }
  const lock = resumed?.lock;
  try {
    await train(opts, config, tokenizer, fileConfig, overrides, resumed);
  } finally {
    lock?.release();
  }
}

async function train(
  opts: TrainOptions,
  initial: TrainConfig,
  resumedTokenizer: Tokenizer | null,
  fileConfig: Record<string, unknown>,
  overrides: Record<string, unknown>,
  resumed: { store: RunStore; lock: RunLock; ckpt: LoadedCheckpoint } | null,
): Promise<void> {
  let config = initial;
  const corpus = loadCorpus(config.data);
  console.log(`data: ${corpus.source} (${corpus.text.length.toLocaleString('en-US')} characters)`);
  let tokenizer = resumedTokenizer;
  if (!tokenizer) {
    if (config.tokenizer === 'bpe') {
      console.log(`training a byte-level BPE vocabulary of ${config.bpeVocabSize} tokens…`);
      tokenizer = trainBpe(corpus.text, config.bpeVocabSize);
    } else {
      tokenizer = CharTokenizer.fromText(corpus.text);
    }
  }
  const ids = Int32Array.from(tokenizer.encode(corpus.text));
  const data = splitTrainVal(ids, config.valFraction);
  console.log(`tokenizer: ${tokenizer.kind}, ${tokenizer.vocabSize} tokens; ${data.train.length.toLocaleString('en-US')} train / ${data.val.length.toLocaleString('en-US')} validation tokens`);

  // --backend auto weighs WebGPU against wasm on this model, before anything is timed or built on either.
  await settleAuto({ model: modelConfigOf(config, tokenizer.vocabSize), batchSize: config.batchSize }, getDefaultBackend());

  const explicitIters = 'maxIters' in overrides || 'maxIters' in fileConfig;
  if (!resumed && opts.budgetMinutes !== undefined && !explicitIters) {
    const budget = Number(opts.budgetMinutes);
    if (!(budget > 0)) throw new UserError(`--budget-minutes must be a positive number, got ${opts.budgetMinutes}`);
    config = await chooseIterations(config, tokenizer.vocabSize, data, budget);
  }
  // The decay horizon is fixed when a run starts, so extending it with --resume --max-iters keeps the schedule.
  config = { ...config, lrDecayIters: config.lrDecayIters ?? config.maxIters };

  const model = GPT.create(modelConfigOf(config, tokenizer.vocabSize), { seed: config.seed });
  const trainer = new Trainer(model, config, data, { decodeToken: (id) => tokenizer.decode([id]) });
  let lastSaved: number | null = null;
  if (resumed) {
    resumeTrainer(trainer, resumed.ckpt);
    lastSaved = trainer.step;
    const step = trainer.step;
    for (const log of RUN_LOGS) {
      const repair = await repairJsonl(nodeRunFs, resumed.store.logPath(log), (r) => typeof r.step === 'number' && r.step <= step);
      if (repair && repair.tornBytes > 0) console.log(`${log} ended in a torn line (${repair.tornBytes} bytes, cut off when the last run was interrupted); removed it`);
      if (repair && repair.corruptLines > 0) console.log(`${log} had ${repair.corruptLines} unreadable line(s); removed them`);
      if (repair && repair.droppedRecords > 0) console.log(`${log}: dropped ${repair.droppedRecords} record(s) logged after step ${step}, where this run resumes`);
    }
    console.log(`resuming ${resumed.store.dir} at step ${step}`);
  }
  const dir = resumed?.store.dir ?? opts.out ?? timestampDir();
  if (trainer.step >= config.maxIters) throw new UserError(`${dir} is already at step ${trainer.step} = maxIters; pass --max-iters N with N > ${trainer.step} to train further`);
  console.log(
    `model: ${config.nLayer} layers, ${config.nHead} heads, width ${config.nEmbd}, block ${config.blockSize}, ${describeDesign(config)}, ${(model.numParameters() / 1e6).toFixed(2)}M parameters; backend ${model.backend.name}`,
  );
  const { store, lock } = resumed ?? (await createRun(dir));
  try {
    await trainLoop({ config, tokenizer, corpusText: corpus.text, model, trainer, store, lock, lastSaved, migrate: resumed?.ckpt.entry.dir === '.', opts });
  } finally {
    if (!resumed) lock.release();
  }
}

interface LoopInput {
  config: TrainConfig;
  tokenizer: Tokenizer;
  corpusText: string;
  model: GPT;
  trainer: Trainer;
  store: RunStore;
  lock: RunLock;
  /** The step of the latest committed checkpoint, null before the first. */
  lastSaved: number | null;
  /** The run is in format 1 (loose files): save at once, which moves it to checkpoints/. */
  migrate: boolean;
  opts: TrainOptions;
}

async function trainLoop(o: LoopInput): Promise<void> {
  const { config, tokenizer, model, trainer, store } = o;
  const prompt = promptFor(tokenizer, o.corpusText);
  const { result } = await runTrainLoop(
    {
      trainer,
      config,
      store,
      lock: o.lock,
      lastSaved: o.lastSaved,
      migrate: o.migrate,
      encode: () => encodeCheckpoint(trainer, tokenizer),
      throughput: { perStep: config.batchSize * config.blockSize, field: 'tokensPerSec', unit: 'tok' },
      sample: async (e) =>
        config.sampleLength > 0 ? { prompt: tokenizer.decode(prompt), text: tokenizer.decode(await generate(model, prompt, { maxNewTokens: config.sampleLength, seed: config.seed + e.step })) } : null,
    },
    o.opts,
  );
  if (result === 'stopped') return;
  console.log(
    config.diagInterval > 0
      ? `diagnostics: every ${config.diagInterval} steps and at evaluations, from a probe of ${trainer.diagnostics!.o.probe.sequences}×${trainer.diagnostics!.o.probe.length} tokens, in ${store.logPath('diagnostics.jsonl')}`
      : 'diagnostics: off (--diag-interval 0)',
  );
  console.log(`run directory: ${store.dir}`);
  if (o.opts.dashboard) console.log(`the dashboard stopped with training; serve this run again with: resnorm dashboard ${store.dir}`);
  console.log('--- 500 characters of sample ---');
  process.stdout.write(tokenizer.decode(await generate(model, prompt, { maxNewTokens: 500, seed: config.seed })).slice(0, 500) + '\n');
}
