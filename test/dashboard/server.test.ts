// The dashboard server's API over real HTTP: which directories are runs, what /api/runs says of them,
// the files it serves, and the live stream: full contents on connect, appended lines, a partial line held
// back, a truncated log reset, a new run announced. Security has its own file (server-security.test.ts).

import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type Dashboard } from '../../src/dashboard/server.ts';
import { BIN, cli } from '../helpers/cli.ts';
import { get, makeRun, metricLine, SseReader, TEST_ASSETS } from './server-helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'resnorm-dash-'));
const FAST = { pollMs: 50, scanMs: 100, heartbeatMs: 200 };
const open: Dashboard[] = [];
const readers: SseReader[] = [];

async function serve(runDirs: string[], o: Partial<Parameters<typeof startDashboard>[0]> = {}): Promise<Dashboard> {
  const d = await startDashboard({ runDirs, port: 0, assets: TEST_ASSETS, ...FAST, ...o });
  open.push(d);
  return d;
}

function sse(port: number): SseReader {
  const r = new SseReader(port);
  readers.push(r);
  return r;
}

afterAll(async () => {
  for (const r of readers) r.end();
  await Promise.all(open.map((d) => d.close()));
  rmSync(tmp, { recursive: true, force: true });
});

describe('runs', () => {
  const root = join(tmp, 'runs');
  beforeAll(() => {
    makeRun(join(root, 'a'), { checkpoints: [0, 10, 20] });
    makeRun(join(root, 'sweep', 'lr-1'));
    mkdirSync(join(root, 'sweep', 'notes')); // neither a run nor holding one
    mkdirSync(join(root, 'b'));
    writeFileSync(join(root, 'b', 'metrics.jsonl'), metricLine(1) + '\n'); // a run before its first checkpoint
    mkdirSync(join(root, '.hidden'));
    makeRun(join(root, '.hidden', 'x'));
    writeFileSync(join(root, 'a', 'lock.json'), JSON.stringify({ pid: process.pid, host: hostname(), startedAt: 'x', command: 'resnorm train' }));
    makeRun(join(root, 'c'));
    writeFileSync(join(root, 'c', 'lock.json'), JSON.stringify({ pid: 2 ** 30, host: hostname(), startedAt: 'x', command: 'resnorm train' })); // a dead trainer's
    makeRun(join(root, 'd'));
    writeFileSync(join(root, 'd', 'lock.json'), JSON.stringify({ pid: 2 ** 30, host: 'elsewhere', startedAt: 'x', command: 'resnorm train' }));
  });

  it('lists the runs one and two levels down, with the latest config and whether a trainer holds them', async () => {
    const d = await serve([root, join(root, 'a')]); // a again: listed once
    const r = await get(d.port, '/api/runs');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-store');
    const { runs } = JSON.parse(r.body) as { runs: { id: string; name: string; path: string; config: { train: { maxIters: number } } | null; training: boolean }[] };
    expect(runs.map((x) => [x.name, x.path, x.training])).toEqual([
      ['a', join(root, 'a'), true],
      ['b', join(root, 'b'), false],
      ['c', join(root, 'c'), false],
      ['d', join(root, 'd'), true], // another host's lock: cannot tell, so it counts
      ['sweep/lr-1', join(root, 'sweep', 'lr-1'), false],
    ]);
    expect(new Set(runs.map((x) => x.id)).size).toBe(5);
    expect(runs[0].config!.train.maxIters).toBe(20); // the last checkpoint of the index
    expect(runs[1].config).toBeNull();
  });

  it('takes a run directory itself as a root, named by its own name', async () => {
    const d = await serve([join(root, 'sweep', 'lr-1')]);
    const { runs } = JSON.parse((await get(d.port, '/api/runs')).body) as { runs: { name: string; path: string }[] };
    expect(runs).toMatchObject([{ name: 'lr-1', path: join(root, 'sweep', 'lr-1') }]);
  });

  it('serves a root that does not exist yet as empty, and its runs once they appear', async () => {
    const later = join(tmp, 'later');
    const d = await serve([later]);
    expect(JSON.parse((await get(d.port, '/api/runs')).body)).toEqual({ runs: [] });
    makeRun(join(later, 'x'));
    await new Promise((r) => setTimeout(r, 1100)); // /api/runs rescans once its list is a second old
    expect((JSON.parse((await get(d.port, '/api/runs')).body) as { runs: unknown[] }).runs).toHaveLength(1);
  });

  it('keeps ids stable while runs come and go', async () => {
    const r2 = join(tmp, 'stable');
    makeRun(join(r2, 'm'));
    makeRun(join(r2, 'n'));
    const d = await serve([r2]);
    const ids = async () => Object.fromEntries((JSON.parse((await get(d.port, '/api/runs')).body) as { runs: { id: string; name: string }[] }).runs.map((x) => [x.name, x.id]));
    const before = await ids();
    makeRun(join(r2, 'a')); // sorts first
    await new Promise((r) => setTimeout(r, 1100));
    const after = await ids();
    expect(after.m).toBe(before.m);
    expect(after.n).toBe(before.n);
    expect(Object.values(after)).toHaveLength(3);
    expect(new Set(Object.values(after)).size).toBe(3);
  });
});

describe('files', () => {
  const run = join(tmp, 'files', 'r');
  let d: Dashboard;
  beforeAll(async () => {
    makeRun(run, { steps: 5, checkpoints: [0, 7] });
    d = await serve([join(tmp, 'files')]);
  });

  it('serves run.json, the logs and the latest config.json as raw bytes with their types', async () => {
    const m = await get(d.port, '/api/runs/r0/metrics.jsonl');
    expect(m.status).toBe(200);
    expect(m.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(m.body.trim().split('\n')).toEqual([1, 2, 3, 4, 5].map(metricLine));
    const c = await get(d.port, '/api/runs/r0/config.json');
    expect(c.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(c.body)).toMatchObject({ train: { maxIters: 7 } });
    expect(JSON.parse((await get(d.port, '/api/runs/r0/run.json')).body)).toMatchObject({ kind: 'gpt' });
    const h = await get(d.port, '/api/runs/r0/metrics.jsonl', { method: 'HEAD' });
    expect([h.status, h.body, h.headers['content-length']]).toEqual([200, '', String(m.body.length)]);
  });

  it('404s a log not written yet, a file not in the list, and an unknown run', async () => {
    for (const p of ['/api/runs/r0/samples.jsonl', '/api/runs/r0/lock.json', '/api/runs/r0/checkpoints/index.json', '/api/runs/r9/run.json', '/api/nothing', '/nothing']) {
      const r = await get(d.port, p);
      expect(r.status, p).toBe(404);
      expect(r.headers['content-type'], p).toBe('text/plain; charset=utf-8');
    }
  });

  it('serves the assets map with its types', async () => {
    const page = await get(d.port, '/');
    expect([page.status, page.headers['content-type']]).toEqual([200, 'text/html; charset=utf-8']);
    expect(page.body).toContain('<script src="/app.js">');
    expect((await get(d.port, '/app.css')).body).toBe('body{}');
    expect((await get(d.port, '/app.js')).headers['content-type']).toBe('text/javascript; charset=utf-8');
  });

  it('answers 500, without a stack, when the page cannot be built, and retries on the next request', async () => {
    let calls = 0;
    const lines: string[] = [];
    const d2 = await serve([run], {
      assets: async () => {
        if (calls++ < 2) throw new Error('esbuild: boom');
        return TEST_ASSETS();
      },
      log: (l) => lines.push(l),
    });
    await new Promise((r) => setTimeout(r, 50));
    const r = await get(d2.port, '/');
    expect(r.status).toBe(500);
    expect(r.body).not.toMatch(/boom|\n\s+at /);
    expect(lines.join('\n')).toMatch(/boom/);
    expect((await get(d2.port, '/')).status).toBe(200);
  });
});

describe('/api/events', () => {
  it('sends hello, every log in full in bounded chunks, then lines as they are appended', async () => {
    const root = join(tmp, 'live');
    const run = makeRun(join(root, 'big'), { steps: 0 });
    // ~700 KB: more than one event's worth, lines of 350 bytes
    const big = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ step: i, pad: 'x'.repeat(300) }));
    writeFileSync(join(run, 'metrics.jsonl'), big.map((l) => l + '\n').join(''));
    writeFileSync(join(run, 'samples.jsonl'), JSON.stringify({ step: 1, text: '<script>alert(1)</script><img src=x onerror=alert(1)>' }) + '\n');
    const d = await serve([root]);
    const s = sse(d.port);
    await s.ready;
    expect(s.status).toBe(200);
    const hello = await s.waitFor((e) => e.event === 'hello');
    expect(s.events[0]).toBe(hello);
    expect((hello.data as { runs: { id: string; name: string }[] }).runs).toMatchObject([{ id: 'r0', name: 'big' }]);
    await s.waitFor(() => s.lines('r0', 'metrics.jsonl').length === 2000);
    expect(s.lines('r0', 'metrics.jsonl')).toEqual(big);
    const appends = s.events.filter((e) => e.event === 'append' && (e.data as { file: string }).file === 'metrics.jsonl');
    expect(appends.length).toBeGreaterThan(3);
    for (const e of appends) expect(JSON.stringify(e.data).length).toBeLessThan(300_000);
    expect((appends[1].data as { offset: number }).offset).toBe(big.slice(0, (appends[0].data as { lines: string[] }).lines.length).join('\n').length + 1);
    await s.waitFor(() => s.lines('r0', 'samples.jsonl').length === 1);
    expect(JSON.parse(s.lines('r0', 'samples.jsonl')[0]).text).toContain('<script>');

    // A line appended now arrives; half a line waits for its newline.
    const n = s.events.length;
    appendFileSync(join(run, 'metrics.jsonl'), metricLine(5000) + '\n' + '{"step":5001,');
    await s.waitFor((e) => e.event === 'append', n);
    expect(s.lines('r0', 'metrics.jsonl').at(-1)).toBe(metricLine(5000));
    await new Promise((r) => setTimeout(r, 300));
    expect(s.lines('r0', 'metrics.jsonl')).toHaveLength(2001);
    appendFileSync(join(run, 'metrics.jsonl'), '"trainLoss":1}\n');
    await s.waitFor(() => s.lines('r0', 'metrics.jsonl').length === 2002);
    expect(s.lines('r0', 'metrics.jsonl').at(-1)).toBe('{"step":5001,"trainLoss":1}');
    // A diagnostics log that starts later is followed too.
    appendFileSync(join(run, 'diagnostics.jsonl'), '{"kind":"probe","step":0}\n');
    await s.waitFor(() => s.lines('r0', 'diagnostics.jsonl').length === 1);
  });

  it('resets a log that shrank or was replaced (a resume repaired it), then sends it again', async () => {
    const root = join(tmp, 'reset');
    const run = makeRun(join(root, 'r'), { steps: 10 });
    const d = await serve([root]);
    const s = sse(d.port);
    await s.waitFor(() => s.lines('r0', 'metrics.jsonl').length === 10);
    let n = s.events.length;
    truncateSync(join(run, 'metrics.jsonl'), metricLine(1).length + 1);
    await s.waitFor((e) => e.event === 'reset', n);
    await s.waitFor(() => s.lines('r0', 'metrics.jsonl').length === 1);
    expect(s.lines('r0', 'metrics.jsonl')).toEqual([metricLine(1)]);
    expect(s.events.slice(n).find((e) => e.event === 'reset')!.data).toEqual({ run: 'r0', file: 'metrics.jsonl' });
    // repairJsonl's way: a new file renamed over the log, here longer than the old one
    n = s.events.length;
    writeFileSync(join(run, 'm.tmp'), [7, 8, 9].map((i) => metricLine(i) + '\n').join(''));
    renameSync(join(run, 'm.tmp'), join(run, 'metrics.jsonl'));
    await s.waitFor((e) => e.event === 'reset', n);
    await s.waitFor(() => s.lines('r0', 'metrics.jsonl').length === 3);
    expect(s.lines('r0', 'metrics.jsonl')).toEqual([7, 8, 9].map(metricLine));
  });

  it('announces a new run with `runs` and streams it; sends heartbeats', async () => {
    const root = join(tmp, 'grow');
    makeRun(join(root, 'first'));
    const d = await serve([root]);
    const s = sse(d.port);
    await s.waitFor((e) => e.event === 'hello');
    const n = s.events.length;
    makeRun(join(root, 'second'), { steps: 4 });
    const runs = await s.waitFor((e) => e.event === 'runs', n);
    expect((runs.data as { runs: { name: string }[] }).runs.map((r) => r.name)).toEqual(['first', 'second']);
    await s.waitFor(() => s.lines('r1', 'metrics.jsonl').length === 4);
    await s.waitFor(() => s.comments > 0);
    // A second page gets its own full picture.
    const s2 = sse(d.port);
    await s2.waitFor(() => s2.lines('r1', 'metrics.jsonl').length === 4 && s2.lines('r0', 'metrics.jsonl').length === 3);
  });

  it('stops polling when the last page leaves', async () => {
    const root = join(tmp, 'idle');
    makeRun(join(root, 'x'));
    const d = await serve([root]);
    const s = new SseReader(d.port);
    await s.waitFor((e) => e.event === 'append');
    s.end();
    await new Promise((r) => setTimeout(r, 100));
    const r = await get(d.port, '/api/runs'); // still serving
    expect(r.status).toBe(200);
    await d.close();
    await d.close(); // idempotent
  });
});

describe('a real run', () => {
  it('lists a run written by resnorm train, with its config, and streams its metrics', async () => {
    const out = join(tmp, 'real', 'run');
    const r = cli('train', '--max-iters', '20', '--eval-interval', '10', '--log-interval', '5', '--n-layer', '1', '--n-embd', '32', '--n-head', '2', '--block-size', '16', '--batch-size', '4', '--sample-length', '20', '--out', out);
    expect(r.code, r.err).toBe(0);
    const d = await serve([join(tmp, 'real')]);
    const { runs } = JSON.parse((await get(d.port, '/api/runs')).body) as { runs: { name: string; config: { train: { maxIters: number; nLayer: number } }; training: boolean }[] };
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ name: 'run', training: false, config: { train: { maxIters: 20, nLayer: 1 } } });
    const file = (await get(d.port, '/api/runs/r0/metrics.jsonl')).body.trim().split('\n');
    const s = sse(d.port);
    await s.waitFor(() => s.lines('r0', 'metrics.jsonl').length === file.length);
    expect(s.lines('r0', 'metrics.jsonl')).toEqual(file);
    expect(file.map((l) => (JSON.parse(l) as { step: number }).step).at(-1)).toBe(20);
  });

  it('follows a trainer in another process live: training while it holds the lock, new steps as they are logged', async () => {
    const root = join(tmp, 'live-real');
    mkdirSync(root);
    const d = await serve([root]);
    const s = sse(d.port);
    await s.waitFor((e) => e.event === 'hello');
    const args = ['--backend', 'ref', 'train', '--max-iters', '300', '--eval-interval', '100', '--log-interval', '5', '--n-layer', '1', '--n-embd', '16', '--n-head', '2', '--block-size', '8', '--batch-size', '2', '--sample-length', '10', '--out', join(root, 'run')];
    const p = spawn(process.execPath, [BIN, ...args], { stdio: 'ignore', timeout: 110_000 });
    const exited = new Promise<number | null>((resolve) => p.on('exit', (code) => resolve(code)));
    type Runs = { runs: { id: string; training: boolean }[] };
    await s.waitFor((e) => e.event === 'runs' && (e.data as Runs).runs.some((r) => r.training), 0, 60_000);
    const steps = () => s.lines('r0', 'metrics.jsonl').map((l) => (JSON.parse(l) as { step: number }).step);
    await s.waitFor(() => steps().length > 0, 0, 60_000);
    const firstSeen = steps().length;
    expect(await exited).toBe(0);
    await s.waitFor(() => steps().at(-1) === 300, 0, 10_000);
    const file = (await get(d.port, '/api/runs/r0/metrics.jsonl')).body.trim().split('\n');
    expect(s.lines('r0', 'metrics.jsonl')).toEqual(file); // each line once, in order
    expect(firstSeen).toBeLessThan(file.length); // some arrived after the first, while training
    await s.waitFor((e) => e.event === 'runs' && (e.data as Runs).runs.every((r) => !r.training), 0, 10_000);
  });
});
