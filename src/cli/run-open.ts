// Opening a run directory for training: a new one or one to resume, always under its lock, and the
// message a user gets when a save or a log append fails there.

import type { RunLock } from './run-lock.ts';
import { acquireRunLock } from './run-lock.ts';
import { CheckpointWriteError, describeFsError, RunStore, type RunKind } from '../io/run-store.ts';
import { loadCheckpoint, type LoadedCheckpoint } from '../train/run-checkpoints.ts';
import { UserError } from './errors.ts';
import { nodeRunFs } from './node-run-fs.ts';
import { withFsErrors } from './run-dir.ts';

/**
 * Opens the run to resume under its lock, clears the debris of an interrupted save, and loads its
 * latest checkpoint with `load` (the language model's loader unless another is given).
 */
export async function openForResume(dir: string): Promise<{ store: RunStore; lock: RunLock; ckpt: LoadedCheckpoint }>;
export async function openForResume<C>(dir: string, load: (store: RunStore) => Promise<C>): Promise<{ store: RunStore; lock: RunLock; ckpt: C }>;
export async function openForResume<C>(dir: string, load?: (store: RunStore) => Promise<C>): Promise<{ store: RunStore; lock: RunLock; ckpt: C | LoadedCheckpoint }> {
  const store = await RunStore.open(nodeRunFs, dir);
  const lock = await withFsErrors(`cannot lock ${dir}`, 'check that the directory is writable', async () => acquireRunLock(dir, `resnorm train --resume ${dir}`));
  try {
    const removed = await store.collectGarbage();
    if (removed.length > 0) console.log(`removed what an interrupted save left in ${dir}: ${removed.join(', ')}`);
    return { store, lock, ckpt: load ? await load(store) : await loadCheckpoint(store, 'latest', { forTraining: true }) };
  } catch (e) {
    lock.release();
    throw e;
  }
}

/** A new run's --out must be a directory (or nothing yet) that holds no run. */
export async function refuseUnusableOut(dir: string): Promise<void> {
  if ((await nodeRunFs.kind(dir)) === 'file') throw new UserError(`--out ${dir} is a file; a run needs a directory of its own — pass another path`);
  if (await RunStore.holdsRun(nodeRunFs, dir)) throw new UserError(`${dir} already holds a run; pass --resume ${dir} to continue it, or another --out`);
}

/** Makes the new run's directory and takes its lock; refuses a path that is a file or already holds a run. */
export async function createRun(dir: string, kind: RunKind = 'gpt'): Promise<{ store: RunStore; lock: RunLock }> {
  const fs = nodeRunFs;
  await refuseUnusableOut(dir);
  const hint = 'choose another --out, or fix the permissions';
  await withFsErrors(`cannot create the run directory ${dir}`, hint, () => fs.mkdir(dir));
  const lock = await withFsErrors(`cannot write in ${dir}`, hint, async () => acquireRunLock(dir, `resnorm train --out ${dir}`));
  try {
    await refuseUnusableOut(dir);
    return { store: await withFsErrors(`cannot write in ${dir}`, hint, () => RunStore.create(fs, dir, kind)), lock };
  } catch (e) {
    lock.release();
    throw e;
  }
}

/** What to tell a user whose save or log write failed: the error, what is intact, and how to go on. */
export function stoppedByWriteFailure(e: unknown, dir: string, lastSaved: number | null): UserError {
  const what = e instanceof CheckpointWriteError ? e.message : `could not append to ${dir}/metrics.jsonl: ${describeFsError(e)}`;
  const next = lastSaved === null ? `start the run again` : `continue from step ${lastSaved} with: resnorm train --resume ${dir}`;
  return new UserError(`${what}. Training stopped; free some space or fix the permissions, then ${next}`);
}

