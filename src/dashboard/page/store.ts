// Everything the page knows: the runs (as /api/runs describes them) and each one's data, kept up to date
// by the events of a source (the server's SSE stream, or a report's inlined copy of the same events).

import type { RunInfo } from '../runs-scan.ts';
import { LOG_FILES, RunData, type LogFile } from './run-data.ts';

// What /api/runs says of a run: the server's own type (a type only, so no Node code reaches the page).
export type { RunInfo };

export type SourceEvent =
  | { type: 'hello'; runs: RunInfo[] }
  | { type: 'runs'; runs: RunInfo[] }
  | { type: 'append'; run: string; file: LogFile; offset: number; lines: string[] }
  | { type: 'reset'; run: string; file: LogFile };

type Obj = Record<string, unknown>;

function runInfos(v: unknown): RunInfo[] | null {
  if (!Array.isArray(v)) return null;
  return v
    .filter((r): r is Obj => typeof r === 'object' && r !== null && typeof (r as Obj).id === 'string')
    .map((r) => ({
      id: r.id as string,
      name: typeof r.name === 'string' ? r.name : String(r.id),
      path: typeof r.path === 'string' ? r.path : '',
      config: r.config ?? null,
      training: r.training === true,
    }));
}

function logFile(v: unknown): LogFile | null {
  return LOG_FILES.find((f) => f === v) ?? null;
}

/** An event's data as the server sends it, checked; null when it is not one the page knows. */
export function parseEvent(type: string, data: unknown): SourceEvent | null {
  const d = (typeof data === 'object' && data !== null ? data : {}) as Obj;
  switch (type) {
    case 'hello':
    case 'runs': {
      const runs = runInfos(d.runs);
      return runs ? { type, runs } : null;
    }
    case 'append': {
      const file = logFile(d.file);
      if (typeof d.run !== 'string' || !file || !Array.isArray(d.lines)) return null;
      return { type, run: d.run, file, offset: typeof d.offset === 'number' ? d.offset : -1, lines: d.lines.filter((l): l is string => typeof l === 'string') };
    }
    case 'reset': {
      const file = logFile(d.file);
      return typeof d.run === 'string' && file ? { type, run: d.run, file } : null;
    }
    default:
      return null;
  }
}

export class Store {
  runs: RunInfo[] = [];
  private data = new Map<string, RunData>();
  /** (run, file) pairs that have had lines since their last reset. */
  private fed = new Set<string>();
  /** Bumped when the list of runs (or what it says of one) changes. */
  runsVersion = 0;

  get(id: string): RunData | undefined {
    return this.data.get(id);
  }

  info(id: string): RunInfo | undefined {
    return this.runs.find((r) => r.id === id);
  }

  apply(e: SourceEvent): void {
    switch (e.type) {
      case 'hello':
        // A (re)connection: the server sends every log again from the start.
        this.data.clear();
        this.fed.clear();
        this.setRuns(e.runs);
        break;
      case 'runs':
        this.setRuns(e.runs);
        break;
      case 'append': {
        const run = this.runData(e.run);
        const key = `${e.run}/${e.file}`;
        // Lines from offset 0 of a log already fed: it starts over (defensive; the server sends reset).
        if (e.offset === 0 && this.fed.has(key)) run.reset(e.file);
        this.fed.add(key);
        run.apply(e.file, e.lines);
        break;
      }
      case 'reset':
        this.runData(e.run).reset(e.file);
        this.fed.delete(`${e.run}/${e.file}`);
        break;
      default: {
        const never: never = e;
        throw new Error(`unknown event ${String(never)}`);
      }
    }
  }

  private runData(id: string): RunData {
    let d = this.data.get(id);
    if (!d) this.data.set(id, (d = new RunData()));
    return d;
  }

  private setRuns(runs: RunInfo[]): void {
    this.runs = runs;
    const ids = new Set(runs.map((r) => r.id));
    for (const id of [...this.data.keys()]) if (!ids.has(id)) this.data.delete(id);
    this.runsVersion++;
  }
}
