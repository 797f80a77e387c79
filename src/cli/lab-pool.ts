// The process model of `resnorm lab run`: P worker processes (lab-worker.ts), each with T wasm
// threads, forked once and fed jobs over IPC — longest jobs first, so the pool ends together. Jobs
// whose numbers are times run last, one at a time, with the other workers idle. Ctrl-C asks every
// worker to finish its step and save a checkpoint; a second Ctrl-C kills them.

import { fork, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import type { JobSpec } from '../lab/plan.ts';
import type { FromWorker, ToWorker } from './lab-worker.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'resnorm.js');

export interface PoolTask {
  job: JobSpec;
  runDir: string;
  resultPath: string;
}

export interface PoolOptions {
  processes: number;
  threadsPerProcess: number;
  backend: string;
  logDir: string;
  keepCheckpoints: boolean;
  onEvent: (e: FromWorker & { worker: number }) => void;
}

export interface PoolOutcome {
  /** The backend the workers run on, in their words ('wasm (simd)'). */
  backend: string | null;
  done: string[];
  failed: { id: string; message: string }[];
  stopped: boolean;
}

/** A rough cost of a job, for ordering: steps × multiply-adds of a step's forward (LM: layers × width² × tokens per batch). */
export function jobCost(j: JobSpec): number {
  const c = j.config;
  const steps = j.train ? c.maxIters : 1;
  switch (j.task) {
    case 'lm':
      return steps * c.nLayer * c.nEmbd * (c.nEmbd + c.blockSize) * c.blockSize * c.batchSize;
    case 'image': {
      const m = j.model;
      return steps * c.batchSize * m.hidden * (m.inputs + 2 * m.depth * m.hidden + m.classes);
    }
    default: {
      const never: never = j;
      throw new Error(`unknown job task ${JSON.stringify(never)}`);
    }
  }
}

interface Worker {
  k: number;
  child: ChildProcess;
  ready: Promise<void>;
  exited: boolean;
  /** The job it runs and how to settle it. */
  pending: { id: string; settle: (r: 'done' | 'failed' | 'stopped' | 'died') => void } | null;
}

function spawnWorker(k: number, o: PoolOptions, outcome: PoolOutcome): Worker {
  const log = openSync(join(o.logDir, `worker-${k}.log`), 'a');
  const child = fork(BIN, ['--backend', o.backend, '--threads', String(o.threadsPerProcess), 'lab', 'worker'], {
    execArgv: ['--max-semi-space-size=1'],
    stdio: ['ignore', log, log, 'ipc'],
  });
  let onReady!: () => void;
  const w: Worker = { k, child, ready: new Promise((r) => (onReady = r)), exited: false, pending: null };
  child.on('message', (m: FromWorker) => {
    if (m.type === 'ready') {
      outcome.backend ??= m.backend;
      return onReady();
    }
    o.onEvent({ ...m, worker: k });
    const p = w.pending;
    if (!p) return;
    if (m.type === 'done') outcome.done.push(m.id);
    if (m.type === 'failed') outcome.failed.push({ id: m.id, message: m.message });
    if (m.type === 'done' || m.type === 'failed' || m.type === 'stopped') {
      w.pending = null;
      p.settle(m.type);
    }
  });
  child.on('exit', (code) => {
    w.exited = true;
    onReady();
    const p = w.pending;
    w.pending = null;
    if (p) {
      outcome.failed.push({ id: p.id, message: `worker ${k} exited with code ${code} during the job (see ${join(o.logDir, `worker-${k}.log`)})` });
      p.settle('died');
    }
  });
  return w;
}

function runOn(w: Worker, t: PoolTask, o: PoolOptions): Promise<'done' | 'failed' | 'stopped' | 'died'> {
  if (w.exited) return Promise.resolve('died');
  return new Promise((settle) => {
    w.pending = { id: t.job.id, settle };
    w.child.send({ type: 'job', job: t.job, runDir: t.runDir, resultPath: t.resultPath, keepCheckpoints: o.keepCheckpoints } satisfies ToWorker);
  });
}

/** Runs every task: the parallel ones on all workers, then the timing ones alone on one. */
export async function runPool(tasks: readonly PoolTask[], o: PoolOptions): Promise<PoolOutcome> {
  const queue = tasks.filter((t) => !t.job.timing).sort((a, b) => jobCost(b.job) - jobCost(a.job));
  const alone = tasks.filter((t) => t.job.timing);
  const outcome: PoolOutcome = { backend: null, done: [], failed: [], stopped: false };
  if (tasks.length === 0) return outcome;
  const P = Math.max(1, Math.min(o.processes, Math.max(queue.length, 1)));
  const workers = Array.from({ length: P }, (_, k) => spawnWorker(k, o, outcome));
  let stopping = false;
  const onSignal = () => {
    if (stopping) {
      for (const w of workers) if (!w.exited) w.child.kill('SIGKILL');
      return;
    }
    stopping = true;
    outcome.stopped = true;
    for (const w of workers) if (!w.exited && w.child.connected) w.child.send({ type: 'stop' } satisfies ToWorker);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await Promise.all(workers.map((w) => w.ready));
    await Promise.all(
      workers.map(async (w) => {
        for (let t = queue.shift(); t && !stopping; t = queue.shift()) if ((await runOn(w, t, o)) === 'died') break;
      }),
    );
    // Timing jobs last, one at a time, with the other workers idle.
    for (const t of alone) {
      const w = workers.find((x) => !x.exited);
      if (stopping || !w) break;
      await runOn(w, t, o);
    }
    const ran = new Set([...outcome.done, ...outcome.failed.map((f) => f.id)]);
    if (!stopping) for (const t of tasks) if (!ran.has(t.job.id)) outcome.failed.push({ id: t.job.id, message: 'not run: every worker died' });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const w of workers) {
      if (!w.exited) {
        if (w.child.connected) w.child.disconnect();
        await new Promise((r) => (w.exited ? r(null) : w.child.once('exit', r)));
      }
    }
  }
  return outcome;
}
