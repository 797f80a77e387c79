// The worker side of `resnorm lab run`: a child process (forked by lab-pool.ts) that takes jobs over
// its IPC channel one at a time, runs each in its own resnorm run directory — resuming from the last
// checkpoint when a killed run left one — and writes the job's result file atomically, last. Image
// jobs have no run directory and start over when killed. It stops cleanly (saving a checkpoint) when
// asked, and exits when its parent goes away.

import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CharTokenizer } from '../data/char-tokenizer.ts';
import { splitTrainVal } from '../data/corpus.ts';
import { trainBpe } from '../data/bpe-tokenizer.ts';
import type { Tokenizer } from '../data/tokenizer.ts';
import { RunStore } from '../io/run-store.ts';
import { imageJobData, runImageJob, type ImageJobData } from '../lab/image-job.ts';
import { runJob, unigramLoss, type JobData, type JobHooks, type JobResult } from '../lab/job.ts';
import type { ImageJobSpec, JobSpec, LmJobSpec } from '../lab/plan.ts';
import { imagesAsInputs } from '../train/image-task.ts';
import { loadCheckpoint } from '../train/run-checkpoints.ts';
import { selectBackend } from './backend-choice.ts';
import { loadCorpus } from './corpus-files.ts';
import { loadImages } from './dataset-files.ts';
import { writeAtomic } from './lab-files.ts';
import { nodeRunFs } from './node-run-fs.ts';
import { acquireRunLock, type RunLock } from './run-lock.ts';
import { createRun } from './run-open.ts';

export type ToWorker = { type: 'job'; job: JobSpec; runDir: string; resultPath: string; keepCheckpoints: boolean } | { type: 'stop' };
export type FromWorker =
  | { type: 'ready'; backend: string }
  | { type: 'progress'; id: string; step: number; of: number }
  | { type: 'done'; id: string; finalValLoss: number | null; diverged: boolean; wallSeconds: number; resumedAt: number | null }
  | { type: 'stopped'; id: string | null }
  | { type: 'failed'; id: string; message: string };

/** The marker beside a job's run directory's files: which job made it. */
const JOB_FILE = 'lab-job.json';

function send(m: FromWorker): void {
  process.send?.(m);
}

const datasets = new Map<string, JobData>();
const imageSets = new Map<string, ImageJobData>();

/** The tokenized corpus a job's config asks for (the lab's experiments all use the default one). */
function dataFor(job: LmJobSpec): JobData {
  const c = job.config;
  const key = JSON.stringify([c.data ?? null, c.tokenizer, c.bpeVocabSize, c.valFraction]);
  let d = datasets.get(key);
  if (!d) {
    const corpus = loadCorpus(c.data);
    const tokenizer: Tokenizer = c.tokenizer === 'bpe' ? trainBpe(corpus.text, c.bpeVocabSize) : CharTokenizer.fromText(corpus.text);
    const split = splitTrainVal(Int32Array.from(tokenizer.encode(corpus.text)), c.valFraction);
    d = { ...split, tokenizer, unigramLoss: unigramLoss(split.train, split.val, tokenizer.vocabSize) };
    datasets.set(key, d);
  }
  return d;
}

/** The image sets a job's config asks for (default: Fashion-MNIST), as classifier inputs; loaded once per worker. */
function imageDataFor(job: ImageJobSpec): ImageJobData {
  const c = job.config;
  const key = JSON.stringify([c.data ?? null, c.valFraction]);
  let d = imageSets.get(key);
  if (!d) {
    const { data } = loadImages(c.data, { valFraction: c.valFraction });
    d = imageJobData({ train: imagesAsInputs(data.train), val: imagesAsInputs(data.val), test: imagesAsInputs(data.test) }, data.classNames.length);
    imageSets.set(key, d);
  }
  return d;
}

/** Opens the job's run directory: resumes it when this job made it and it has a checkpoint, else starts it over. */
async function openRunDir(job: JobSpec, dir: string): Promise<{ store: RunStore; lock: RunLock; resumedAt: number | null; ckpt: Awaited<ReturnType<typeof loadCheckpoint>> | null }> {
  const marker = join(dir, JOB_FILE);
  const ours = existsSync(marker) && (JSON.parse(readFileSync(marker, 'utf8')) as { hash?: string }).hash === job.hash;
  // A timing job starts over: resuming would time fewer steps.
  if (ours && !job.timing && (await RunStore.holdsRun(nodeRunFs, dir))) {
    const store = await RunStore.open(nodeRunFs, dir);
    const lock = await acquireRunLock(dir, `resnorm lab worker (job ${job.id})`);
    try {
      await store.collectGarbage();
      const entries = await store.checkpoints();
      if (entries.length > 0) {
        const ckpt = await loadCheckpoint(store, 'latest', { forTraining: true });
        return { store, lock, resumedAt: ckpt.state.step, ckpt };
      }
    } catch (e) {
      lock.release();
      throw e;
    }
    lock.release();
  }
  rmSync(dir, { recursive: true, force: true });
  const { store, lock } = await createRun(dir);
  writeFileSync(marker, JSON.stringify({ id: job.id, hash: job.hash }) + '\n');
  return { store, lock, resumedAt: null, ckpt: null };
}

let stopRequested = false;
let current: string | null = null;

/** A language-model job: in its run directory, resumed from its checkpoint when it has one. */
async function runLmJob(job: LmJobSpec, m: Extract<ToWorker, { type: 'job' }>, hooks: JobHooks): Promise<{ result: JobResult | 'stopped'; resumedAt: number | null }> {
  const data = dataFor(job);
  if (!job.train) return { result: await runJob(job, data, undefined, hooks), resumedAt: null };
  const run = await openRunDir(job, m.runDir);
  try {
    if (run.resumedAt !== null) console.log(`${job.id}: resuming ${m.runDir} at step ${run.resumedAt}`);
    return { result: await runJob(job, data, { store: run.store, resumeFrom: run.ckpt, assertHeld: () => run.lock.assertHeld() }, hooks), resumedAt: run.resumedAt };
  } finally {
    run.lock.release();
  }
}

async function handle(m: Extract<ToWorker, { type: 'job' }>): Promise<void> {
  const { job } = m;
  current = job.id;
  let lastReport = 0;
  const hooks: JobHooks = {
    onStep: (step: number, of: number) => {
      const now = Date.now();
      if (now - lastReport > 1000 || step === of) {
        lastReport = now;
        send({ type: 'progress', id: job.id, step, of });
      }
    },
    shouldStop: () => stopRequested,
  };
  let outcome: { result: JobResult | 'stopped'; resumedAt: number | null };
  switch (job.task) {
    case 'lm':
      outcome = await runLmJob(job, m, hooks);
      break;
    case 'image':
      // No run directory: a killed image job starts over (docs/lab.md, Resumability).
      outcome = { result: await runImageJob(job, imageDataFor(job), hooks), resumedAt: null };
      break;
    default: {
      const never: never = job;
      throw new Error(`unknown job task ${JSON.stringify(never)}`);
    }
  }
  const { result, resumedAt } = outcome;
  if (result === 'stopped') {
    send({ type: 'stopped', id: job.id });
    process.exit(0);
  }
  writeAtomic(m.resultPath, JSON.stringify(result) + '\n');
  // The result is the record now; the weights were only there to resume from.
  if (job.task === 'lm' && job.train && !m.keepCheckpoints) rmSync(join(m.runDir, 'checkpoints'), { recursive: true, force: true });
  current = null;
  send({ type: 'done', id: job.id, finalValLoss: result.finalValLoss, diverged: result.diverged, wallSeconds: result.timing.wallSeconds, resumedAt });
}

/** `resnorm lab worker`: serve jobs until told to stop or orphaned. */
export async function labWorker(backend: string | undefined, threads: string | undefined): Promise<void> {
  if (!process.send) throw new Error('resnorm lab worker is started by resnorm lab run, over an IPC channel');
  const be = await selectBackend(backend, threads);
  process.on('disconnect', () => process.exit(0)); // the parent is gone
  // Ctrl-C reaches the whole process group: let the parent decide, and stop at the next step.
  process.on('SIGINT', () => (stopRequested = true));
  process.on('SIGTERM', () => (stopRequested = true));
  let queue = Promise.resolve();
  process.on('message', (m: ToWorker) => {
    if (m.type === 'stop') {
      stopRequested = true;
      if (current === null) {
        send({ type: 'stopped', id: null });
        process.exit(0);
      }
      return;
    }
    queue = queue.then(() =>
      handle(m).catch((e: unknown) => {
        send({ type: 'failed', id: m.job.id, message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
        current = null;
      }),
    );
  });
  send({ type: 'ready', backend: be.name });
  await new Promise(() => {}); // until the parent disconnects or stops us
}
