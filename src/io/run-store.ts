// A run directory on any RunFs: its manifest (run.json), a history of checkpoints each committed as a
// whole, and the paths of its logs. Knows nothing of what the checkpoint files hold (train/ does).
//
// Layout (format 2):
//   run.json                          what wrote the directory: format, version, kind of model
//   metrics.jsonl                     append-only log (see jsonl-log.ts)
//   checkpoints/index.json            THE commit pointer: the list of complete checkpoints
//   checkpoints/step-00000400/        one checkpoint's files (model.safetensors, …), self-contained
//
// Why a directory per checkpoint and an index: a checkpoint is several files, and no file system renames
// several files at once. So each checkpoint is written, synced, into a directory no reader trusts yet, and
// a single atomic rename of index.json then makes it (and any pruning) visible. A crash at any instant
// leaves the old index or the new one; directories the index does not name are debris of an interrupted
// save or prune, and the next writer deletes them. (The other design, keeping the previous set of files
// beside the new and falling back to it, needs a rule to decide which set is whole; here the index is that
// rule, written last.) Format 1 — the five files loose in the run directory — is still read, as one
// checkpoint, and the first save moves such a run to format 2.

import { fsErrorCode, joinPath, utf8, writeFileAtomic, type RunFs } from './run-fs.ts';

export const RUN_FORMAT = 'resnorm-run';
export const RUN_FORMAT_VERSION = 2;
/** The kinds of run a directory can hold: the language model's ('gpt'), and one per other task (src/train/tasks/kinds.ts). */
export const RUN_KINDS = ['gpt', 'translate', 'classify', 'image'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

const MANIFEST = 'run.json';
const CHECKPOINTS = 'checkpoints';
const INDEX = 'index.json';
export const METRICS_LOG = 'metrics.jsonl';
/** The logs a run appends to as it trains (docs/run-directory.md): repaired on resume, read by the dashboard. */
export const RUN_LOGS = [METRICS_LOG, 'samples.jsonl', 'diagnostics.jsonl'] as const;
export type RunLog = (typeof RUN_LOGS)[number];
/** The files of a format-1 run, loose in its directory. */
const LEGACY_FILES = ['config.json', 'tokenizer.json', 'model.safetensors', 'optimizer.safetensors', 'state.json'];
const ENTRY_DIR = /^checkpoints\/step-\d{8,}(-\d+)?$/;

/** A run directory that cannot be read or written as asked; the message says why and what to do. */
export class RunStoreError extends Error {
  override name = 'RunStoreError';
}

/** A save that failed (full disk, no permission, …); the previous checkpoint is untouched. */
export class CheckpointWriteError extends RunStoreError {
  override name = 'CheckpointWriteError';
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export interface RunManifest {
  format: typeof RUN_FORMAT;
  version: number;
  kind: RunKind;
}

export interface CheckpointEntry {
  step: number;
  /** Its files' directory relative to the run directory: 'checkpoints/step-…', or '.' in a format-1 run. */
  dir: string;
  /** The validation loss measured at exactly this step, or null when the step was not evaluated. */
  valLoss: number | null;
  savedAt: string;
}

/** Which checkpoints a save keeps: the last `last` by step, and the best by validation loss if `best`. */
export interface KeepPolicy {
  last: number;
  best: boolean;
}

export type CheckpointChoice = number | 'latest' | 'best';

/** The entry with the lowest validation loss (the earliest of equals), or null when none was evaluated. */
export function bestCheckpoint(entries: readonly CheckpointEntry[]): CheckpointEntry | null {
  let best: CheckpointEntry | null = null;
  for (const e of entries) if (e.valLoss !== null && (best === null || e.valLoss < best.valLoss!)) best = e;
  return best;
}

export function checkpointsToKeep(entries: readonly CheckpointEntry[], keep: KeepPolicy): CheckpointEntry[] {
  const sorted = [...entries].sort((a, b) => a.step - b.step);
  const kept = new Set(sorted.slice(-Math.max(1, keep.last)));
  const best = keep.best ? bestCheckpoint(sorted) : null;
  if (best) kept.add(best);
  return sorted.filter((e) => kept.has(e));
}

export function describeFsError(e: unknown): string {
  const code = fsErrorCode(e);
  switch (code) {
    case 'ENOSPC':
      return 'the disk is full (ENOSPC)';
    case 'EDQUOT':
      return 'the disk quota is exhausted (EDQUOT)';
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${code})`;
    case 'EROFS':
      return 'the file system is read-only (EROFS)';
    default:
      return e instanceof Error ? e.message : String(e);
  }
}

function parseJSONFile(bytes: Uint8Array, path: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as unknown;
  } catch (e) {
    throw new RunStoreError(`${path} is not valid JSON (${(e as Error).message}); it is damaged`);
  }
}

export function parseManifest(bytes: Uint8Array, path: string): RunManifest {
  const raw = parseJSONFile(bytes, path) as Partial<RunManifest> | null;
  if (typeof raw !== 'object' || raw === null || raw.format !== RUN_FORMAT || !Number.isInteger(raw.version)) {
    throw new RunStoreError(`${path} is not a resnorm run manifest (expected {"format": "${RUN_FORMAT}", "version": …})`);
  }
  if (raw.version! > RUN_FORMAT_VERSION) {
    throw new RunStoreError(`${path} was written by a newer resnorm (run format ${raw.version}; this one reads up to ${RUN_FORMAT_VERSION}); upgrade resnorm to use this run`);
  }
  if (!RUN_KINDS.includes(raw.kind as RunKind)) {
    throw new RunStoreError(`${path} holds a run of kind ${JSON.stringify(raw.kind)}, which this resnorm cannot read (it knows ${RUN_KINDS.join(', ')}); use the resnorm command that made it, or a newer resnorm`);
  }
  return { format: RUN_FORMAT, version: raw.version!, kind: raw.kind as RunKind };
}

/** Checks every field: the index names directories to read and delete, so it is trusted for nothing. */
export function parseIndex(bytes: Uint8Array, path: string): CheckpointEntry[] {
  const raw = parseJSONFile(bytes, path) as { format?: unknown; version?: unknown; checkpoints?: unknown } | null;
  if (typeof raw !== 'object' || raw === null || raw.format !== 'resnorm-checkpoints' || raw.version !== 1 || !Array.isArray(raw.checkpoints)) {
    throw new RunStoreError(`${path} is not a resnorm checkpoint index (expected {"format": "resnorm-checkpoints", "version": 1, "checkpoints": […]}); it is damaged`);
  }
  const out: CheckpointEntry[] = [];
  for (const [i, e] of (raw.checkpoints as unknown[]).entries()) {
    const c = e as Partial<CheckpointEntry> | null;
    const ok =
      typeof c === 'object' &&
      c !== null &&
      Number.isSafeInteger(c.step) &&
      c.step! >= 0 &&
      typeof c.dir === 'string' &&
      ENTRY_DIR.test(c.dir) &&
      (c.valLoss === null || (typeof c.valLoss === 'number' && Number.isFinite(c.valLoss))) &&
      typeof c.savedAt === 'string' &&
      (out.length === 0 || c.step! > out[out.length - 1].step);
    if (!ok) throw new RunStoreError(`${path}: checkpoint entry ${i} is malformed or out of step order (${JSON.stringify(e)?.slice(0, 120)}); the index is damaged`);
    out.push({ step: c.step!, dir: c.dir!, valLoss: c.valLoss!, savedAt: c.savedAt! });
  }
  return out;
}

function encodeIndex(entries: readonly CheckpointEntry[]): string {
  return JSON.stringify({ format: 'resnorm-checkpoints', version: 1, checkpoints: entries }, null, 2) + '\n';
}

export class RunStore {
  private constructor(
    readonly fs: RunFs,
    readonly dir: string,
    private manifest: RunManifest | null,
  ) {}

  get kind(): RunKind {
    return this.manifest?.kind ?? 'gpt';
  }

  get metricsPath(): string {
    return joinPath(this.dir, METRICS_LOG);
  }

  logPath(log: RunLog): string {
    return joinPath(this.dir, log);
  }

  /**
   * True when `dir` holds a committed checkpoint of any format. A directory whose run never finished
   * its first save holds nothing to resume, and a new run may start in it.
   */
  static async holdsRun(fs: RunFs, dir: string): Promise<boolean> {
    for (const p of [joinPath(CHECKPOINTS, INDEX), 'state.json']) if ((await fs.kind(joinPath(dir, p))) !== null) return true;
    return false;
  }

  /** Makes a new run directory (the caller holds its lock and has checked holdsRun). */
  static async create(fs: RunFs, dir: string, kind: RunKind): Promise<RunStore> {
    const manifest: RunManifest = { format: RUN_FORMAT, version: RUN_FORMAT_VERSION, kind };
    await fs.mkdir(joinPath(dir, CHECKPOINTS));
    await writeFileAtomic(fs, joinPath(dir, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
    return new RunStore(fs, dir, manifest);
  }

  /** Opens an existing run for reading (and, under its lock, for writing). */
  static async open(fs: RunFs, dir: string): Promise<RunStore> {
    const what = await fs.kind(dir);
    if (what === null) throw new RunStoreError(`run directory ${dir} does not exist`);
    if (what === 'file') throw new RunStoreError(`${dir} is a file, not a run directory; pass a directory made by 'resnorm train'`);
    const bytes = await fs.readFile(joinPath(dir, MANIFEST));
    const manifest = bytes ? parseManifest(bytes, joinPath(dir, MANIFEST)) : null;
    if (!manifest && !(await RunStore.holdsRun(fs, dir))) {
      throw new RunStoreError(`${dir} is not a resnorm run directory (it has no ${MANIFEST}); pass a directory made by 'resnorm train'`);
    }
    return new RunStore(fs, dir, manifest);
  }

  private get indexPath(): string {
    return joinPath(this.dir, CHECKPOINTS, INDEX);
  }

  /** The committed checkpoints of the index, by step; null when there is no index yet. */
  private async readIndex(): Promise<CheckpointEntry[] | null> {
    const bytes = await this.fs.readFile(this.indexPath);
    return bytes ? parseIndex(bytes, this.indexPath) : null;
  }

  /** Every complete checkpoint, oldest first. */
  async checkpoints(): Promise<CheckpointEntry[]> {
    const index = await this.readIndex();
    if (index) return index;
    return (await this.legacyEntry()) ?? [];
  }

  /** A format-1 run's loose files as one checkpoint (its step read from state.json). */
  private async legacyEntry(): Promise<CheckpointEntry[] | null> {
    const path = joinPath(this.dir, 'state.json');
    const bytes = await this.fs.readFile(path);
    if (!bytes) return null;
    const state = parseJSONFile(bytes, path) as { step?: unknown; lastValLoss?: unknown } | null;
    if (typeof state !== 'object' || state === null || !Number.isSafeInteger(state.step) || (state.step as number) < 0) {
      throw new RunStoreError(`${path} has no valid step; the checkpoint is damaged`);
    }
    return [{ step: state.step as number, dir: '.', valLoss: null, savedAt: '' }];
  }

  async select(which: CheckpointChoice): Promise<CheckpointEntry> {
    const all = await this.checkpoints();
    if (all.length === 0) throw new RunStoreError(`${this.dir} has no complete checkpoint yet (its first save never finished); start the run again in it`);
    const steps = () => all.map((e) => e.step).join(', ');
    if (which === 'latest') return all[all.length - 1];
    if (which === 'best') {
      const best = bestCheckpoint(all);
      if (!best) throw new RunStoreError(`${this.dir} has no evaluated checkpoint to call best; its checkpoints are at steps ${steps()}`);
      return best;
    }
    const found = all.find((e) => e.step === which);
    if (!found) throw new RunStoreError(`${this.dir} has no checkpoint at step ${which}; it has steps ${steps()} (resnorm info lists them)`);
    return found;
  }

  /**
   * Reads files of a chosen checkpoint. A concurrent trainer may prune it between the choice and the
   * read: then the choice is made again, so 'latest' and 'best' always read one whole checkpoint.
   */
  async load(which: CheckpointChoice, names: readonly string[]): Promise<{ entry: CheckpointEntry; files: Map<string, Uint8Array> }> {
    for (let attempt = 0; ; attempt++) {
      const entry = await this.select(which);
      const files = new Map<string, Uint8Array>();
      for (const name of names) {
        const bytes = await this.fs.readFile(joinPath(this.dir, entry.dir, name));
        if (bytes) {
          files.set(name, bytes);
          continue;
        }
        const stillListed = (await this.checkpoints()).some((e) => e.dir === entry.dir);
        if (stillListed || attempt >= 3) {
          throw new RunStoreError(`${joinPath(this.dir, entry.dir, name)} is missing, so the checkpoint of step ${entry.step} is damaged; choose another with --step (resnorm info lists them)`);
        }
        break;
      }
      if (files.size === names.length) return { entry, files };
    }
  }

  /**
   * Writes a checkpoint's files and commits them as a whole, then prunes what `keep` lets go.
   * On failure the directory holds the same complete checkpoints as before and a CheckpointWriteError
   * says why; pruning failures are only debris for the next writer's collectGarbage.
   */
  async commit(files: Readonly<Record<string, Uint8Array | string>>, meta: { step: number; valLoss: number | null }, keep: KeepPolicy): Promise<CheckpointEntry> {
    const { fs } = this;
    const before = (await this.readIndex()) ?? [];
    const legacy = before.length === 0 && (await this.legacyEntry()) !== null;
    const taken = new Set([...before.map((e) => e.dir), ...((await fs.list(joinPath(this.dir, CHECKPOINTS))) ?? []).map((n) => `${CHECKPOINTS}/${n}`)]);
    const base = `${CHECKPOINTS}/step-${String(meta.step).padStart(8, '0')}`;
    let dir = base;
    for (let n = 2; taken.has(dir); n++) dir = `${base}-${n}`;
    const entry: CheckpointEntry = { step: meta.step, dir, valLoss: meta.valLoss, savedAt: new Date().toISOString() };
    const after = checkpointsToKeep([...before.filter((e) => e.step !== meta.step), entry], keep);
    const path = joinPath(this.dir, dir);
    try {
      if (!this.manifest) {
        // Moving a format-1 run: the manifest first, so that at every instant either the index or
        // the loose files describe the latest checkpoint.
        const manifest: RunManifest = { format: RUN_FORMAT, version: RUN_FORMAT_VERSION, kind: 'gpt' };
        await writeFileAtomic(fs, joinPath(this.dir, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
        this.manifest = manifest;
      }
      await fs.mkdir(path);
      for (const [name, data] of Object.entries(files)) {
        await fs.writeFile(joinPath(path, name), utf8(data));
        await fs.syncFile(joinPath(path, name));
      }
      await fs.syncDir(path);
      await fs.syncDir(joinPath(this.dir, CHECKPOINTS));
      await writeFileAtomic(fs, this.indexPath, encodeIndex(after)); // the commit point: its rename
    } catch (e) {
      await fs.remove(path).catch(() => undefined);
      if (fsErrorCode(e) === undefined) throw e;
      const previous = before.length > 0 ? `step ${before[before.length - 1].step}` : legacy ? 'the one in the run directory' : 'none';
      throw new CheckpointWriteError(`could not save the checkpoint of step ${meta.step} in ${this.dir}: ${describeFsError(e)}. The previous checkpoint (${previous}) is intact`, fsErrorCode(e));
    }
    const dropped = before.filter((e) => !after.includes(e)).map((e) => joinPath(this.dir, e.dir));
    if (legacy) dropped.push(...LEGACY_FILES.map((f) => joinPath(this.dir, f)));
    for (const p of dropped) await fs.remove(p).catch(() => undefined);
    return entry;
  }

  /**
   * Deletes the debris of interrupted saves and prunes: checkpoint directories the index does not name,
   * and temporary files. Only the writer holding the run's lock may call it. Returns what it removed.
   */
  async collectGarbage(): Promise<string[]> {
    const listed = new Set(((await this.readIndex()) ?? []).map((e) => e.dir));
    const removed: string[] = [];
    for (const name of (await this.fs.list(joinPath(this.dir, CHECKPOINTS))) ?? []) {
      const rel = `${CHECKPOINTS}/${name}`;
      if ((name.startsWith('step-') && !listed.has(rel)) || name.endsWith('.tmp')) removed.push(rel);
    }
    // Only temporaries of our own files: others (the lock's) belong to whoever is writing them.
    const ours = [MANIFEST, ...RUN_LOGS, ...LEGACY_FILES];
    for (const name of (await this.fs.list(this.dir)) ?? []) if (name.endsWith('.tmp') && ours.some((f) => name.startsWith(f + '.'))) removed.push(name);
    for (const rel of removed) await this.fs.remove(joinPath(this.dir, rel));
    return removed;
  }
}
