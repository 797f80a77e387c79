// Where the page's data comes from: the dashboard server's one Server-Sent Events stream, or, in a
// report opened from disk, the same events replayed from the JSON inlined in the file. Both feed the
// page through one callback, so the live page and the report are the same code.

import { parseEvent, type RunInfo, type SourceEvent } from './store.ts';
import type { LogFile } from './run-data.ts';

export type Status = 'connecting' | 'live' | 'reconnecting' | 'report';

/** A report's inlined data (src/dashboard/report.ts writes it). */
export interface ReportData {
  generated: string;
  runs: RunInfo[];
  files: { run: string; file: LogFile; lines: string[] }[];
}

const EVENTS = ['hello', 'runs', 'append', 'reset'] as const;

/** Follows GET api/events (relative: the page may sit under a path, with ?token= on its URL). */
export function connectEvents(onEvent: (e: SourceEvent) => void, onStatus: (s: Status) => void): void {
  const open = () => {
    const es = new EventSource('api/events');
    for (const type of EVENTS) {
      es.addEventListener(type, (m: MessageEvent<string>) => {
        let data: unknown;
        try {
          data = JSON.parse(m.data);
        } catch {
          return;
        }
        const e = parseEvent(type, data);
        if (e) onEvent(e);
      });
    }
    es.addEventListener('open', () => onStatus('live'));
    es.addEventListener('error', () => {
      onStatus('reconnecting');
      // EventSource reconnects by itself (the server says retry: 2000), and the next hello resets the
      // page; but not after an answer that is not a stream (a 503 when too many pages follow): retry then.
      if (es.readyState === EventSource.CLOSED) setTimeout(open, 5000);
    });
  };
  onStatus('connecting');
  open();
}

/** Lines per replayed event: a report of 100k-line logs is read in slices, between which the page paints. */
const REPLAY_LINES = 5000;

/** Replays a report's data as hello + appends, a slice per task, so the page stays responsive while it loads. */
export async function replayReport(data: ReportData, onEvent: (e: SourceEvent) => void): Promise<void> {
  const hello = parseEvent('hello', { runs: data.runs });
  if (hello) onEvent(hello);
  for (const f of data.files) {
    for (let i = 0; i < f.lines.length; i += REPLAY_LINES) {
      const e = parseEvent('append', { run: f.run, file: f.file, offset: i, lines: f.lines.slice(i, i + REPLAY_LINES) });
      if (e) onEvent(e);
      await new Promise((r) => setTimeout(r, 0));
    }
  }
}
