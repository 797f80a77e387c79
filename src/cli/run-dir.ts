// Run directories from the command line: naming new ones, opening existing ones on Node's file system,
// choosing a checkpoint with --step, and turning file-system failures into messages that say what to do.

import { join } from 'node:path';
import { fsErrorCode } from '../io/run-fs.ts';
import { describeFsError, RunStore, type CheckpointChoice } from '../io/run-store.ts';
import type { GPT } from '../models/gpt.ts';
import { loadCheckpoint, modelOf, type LoadedCheckpoint } from '../train/run-checkpoints.ts';
import { UserError } from './errors.ts';
import { nodeRunFs } from './node-run-fs.ts';

export function timestampDir(base = 'runs'): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return join(base, `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`);
}

export function openRun(dir: string): Promise<RunStore> {
  return RunStore.open(nodeRunFs, dir);
}

/** `--step N`, `--step latest` or `--step best`. */
export function parseStepFlag(v: string | undefined): CheckpointChoice {
  if (v === undefined || v === 'latest') return 'latest';
  if (v === 'best') return 'best';
  const n = Number(v);
  if (v.trim() === '' || !Number.isSafeInteger(n) || n < 0) throw new UserError(`--step must be a step number, 'latest' or 'best', got '${v}'`);
  return n;
}

/** A checkpoint's model with its weights, for sampling and evaluation. */
export async function loadForInference(dir: string, step: string | undefined): Promise<{ ckpt: LoadedCheckpoint; model: GPT }> {
  const store = await openRun(dir);
  const ckpt = await loadCheckpoint(store, parseStepFlag(step), { forTraining: false });
  return { ckpt, model: modelOf(ckpt) };
}

/** Runs a file-system action, turning its failure (no permission, disk full, not a directory) into a UserError. */
export async function withFsErrors<T>(what: string, hint: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (e) {
    if (fsErrorCode(e) === undefined) throw e;
    throw new UserError(`${what}: ${describeFsError(e)}; ${hint}`);
  }
}
