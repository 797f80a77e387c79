// A RunFs over an in-memory Map<path, Uint8Array>: how a browser holds a run directory — the files a
// user picked or dropped (read-only), or the run the demo saves before offering it as one .tar — and a
// plain one for Node tests. Directories are implicit in the files' paths, plus those made by mkdir.

import { fsErrorCode, type RunFs } from './run-fs.ts';

/** An error with a Node-style code, as the run store expects of every RunFs. */
function fsError(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

/** 'a//b/./c/' → 'a/b/c'; '', '.', './' → '.' (the root). Refuses '..': a picked file names nothing above its folder. */
export function normalizePath(path: string): string {
  const parts: string[] = [];
  for (const p of path.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') throw fsError('EINVAL', `path ${JSON.stringify(path)} climbs out of the run directory`);
    parts.push(p);
  }
  return parts.length === 0 ? '.' : parts.join('/');
}

function parent(path: string): string | null {
  if (path === '.') return null;
  const i = path.lastIndexOf('/');
  return i < 0 ? '.' : path.slice(0, i);
}

export interface MemoryRunFsOptions {
  /** Refuse every write with EROFS (the files a user picked: the run store reads them, and writes nothing). */
  readOnly?: boolean;
}

export class MemoryRunFs implements RunFs {
  private readonly files = new Map<string, Uint8Array>();
  private readonly dirs = new Set<string>(['.']);
  readonly readOnly: boolean;

  /** `files`: paths ('run/checkpoints/index.json', '/'-separated, relative) → bytes. */
  constructor(files: Iterable<readonly [string, Uint8Array]> = [], o: MemoryRunFsOptions = {}) {
    this.readOnly = o.readOnly ?? false;
    for (const [path, data] of files) this.put(normalizePath(path), data);
  }

  /** Every file, path → bytes, in path order (for a tar of the tree). */
  entries(): [string, Uint8Array][] {
    return [...this.files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Every directory but the root, parents before children. */
  directories(): string[] {
    return [...this.dirs].filter((d) => d !== '.').sort();
  }

  private put(path: string, data: Uint8Array): void {
    if (this.dirs.has(path)) throw fsError('EISDIR', `${path} is a directory`);
    for (let d = parent(path); d !== null; d = parent(d)) {
      if (this.files.has(d)) throw fsError('ENOTDIR', `${d} is a file, so ${path} cannot be in it`);
      this.dirs.add(d);
    }
    this.files.set(path, data);
  }

  private writable(what: string): void {
    if (this.readOnly) throw fsError('EROFS', `${what}: these files were picked to be read; nothing is written to them`);
  }

  private parentMustExist(path: string): void {
    const d = parent(path);
    if (d !== null && !this.dirs.has(d)) throw fsError('ENOENT', `no directory ${d} for ${path}`);
  }

  async readFile(path: string): Promise<Uint8Array | null> {
    return this.files.get(normalizePath(path)) ?? null;
  }

  async writeFile(path: string, data: Uint8Array): Promise<void> {
    const p = normalizePath(path);
    this.writable(`write ${p}`);
    this.parentMustExist(p);
    // A copy: the caller may reuse its buffer, and a file must not change under a reader.
    this.put(p, data.slice());
  }

  async appendFile(path: string, data: Uint8Array): Promise<void> {
    const p = normalizePath(path);
    this.writable(`append to ${p}`);
    this.parentMustExist(p);
    const old = this.files.get(p);
    if (!old) return this.put(p, data.slice());
    const joined = new Uint8Array(old.length + data.length);
    joined.set(old);
    joined.set(data, old.length);
    this.files.set(p, joined);
  }

  // Memory is as durable as it gets here; the run store's syncs only have to find what they sync.
  async syncFile(path: string): Promise<void> {
    const p = normalizePath(path);
    if (!this.files.has(p)) throw fsError('ENOENT', `no file ${p} to sync`);
  }

  async syncDir(path: string): Promise<void> {
    const p = normalizePath(path);
    if (!this.dirs.has(p)) throw fsError('ENOENT', `no directory ${p} to sync`);
  }

  async rename(from: string, to: string): Promise<void> {
    const f = normalizePath(from);
    const t = normalizePath(to);
    this.writable(`rename ${f}`);
    const data = this.files.get(f);
    // The run store renames files only (temporary file → index.json, run.json).
    if (!data) throw fsError('ENOENT', `no file ${f} to rename`);
    this.parentMustExist(t);
    if (this.dirs.has(t)) throw fsError('EISDIR', `${t} is a directory`);
    this.files.delete(f);
    this.files.set(t, data);
  }

  async mkdir(path: string): Promise<void> {
    const p = normalizePath(path);
    if (this.dirs.has(p)) return;
    this.writable(`mkdir ${p}`);
    for (let d: string | null = p; d !== null; d = parent(d)) {
      if (this.files.has(d)) throw fsError('EEXIST', `${d} is a file`);
      this.dirs.add(d);
    }
  }

  async remove(path: string): Promise<void> {
    const p = normalizePath(path);
    if (!this.files.has(p) && !this.dirs.has(p)) return;
    this.writable(`remove ${p}`);
    if (p === '.') throw fsError('EPERM', 'the root cannot be removed');
    this.files.delete(p);
    const under = `${p}/`;
    for (const f of [...this.files.keys()]) if (f.startsWith(under)) this.files.delete(f);
    for (const d of [...this.dirs]) if (d === p || d.startsWith(under)) this.dirs.delete(d);
  }

  async list(path: string): Promise<string[] | null> {
    const p = normalizePath(path);
    if (!this.dirs.has(p)) return null;
    const prefix = p === '.' ? '' : `${p}/`;
    const names = new Set<string>();
    for (const name of [...this.files.keys(), ...this.dirs]) {
      if (name === p || !name.startsWith(prefix)) continue;
      const rest = name.slice(prefix.length);
      if (rest !== '' && !rest.includes('/')) names.add(rest);
    }
    return [...names].sort();
  }

  async kind(path: string): Promise<'file' | 'dir' | null> {
    const p = normalizePath(path);
    return this.files.has(p) ? 'file' : this.dirs.has(p) ? 'dir' : null;
  }
}

/**
 * The run directories among some files' paths (the folder a user picked may be one run, or hold
 * several): each directory with a run.json, a checkpoints/index.json, or (a format-1 run) a state.json
 * not inside a checkpoint; a run inside another run's tree is not listed twice. Shortest first.
 */
export function findRunDirs(paths: Iterable<string>): string[] {
  const found = new Set<string>();
  for (const raw of paths) {
    let path: string;
    try {
      path = normalizePath(raw);
    } catch (e) {
      if (fsErrorCode(e) === 'EINVAL') continue;
      throw e;
    }
    const at = (suffix: string) => (path === suffix ? '.' : path.endsWith(`/${suffix}`) ? path.slice(0, -suffix.length - 1) : null);
    const dir = at('run.json') ?? at('checkpoints/index.json') ?? at('state.json');
    if (dir === null) continue;
    if (path.endsWith('state.json') && /(^|\/)checkpoints\/[^/]+$/.test(dir)) continue; // a checkpoint's own state.json
    found.add(dir);
  }
  const sorted = [...found].sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
  return sorted.filter((d) => !sorted.some((o) => o !== d && (o === '.' || d.startsWith(`${o}/`))));
}
