// Test helpers for the dashboard server: requests with raw paths (node:http sends `path` as given, so
// `..` and `%2e%2e` reach the server unnormalised), raw sockets for what http.request refuses to send,
// an SSE reader, and hand-made run directories.

import { request } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface GetOptions {
  method?: string;
  headers?: Record<string, string>;
  /** The Host header; default 127.0.0.1:<port>. */
  host?: string;
  body?: string;
}

export function get(port: number, path: string, o: GetOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: o.method ?? 'GET', headers: { Host: o.host ?? `127.0.0.1:${port}`, ...o.headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

/** Writes `text` to the port as is and returns everything the server sends before closing (or 3 s). */
export function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(text));
    let out = '';
    s.setEncoding('utf8');
    s.on('data', (c: string) => (out += c));
    s.on('end', () => resolve(out));
    s.on('error', reject);
    setTimeout(() => {
      s.destroy();
      resolve(out);
    }, 3000).unref();
  });
}

export interface SseEvent {
  event: string;
  data: unknown;
}

/** A live /api/events stream: every event so far, and a way to wait for one. */
export class SseReader {
  events: SseEvent[] = [];
  comments = 0;
  status = 0;
  private buf = '';
  private waiters: (() => void)[] = [];
  private close: () => void = () => {};
  ready: Promise<void>;

  constructor(port: number, o: { path?: string; headers?: Record<string, string> } = {}) {
    this.ready = new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: o.path ?? '/api/events', headers: { Host: `127.0.0.1:${port}`, ...o.headers } }, (res) => {
        this.status = res.statusCode!;
        res.setEncoding('utf8');
        res.on('data', (c: string) => this.feed(c));
        res.on('error', () => {});
        resolve();
      });
      req.on('error', reject);
      req.end();
      this.close = () => req.destroy();
    });
  }

  private feed(chunk: string): void {
    this.buf += chunk;
    let i: number;
    while ((i = this.buf.indexOf('\n\n')) >= 0) {
      const block = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      let event = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments++;
        else if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      if (data !== '') this.events.push({ event, data: JSON.parse(data) as unknown });
    }
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves with the first event from index `from` on that satisfies `pred`. */
  async waitFor(pred: (e: SseEvent) => boolean, from = 0, timeoutMs = 10_000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = this.events.slice(from).find(pred);
      if (e) return e;
      if (Date.now() > deadline) throw new Error(`no such event within ${timeoutMs} ms; got ${JSON.stringify(this.events.map((x) => x.event))}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }

  /** The lines of `file` of `run` as the page would hold them: appends since the last reset. */
  lines(run: string, file: string): string[] {
    let out: string[] = [];
    for (const e of this.events) {
      const d = e.data as { run?: string; file?: string; lines?: string[] };
      if (d.run !== run || d.file !== file) continue;
      if (e.event === 'reset') out = [];
      if (e.event === 'append') out.push(...d.lines!);
    }
    return out;
  }

  end(): void {
    this.close();
  }
}

export const metricLine = (step: number) => JSON.stringify({ step, trainLoss: 4 - step / 1000, lr: 1e-3, gradNorm: 1, tokensPerSec: 1000, wallTime: step / 10 });

/** A hand-made format-2 run: run.json, metrics.jsonl with `steps` records, and checkpoints whose configs name their step. */
export function makeRun(dir: string, o: { steps?: number; checkpoints?: number[] } = {}): string {
  mkdirSync(join(dir, 'checkpoints'), { recursive: true });
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ format: 'resnorm-run', version: 2, kind: 'gpt' }) + '\n');
  const lines = Array.from({ length: o.steps ?? 3 }, (_, i) => metricLine(i + 1));
  writeFileSync(join(dir, 'metrics.jsonl'), lines.map((l) => l + '\n').join(''));
  const entries = (o.checkpoints ?? [0, 10]).map((step) => {
    const rel = `checkpoints/step-${String(step).padStart(8, '0')}`;
    mkdirSync(join(dir, rel), { recursive: true });
    writeFileSync(join(dir, rel, 'config.json'), JSON.stringify({ format: 'resnorm-run', version: 1, train: { maxIters: step }, model: { nLayer: 1 } }));
    return { step, dir: rel, valLoss: null, savedAt: '2026-01-01T00:00:00.000Z' };
  });
  writeFileSync(join(dir, 'checkpoints', 'index.json'), JSON.stringify({ format: 'resnorm-checkpoints', version: 1, checkpoints: entries }));
  return dir;
}

export const TEST_ASSETS = async () =>
  new Map([
    ['/', { body: '<!doctype html><title>t</title><script src="/app.js"></script>', type: 'text/html; charset=utf-8' }],
    ['/app.js', { body: 'console.log(1)', type: 'text/javascript; charset=utf-8' }],
    ['/app.css', { body: new TextEncoder().encode('body{}'), type: 'text/css; charset=utf-8' }],
  ]);
