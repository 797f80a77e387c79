// The files of a run directory the user picked (<input type=file webkitdirectory>) or dropped (a folder,
// walked through the entries API), named by their paths from the picked folder on, as resnorm train
// laid them out. Only the files loading reads are read into memory (RUN_FILES_FOR_LOAD), plus the
// metrics log for the chart; a run's optimizer moments and diagnostics are most of its bytes.

import { RUN_FILES_FOR_LOAD, type RunFile } from '../../worker/protocol.ts';

export interface PickedFile {
  /** '/'-separated, relative: 'my-run/checkpoints/index.json'. */
  path: string;
  file: File;
}

/** From an <input webkitdirectory>: each File knows its path from the picked folder on. */
export function pickedFromInput(list: FileList): PickedFile[] {
  return Array.from(list, (file) => ({ path: file.webkitRelativePath || file.name, file }));
}

function readEntries(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  // readEntries answers in batches (100 in chromium) until it answers with none.
  return new Promise((resolve, reject) => {
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) return resolve(all);
        all.push(...batch);
        next();
      }, reject);
    next();
  });
}

/** From a drop: a dropped folder is walked; dropped loose files are taken as the run directory's own. */
export async function pickedFromDrop(items: DataTransferItemList): Promise<PickedFile[]> {
  const out: PickedFile[] = [];
  const walk = async (entry: FileSystemEntry): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      out.push({ path: entry.fullPath.replace(/^\/+/, ''), file });
    } else if (entry.isDirectory) {
      for (const child of await readEntries(entry as FileSystemDirectoryEntry)) await walk(child);
    }
  };
  // Every entry first: the item list is emptied once the drop handler's first await returns.
  const entries = Array.from(items, (i) => i.webkitGetAsEntry()).filter((e): e is FileSystemEntry => e !== null);
  for (const e of entries) await walk(e);
  return out;
}

const WANTED = new Set<string>(RUN_FILES_FOR_LOAD);

/** The picked files loading reads, with their bytes. */
export async function filesForLoad(picked: readonly PickedFile[]): Promise<RunFile[]> {
  const wanted = picked.filter((p) => WANTED.has(p.path.slice(p.path.lastIndexOf('/') + 1)));
  return Promise.all(wanted.map(async (p) => ({ path: p.path, data: new Uint8Array(await p.file.arrayBuffer()) })));
}

export interface LoggedRun {
  /** (step, wall time, train loss) of each logged step, and (step, wall time, validation loss) of each evaluation. */
  train: [number, number, number][];
  evals: [number, number, number][];
}

/** The run's metrics.jsonl, if it was picked: its losses for the chart. Lines that do not parse are skipped. */
export async function loggedLosses(picked: readonly PickedFile[], dir: string): Promise<LoggedRun | null> {
  const path = dir === '.' ? 'metrics.jsonl' : `${dir}/metrics.jsonl`;
  const f = picked.find((p) => p.path === path);
  if (!f) return null;
  const out: LoggedRun = { train: [], evals: [] };
  for (const line of (await f.file.text()).split('\n')) {
    let r: { step?: unknown; wallTime?: unknown; trainLoss?: unknown; valLoss?: unknown };
    try {
      r = JSON.parse(line) as typeof r;
    } catch {
      continue; // a torn last line, or an empty one
    }
    if (typeof r !== 'object' || r === null || typeof r.step !== 'number') continue;
    const wall = typeof r.wallTime === 'number' ? r.wallTime : NaN;
    if (typeof r.valLoss === 'number') out.evals.push([r.step, wall, r.valLoss]);
    else if (typeof r.trainLoss === 'number') out.train.push([r.step, wall, r.trainLoss]);
  }
  return out;
}
