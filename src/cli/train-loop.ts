// The training loop of `resnorm train`, for every task: progress, logs (metrics, samples, diagnostics,
// TensorBoard), the live dashboard, checkpoints committed as a whole at every evaluation, and a clean
// save on Ctrl-C. What differs between tasks comes in as LoopTask: how a checkpoint is encoded, what a
// step's throughput counts, what an evaluation shows beside its losses, and the closing summary.

import { appendJsonl } from '../io/jsonl-log.ts';
import { CheckpointWriteError, type RunLog, type RunStore } from '../io/run-store.ts';
import { fsErrorCode } from '../io/run-fs.ts';
import type { AnyTrainer } from '../train/checkpoint.ts';
import type { EvalMetrics } from '../train/trainer.ts';
import { startDashboard, type Dashboard } from '../dashboard/server.ts';
import { TensorBoardWriter } from './tensorboard-writer.ts';
import { UserError } from './errors.ts';
import type { RunLock } from './run-lock.ts';
import { stoppedByWriteFailure } from './run-open.ts';
import { createProgress } from './progress.ts';

export interface LoopOptions {
  /** Serve the live dashboard of this run while it trains. */
  dashboard?: boolean;
  dashboardPort?: string;
  /** Also write TensorBoard event files into this directory. */
  tensorboard?: string;
}

export interface LoopTask {
  trainer: AnyTrainer;
  /** logInterval, keepCheckpoints, keepBest and maxIters of the run. */
  config: { maxIters: number; logInterval: number; keepCheckpoints: number; keepBest: boolean; batchSize: number };
  store: RunStore;
  lock: RunLock;
  /** The step of the latest committed checkpoint, null before the first. */
  lastSaved: number | null;
  /** The run is in format 1 (loose files): save at once, which moves it to checkpoints/. */
  migrate?: boolean;
  /** The checkpoint's files for the trainer's current step. */
  encode: () => Promise<Record<string, Uint8Array | string>>;
  /** What one step processes, for the throughput: tokens (the language model) or examples. */
  throughput: { perStep: number; field: 'tokensPerSec' | 'examplesPerSec'; unit: string };
  /** At each evaluation: a sample to log in samples.jsonl and print (the LM's text, a few translations), or null. */
  sample?: (e: EvalMetrics) => Promise<{ prompt: string; text: string } | null>;
  /** The evaluation's task metrics as one line (accuracy, BLEU, …), for the progress log. */
  describeMetrics?: (metrics: Record<string, number>) => string;
}

/** `--dashboard-port`: an integer port, 0 for any free one. */
export function dashboardPort(raw: string | undefined): number {
  if (raw === undefined) return 6007;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--dashboard-port must be an integer from 0 to 65535 (0 = any free port), got ${raw}`);
  return port;
}

/** Trains to maxIters or until Ctrl-C; 'stopped' when interrupted (a checkpoint is saved either way). */
export async function runTrainLoop(o: LoopTask, opts: LoopOptions): Promise<{ result: 'done' | 'stopped'; seconds: number }> {
  const { config, trainer, store, lock } = o;
  const dir = store.dir;
  let lastSaved = o.lastSaved;
  const keep = { last: config.keepCheckpoints, best: config.keepBest };
  const save = async (valLoss: number | null) => {
    lock.assertHeld();
    try {
      await store.commit(await o.encode(), { step: trainer.step, valLoss }, keep);
    } catch (e) {
      if (e instanceof CheckpointWriteError) throw stoppedByWriteFailure(e, dir, lastSaved);
      throw e;
    }
    lastSaved = trainer.step;
  };
  const tensorboard = opts.tensorboard !== undefined ? TensorBoardWriter.open(opts.tensorboard) : null;
  if (tensorboard) console.log(`tensorboard: writing ${tensorboard.path}; view with: tensorboard --logdir ${opts.tensorboard}`);
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
  let dashboard: Dashboard | null = null;
  if (opts.dashboard) {
    dashboard = await startDashboard({ runDirs: [dir], port: dashboardPort(opts.dashboardPort) });
    console.log(`dashboard: ${dashboard.url}`);
  }
  const t0 = performance.now();
  trainer.wallClock = () => (performance.now() - t0) / 1000;
  const startStep = trainer.step;
  const progress = createProgress(config.maxIters, trainer.step, config.logInterval, o.throughput.unit);
  // A new run is resumable from its first instant; a format-1 run moves to checkpoints/ now.
  if (lastSaved === null || o.migrate) await save(null);
  let result: 'done' | 'stopped';
  try {
    result = await trainer.run(config.maxIters, {
      onStep: async (m) => {
        const elapsed = (performance.now() - t0) / 1000;
        const perSec = ((m.step - startStep) * o.throughput.perStep) / elapsed;
        progress.update({ step: m.step, loss: m.trainLoss, val: trainer.lastValLoss, tokensPerSec: perSec });
        if (m.step % config.logInterval === 0) {
          await log({ step: m.step, trainLoss: m.trainLoss, lr: m.lr, gradNorm: m.gradNorm, [o.throughput.field]: perSec, wallTime: elapsed });
        }
        // Let the event loop run so Ctrl-C is seen between steps.
        await new Promise((r) => setImmediate(r));
      },
      onDiagnostics: async (records) => {
        for (const r of records) await log(r, 'diagnostics.jsonl');
      },
      onEval: async (e) => {
        await log({ step: e.step, trainLoss: e.trainLoss, valLoss: e.valLoss, wallTime: trainer.wallClock(), ...(e.metrics ? { metrics: e.metrics } : {}) });
        const sample = (await o.sample?.(e)) ?? null;
        if (sample) await log({ step: e.step, wallTime: trainer.wallClock(), prompt: sample.prompt, text: sample.text }, 'samples.jsonl');
        const metrics = e.metrics && o.describeMetrics ? `; ${o.describeMetrics(e.metrics)}` : '';
        progress.log(`step ${e.step}: train loss ${e.trainLoss.toFixed(4)}, val loss ${e.valLoss.toFixed(4)}${metrics}${sample ? `\n--- sample ---\n${sample.text.trim()}\n--------------` : ''}`);
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
  const seconds = (performance.now() - t0) / 1000;
  if (result === 'stopped') console.log(`stopped at step ${trainer.step}; checkpoint saved. Continue with: resnorm train --resume ${dir}`);
  else {
    console.log(`\ndone: ${trainer.step} steps in ${(seconds / 60).toFixed(1)} min; final validation loss ${trainer.lastValLoss?.toFixed(4)} (best ${trainer.bestValLoss?.toFixed(4)})`);
    console.log(`steps: ${trainer.stepper.describe()}`);
  }
  return { result, seconds };
}
