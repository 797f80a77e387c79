// GET /api/events: one Server-Sent Events stream per page. On connect `hello` (the runs), then every log
// of every run in full as `append` events, then live: new complete lines, `reset` when a log shrank or was
// replaced (a resume repaired it), `runs` when the list changed, and a comment every ~15 s.
//
// One poller for all pages: every pollMs it lstats each log once (and rescans the roots every scanMs),
// only while a page is connected. Each page keeps its own byte offsets and reads only what it has not
// sent, waiting for the socket to drain before reading more, so a slow or stalled page costs one read
// buffer, not a copy of the logs.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { LOG_FILES, type LogFile, type RunTable } from './runs-scan.ts';
import { ABSENT, readLines, stampOf, type FileStamp } from './runs-tail.ts';

export interface EventTiming {
  /** How often the logs are looked at (ms). */
  pollMs: number;
  /** How often the roots are rescanned for new runs (ms). */
  scanMs: number;
  /** The comment that keeps proxies and idle timers from closing a quiet stream (ms). */
  heartbeatMs: number;
  /** Pages streaming at once; one more gets 503. */
  maxClients: number;
}

/** One event's lines add up to about this many bytes, so that the page parses in small bites. */
const EVENT_BYTES = 128 << 10;

interface Tail {
  offset: number;
  ino: number;
  /** The size at which the last read found only an incomplete line: no use reading again until it grows. */
  stuckAt: number;
}

class Client {
  closed = false;
  runsSeen = -1;
  private tails = new Map<string, Tail>();
  private wake: (() => void) | null = null;

  constructor(
    private readonly hub: EventHub,
    readonly res: ServerResponse,
  ) {
    res.on('close', () => {
      this.closed = true;
      this.poke();
    });
  }

  poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) resolve();
      else this.wake = resolve;
    });
  }

  private drain(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  async send(event: string, data: unknown): Promise<void> {
    if (this.closed) return;
    // JSON.stringify escapes every CR and LF, so the data is one SSE line.
    if (!this.res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)) await this.drain();
  }

  heartbeat(): void {
    if (!this.closed && !this.res.writableNeedDrain) this.res.write(': keep-alive\n\n');
  }

  async serve(): Promise<void> {
    this.runsSeen = this.hub.table.version;
    await this.send('hello', { runs: this.hub.table.infos() });
    while (!this.closed) {
      if (this.runsSeen !== this.hub.table.version) {
        this.runsSeen = this.hub.table.version;
        await this.send('runs', { runs: this.hub.table.infos() });
      }
      for (const run of this.hub.table.runs) {
        for (const file of LOG_FILES) {
          if (this.closed) return;
          await this.follow(run.info.id, run.real, file, this.hub.stamp(run.info.id, file));
        }
      }
      await this.sleep();
    }
  }

  /** Sends what this page has not seen of one log. */
  private async follow(run: string, real: string, file: LogFile, now: FileStamp): Promise<void> {
    const key = `${run}/${file}`;
    let t = this.tails.get(key);
    if (!t) this.tails.set(key, (t = { offset: 0, ino: now.ino, stuckAt: -1 }));
    if (now.size < t.offset || (now.ino !== t.ino && t.offset > 0)) {
      // Shrunk or replaced (repairJsonl rewrites by rename): start this log over.
      t.offset = 0;
      t.stuckAt = -1;
      await this.send('reset', { run, file });
    }
    t.ino = now.ino;
    while (!this.closed && now.size > t.offset && now.size !== t.stuckAt) {
      const chunk = await readLines(real, file, t.offset, now.size);
      if (chunk.skipped > 0) this.hub.log(`dashboard: skipped ${chunk.skipped} bytes of an over-long line in ${real}/${file}`);
      for (let i = 0; i < chunk.lines.length; ) {
        const from = i;
        let bytes = 0;
        while (i < chunk.lines.length && (i === from || bytes + chunk.lines[i].length <= EVENT_BYTES)) bytes += chunk.lines[i++].length;
        await this.send('append', { run, file, offset: chunk.offsets[from], lines: chunk.lines.slice(from, i) });
      }
      if (chunk.next === t.offset) t.stuckAt = now.size;
      t.offset = chunk.next;
    }
  }
}

export class EventHub {
  private clients = new Set<Client>();
  private stamps = new Map<string, FileStamp>();
  private lastScan = -Infinity;
  private ticking: Promise<void> | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private beatTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly table: RunTable,
    private readonly timing: EventTiming,
    readonly log: (line: string) => void,
  ) {}

  stamp(run: string, file: LogFile): FileStamp {
    return this.stamps.get(`${run}/${file}`) ?? ABSENT;
  }

  /** Rescans when due (or when asked), stamps every log, wakes every page. Concurrent calls share one. */
  tick(forceScan = false): Promise<void> {
    this.ticking ??= (async () => {
      try {
        if (forceScan || Date.now() - this.lastScan >= this.timing.scanMs) {
          this.lastScan = Date.now();
          await this.table.scan();
        }
        const next = new Map<string, FileStamp>();
        await Promise.all(
          this.table.runs.flatMap((r) => LOG_FILES.map(async (f) => next.set(`${r.info.id}/${f}`, await stampOf(r.real, f)))),
        );
        this.stamps = next;
      } catch (e) {
        this.log(`dashboard: polling the runs failed: ${(e as Error).message}`);
      } finally {
        this.ticking = null;
      }
      for (const c of this.clients) c.poke();
    })();
    return this.ticking;
  }

  get size(): number {
    return this.clients.size;
  }

  async accept(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.clients.size >= this.timing.maxClients) {
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '10' });
      res.end(`503: ${this.timing.maxClients} pages are already following this dashboard; close one\n`);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'X-Accel-Buffering': 'no' });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    res.write('retry: 2000\n\n');
    const client = new Client(this, res);
    this.clients.add(client);
    this.startTimers();
    try {
      await this.tick(true); // a fresh look for the page's first picture
      await client.serve();
    } finally {
      this.clients.delete(client);
      if (this.clients.size === 0) this.stopTimers();
      res.end();
    }
  }

  private startTimers(): void {
    if (this.pollTimer) return;
    this.pollTimer = setInterval(() => void this.tick(), this.timing.pollMs).unref();
    this.beatTimer = setInterval(() => {
      for (const c of this.clients) c.heartbeat();
    }, this.timing.heartbeatMs).unref();
  }

  private stopTimers(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.beatTimer) clearInterval(this.beatTimer);
    this.pollTimer = this.beatTimer = null;
  }

  /** Ends every stream (the server is closing). */
  close(): void {
    this.stopTimers();
    for (const c of this.clients) c.res.destroy();
  }
}
