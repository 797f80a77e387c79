// `resnorm dashboard` as a user runs it: prints the URL, serves until Ctrl-C and exits cleanly; a missing
// directory, a bad port and a port in use are one-line user errors.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, cli, expectUserError } from '../helpers/cli.ts';
import { get, makeRun } from './server-helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'resnorm-dash-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('resnorm dashboard', () => {
  it('prints the URL, serves the runs, and stops on Ctrl-C', async () => {
    makeRun(join(tmp, 'runs', 'a'));
    // --backend ref: the dashboard trains nothing, so skip starting the wasm backend's threads
    const p = spawn(process.execPath, [BIN, '--backend', 'ref', 'dashboard', join(tmp, 'runs'), '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((resolve) => p.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!/dashboard: (\S+)/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const url = new URL(/dashboard: (\S+)/.exec(out)![1]);
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.search).toBe('');
    const r = await get(Number(url.port), '/api/runs');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ runs: [{ id: 'r0', name: 'a' }] });
    p.kill('SIGINT');
    expect(await exited, err).toBe(0);
  });

  it('off loopback, prints a URL carrying the token', async () => {
    const p = spawn(process.execPath, [BIN, '--backend', 'ref', 'dashboard', join(tmp, 'runs'), '--port', '0', '--host', '0.0.0.0'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => p.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!/dashboard: (\S+)/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const url = new URL(/dashboard: (\S+)/.exec(out)![1]);
    const token = url.searchParams.get('token')!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect((await get(Number(url.port), '/api/runs')).status).toBe(401);
    expect((await get(Number(url.port), `/api/runs?token=${token}`)).status).toBe(200);
    p.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('says so when a directory is missing or a file, and when the port is bad or in use', async () => {
    expectUserError(cli('--backend', 'ref', 'dashboard', join(tmp, 'nope')), /nope: no such directory; pass a run directory or a folder of runs/);
    mkdirSync(join(tmp, 'f'));
    writeFileSync(join(tmp, 'f', 'file'), '');
    expectUserError(cli('--backend', 'ref', 'dashboard', join(tmp, 'f', 'file')), /is a file/);
    expectUserError(cli('--backend', 'ref', 'dashboard', join(tmp, 'runs'), '--port', 'http'), /--port http: expected a port number/);
    expectUserError(cli('--backend', 'ref', 'dashboard', join(tmp, 'runs'), '--port', '70000'), /--port 70000/);
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
        const p = spawn(process.execPath, [BIN, '--backend', 'ref', 'dashboard', join(tmp, 'runs'), '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
        let err = '';
        p.stderr.on('data', (c: Buffer) => (err += c.toString()));
        p.on('exit', (code) => resolve({ code, err }));
      });
      expectUserError({ ...r, out: '' }, new RegExp(`port ${port} on 127.0.0.1 is in use .*pass --port with another port, or --port 0`));
    } finally {
      blocker.close();
    }
  });

  it('defaults to runs/ and says how to get one when there is none', async () => {
    const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
      const empty = join(tmp, 'empty');
      mkdirSync(empty);
      const p = spawn(process.execPath, [BIN, '--backend', 'ref', 'dashboard'], { cwd: empty, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
      let err = '';
      p.stderr.on('data', (c: Buffer) => (err += c.toString()));
      p.on('exit', (code) => resolve({ code, err }));
    });
    expectUserError({ ...r, out: '' }, /runs does not exist here: train a run first \(resnorm train\)/);
  });
});
