// The run-directory lock with real processes: a live holder is refused by name, a killed one is taken
// over, six processes racing for one stale lock produce exactly one winner, and a lock that is no longer
// ours (replaced, removed, from another host, half-written) is never clobbered.

import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/cli/errors.ts';
import { acquireRunLock, LOCK_FILE, type LockHolder, RunLockedError } from '../../src/cli/run-lock.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'resnorm-lock-'));
let dirs = 0;
function runDir(): string {
  const d = join(tmp, `run${dirs++}`);
  mkdirSync(d);
  return d;
}

// A lock holder in its own process. Mode 'now' acquires `dir` at once; mode 'wait' acquires on each line
// `go DIR AT` (spinning until the clock reads AT, so that all racers start at the same instant, whatever
// order their stdin wakes them in). Each attempt reports one line (locked PID | refused MESSAGE |
// error MESSAGE); the locks are held until stdin closes or the process is killed.
const HOLDER = join(tmp, 'holder.mjs');
writeFileSync(
  HOLDER,
  `import { createInterface } from 'node:readline';
import { acquireRunLock, RunLockedError } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src', 'cli', 'run-lock.ts')).href)};
const [dir, command, mode] = process.argv.slice(2);
const locks = [];
function attempt(d) {
  try {
    locks.push(acquireRunLock(d, command));
    console.log('locked ' + process.pid);
  } catch (e) {
    console.log((e instanceof RunLockedError ? 'refused ' : 'error ') + String(e?.message ?? e).replace(/\\n/g, ' '));
  }
}
const rl = createInterface({ input: process.stdin });
rl.on('line', (l) => {
  const [word, d, at] = l.split(' ');
  if (word !== 'go') return;
  while (Date.now() < Number(at));
  attempt(d);
});
rl.on('close', () => { for (const l of locks) l.release(); process.exit(0); });
if (mode === 'now') attempt(dir); else console.log('ready');
`,
);

interface Holder {
  proc: ChildProcessWithoutNullStreams;
  pid: number;
  /** The next stdout line (bounded wait; the message carries stderr on failure). */
  line(): Promise<string>;
  kill(): Promise<void>;
}

const children = new Set<ChildProcessWithoutNullStreams>();
afterAll(async () => {
  await Promise.all([...children].map(killed));
  rmSync(tmp, { recursive: true, force: true });
});

function killed(proc: ChildProcessWithoutNullStreams): Promise<void> {
  children.delete(proc);
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGKILL');
  });
}

function startHolder(dir: string, command: string, mode: 'now' | 'wait'): Holder {
  const proc = spawn(process.execPath, ['--import', 'tsx', HOLDER, dir, command, mode], { cwd: ROOT });
  children.add(proc);
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const queued: string[] = [];
  const waiting: ((l: string) => void)[] = [];
  createInterface({ input: proc.stdout }).on('line', (l) => {
    const w = waiting.shift();
    if (w) w(l);
    else queued.push(l);
  });
  return {
    proc,
    pid: proc.pid!,
    line: () =>
      new Promise((resolve, reject) => {
        if (queued.length > 0) return resolve(queued.shift()!);
        const timer = setTimeout(() => reject(new Error(`holder ${proc.pid} said nothing in 30 s; stderr: ${stderr}`)), 30_000);
        waiting.push((l) => {
          clearTimeout(timer);
          resolve(l);
        });
      }),
    kill: () => killed(proc),
  };
}

function readLock(dir: string): LockHolder {
  return JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as LockHolder;
}

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid!; // exited and reaped by now
}

function writeLock(dir: string, h: LockHolder): void {
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify(h));
}

function refusal(f: () => unknown): RunLockedError {
  try {
    f();
  } catch (e) {
    if (e instanceof RunLockedError) return e;
    throw e;
  }
  throw new Error('expected a RunLockedError');
}

describe('run lock', () => {
  it('acquires, refuses a second acquisition, releases, and acquires again', () => {
    const dir = runDir();
    const lock = acquireRunLock(dir, 'resnorm train --resume a');
    expect(lock.path).toBe(join(dir, LOCK_FILE));
    expect(readLock(dir)).toMatchObject({ pid: process.pid, host: hostname(), command: 'resnorm train --resume a' });
    expect(Number.isNaN(Date.parse(readLock(dir).startedAt))).toBe(false);
    expect(() => lock.assertHeld()).not.toThrow();
    // even this same process: a lock is never reused
    const e = refusal(() => acquireRunLock(dir, 'second'));
    expect(e).toBeInstanceOf(UserError);
    expect(e.message).toContain(`process ${process.pid}`);
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
    lock.release(); // idempotent
    const again = acquireRunLock(dir, 'third');
    expect(readLock(dir).command).toBe('third');
    lock.release(); // the old handle must not remove the new lock
    expect(readLock(dir).command).toBe('third');
    again.release();
    expect(readdirSync(dir)).toEqual([]); // no temp files left behind
  });

  it('refuses while another live process holds it, naming it, and takes it over once that process is killed', async () => {
    const dir = runDir();
    const child = startHolder(dir, 'resnorm train --resume runs/x', 'now');
    expect(await child.line()).toBe(`locked ${child.pid}`);
    const e = refusal(() => acquireRunLock(dir, 'resnorm train --resume runs/x'));
    expect(e.message).toContain(`process ${child.pid} on host ${hostname()}`);
    expect(e.message).toContain('resnorm train --resume runs/x');
    expect(e.message).toContain('wait for it to finish or stop it');
    expect(e.message).not.toContain('\n');

    await child.kill(); // SIGKILL: no release, the lock stays behind, stale
    expect(readLock(dir).pid).toBe(child.pid);
    const lock = acquireRunLock(dir, 'takeover');
    expect(readLock(dir)).toMatchObject({ pid: process.pid, command: 'takeover' });
    lock.assertHeld();
    lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('takes over a stale lock left by a dead process', () => {
    const dir = runDir();
    writeLock(dir, { pid: deadPid(), host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', command: 'resnorm train' });
    const lock = acquireRunLock(dir, 'mine');
    expect(readLock(dir)).toMatchObject({ pid: process.pid, command: 'mine' });
    lock.release();
  });

  it.skipIf(process.platform !== 'linux')('takes over a lock whose holder was killed but not yet reaped (a zombie still answers kill(pid, 0))', async () => {
    // sh backgrounds a short sleep, prints its pid, and becomes a long sleep that never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = Number(await new Promise<string>((resolve) => parent.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()))));
      const deadline = Date.now() + 10_000;
      while (!/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(readFileSync(`/proc/${pid}/stat`, 'utf8')).toMatch(/\) Z /); // a zombie: killed, not reaped
      expect(() => process.kill(pid, 0)).not.toThrow();
      const dir = runDir();
      writeLock(dir, { pid, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', command: 'resnorm lab worker' });
      const lock = acquireRunLock(dir, 'resumed');
      expect(readLock(dir)).toMatchObject({ pid: process.pid, command: 'resumed' });
      lock.release();
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('lets exactly one of six processes racing for the same stale lock win, round after round', async () => {
    const racers = Array.from({ length: 6 }, (_, i) => startHolder(tmp, `racer ${i}`, 'wait'));
    try {
      for (const r of racers) expect(await r.line()).toBe('ready');
      const dead = deadPid();
      for (let round = 0; round < 8; round++) {
        const dir = runDir();
        writeLock(dir, { pid: dead, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', command: 'dead trainer' });
        const at = Date.now() + 30;
        for (const r of racers) r.proc.stdin.write(`go ${dir} ${at}\n`);
        const results = await Promise.all(racers.map((r) => r.line()));
        const winners = racers.filter((_, i) => results[i].startsWith('locked '));
        expect(winners.length, results.join('\n')).toBe(1);
        const winner = winners[0];
        for (const [i, r] of results.entries()) {
          if (racers[i] === winner) expect(r).toBe(`locked ${winner.pid}`);
          else expect(r).toMatch(new RegExp(`^refused .*in use by process ${winner.pid} `));
        }
        expect(readLock(dir)).toMatchObject({ pid: winner.pid, command: `racer ${racers.indexOf(winner)}` });
        expect(readdirSync(dir)).toEqual([LOCK_FILE]); // no temp or grabbed-stale files left behind
      }
    } finally {
      await Promise.all(racers.map((r) => r.kill()));
    }
  });

  it('gets past a takeover claim left by a dead process, and gives up with "retry" on a live one', () => {
    // Claims are named after the stale lock's content: `lock.json.takeover-<sha256 prefix>-<generation>`.
    const dir = runDir();
    const stale: LockHolder = { pid: deadPid(), host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', command: 'dead trainer' };
    writeLock(dir, stale);
    const claim = (gen: number) => `${LOCK_FILE}.takeover-${createHash('sha256').update(JSON.stringify(stale)).digest('hex').slice(0, 16)}-${gen}`;
    const claimant = (pid: number) => JSON.stringify({ ...stale, pid, command: 'claimant' });
    writeFileSync(join(dir, claim(0)), claimant(deadPid())); // killed while taking over
    const lock = acquireRunLock(dir, 'mine');
    expect(readLock(dir).pid).toBe(process.pid);
    expect(readdirSync(dir).sort()).toEqual([LOCK_FILE, claim(0)]); // the dead claim stays, never raced over
    lock.release();

    rmSync(join(dir, claim(0)));
    writeLock(dir, stale);
    writeFileSync(join(dir, claim(0)), claimant(process.pid)); // a live claimant that never finishes
    expect(refusal(() => acquireRunLock(dir, 'mine')).message).toMatch(/could not lock .* at the same time; retry$/);
    expect(readLock(dir)).toEqual(stale);
  });

  it('assertHeld fails once another process has replaced or removed the lock, and release leaves that lock alone', () => {
    const dir = runDir();
    const lock = acquireRunLock(dir, 'mine');
    const other: LockHolder = { pid: process.pid + 1, host: hostname(), startedAt: '2026-12-02T07:00:00.000Z', command: 'resnorm train --resume other' };
    writeLock(dir, other);
    const e = refusal(() => lock.assertHeld());
    expect(e.message).toContain(`no longer locked by this process (${process.pid})`);
    expect(e.message).toContain(`process ${other.pid}`);
    expect(e.message).toContain('resnorm train --resume other');
    lock.release();
    expect(readLock(dir)).toEqual(other);

    // the same pid with another start time is another acquisition, not ours
    writeLock(dir, { ...readLock(dir), pid: process.pid });
    expect(() => lock.assertHeld()).toThrow(RunLockedError);

    rmSync(lock.path);
    expect(refusal(() => lock.assertHeld()).message).toContain('was removed');
  });

  it('refuses a lock from another host, saying to delete lock.json if that host no longer trains the run', () => {
    const dir = runDir();
    const foreign: LockHolder = { pid: deadPid(), host: `${hostname()}-elsewhere`, startedAt: '2026-12-02T07:00:00.000Z', command: 'resnorm train --resume runs/x' };
    writeLock(dir, foreign);
    const e = refusal(() => acquireRunLock(dir, 'mine'));
    expect(e.message).toContain(`process ${foreign.pid} on host ${foreign.host}`);
    expect(e.message).toContain(`delete ${join(dir, LOCK_FILE)}`);
    expect(readLock(dir)).toEqual(foreign); // a dead pid means nothing on another host: untouched
  });

  it('treats an unparsable lock as being written while fresh and as debris once old', () => {
    const dir = runDir();
    const path = join(dir, LOCK_FILE);
    for (const junk of ['', '{"pid": 12', JSON.stringify({ pid: 0, host: hostname(), startedAt: 'x', command: 'c' })]) {
      writeFileSync(path, junk);
      expect(refusal(() => acquireRunLock(dir, 'mine')).message).toMatch(/not a complete lock.*retry in a few seconds/);
      const old = new Date(Date.now() - 60_000);
      utimesSync(path, old, old);
      const lock = acquireRunLock(dir, 'mine');
      expect(readLock(dir).pid).toBe(process.pid);
      lock.release();
    }
  });
});
