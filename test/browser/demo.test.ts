// The browser demo in chromium (Debian's, driven by playwright-core), served by the demo server from the
// sources: the page is cross-origin isolated and trains on 2 threads in its engine worker, the loss falls
// and equals Node's for the same settings bit for bit, samples stream in, the stop button stops; the .tar
// it saves is a run the CLI reads (`resnorm info`, `resnorm sample`, which prints what the page
// generated); a run made by `resnorm train`, picked as a directory, generates on the page exactly what
// `resnorm sample` prints; and served without COOP/COEP the page trains on one thread and says why.
// Skipped, saying why, where /usr/bin/chromium is absent.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWasmKernels } from '../../src/backend/wasm/index.ts';
import { demoAssets } from '../../src/demo/assets.ts';
import { sampleText } from '../../src/demo/sample-text.ts';
import { startDemo, type Demo } from '../../src/demo/server.ts';
import { Engine } from '../../src/worker/engine.ts';
import type { EngineEvent, TrainSettings } from '../../src/worker/protocol.ts';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.log(`test/browser/demo.test.ts skipped: no ${CHROMIUM} (install it with: apt-get install chromium)`);

const root = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(root, 'bin', 'resnorm.js');

function resnorm(cwd: string, ...args: string[]): string {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`resnorm ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

/** A small model, so that training takes seconds on the 2-core machine; as the page's form takes it. */
const FORM = { nLayer: '2', nHead: '2', nEmbd: '64', blockSize: '32', batchSize: '8', maxIters: '80', evalInterval: '20', evalIters: '2', seed: '7', sampleLength: '40' };
/** The same settings as the engine receives them (the page adds diagInterval 0 and its design selects). */
const SETTINGS: TrainSettings = { nLayer: 2, nHead: 2, nEmbd: 64, blockSize: 32, batchSize: 8, maxIters: 80, evalInterval: 20, evalIters: 2, lr: 1e-3, seed: 7, diagInterval: 0, placement: 'pre', norm: 'layernorm', residual: 'plain' };

async function fill(page: Page, values: Record<string, string>): Promise<void> {
  for (const [k, v] of Object.entries(values)) await page.fill(`[data-setting=${k}]`, v);
}

const status = (page: Page, name: string) => page.locator('[data-status]').getAttribute(`data-${name}`);

describe.skipIf(!haveChromium)('the browser demo in chromium', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'resnorm-demo-'));
  const cliRun = join(tmp, 'cli-run');
  let demo: Demo;
  let browser: Browser;
  let page: Page;
  let flavour: string;
  const errors: string[] = [];

  beforeAll(async () => {
    resnorm(tmp, '--threads', '1', 'train', '--max-iters', '5', '--eval-iters', '2', '--out', cliRun);
    // The page is asked for the kernels Node runs (the CLI's, and this process's), so results can match bit for bit.
    const k = await loadWasmKernels();
    flavour = k.flavour;
    demo = await startDemo({ port: 0, log: (l) => errors.push(l) });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  });

  afterAll(async () => {
    await browser?.close();
    await demo?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('is served cross-origin isolated with a strict CSP, and its engine runs on 2 threads', async () => {
    const res = await page.goto(`${demo.url}?threads=2&kernels=${flavour}`);
    const h = res!.headers();
    expect(h['cross-origin-opener-policy']).toBe('same-origin');
    expect(h['cross-origin-embedder-policy']).toBe('require-corp');
    expect(h['content-security-policy']).toMatch(/script-src 'self' 'wasm-unsafe-eval'/);
    expect(h['content-security-policy']).not.toMatch(/unsafe-inline'[^;]*; *script|script-src[^;]*unsafe-inline/);
    await page.waitForSelector('[data-status][data-state=ready]', { timeout: 60_000 });
    expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
    expect(await page.locator('[data-threads]').getAttribute('data-threads')).toBe('2');
    expect(await page.locator('[data-threads]').getAttribute('data-flavour')).toBe(flavour);
    expect(await page.locator('[data-threads]').textContent()).toMatch(/^2 threads · /);
    expect(await page.locator('[data-isolation]').isVisible()).toBe(false);
    // The bundled sample is in the text box, as the build cuts it.
    expect(await page.locator('[data-field=text]').inputValue()).toBe(sampleText());
  });

  it('trains on the sample: the loss falls, equals Node’s for the same settings, and samples stream in', async () => {
    await fill(page, FORM);
    await page.click('[data-action=train]');
    await page.waitForSelector('[data-status][data-state=done]', { timeout: 120_000 });
    expect(errors).toEqual([]);
    expect(await status(page, 'step')).toBe('80');
    const first = Number(await status(page, 'first-loss'));
    const last = Number(await status(page, 'loss'));
    expect(first).toBeGreaterThan(3.5); // ≈ ln(65 characters) = 4.17 at the start
    expect(last).toBeLessThan(first - 0.7);
    // The same engine in Node, on the same text and settings, takes the same steps bit for bit.
    const events: EngineEvent[] = [];
    const node = new Engine((e) => events.push(e));
    await node.receive({ type: 'init', id: 1, backend: { threads: 1, relaxed: flavour === 'relaxed' } });
    await node.receive({ type: 'train', id: 2, text: sampleText(), config: SETTINGS });
    await node.dispose();
    const trained = events.find((e) => e.type === 'trained');
    expect(trained?.type === 'trained' && trained.result.losses.at(-1)).toBe(last);
    expect(trained?.type === 'trained' && trained.result.valLoss).toBe(Number(await status(page, 'val-loss')));

    const chart = page.locator('[data-chart=loss]');
    expect(Number(await chart.getAttribute('data-points'))).toBeGreaterThanOrEqual(80);
    expect(Number(await chart.getAttribute('data-series'))).toBeGreaterThanOrEqual(2); // train and validation (and their smoothed curves)
    const samples = page.locator('[data-panel=samples] article.sample');
    expect(await samples.evaluateAll((as) => as.map((a) => [a.getAttribute('data-step'), a.getAttribute('data-state')]))).toEqual([
      ['80', 'done'],
      ['60', 'done'],
      ['40', 'done'],
      ['20', 'done'],
    ]);
    const texts = await samples.evaluateAll((as) => as.map((a) => a.querySelector('pre')!.lastChild!.textContent ?? ''));
    for (const t of texts) expect([...t]).toHaveLength(40);
  });

  it('generates from the trained model, and saves it as a .tar the CLI reads and samples from identically', async () => {
    await page.fill('[data-field=prompt]', 'Call me ');
    await page.fill('[data-field=tokens]', '50');
    await page.fill('[data-field=temperature]', '0.8');
    await page.fill('[data-field=seed]', '9');
    await page.click('[data-action=generate]');
    await page.waitForSelector('[data-output=generated][data-state=done]');
    const generated = (await page.locator('[data-generated]').textContent())!;
    expect([...generated]).toHaveLength(50);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-action=save]')]);
    const name = download.suggestedFilename();
    expect(name).toMatch(/^resnorm-demo-\d{8}-\d{6}\.tar$/);
    const out = join(tmp, 'unpacked');
    mkdirSync(out);
    await download.saveAs(join(out, name));
    execFileSync('tar', ['-xf', name], { cwd: out });
    const dir = name.slice(0, -'.tar'.length);
    expect(readdirSync(join(out, dir)).sort()).toEqual(['checkpoints', 'data.txt', 'metrics.jsonl', 'run.json', 'samples.jsonl']);
    const info = resnorm(out, 'info', dir);
    expect(info).toMatch(/^steps +80 of 80$/m);
    expect(info).toMatch(/^model +2 layers, 2 heads, width 64, block 32, pre-LN \(layernorm\), plain residual/m);
    expect(info).toMatch(/step +80 +val loss \d\.\d{4} /);
    const cli = resnorm(out, 'sample', dir, '--prompt', 'Call me ', '--tokens', '50', '--temperature', '0.8', '--seed', '9');
    expect(cli).toBe(`Call me ${generated}\n`);
  });

  it('stops a long training with the stop button, keeping the model so far', async () => {
    await fill(page, { maxIters: '100000', evalInterval: '100000', sampleLength: '0' });
    await page.click('[data-action=train]');
    await page.waitForFunction(() => Number(document.querySelector('[data-status]')?.getAttribute('data-step')) >= 10, undefined, { timeout: 60_000 });
    await page.click('[data-action=stop]');
    await page.waitForSelector('[data-status][data-state=stopped]', { timeout: 30_000 });
    const stopped = Number(await status(page, 'step'));
    expect(stopped).toBeGreaterThanOrEqual(10);
    expect(stopped).toBeLessThan(2000);
    await page.waitForTimeout(500);
    expect(Number(await status(page, 'step'))).toBe(stopped); // no step after it
    expect(await page.locator('[data-action=train]').isEnabled()).toBe(true);
    expect(await page.locator('[data-action=stop]').isEnabled()).toBe(false);
    expect(await page.locator('[data-model]').textContent()).toContain(`step ${stopped}`);
  });

  it('loads a run made by resnorm train from its directory and generates exactly what resnorm sample prints', async () => {
    await page.setInputFiles('[data-field=run-dir]', cliRun);
    await page.waitForSelector('[data-run-info][data-state=loaded]', { timeout: 60_000 });
    expect(await page.locator('[data-run-info]').getAttribute('data-step')).toBe('5');
    expect(await page.locator('[data-run-info]').textContent()).toMatch(/^Loaded cli-run: step 5, 4 layers, 4 heads, width 128, context 64, pre-LN \(layernorm\), plain residual; [\d,]+ parameters; char tokenizer/);
    // Its logged losses are on the chart (metrics.jsonl: steps 5 and the evaluation at 5; the chart keeps every point).
    await page.waitForFunction(() => Number(document.querySelector('[data-chart=loss]')?.getAttribute('data-x-max')) === 5);
    const prompt = 'Call me Ishmael. ';
    await page.fill('[data-field=prompt]', prompt);
    await page.fill('[data-field=tokens]', '80');
    await page.fill('[data-field=temperature]', '0.9');
    await page.fill('[data-field=seed]', '42');
    await page.click('[data-action=generate]');
    await page.waitForSelector('[data-output=generated][data-state=done]');
    const generated = (await page.locator('[data-generated]').textContent())!;
    expect([...generated]).toHaveLength(80);
    const cli = resnorm(tmp, 'sample', cliRun, '--prompt', prompt, '--tokens', '80', '--seed', '42', '--temperature', '0.9');
    expect(cli).toBe(`${prompt}${generated}\n`);
    expect(await page.locator('[data-action=save]').isEnabled()).toBe(false); // a loaded run is saved already
    expect(errors).toEqual([]);
  });

  it('served without COOP/COEP, trains on one thread and says why', async () => {
    const assets = await demoAssets();
    const plain: Server = createServer((req, res) => {
      const a = assets.get(new URL(req.url ?? '/', 'http://x').pathname);
      if (!a) return void res.writeHead(404).end();
      res.writeHead(200, { 'Content-Type': a.type }).end(a.body);
    });
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    try {
      const p = await browser.newPage();
      const pageErrors: string[] = [];
      p.on('pageerror', (e) => pageErrors.push(String(e)));
      await p.goto(`http://127.0.0.1:${(plain.address() as AddressInfo).port}/?threads=2`);
      await p.waitForSelector('[data-status][data-state=ready]', { timeout: 60_000 });
      expect(await p.evaluate(() => globalThis.crossOriginIsolated)).toBe(false);
      expect(await p.locator('[data-threads]').getAttribute('data-threads')).toBe('1');
      expect(await p.locator('[data-threads]').getAttribute('data-isolated')).toBe('false');
      expect(await p.locator('[data-isolation]').textContent()).toMatch(/^This page is not cross-origin isolated, so the engine runs on one thread \(not 2\): .*Cross-Origin-Opener-Policy: same-origin/);
      await fill(p, { ...FORM, maxIters: '5', sampleLength: '0' });
      await p.click('[data-action=train]');
      await p.waitForSelector('[data-status][data-state=done]', { timeout: 60_000 });
      expect(await p.locator('[data-status]').getAttribute('data-step')).toBe('5');
      expect(pageErrors).toEqual([]);
      await p.close();
    } finally {
      plain.close();
    }
  });
});
