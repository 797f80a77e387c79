// The demo's server without a browser: its fixed files with isolation and security headers on every
// response, nothing else (no path reaches the file system, encoded or not), GET and HEAD only, the Host
// check; and `resnorm demo` itself, serving the build's bundle until SIGINT, and its one-line refusals.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CSP, startDemo, type Demo } from '../../src/demo/server.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(root, 'bin', 'resnorm.js');

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw request: the path goes as written (fetch would normalize '..' away). */
function raw(port: number, path: string, o: { method?: string; host?: string; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: o.method ?? 'GET', headers: { Host: o.host ?? `127.0.0.1:${port}`, ...(o.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(o.body)) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

describe('the demo server', () => {
  let demo: Demo;
  beforeAll(async () => {
    demo = await startDemo({ port: 0 });
  });
  afterAll(() => demo.close());

  it('serves its files, each with isolation and security headers', async () => {
    const wasm = readFileSync(join(root, 'src/backend/wasm/kernels-simd.wasm'));
    const want: [string, RegExp][] = [
      ['/', /^text\/html/],
      ['/app.js', /^text\/javascript/],
      ['/app.css', /^text\/css/],
      ['/engine-worker.js', /^text\/javascript/],
      ['/sample.txt', /^text\/plain/],
      ['/kernels-simd.wasm', /^application\/wasm$/],
      ['/kernels-relaxed.wasm', /^application\/wasm$/],
    ];
    for (const [path, type] of want) {
      const r = await raw(demo.port, path);
      expect([path, r.status]).toEqual([path, 200]);
      expect(r.headers['content-type']).toMatch(type);
      expect(r.headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(r.headers['cross-origin-embedder-policy']).toBe('require-corp');
      expect(r.headers['cross-origin-resource-policy']).toBe('same-origin');
      expect(r.headers['content-security-policy']).toBe(DEMO_CSP);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['x-frame-options']).toBe('DENY');
    }
    expect((await raw(demo.port, '/kernels-simd.wasm')).body.equals(wasm)).toBe(true);
    expect((await raw(demo.port, '/')).body.toString()).toMatch(/<script type="module" src="app.js"><\/script>/);
    expect((await raw(demo.port, '/app.js?v=1')).status).toBe(200); // a query names the same file
  });

  it('serves nothing else: no path, however written, reaches the file system', async () => {
    for (const path of ['/package.json', '/../package.json', '/%2e%2e/package.json', '/..%2fpackage.json', '/src/demo/server.ts', '//etc/passwd', '/app.js/', '/APP.JS', '/index.html\u0000']) {
      const r = await raw(demo.port, encodeURI(path).replace(/%25/g, '%'));
      expect([path, r.status]).toEqual([path, 404]);
      expect(r.headers['content-security-policy']).toBe(DEMO_CSP); // errors carry the headers too
    }
  });

  it('answers GET and HEAD only, without a body, and only to its own Host names', async () => {
    const post = await raw(demo.port, '/', { method: 'POST' });
    expect([post.status, post.headers.allow]).toEqual([405, 'GET, HEAD']);
    const head = await raw(demo.port, '/app.js', { method: 'HEAD' });
    expect([head.status, head.body.length, Number(head.headers['content-length'])]).toEqual([200, 0, (await raw(demo.port, '/app.js')).body.length]);
    expect((await raw(demo.port, '/', { method: 'GET', body: 'x' })).status).toBe(413);
    expect((await raw(demo.port, '/', { host: 'evil.example' })).status).toBe(421);
    expect((await raw(demo.port, '/', { host: `localhost:${demo.port}` })).status).toBe(200);
    expect((await raw(demo.port, '/', { host: `127.0.0.1:${demo.port + 1}` })).status).toBe(421);
  });
});

describe('resnorm demo', () => {
  it('serves the built page until SIGINT, then exits 0', async () => {
    const child = spawn(process.execPath, [BIN, 'demo', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        const m = /demo: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`resnorm demo exited (${code}) before printing its URL:\n${out}`)));
    });
    try {
      // The compiled CLI serves the build's bundle (dist/demo/page/), not an in-memory one.
      const js = await (await fetch(`${url}app.js`)).text();
      expect(js).toBe(readFileSync(join(root, 'dist/demo/page/app.js'), 'utf8'));
      const res = await fetch(`${url}engine-worker.js`);
      expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
      expect(await res.text()).toBe(readFileSync(join(root, 'dist/demo/page/engine-worker.js'), 'utf8'));
      expect(out).toMatch(/nothing it trains or loads is sent here/);
    } finally {
      const exited = new Promise<number | null>((r) => child.on('exit', r));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    }
  });

  it('refuses a bad port and a port in use in one line each', async () => {
    const bad = spawnSync(process.execPath, [BIN, 'demo', '--port', '70000'], { encoding: 'utf8' });
    expect([bad.status, bad.stderr.trim()]).toEqual([1, 'resnorm: --port 70000: expected a port number from 0 to 65535 (0 = any free port)']);
    const taken = await startDemo({ port: 0, assets: async () => new Map() });
    try {
      const r = spawnSync(process.execPath, [BIN, 'demo', '--port', String(taken.port)], { encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toBe(`resnorm: port ${taken.port} on 127.0.0.1 is in use (by another demo, or another program); pass --port with another port, or --port 0 for any free one`);
    } finally {
      await taken.close();
    }
  });
});
