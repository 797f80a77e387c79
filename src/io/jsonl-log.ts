// Append-only JSON-lines logs (metrics.jsonl, and later the diagnostics logs): one JSON object a line,
// appended without fsync. A crash can leave a torn last line; repairJsonl finds it on resume and rewrites
// the log without it, and without the records a resumed run will log again.

import { utf8, writeFileAtomic, type RunFs } from './run-fs.ts';

export async function appendJsonl(fs: RunFs, path: string, record: Record<string, unknown>): Promise<void> {
  await fs.appendFile(path, utf8(JSON.stringify(record) + '\n'));
}

export interface JsonlRepair {
  /** Bytes after the last newline that do not parse: a line torn by a crash mid-append. */
  tornBytes: number;
  /** Complete lines that do not parse as a JSON object. */
  corruptLines: number;
  /** Records the caller chose to drop (e.g. logged past the checkpoint a run resumes from). */
  droppedRecords: number;
  keptRecords: number;
}

/** Rewrites the log (atomically) keeping only whole records that `keep` accepts; null when there is none. */
export async function repairJsonl(fs: RunFs, path: string, keep: (record: Record<string, unknown>) => boolean): Promise<JsonlRepair | null> {
  const bytes = await fs.readFile(path);
  if (!bytes) return null;
  const text = new TextDecoder().decode(bytes);
  const lines = text.split('\n');
  const tail = lines.pop()!; // after the last newline: '' when the log ends cleanly
  const r: JsonlRepair = { tornBytes: 0, corruptLines: 0, droppedRecords: 0, keptRecords: 0 };
  const kept: string[] = [];
  const consider = (line: string, torn: boolean) => {
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      record = undefined;
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      if (torn) r.tornBytes = utf8(line).length;
      else r.corruptLines++;
    } else if (keep(record as Record<string, unknown>)) {
      kept.push(line);
      r.keptRecords++;
    } else {
      r.droppedRecords++;
    }
  };
  for (const line of lines) if (line.trim() !== '') consider(line, false);
  // A final line that parses was complete but for its newline; keep it.
  if (tail.trim() !== '') consider(tail, true);
  const changed = r.tornBytes > 0 || r.corruptLines > 0 || r.droppedRecords > 0 || (tail !== '' && r.tornBytes === 0);
  if (changed) await writeFileAtomic(fs, path, kept.map((l) => l + '\n').join(''));
  return r;
}
