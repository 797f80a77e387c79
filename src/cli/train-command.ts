// `resnorm train`: builds or resumes a run under its lock, trains with progress, evaluates, samples,
// commits checkpoints as a whole (src/io/run-store.ts), and saves cleanly on Ctrl-C.

import { existsSync, readFileSync } from 'node:fs';
import { CharTokenizer } from '../data/char-tokenizer.ts';
import { splitTrainVal } from '../data/corpus.ts';
import { trainBpe } from '../data/bpe-tokenizer.ts';
import { promptFor, type Tokenizer } from '../data/tokenizer.ts';
import { appendJsonl, repairJsonl } from '../io/jsonl-log.ts';
import { CheckpointWriteError, RUN_LOGS, type RunLog, type RunStore } from '../io/run-store.ts';
import { fsErrorCode } from '../io/run-fs.ts';
import { generate } from '../models/generate.ts';
import { GPT } from '../models/gpt.ts';
import { modelConfigOf, parseTrainConfig, type TrainConfig } from '../train/config.ts';
import { resumeTrainer, saveCheckpoint, type LoadedCheckpoint } from '../train/run-checkpoints.ts';
import { Trainer } from '../train/trainer.ts';
import { startDashboard, type Dashboard } from '../dashboard/server.ts';
import { TensorBoardWriter } from './tensorboard-writer.ts';
import { configOverrides } from './config-flags.ts';
import { loadCorpus } from './corpus-files.ts';
import { UserError } from './errors.ts';
import { nodeRunFs } from './node-run-fs.ts';
import { timestampDir } from './run-dir.ts';
import type { RunLock } from './run-lock.ts';
import { createRun, openForResume, refuseUnusableOut, stoppedByWriteFailure } from './run-open.ts';
import { createProgress } from './progress.ts';
import { chooseIterations } from './time-budget.ts';
import { describeDesign } from '../nn/design.ts';

export interface TrainOptions extends Record<string, unknown> {
  config?: string;
  out?: string;
  resume?: string;
  budgetMinutes?: string;
  /** Serve the live dashboard of this run while it trains. */
  dashboard?: boolean;
  dashboardPort?: string;
  /** Also write TensorBoard event files into this directory. */
  tensorboard?: string;
}

/** Fields that may change when a run is resumed; changing anything else would break exact continuation. */
const RESUMABLE_OVERRIDES = new Set(['maxIters', 'evalInterval', 'evalIters', 'logInterval', 'diagInterval', 'sampleLength', 'data', 'keepCheckpoints', 'keepBest']);

function readConfigFile(path: string): Record<string, unknown> {
  if (!existsSync(path)) throw new UserError(`--config ${path}: no such file`);
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('the top level must be an object of config fields');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new UserError(`--config ${path} is not a valid JSON config: ${(e as Error).message}`);
  }
}


export async function trainCommand(opts: TrainOptions): Promise<void> {
  if (opts.dashboard) dashboardPort(opts.dashboardPort); // a bad port is said before any run directory is made
  const overrides = configOverrides(opts);
  let config: TrainConfig;
  let tokenizer: Tokenizer | null = null;
  let fileConfig: Record<string, unknown> = {};
  let resumed: Awaited<ReturnType<typeof openForResume>> | null = null;
  if (opts.resume) {
    const bad = Object.keys(overrides).filter((k) => !RESUMABLE_OVERRIDES.has(k));
    if (bad.length > 0 || opts.config) {
      throw new UserError(`--resume continues a run exactly, so only ${[...RESUMABLE_OVERRIDES].join(', ')} may change; drop ${opts.config ? '--config' : bad.map((k) => `--${k}`).join(', ')}`);
    }
    resumed = await openForResume(opts.resume);
    config = parseTrainConfig({ ...resumed.ckpt.config.train, ...overrides }, 'resumed config');
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

/** `--dashboard-port`: an integer port, 0 for any free one. */
function dashboardPort(raw: string | undefined): number {
  if (raw === undefined) return 6007;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--dashboard-port must be an integer from 0 to 65535 (0 = any free port), got ${raw}`);
  return port;
}

async function trainLoop(o: LoopInput): Promise<void> {
  const { config, tokenizer, model, trainer, store, lock } = o;
  const dir = store.dir;
  let lastSaved = o.lastSaved;
  const keep = { last: config.keepCheckpoints, best: config.keepBest };
  const save = async (valLoss: number | null) => {
    lock.assertHeld();
    try {
      await saveCheckpoint(store, trainer, tokenizer, { valLoss, keep });
    } catch (e) {
      if (e instanceof CheckpointWriteError) throw stoppedByWriteFailure(e, dir, lastSaved);
      throw e;
    }
    lastSaved = trainer.step;
  };
  const tensorboard = o.opts.tensorboard !== undefined ? TensorBoardWriter.open(o.opts.tensorboard) : null;
  if (tensorboard) console.log(`tensorboard: writing ${tensorboard.path}; view with: tensorboard --logdir ${o.opts.tensorboard}`);
  const log = async (record: object, to: RunLog = 'metrics.jsonl') => {
    try {
      await appendJsonl(store.fs, store.logPath(to), record as Record<string, unknown>);
      if (to === 'metrics.jsonl') tensorboard?.metrics(record as Record<string, unknown>);
      if (to === 'diagnostics.jsonl') tensorboard?.diagnostics(record as Record<string, unknown>);
    } catch (e) {
      if (fsErrorCode(e) !== undefined) throw stoppedByWriteFailure(e, dir, lastSaved);
      throw e;
    }
  };
  console.log(`training ${config.maxIters - trainer.step} iterations (batch ${config.batchSize}) into ${dir}`);

  // Ctrl-C, or SIGTERM from a service manager: finish the step, save, and say how to continue.
  let stopRequested = false;
  const onStopSignal = (signal: NodeJS.Signals) => {
    if (stopRequested) {
      lock.release();
      process.exit(130);
    }
    stopRequested = true;
    progress.log(`${signal === 'SIGINT' ? 'Ctrl-C' : signal}: finishing this step and saving a checkpoint (Ctrl-C again to quit without saving)…`);
  };
  process.on('SIGINT', onStopSignal);
  process.on('SIGTERM', onStopSignal);
  const prompt = promptFor(tokenizer, o.corpusText);
  let dashboard: Dashboard | null = null;
  if (o.opts.dashboard) {
    dashboard = await startDashboard({ runDirs: [dir], port: dashboardPort(o.opts.dashboardPort) });
    console.log(`dashboard: ${dashboard.url}`);
  }
  const t0 = performance.now();
  trainer.wallClock = () => (performance.now() - t0) / 1000;
  const startStep = trainer.step;
  const tokensPerStep = config.batchSize * config.blockSize;
  const progress = createProgress(config.maxIters, trainer.step, config.logInterval);
  // A new run is resumable from its first instant; a format-1 run moves to checkpoints/ now.
  if (lastSaved === null || o.migrate) await save(null);
  let result: 'done' | 'stopped';
  try {
    result = await trainer.run(config.maxIters, {
      onStep: async (m) => {
        const elapsed = (performance.now() - t0) / 1000;
        const tokensPerSec = ((m.step - startStep) * tokensPerStep) / elapsed;
        progress.update({ step: m.step, loss: m.trainLoss, val: trainer.lastValLoss, tokensPerSec });
        if (m.step % config.logInterval === 0) {
          await log({ step: m.step, trainLoss: m.trainLoss, lr: m.lr, gradNorm: m.gradNorm, tokensPerSec, wallTime: elapsed });
        }
        // Let the event loop run so Ctrl-C is seen between steps.
        await new Promise((r) => setImmediate(r));
      },
      onDiagnostics: async (records) => {
        for (const r of records) await log(r, 'diagnostics.jsonl');
      },
      onEval: async (e) => {
        await log({ step: e.step, trainLoss: e.trainLoss, valLoss: e.valLoss, wallTime: trainer.wallClock() });
        const sample = config.sampleLength > 0 ? tokenizer.decode(await generate(model, prompt, { maxNewTokens: config.sampleLength, seed: config.seed + e.step })) : '';
        if (sample) await log({ step: e.step, wallTime: trainer.wallClock(), prompt: tokenizer.decode(prompt), text: sample }, 'samples.jsonl');
        progress.log(`step ${e.step}: train loss ${e.trainLoss.toFixed(4)}, val loss ${e.valLoss.toFixed(4)}${sample ? `\n--- sample ---\n${sample.trim()}\n--------------` : ''}`);
        await save(e.valLoss);
      },
      shouldStop: () => stopRequested,
    });
  } finally {
    progress.stop();
    process.off('SIGINT', onStopSignal);
    process.off('SIGTERM', onStopSignal);
    tensorboard?.close();
    await dashboard?.close();
  }
  if (lastSaved !== trainer.step) await save(null);
  if (result === 'stopped') {
    console.log(`stopped at step ${trainer.step}; checkpoint saved. Continue with: resnorm train --resume ${dir}`);
    return;
  }
  const minutes = ((performance.now() - t0) / 60000).toFixed(1);
  console.log(`\ndone: ${trainer.step} steps in ${minutes} min; final validation loss ${trainer.lastValLoss?.toFixed(4)} (best ${trainer.bestValLoss?.toFixed(4)})`);
  console.log(`steps: ${trainer.stepper.describe()}`);
  console.log(
    config.diagInterval > 0
      ? `diagnostics: every ${config.diagInterval} steps and at evaluations, from a probe of ${trainer.diagnostics!.o.probe.sequences}×${trainer.diagnostics!.o.probe.length} tokens, in ${store.logPath('diagnostics.jsonl')}`
      : 'diagnostics: off (--diag-interval 0)',
  );
  console.log(`run directory: ${dir}`);
  if (o.opts.dashboard) console.log(`the dashboard stopped with training; serve this run again with: resnorm dashboard ${dir}`);
  console.log('--- 500 characters of sample ---');
  process.stdout.write(tokenizer.decode(await generate(model, prompt, { maxNewTokens: 500, seed: config.seed })).slice(0, 500) + '\n');
}
