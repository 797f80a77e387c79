// Where the page's data comes from: the dashboard server's one Server-Sent Events stream, or, in a
// report opened from disk, the same events replayed from the JSON inlined in the file. Both feed the
// page through one queue and one callback, so the live page and the report are the same code.

import { parseEvent, type RunInfo, type SourceEvent } from './store.ts';
import type { LogFile } from './run-data.ts';

export type Status = 'connecting' | 'live' | 'reconnecting' | 'report';

/** A report's inlined data (src/dashboard/report.ts writes it). */
export interface ReportData {
  generated: string;
  runs: RunInfo[];
  files: { run: string; file: LogFile; lines: string[] }[];
}

/** Lines parsed in one go: about a millisecond of JSON.parse. */
const SLICE_LINES = 400;
/** Milliseconds of parsing per task, then the page gets the thread back (input, drawing). */
const TASK_BUDGET_MS = 8;

/** An event as it arrived: its JSON is parsed when its turn comes, not in the message handler. */
interface RawEvent {
  type: string;
  raw: string;
}

/**
 * Events are applied in slices, a few milliseconds per task. Chromium hands a page every SSE message
 * that arrived in one network read within one task; a 100k-line log arrives as a hundred 128 KB
 * messages, and parsing and applying them as they came measured 100–350 ms long tasks. Queued as
 * received and parsed and applied in slices, no task holds the page for more than a few milliseconds.
 */
export class EventQueue {
  private queue: (SourceEvent | RawEvent)[] = [];
  private head = 0;
  private scheduled = false;
  private readonly channel = new MessageChannel();
  private idle: (() => void)[] = [];

  constructor(private readonly onEvent: (e: SourceEvent) => void) {
    this.channel.port1.onmessage = () => this.pump();
  }

  /** An event to apply, or an SSE message's type and data, parsed later. */
  push(e: SourceEvent | RawEvent): void {
    this.queue.push(e);
    this.schedule();
  }

  /** Resolves when everything queued so far has been applied. */
  drained(): Promise<void> {
    return this.head >= this.queue.length ? Promise.resolve() : new Promise((r) => this.idle.push(r));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // A message, not setTimeout(0): nested timeouts are clamped to 4 ms, messages are not.
    this.channel.port2.postMessage(0);
  }

  /** The queue's next event, parsed, a long append split into slices that take its place. */
  private next(): SourceEvent | null {
    const item = this.queue[this.head];
    let e: SourceEvent | null;
    if ('raw' in item) {
      let data: unknown;
      try {
        data = JSON.parse(item.raw);
      } catch {
        data = null;
      }
      e = parseEvent(item.type, data);
    } else {
      e = item;
    }
    if (e?.type === 'append' && e.lines.length > SLICE_LINES) {
      const slices: SourceEvent[] = [];
      for (let i = 0; i < e.lines.length; i += SLICE_LINES) slices.push({ ...e, offset: i === 0 ? e.offset : -1, lines: e.lines.slice(i, i + SLICE_LINES) });
      this.queue.splice(this.head, 1, ...slices);
      return slices[0];
    }
    return e;
  }

  private pump(): void {
    this.scheduled = false;
    const start = performance.now();
    while (this.head < this.queue.length && performance.now() - start < TASK_BUDGET_MS) {
      const e = this.next();
      this.head++;
      if (e) this.onEvent(e);
    }
    if (this.head < this.queue.length) {
      this.schedule();
      return;
    }
    this.queue = [];
    this.head = 0;
    for (const r of this.idle.splice(0)) r();
  }
}

const EVENTS = ['hello', 'runs', 'append', 'reset'] as const;

/** Follows GET api/events (relative: the page may sit under a path, with ?token= on its URL). */
export function connectEvents(onEvent: (e: SourceEvent) => void, onStatus: (s: Status) => void): void {
  const queue = new EventQueue(onEvent);
  const open = () => {
    const es = new EventSource('api/events');
    for (const type of EVENTS) {
      es.addEventListener(type, (m: MessageEvent<string>) => queue.push({ type, raw: m.data }));
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

/** Replays a report's data as hello + appends, through the same queue as the live page's events. */
export function replayReport(data: ReportData, onEvent: (e: SourceEvent) => void): Promise<void> {
  const queue = new EventQueue(onEvent);
  const hello = parseEvent('hello', { runs: data.runs });
  if (hello) queue.push(hello);
  for (const f of data.files) {
    const e = parseEvent('append', { run: f.run, file: f.file, offset: 0, lines: f.lines });
    if (e) queue.push(e);
  }
  return queue.drained();
}
