// `resnorm train`: builds or resumes a run, trains with progress, evaluates, samples, checkpoints
// atomically, and saves cleanly on Ctrl-C.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CharTokenizer } from '../data/char-tokenizer.ts';
import { splitTrainVal } from '../data/corpus.ts';
import { trainBpe } from '../data/bpe-tokenizer.ts';
import type { Tokenizer } from '../data/tokenizer.ts';
import { generate } from '../models/generate.ts';
import { GPT } from '../models/gpt.ts';
import { restoreTrainer } from '../train/checkpoint.ts';
import { modelConfigOf, parseTrainConfig, type TrainConfig } from '../train/config.ts';
import { Trainer } from '../train/trainer.ts';
import { configOverrides } from './config-flags.ts';
import { loadCorpus } from './corpus-files.ts';
import { UserError } from './errors.ts';
import { appendMetrics, readCheckpointBytes, readRun, saveCheckpoint, timestampDir, truncateMetrics } from './run-dir.ts';
import { createProgress } from './progress.ts';
import { chooseIterations } from './time-budget.ts';

export interface TrainOptions extends Record<string, unknown> {
  config?: string;
  out?: string;
  resume?: string;
  budgetMinutes?: string;
}

/** Fields that may change when a run is resumed; changing anything else would break exact continuation. */
const RESUMABLE_OVERRIDES = new Set(['maxIters', 'evalInterval', 'evalIters', 'logInterval', 'sampleLength', 'data']);

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

export function promptFor(tokenizer: Tokenizer, text: string): number[] {
  for (const p of ['\n', ' ', text[0]]) {
    try {
      const ids = tokenizer.encode(p);
      if (ids.length > 0) return ids;
    } catch {
      // Not in this vocabulary: try the next candidate.
    }
  }
  return [0];
}

export async function trainCommand(opts: TrainOptions): Promise<void> {
  const overrides = configOverrides(opts);
  let config: TrainConfig;
  let dir: string;
  let tokenizer: Tokenizer | null = null;
  let fileConfig: Record<string, unknown> = {};
  const resumed = opts.resume ? readRun(opts.resume) : null;
  if (resumed) {
    const bad = Object.keys(overrides).filter((k) => !RESUMABLE_OVERRIDES.has(k));
    if (bad.length > 0 || opts.config) {
      throw new UserError(`--resume continues a run exactly, so only ${[...RESUMABLE_OVERRIDES].join(', ')} may change; drop ${opts.config ? '--config' : bad.map((k) => `--${k}`).join(', ')}`);
    }
    config = parseTrainConfig({ ...resumed.config.train, ...overrides }, 'resumed config');
    dir = resumed.dir;
    tokenizer = resumed.tokenizer;
  } else {
    fileConfig = opts.config ? readConfigFile(opts.config) : {};
    config = parseTrainConfig({ ...fileConfig, ...overrides }, opts.config ?? 'flags');
    dir = opts.out ?? timestampDir();
    if (existsSync(join(dir, 'state.json'))) throw new UserError(`${dir} already holds a run; pass --resume ${dir} to continue it, or another --out`);
  }

  const corpus = loadCorpus(config.data);
  console.log(`data: ${corpus.source} (${corpus.text.length.toLocaleString('en-US')} characters)`);
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
    config = chooseIterations(config, tokenizer.vocabSize, data, budget);
  }
  // The decay horizon is fixed when a run starts, so extending it with --resume --max-iters keeps the schedule.
  config = { ...config, lrDecayIters: config.lrDecayIters ?? config.maxIters };

  const model = GPT.create(modelConfigOf(config, tokenizer.vocabSize), { seed: config.seed });
  const trainer = new Trainer(model, config, data);
  if (resumed) {
    restoreTrainer(trainer, readCheckpointBytes(dir), dir);
    truncateMetrics(dir, trainer.step);
    console.log(`resuming ${dir} at step ${trainer.step}`);
  }
  if (trainer.step >= config.maxIters) throw new UserError(`${dir} is already at step ${trainer.step} = maxIters; pass --max-iters N with N > ${trainer.step} to train further`);
  console.log(
    `model: ${config.nLayer} layers, ${config.nHead} heads, width ${config.nEmbd}, block ${config.blockSize}, ${config.placement}-${config.norm}, ${(model.numParameters() / 1e6).toFixed(2)}M parameters; backend ${model.backend.name}`,
  );
  console.log(`training ${config.maxIters - trainer.step} iterations (batch ${config.batchSize}) into ${dir}`);

  let stopRequested = false;
  const onSigint = () => {
    if (stopRequested) process.exit(130);
    stopRequested = true;
    progress.log('Ctrl-C: finishing this step and saving a checkpoint (Ctrl-C again to quit without saving)…');
  };
  process.on('SIGINT', onSigint);
  const prompt = promptFor(tokenizer, corpus.text);
  const t0 = performance.now();
  const startStep = trainer.step;
  const tokensPerStep = config.batchSize * config.blockSize;
  const progress = createProgress(config.maxIters, trainer.step, config.logInterval);
  await saveCheckpoint(dir, trainer, tokenizer);
  let result: 'done' | 'stopped';
  try {
    result = await trainer.run(config.maxIters, {
      onStep: async (m) => {
        const elapsed = (performance.now() - t0) / 1000;
        const tokensPerSec = ((m.step - startStep) * tokensPerStep) / elapsed;
        progress.update({ step: m.step, loss: m.trainLoss, val: trainer.lastValLoss, tokensPerSec });
        if (m.step % config.logInterval === 0) {
          appendMetrics(dir, { step: m.step, trainLoss: m.trainLoss, lr: m.lr, gradNorm: m.gradNorm, tokensPerSec, wallTime: elapsed });
        }
        // Let the event loop run so Ctrl-C is seen between steps.
        await new Promise((r) => setImmediate(r));
      },
      onEval: async (e) => {
        appendMetrics(dir, { step: e.step, trainLoss: e.trainLoss, valLoss: e.valLoss, wallTime: (performance.now() - t0) / 1000 });
        const sample = config.sampleLength > 0 ? tokenizer.decode(generate(model, prompt, { maxNewTokens: config.sampleLength, seed: config.seed + e.step })) : '';
        progress.log(`step ${e.step}: train loss ${e.trainLoss.toFixed(4)}, val loss ${e.valLoss.toFixed(4)}${sample ? `\n--- sample ---\n${sample.trim()}\n--------------` : ''}`);
        await saveCheckpoint(dir, trainer, tokenizer);
      },
      shouldStop: () => stopRequested,
    });
  } finally {
    progress.stop();
    process.off('SIGINT', onSigint);
  }
  await saveCheckpoint(dir, trainer, tokenizer);
  if (result === 'stopped') {
    console.log(`stopped at step ${trainer.step}; checkpoint saved. Continue with: resnorm train --resume ${dir}`);
    return;
  }
  const minutes = ((performance.now() - t0) / 60000).toFixed(1);
  console.log(`\ndone: ${trainer.step} steps in ${minutes} min; final validation loss ${trainer.lastValLoss?.toFixed(4)} (best ${trainer.bestValLoss?.toFixed(4)})`);
  console.log(`steps: ${trainer.stepper.describe()}`);
  console.log(`run directory: ${dir}`);
  console.log('--- 500 characters of sample ---');
  process.stdout.write(tokenizer.decode(generate(model, prompt, { maxNewTokens: 500, seed: config.seed })).slice(0, 500) + '\n');
}
