// Running the real `resnorm` command in tests, and reading what it leaves in a run directory.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

export const BIN = join(import.meta.dirname, '..', '..', 'bin', 'resnorm.js');

/**
 * Spawn options under which a command meets file permissions, for the tests of EACCES messages: as
 * root (which ignores permissions) the command runs as 'nobody'. Null where it cannot: as root in a
 * checkout that 'nobody' cannot read (a private directory above it, such as one from `mktemp -d`);
 * those tests are then skipped, and this says why once.
 */
export const UNPRIVILEGED: { uid?: number; gid?: number } | null = (() => {
  if (process.getuid?.() !== 0) return {};
  const nobody = { uid: 65534, gid: 65534 };
  const probe = spawnSync(process.execPath, ['-e', `require('node:fs').accessSync(${JSON.stringify(BIN)}, require('node:fs').constants.R_OK)`], nobody);
  if (probe.status === 0) return nobody;
  console.warn(`the permission-denied tests are skipped: they run the command as 'nobody' (root ignores permissions), and 'nobody' cannot read ${BIN}; ` +
    'run the tests from a checkout every user can read, or not as root');
  return null;
})();

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
