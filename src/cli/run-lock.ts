// A lock on a run directory while a trainer writes to it: `<dir>/lock.json` names the holder (pid, host,
// start time, command), so a second `resnorm train --resume` on the same run is refused by name, and a
// lock whose process died (SIGKILL, crash, power loss) is taken over safely.
//
// Protocol. Create: write the full JSON to a private temp file beside the lock, then link(temp, lock):
// link is an exclusive create (EEXIST if held) that never exposes a half-written lock.
// Take over a stale lock S (its process is dead): first claim S by exclusively creating
// `lock.json.takeover-<hash of S>-<generation>`; holding the claim, re-read lock.json and unlink it only
// if it is still S byte for byte; drop the claim; start over at the exclusive create, which only one
// process wins. The claim makes "compare, then delete" safe: lock.json changes only by an exclusive
// create (while absent), by its owner's release (the owner of S is dead), or by the one claimant of S,
// so between the claimant's compare and its unlink the file stays S. A claim whose process died (killed
// inside those few microseconds) is never removed, since removing it would race; the next process
// claims the next generation instead.
// (Renaming S to a private name, checking it and putting it back when it turned out to be a fresh lock
// loses that fresh lock whenever a third process creates one in between: six racers on two cores hit
// that about once in fifty rounds, and two of them came out holding the run.)
// Liveness is judged with kill(pid, 0) on the same host only; a reused pid reads as alive (refused,
// never clobbered), and a lock from another host is never taken over automatically. Editing lock.json
// by hand is outside the protocol; assertHeld() catches it before the next checkpoint.

import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UserError } from './errors.ts';

export const LOCK_FILE = 'lock.json';

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string; // ISO 8601
  command: string;
}

/** Thrown when another live process holds the lock (or took it from us). */
export class RunLockedError extends UserError {
  override name = 'RunLockedError';
}

export interface RunLock {
  readonly path: string;
  /** Throws RunLockedError if the lock file no longer names this process (another process took it); the trainer calls this before committing each checkpoint. */
  assertHeld(): void;
  /** Removes the lock file if it still names this process; idempotent. */
  release(): void;
}

const MAX_ROUNDS = 20;
/** A lock file that does not parse is someone's half-written file for this long, after that it is debris. */
const UNREADABLE_STALE_MS = 5_000;

/** Takes the lock file `<dir>/lock.json` (dir must exist); `command` is a short description such as 'resnorm train --resume runs/x'. */
export function acquireRunLock(dir: string, command: string): RunLock {
  const path = join(dir, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, host: hostname(), startedAt: nextStartedAt(), command };
  const text = `${JSON.stringify(me)}\n`;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    if (createExclusive(path, text)) return heldLock(dir, path, me);
    const seen = inspect(path);
    switch (seen.kind) {
      case 'gone':
        break; // released or grabbed by a taker-over meanwhile: try the create again
      case 'holder': {
        const h = seen.holder;
        if (h.host !== me.host) {
          throw new RunLockedError(
            `${dir} is locked by process ${h.pid} on host ${h.host} (started ${h.startedAt}: ${h.command}), and from host ${me.host} there is no telling whether it still runs; if ${h.host} no longer trains this run, delete ${path} and retry`,
          );
        }
        if (isAlive(h.pid)) throw new RunLockedError(`${dir} is in use by ${describe(h)}; wait for it to finish or stop it, then retry`);
        takeOver(path, seen.text, text, round);
        break;
      }
      case 'unreadable':
        if (seen.ageMs < UNREADABLE_STALE_MS) {
          throw new RunLockedError(`${path} exists but is not a complete lock yet (another process may be writing it); retry in a few seconds`);
        }
        takeOver(path, seen.text, text, round);
        break;
      default: {
        const never: never = seen;
        throw new Error(`unhandled lock state ${String(never)}`);
      }
    }
  }
  throw new RunLockedError(`could not lock ${dir} in ${MAX_ROUNDS} attempts: other processes were creating or taking over ${path} at the same time; retry`);
}

function heldLock(dir: string, path: string, me: LockHolder): RunLock {
  const ours = (h: LockHolder | undefined) => h !== undefined && h.pid === me.pid && h.host === me.host && h.startedAt === me.startedAt;
  return {
    path,
    assertHeld() {
      const seen = inspect(path);
      if (seen.kind === 'holder' && ours(seen.holder)) return;
      const now = seen.kind === 'holder' ? `it is now in use by ${describe(seen.holder)}` : seen.kind === 'gone' ? `${path} was removed` : `${path} was overwritten`;
      throw new RunLockedError(
        `${dir} is no longer locked by this process (${me.pid}): ${now}; not writing to it, so as not to clobber another trainer — make sure only one process trains this run, then resume`,
      );
    },
    release() {
      const seen = inspect(path);
      if (seen.kind !== 'holder' || !ours(seen.holder)) return;
      try {
        unlinkSync(path);
      } catch (e) {
        if (errno(e) !== 'ENOENT') throw e;
      }
    },
  };
}

/** Writes `text` to a private temp file and links it to `path`; false if `path` already exists. */
function createExclusive(path: string, text: string): boolean {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  const fd = openSync(tmp, 'wx');
  try {
    try {
      const bytes = Buffer.from(text, 'utf8');
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd); // a crash right after must not leave an empty lock.json behind
    } finally {
      closeSync(fd);
    }
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if (errno(e) === 'EEXIST') return false;
    throw e;
  } finally {
    unlinkSync(tmp);
  }
}

/**
 * Removes the stale lock whose content was `staleText` if it is still there, as the one claimant of it
 * (see the protocol above). `ourText` is written into the claim; `round` paces the wait for a live claim.
 */
function takeOver(path: string, staleText: string, ourText: string, round: number): void {
  const key = createHash('sha256').update(staleText).digest('hex').slice(0, 16);
  for (let gen = 0; gen < MAX_ROUNDS; gen++) {
    const claim = `${path}.takeover-${key}-${gen}`;
    if (createExclusive(claim, ourText)) {
      try {
        const now = inspect(path);
        if (now.kind !== 'gone' && now.text === staleText) unlinkSync(path);
      } finally {
        unlinkSync(claim);
      }
      return;
    }
    const c = inspect(claim);
    if (c.kind === 'gone') return; // its claimant just finished: look at lock.json again
    const live = c.kind === 'holder' ? c.holder.host !== hostname() || isAlive(c.holder.pid) : c.ageMs < UNREADABLE_STALE_MS;
    if (live) {
      sleepMs(Math.min(2 ** round, 50)); // it is removing S right now (microseconds, unless descheduled)
      return;
    }
    // its claimant died holding it: claim the next generation
  }
  throw new RunLockedError(`could not take over the stale lock ${path}: ${MAX_ROUNDS} claims on it were left by dead processes; delete ${path}.takeover-* and retry`);
}

/** A synchronous pause (acquireRunLock is synchronous, as its callers are). */
function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

type Seen = { kind: 'gone' } | { kind: 'holder'; text: string; holder: LockHolder } | { kind: 'unreadable'; text: string; ageMs: number };

/** Reads the lock file once (text and mtime from the same open file). */
function inspect(path: string): Seen {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if (errno(e) === 'ENOENT') return { kind: 'gone' };
    throw e;
  }
  try {
    const text = readFileSync(fd, 'utf8');
    const holder = parseHolder(text);
    return holder ? { kind: 'holder', text, holder } : { kind: 'unreadable', text, ageMs: Date.now() - fstatSync(fd).mtimeMs };
  } finally {
    closeSync(fd);
  }
}

function parseHolder(text: string): LockHolder | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const h = v as Record<string, unknown>;
  // pid must be a real process id: kill(0) or kill(-1) would signal a whole process group.
  if (!Number.isSafeInteger(h.pid) || (h.pid as number) <= 0) return undefined;
  if (typeof h.host !== 'string' || typeof h.startedAt !== 'string' || typeof h.command !== 'string') return undefined;
  return { pid: h.pid as number, host: h.host, startedAt: h.startedAt, command: h.command };
}

/** kill(pid, 0) delivers nothing; ESRCH means no such process, EPERM means it exists but is not ours. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return errno(e) !== 'ESRCH'; // anything but "no such process" counts as alive: refuse, never clobber
  }
  return !isZombie(pid);
}

/**
 * A killed process stays in the process table, answering kill(pid, 0), until its parent reaps it; a
 * lab worker killed with its parent is reaped by init, which in a container may be slow or never come.
 * Linux says so in /proc/<pid>/stat (state Z or X); elsewhere, or when it cannot be read, not a zombie.
 */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3); // after "pid (comm) "
    return state === 'Z' || state === 'X';
  } catch {
    return false;
  }
}

let lastStartedMs = 0;
/** Start times strictly increase within a process, so (pid, startedAt) names one acquisition. */
function nextStartedAt(): string {
  lastStartedMs = Math.max(Date.now(), lastStartedMs + 1);
  return new Date(lastStartedMs).toISOString();
}

function describe(h: LockHolder): string {
  return `process ${h.pid} on host ${h.host} (started ${h.startedAt}: ${h.command})`;
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}
