// The runs a dashboard serves: the run directories under the roots it was given, found again on every
// scan so new runs appear, each with an id that stays the same for the server's life. Also the one place
// that turns (run, file name) into a path, and only into a file inside that run's directory.
//
// Symlinks. A root named by the user is followed wherever it points (they chose it). A run found inside a
// root, and every file served from a run, must resolve (realpath) inside the root's and the run's real
// directory: a `metrics.jsonl -> /etc/passwd` or a `runs/x -> /home/else` is not served.

import { constants, promises as fsp, type Dirent } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join, resolve, sep } from 'node:path';
import { parseIndex, RUN_LOGS, type RunLog } from '../io/run-store.ts';

/** Every file of a run the server hands out; anything else is 404. */
export const RUN_FILES = ['run.json', ...RUN_LOGS, 'config.json'] as const;
export type RunFile = (typeof RUN_FILES)[number];
/** The append-only logs streamed over /api/events. */
export const LOG_FILES = RUN_LOGS;
export type LogFile = RunLog;

/** What /api/runs says of a run. */
export interface RunInfo {
  id: string;
  /** Its directory relative to the root it was found in ('sweep/lr-3e-4'), or the root's own name. */
  name: string;
  /** Its directory as the user would write it: the root as given, joined with the name. */
  path: string;
  /** The latest checkpoint's config.json, or null when there is none yet (or it does not parse). */
  config: unknown;
  /** A trainer holds the run's lock (lock.json), and is not known to be dead. */
  training: boolean;
}

export interface Run {
  info: RunInfo;
  /** realpath of the run directory: every file served must resolve inside it. */
  real: string;
}

/** Names that make a directory a run (any one of them). */
const RUN_MARKERS = ['run.json', 'checkpoints', 'metrics.jsonl'];
const MAX_RUNS = 1000;
/** config.json and index.json are a few KB; anything far larger is not ours to parse every scan. */
const MAX_JSON_BYTES = 4 << 20;

export function isInside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);
}

async function realpathOrNull(p: string): Promise<string | null> {
  try {
    return await fsp.realpath(p);
  } catch {
    return null;
  }
}

async function listDir(p: string): Promise<Dirent[] | null> {
  try {
    return await fsp.readdir(p, { withFileTypes: true });
  } catch {
    return null;
  }
}

/**
 * Opens `rel` (a path relative to the run directory, from our own tables, never from a request) for
 * reading, when it resolves to a regular file inside the run's real directory; null otherwise.
 * O_NOFOLLOW | O_NONBLOCK: the resolved path is opened without following a link swapped in since, and a
 * FIFO planted under a log's name cannot block the server.
 */
export async function openInRun(runReal: string, rel: string): Promise<fsp.FileHandle | null> {
  const real = await realpathOrNull(join(runReal, rel));
  if (real === null || !isInside(real, runReal)) return null;
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  if (!(await fh.stat()).isFile()) {
    await fh.close();
    return null;
  }
  return fh;
}

/** The whole file, when it is a regular file inside the run and at most `max` bytes; else null. */
async function readSmall(runReal: string, rel: string, max = MAX_JSON_BYTES): Promise<Buffer | null> {
  const fh = await openInRun(runReal, rel);
  if (!fh) return null;
  try {
    const { size } = await fh.stat();
    if (size > max) return null;
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

/** The run-relative path of the latest checkpoint's config.json: from checkpoints/index.json, or loose in a format-1 run. */
export async function configPath(runReal: string): Promise<string | null> {
  const bytes = await readSmall(runReal, join('checkpoints', 'index.json'));
  if (bytes === null) return (await readSmall(runReal, 'config.json')) === null ? null : 'config.json';
  try {
    // parseIndex checks each entry's dir is checkpoints/step-…, so no entry can name a path outside.
    const last = parseIndex(bytes, 'checkpoints/index.json').at(-1);
    return last ? join(last.dir, 'config.json') : null;
  } catch {
    return null;
  }
}

/** The run-relative path a served file name stands for (config.json goes through the index). */
export async function runFilePath(runReal: string, file: RunFile): Promise<string | null> {
  return file === 'config.json' ? configPath(runReal) : file;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH'; // EPERM: it exists, not ours
  }
}

/** lock.json present, unless it names a process of this host that no longer exists (a killed trainer's). */
async function isTraining(runReal: string): Promise<boolean> {
  const bytes = await readSmall(runReal, 'lock.json', 64 << 10);
  if (bytes === null) return false;
  try {
    const h = JSON.parse(bytes.toString('utf8')) as { pid?: unknown; host?: unknown };
    // A pid of 0 or below would make kill() address a process group: treat such a lock as live.
    if (h.host === hostname() && Number.isSafeInteger(h.pid) && (h.pid as number) > 0) return isAlive(h.pid as number);
  } catch {
    // half-written by a trainer taking the lock right now
  }
  return true;
}

interface Found {
  name: string;
  path: string;
  real: string;
}

/** The run directories under one root: the root itself, or its subdirectories, one or two levels down. */
async function findRuns(root: string, log: (line: string) => void, warned: Set<string>): Promise<Found[]> {
  const rootReal = await realpathOrNull(root);
  if (rootReal === null) return [];
  const top = await listDir(rootReal);
  if (top === null) return [];
  if (top.some((d) => RUN_MARKERS.includes(d.name))) return [{ name: basename(resolve(root)), path: root, real: rootReal }];
  const out: Found[] = [];
  const visit = async (entries: Dirent[], dirReal: string, prefix: string, depth: number) => {
    for (const d of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (out.length >= MAX_RUNS || d.name.startsWith('.') || !(d.isDirectory() || d.isSymbolicLink())) continue;
      const name = prefix ? `${prefix}/${d.name}` : d.name;
      const real = await realpathOrNull(join(dirReal, d.name));
      if (real === null) continue;
      if (!isInside(real, rootReal)) {
        if (!warned.has(name)) log(`dashboard: not serving ${join(root, name)}: it is a link to ${real}, outside ${root}`);
        warned.add(name);
        continue;
      }
      const sub = await listDir(real);
      if (sub === null) continue;
      if (sub.some((e) => RUN_MARKERS.includes(e.name))) out.push({ name, path: join(root, name), real });
      else if (depth < 2) await visit(sub, real, name, depth + 1);
    }
  };
  await visit(top, rootReal, '', 1);
  return out;
}

/** The runs of some roots, with ids stable for the table's life (keyed by real directory). */
export class RunTable {
  private ids = new Map<string, string>();
  private current: Run[] = [];
  private configs = new Map<string, { stamp: string; config: unknown }>();
  private warned = new Set<string>();
  private json = '[]';
  private scanning: Promise<boolean> | null = null;
  /** Goes up by one with every change a scan finds. */
  version = 0;

  constructor(
    private readonly roots: readonly string[],
    private readonly log: (line: string) => void,
  ) {}

  get runs(): readonly Run[] {
    return this.current;
  }

  get(id: string): Run | undefined {
    return this.current.find((r) => r.info.id === id);
  }

  infos(): RunInfo[] {
    return this.current.map((r) => r.info);
  }

  /** Looks again; true when the list (or anything /api/runs says of a run) changed. Concurrent calls share one scan. */
  scan(): Promise<boolean> {
    this.scanning ??= this.rescan().finally(() => (this.scanning = null));
    return this.scanning;
  }

  private async rescan(): Promise<boolean> {
    const next: Run[] = [];
    const seen = new Set<string>();
    for (const root of this.roots) {
      for (const f of await findRuns(root, this.log, this.warned)) {
        if (seen.has(f.real) || next.length >= MAX_RUNS) continue; // the same run reached from two roots
        seen.add(f.real);
        let id = this.ids.get(f.real);
        if (id === undefined) this.ids.set(f.real, (id = `r${this.ids.size}`));
        const [config, training] = await Promise.all([this.configOf(f.real), isTraining(f.real)]);
        next.push({ real: f.real, info: { id, name: f.name, path: f.path, config, training } });
      }
    }
    this.current = next;
    const json = JSON.stringify(this.infos());
    const changed = json !== this.json;
    this.json = json;
    if (changed) this.version++;
    return changed;
  }

  /** Re-read only when checkpoints/index.json changed (a new checkpoint was committed). */
  private async configOf(real: string): Promise<unknown> {
    let stamp = 'none';
    try {
      const s = await fsp.stat(join(real, 'checkpoints', 'index.json'));
      stamp = `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      // no index: a format-1 run, or one before its first save
    }
    const cached = this.configs.get(real);
    if (cached && cached.stamp === stamp && stamp !== 'none') return cached.config;
    let config: unknown = null;
    const rel = await configPath(real);
    const bytes = rel === null ? null : await readSmall(real, rel);
    if (bytes !== null) {
      try {
        config = JSON.parse(bytes.toString('utf8')) as unknown;
      } catch {
        config = null;
      }
    }
    this.configs.set(real, { stamp, config });
    return config;
  }
}
