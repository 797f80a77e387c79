// The package as a user gets it: `npm pack`, then install the tarball into an empty project (from the
// npm cache or the registry, nothing else), and there run the CLI, a Node script that imports 'resnorm',
// and a page that imports it, bundled by esbuild and run in chromium. Needs the build (`npm test` makes
// it before vitest runs). The page part is skipped, saying why, where /usr/bin/chromium is absent.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../helpers/requires.ts';

const root = join(import.meta.dirname, '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const skipChromium = skipWithout('the page of test/package', existsSync(CHROMIUM), 'apt-get install chromium');

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

describe('the packed package, installed into an empty project', () => {
  let dir: string;
  let project: string;

  beforeAll(() => {
    if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first (`npm test` does)');
    dir = mkdtempSync(join(tmpdir(), 'resnorm-pack-'));
    // --ignore-scripts: the build is already there (prepare would rebuild the kernels too).
    const tarball = run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], root).trim().split('\n').at(-1)!;
    project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-resnorm', private: true, type: 'module' }));
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', join(dir, tarball)], project);
  }, 300_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships the build, not the sources, and no development dependency', () => {
    const pkg = join(project, 'node_modules', 'resnorm');
    expect(existsSync(join(pkg, 'dist', 'node.js'))).toBe(true);
    expect(existsSync(join(pkg, 'dist', 'backend', 'wasm', 'kernels-relaxed.wasm'))).toBe(true);
    expect(existsSync(join(pkg, 'dist', 'dashboard', 'page', 'app.js'))).toBe(true);
    expect(existsSync(join(pkg, 'src'))).toBe(false);
    const installed = readdirSync(join(project, 'node_modules'));
    for (const dev of ['tsx', 'esbuild', 'typescript', 'uplot', 'vitest']) expect(installed, dev).not.toContain(dev);
  });

  it('runs `npx resnorm --help` and a 5-step `resnorm train`', () => {
    expect(run('npx', ['resnorm', '--help'], project)).toMatch(/Usage: resnorm/);
    const out = run('npx', ['resnorm', '--threads', '1', 'train', '--max-iters', '5', '--eval-interval', '5', '--eval-iters', '2', '--sample-length', '20', '--out', 'run'], project);
    expect(out).toMatch(/step 5/);
    expect(run('npx', ['resnorm', 'info', 'run'], project)).toMatch(/steps\s+5 of 5/);
  });

  it('trains through the API in a Node script (examples/node), and samples from the run it saved', () => {
    for (const f of ['train.mjs', 'sample.mjs']) copyFileSync(join(root, 'examples', 'node', f), join(project, f));
    const out = run(process.execPath, ['train.mjs', 'api-run', '20'], project);
    const losses = [...out.matchAll(/step \d+: loss ([\d.]+)/g)].map((m) => Number(m[1]));
    expect(losses.length).toBe(2);
    expect(losses[1]).toBeLessThan(losses[0]);
    expect(out).toMatch(/gradient norm by layer wte/);
    expect(run(process.execPath, ['sample.mjs', 'api-run'], project)).toMatch(/^step 20: It is/);
    // The CLI opens what the API saved.
    expect(run('npx', ['resnorm', 'info', 'api-run'], project)).toMatch(/post-LN \(rmsnorm\)/);
  });

  it.skipIf(skipChromium)('runs a page that imports it, bundled by esbuild, in chromium', async () => {
    const site = join(dir, 'site');
    mkdirSync(site);
    copyFileSync(join(import.meta.dirname, 'page.js'), join(project, 'page.js'));
    await build({ absWorkingDir: project, entryPoints: ['page.js'], bundle: true, format: 'esm', platform: 'browser', outfile: join(site, 'page.js'), external: ['node:*'], logLevel: 'silent' });
    for (const f of ['kernels-simd.wasm', 'kernels-relaxed.wasm']) copyFileSync(join(project, 'node_modules', 'resnorm', 'dist', 'backend', 'wasm', f), join(site, f));
    const bundled = readFileSync(join(site, 'page.js'), 'utf8');
    expect(bundled).not.toMatch(/from\s*["']node:/); // the browser condition resolved to the core, not src/node.ts
    const server = createServer((req, res) => {
      const name = new URL(req.url ?? '/', 'http://x').pathname.slice(1) || 'index.html';
      if (name === 'index.html') return void res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><meta charset="utf-8"><script type="module" src="page.js"></script>');
      if (!/^[\w.-]+$/.test(name) || !existsSync(join(site, name))) return void res.writeHead(404).end();
      res.writeHead(200, { 'Content-Type': name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript' }).end(readFileSync(join(site, name)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      await page.waitForFunction(() => 'result' in window);
      const r = (await page.evaluate(() => (window as unknown as { result: Promise<unknown> }).result)) as { error?: string; flavour: string; losses: number[]; sample: string };
      expect(errors).toEqual([]);
      expect(r.error).toBeUndefined();
      expect(['relaxed', 'simd']).toContain(r.flavour);
      expect(r.losses).toHaveLength(5);
      expect(r.losses[4]).toBeLessThan(r.losses[0]);
      expect([...r.sample]).toHaveLength(10); // generate returns the new tokens only
    } finally {
      await browser.close();
      server.close();
    }
  }, 120_000);
});

