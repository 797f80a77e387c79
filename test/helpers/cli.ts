// Running the real `resnorm` command in tests, and reading what it leaves in a run directory.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

export const BIN = join(import.meta.dirname, '..', '..', 'bin', 'resnorm.js');

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

export function cli(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Exit 1 with one message matching `pattern`, and no stack trace. */
export function expectUserError(r: CliResult, pattern: RegExp): void {
  expect(r.code, r.err).toBe(1);
  expect(r.err).toMatch(pattern);
  expect(r.err).not.toMatch(/\n\s+at /);
}

/** The latest committed checkpoint's step and directory, as the run's index names it. */
export function latestCheckpoint(run: string): { step: number; dir: string } {
  const index = JSON.parse(readFileSync(join(run, 'checkpoints', 'index.json'), 'utf8')) as { checkpoints: { step: number; dir: string }[] };
  const e = index.checkpoints.at(-1)!;
  return { step: e.step, dir: join(run, e.dir) };
}
