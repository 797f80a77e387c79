// The dashboard server's security model, each point over real HTTP (raw paths, raw sockets): loopback by
// default, the access token off loopback (URL, cookie, constant-time compare, 401 without data), the Host
// check against DNS rebinding, read-only methods, nothing served outside the run directories (traversal
// in every spelling, symlinks out, a FIFO), the headers, and the bounds on streams and requests.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DashboardError, startDashboard, type Dashboard } from '../../src/dashboard/server.ts';
import { CSP, tokenEquals } from '../../src/dashboard/server-security.ts';
import { get, makeRun, rawRequest, SseReader, TEST_ASSETS } from './server-helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'resnorm-dash-sec-'));
const outside = join(tmp, 'outside');
const root = join(tmp, 'runs');
const SECRET = 'root:x:0:0:the secret outside';
const open: Dashboard[] = [];
const readers: SseReader[] = [];

async function serve(o: Partial<Parameters<typeof startDashboard>[0]> = {}): Promise<Dashboard> {
  const d = await startDashboard({ runDirs: [root], port: 0, assets: TEST_ASSETS, pollMs: 50, scanMs: 100, ...o });
  open.push(d);
  return d;
}

const ids = async (d: Dashboard, headers: Record<string, string> = {}) =>
  Object.fromEntries((JSON.parse((await get(d.port, '/api/runs', { headers })).body) as { runs: { id: string; name: string }[] }).runs.map((r) => [r.name, r.id]));

beforeAll(() => {
  mkdirSync(outside);
  writeFileSync(join(outside, 'passwd'), SECRET + '\n');
  makeRun(join(outside, 'elsewhere-run')); // a run outside the root
  makeRun(join(root, 'good'));
  writeFileSync(join(root, 'good', 'samples.jsonl'), JSON.stringify({ step: 1, text: '<script>alert(1)</script><img src=x onerror=alert(1)>' }) + '\n');
  // Links out of a run: the logs, config.json through the index, and a checkpoint directory.
  const evil = makeRun(join(root, 'evil'), { checkpoints: [0, 10] });
  rmSync(join(evil, 'metrics.jsonl'));
  symlinkSync(join(outside, 'passwd'), join(evil, 'metrics.jsonl'));
  symlinkSync(join(outside, 'passwd'), join(evil, 'samples.jsonl'));
  rmSync(join(evil, 'checkpoints', 'step-00000010'), { recursive: true });
  mkdirSync(join(outside, 'ckpt'));
  writeFileSync(join(outside, 'ckpt', 'config.json'), JSON.stringify({ secret: SECRET }));
  symlinkSync(join(outside, 'ckpt'), join(evil, 'checkpoints', 'step-00000010'));
  // A link inside the run that stays inside it is fine.
  const inner = makeRun(join(root, 'inner'));
  writeFileSync(join(inner, 'real-diag.jsonl'), '{"kind":"probe","step":0}\n');
  symlinkSync('real-diag.jsonl', join(inner, 'diagnostics.jsonl'));
  // A run directory that is a link out of the root; and one to a run inside the root.
  symlinkSync(join(outside, 'elsewhere-run'), join(root, 'linked-out'));
  symlinkSync(join(root, 'good'), join(root, 'linked-in'));
  // A FIFO under a log's name must not hang the server.
  const fifo = makeRun(join(root, 'fifo'));
  rmSync(join(fifo, 'metrics.jsonl'));
  execFileSync('mkfifo', [join(fifo, 'metrics.jsonl')]);
});

afterAll(async () => {
  for (const r of readers) r.end();
  await Promise.all(open.map((d) => d.close()));
  rmSync(tmp, { recursive: true, force: true });
});

describe('binding and the access token', () => {
  it('binds 127.0.0.1 by default, with no token', async () => {
    const d = await serve();
    expect(d.url).toBe(`http://127.0.0.1:${d.port}/`);
    expect(d.token).toBeNull();
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal);
    if (external) {
      // Not reachable on the machine's other addresses.
      await expect(rawConnect(external.address, d.port)).rejects.toThrow(/ECONNREFUSED/);
    }
  });

  it('off loopback, generates a token, puts it in the URL, and answers 401 with no data without it', async () => {
    const d = await serve({ host: '0.0.0.0' });
    expect(d.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(d.url).toMatch(new RegExp(`^http://[^/]+:${d.port}/\\?token=${d.token}$`));
    const d2 = await serve({ host: '0.0.0.0' });
    expect(d2.token).not.toBe(d.token);
    for (const path of ['/', '/app.js', '/api/runs', '/api/events', '/api/runs/r0/metrics.jsonl', `/api/runs?token=${d.token}x`, '/?token=']) {
      for (const headers of [{} as Record<string, string>, { Cookie: `resnorm-dashboard-${d.port}=wrong` }, { Authorization: 'Bearer wrong' }, { Cookie: `resnorm-dashboard-${d2.port}=${d.token}` }]) {
        const r = await get(d.port, path, { headers });
        expect(r.status, path).toBe(401);
        expect(r.body).not.toMatch(/good|step|script|trainLoss/);
        expect(r.headers['set-cookie']).toBeUndefined();
      }
    }
  });

  it('a valid ?token= sets an HttpOnly SameSite=Strict cookie, which then lets the page fetch and stream', async () => {
    const d = await serve({ host: '0.0.0.0' });
    const first = await get(d.port, `/?token=${d.token}`);
    expect(first.status).toBe(200);
    const cookie = (first.headers['set-cookie'] as string[])[0];
    expect(cookie).toBe(`resnorm-dashboard-${d.port}=${d.token}; HttpOnly; SameSite=Strict; Path=/`);
    const jar = { Cookie: `other=1; ${cookie.split(';')[0]}` };
    expect((await get(d.port, '/api/runs', { headers: jar })).status).toBe(200);
    expect((await get(d.port, '/app.js', { headers: jar })).status).toBe(200);
    const s = new SseReader(d.port, { headers: jar });
    readers.push(s);
    await s.waitFor((e) => e.event === 'hello');
    expect((await get(d.port, '/api/runs', { headers: { Authorization: `Bearer ${d.token}` } })).status).toBe(200);
  });

  it('compares tokens in constant time, whatever their lengths', () => {
    expect(tokenEquals('abc', 'abc')).toBe(true);
    expect(tokenEquals('abd', 'abc')).toBe(false);
    expect(tokenEquals('', 'abc')).toBe(false);
    expect(tokenEquals('abc'.repeat(1000), 'abc')).toBe(false);
  });

  it('refuses to serve off loopback without a token, and a token that is not URL-safe', async () => {
    await expect(startDashboard({ runDirs: [root], host: '0.0.0.0', port: 0, token: null })).rejects.toThrow(DashboardError);
    await expect(startDashboard({ runDirs: [root], port: 0, token: 'short' })).rejects.toThrow(/16 to 256/);
    await expect(startDashboard({ runDirs: [root], port: 0, token: 'a'.repeat(20) + ';x' })).rejects.toThrow(DashboardError);
    // A token given on loopback is required there too.
    const d = await serve({ token: 'a'.repeat(24) });
    expect(d.url).toBe(`http://127.0.0.1:${d.port}/?token=${'a'.repeat(24)}`);
    expect((await get(d.port, '/api/runs')).status).toBe(401);
  });
});

function rawConnect(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    import('node:net').then(({ connect }) => {
      const s = connect(port, host, () => {
        s.destroy();
        resolve();
      });
      s.on('error', reject);
    }, reject);
  });
}

describe('Host header (DNS rebinding)', () => {
  it('answers only to the bound host and port, and its loopback names', async () => {
    const d = await serve();
    for (const host of [`127.0.0.1:${d.port}`, `localhost:${d.port}`, `LOCALHOST:${d.port}`, `[::1]:${d.port}`]) {
      expect((await get(d.port, '/api/runs', { host })).status, host).toBe(200);
    }
    for (const host of ['evil.example', `evil.example:${d.port}`, `127.0.0.1:${d.port + 1}`, '127.0.0.1', `localhost.evil.example:${d.port}`, `127.0.0.1:${d.port}@evil`, `[::1]x:${d.port}`]) {
      const r = await get(d.port, '/api/runs', { host });
      expect(r.status, host).toBe(421);
      expect(r.body).not.toMatch(/good/);
    }
    // No Host at all (HTTP/1.0), or an empty one
    for (const head of ['GET /api/runs HTTP/1.0\r\n\r\n', 'GET /api/runs HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n']) {
      const raw = await rawRequest(d.port, head);
      expect(raw).toMatch(/^HTTP\/1\.1 (421|400)/);
      expect(raw).not.toMatch(/good/);
    }
  });

  it('off loopback, checks the Host before the token', async () => {
    const d = await serve({ host: '0.0.0.0' });
    const r = await get(d.port, `/api/runs?token=${d.token}`, { host: `evil.example:${d.port}` });
    expect(r.status).toBe(421);
    expect(r.headers['set-cookie']).toBeUndefined();
  });
});

describe('read-only, bounded requests', () => {
  let d: Dashboard;
  beforeAll(async () => {
    d = await serve({ maxClients: 2 });
  });

  it('answers 405 to every method but GET and HEAD', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND']) {
      const r = await get(d.port, '/api/runs', { method });
      expect(r.status, method).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
      expect(r.body).not.toMatch(/good/);
    }
    expect((await get(d.port, '/api/runs/r0/run.json', { method: 'HEAD' })).status).toBe(200);
  });

  it('refuses a request body, an over-long URL and over-large headers', async () => {
    const r = await get(d.port, '/api/runs', { body: 'x'.repeat(1000), headers: { 'Content-Length': '1000' } });
    expect(r.status).toBe(413);
    expect((await get(d.port, '/api/runs?' + 'x'.repeat(5000))).status).toBe(414);
    expect((await get(d.port, '/api/runs', { headers: { 'X-Big': 'y'.repeat(20_000) } })).status).toBe(431);
  });

  it('bounds the number of live streams', async () => {
    const a = new SseReader(d.port);
    const b = new SseReader(d.port);
    readers.push(a, b);
    await a.waitFor((e) => e.event === 'hello');
    await b.waitFor((e) => e.event === 'hello');
    const c = await get(d.port, '/api/events');
    expect(c.status).toBe(503);
    a.end();
    await new Promise((r) => setTimeout(r, 200));
    const again = new SseReader(d.port);
    readers.push(again);
    await again.waitFor((e) => e.event === 'hello');
  });
});

describe('only the files of the run directories', () => {
  let d: Dashboard;
  let id: Record<string, string>;
  const logs: string[] = [];
  beforeAll(async () => {
    d = await serve({ log: (l) => logs.push(l) });
    id = await ids(d);
  });

  it('lists links to runs inside the root once, and not those leading out of it', () => {
    expect(Object.keys(id).sort()).toEqual(['evil', 'fifo', 'good', 'inner']);
    expect(logs.join('\n')).toMatch(/not serving .*linked-out: it is a link to .*outside/);
  });

  it('refuses traversal in every spelling', async () => {
    const g = id.good;
    const paths = [
      `/api/runs/${g}/../../../../etc/passwd`,
      `/api/runs/${g}/../../outside/passwd`,
      `/api/runs/${g}/%2e%2e/%2e%2e/outside/passwd`,
      `/api/runs/${g}/%2E%2E%2F%2E%2E%2Foutside%2Fpasswd`,
      `/api/runs/${g}/..%2f..%2foutside%2fpasswd`,
      `/api/runs/${g}/..\\..\\outside\\passwd`,
      `/api/runs/${g}/%5c..%5c..%5coutside%5cpasswd`,
      `/api/runs/${g}/metrics.jsonl/../../../outside/passwd`,
      `/api/runs/${g}/%6detrics.jsonl`,
      `/api/runs/${g}/metrics.jsonl%00.txt`,
      `/api/runs/${g}//metrics.jsonl`,
      `/api/runs/../${g}/metrics.jsonl`,
      `/api/runs/${g}/checkpoints/step-00000010/config.json`,
      `/api/runs/${g}/checkpoints/index.json`,
      `//etc/passwd`,
      `/..%2f..%2f..%2fetc%2fpasswd`,
      `/api/runs/r99999/metrics.jsonl`,
      `/api/runs/R0/metrics.jsonl`,
      `/api/runs/${g}/METRICS.JSONL`,
      `/app.js/../../../../etc/passwd`,
    ];
    for (const p of paths) {
      const r = await get(d.port, p);
      expect(r.status, p).toBe(404);
      expect(r.body, p).not.toMatch(/root:|secret|trainLoss/);
    }
    // A NUL, and an absolute-form target, on a raw socket (node:http will not send them).
    for (const target of [`/api/runs/${g}/metrics.jsonl\0/../../outside/passwd`, `http://127.0.0.1:${d.port}/api/runs/${g}/../../outside/passwd`, `*`]) {
      const raw = await rawRequest(d.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${d.port}\r\nConnection: close\r\n\r\n`);
      expect(raw, target).toMatch(/^HTTP\/1\.1 (400|404)/);
      expect(raw).not.toMatch(/root:|secret/);
    }
  });

  it('does not follow a link out of a run: logs, or config.json through a linked checkpoint directory', async () => {
    const e = id.evil;
    for (const f of ['metrics.jsonl', 'samples.jsonl', 'config.json']) {
      const r = await get(d.port, `/api/runs/${e}/${f}`);
      expect(r.status, f).toBe(404);
      expect(r.body).not.toMatch(/root:|secret/);
    }
    const { runs } = JSON.parse((await get(d.port, '/api/runs')).body) as { runs: { id: string; config: unknown }[] };
    expect(runs.find((r) => r.id === e)!.config).toBeNull();
    expect(JSON.stringify(runs)).not.toMatch(/secret/);
    // and the stream does not carry it either
    const s = new SseReader(d.port);
    readers.push(s);
    await s.waitFor(() => s.lines(id.inner, 'diagnostics.jsonl').length === 1); // the inner link is followed
    await new Promise((r) => setTimeout(r, 200));
    expect(JSON.stringify(s.events)).not.toMatch(/root:|secret/);
    expect(s.lines(e, 'metrics.jsonl')).toEqual([]);
    s.end();
  });

  it('follows a link that stays inside the run, and a root that is itself a link (the user named it)', async () => {
    expect((await get(d.port, `/api/runs/${id.inner}/diagnostics.jsonl`)).body).toBe('{"kind":"probe","step":0}\n');
    const linkRoot = join(tmp, 'root-link');
    symlinkSync(join(outside, 'elsewhere-run'), linkRoot);
    const d2 = await serve({ runDirs: [linkRoot] });
    expect((await get(d2.port, '/api/runs/r0/metrics.jsonl')).status).toBe(200);
  });

  it('does not hang on a FIFO under a log name', async () => {
    const r = await get(d.port, `/api/runs/${id.fifo}/metrics.jsonl`);
    expect(r.status).toBe(404);
  });
});

describe('headers and types', () => {
  it('sets the security headers on every response, and no-store on the API', async () => {
    const d = await serve();
    const d2 = await serve({ token: 'b'.repeat(20) });
    const replies = [
      await get(d.port, '/'),
      await get(d.port, '/app.js'),
      await get(d.port, '/api/runs'),
      await get(d.port, '/api/runs/r0/metrics.jsonl'),
      await get(d.port, '/nothing'),
      await get(d.port, '/api/runs', { method: 'POST' }),
      await get(d.port, '/api/runs', { host: 'evil.example' }),
      await get(d2.port, '/api/runs'),
    ];
    for (const [i, r] of replies.entries()) {
      if (i > 0) expect(r.headers['content-type']).not.toMatch(/html/i);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['content-security-policy']).toBe(CSP);
      expect(r.headers['referrer-policy']).toBe('no-referrer');
      expect(r.headers['x-frame-options']).toBe('DENY');
    }
    expect(CSP).toBe("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
    expect(replies[0].headers['content-type']).toBe('text/html; charset=utf-8'); // the page itself: the one HTML
    for (const r of replies.slice(2)) expect(r.headers['cache-control']).toBe('no-store');
  });

  it('serves a sample full of markup as ndjson, byte for byte, never as HTML', async () => {
    const d = await serve();
    const { good } = await ids(d);
    const r = await get(d.port, `/api/runs/${good}/samples.jsonl`);
    expect(r.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(JSON.parse(r.body).text).toBe('<script>alert(1)</script><img src=x onerror=alert(1)>');
    const s = await get(d.port, '/api/events', { method: 'HEAD' });
    expect(s.headers['content-type']).toBe('text/event-stream; charset=utf-8');
  });

  it('answers an internal failure with 500 and no stack trace', async () => {
    const d = await serve({
      assets: () => {
        throw new Error('kaboom at /secret/path.ts:1:1');
      },
      log: () => {},
    });
    const r = await get(d.port, '/');
    expect(r.status).toBe(500);
    expect(r.body).not.toMatch(/kaboom|secret|\n\s+at /);
  });
});
