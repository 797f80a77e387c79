// The engine in a real browser (Debian's chromium, driven by playwright-core): the wasm kernels load on the
// page, and an engine worker trains a tiny GPT bit-identically on 1 and 2 threads (Web Workers sharing one
// memory) and samples from it. Skipped, saying why, where /usr/bin/chromium is absent.
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/worker/engine.ts';
import type { EngineEvent } from '../../src/worker/protocol.ts';
import { relError } from '../helpers/compare.ts';
import type { Scenario } from './page.ts';
import { serve } from './serve.ts';
import { config, sampleArgs, text } from './tiny-run.ts';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.log(`test/browser skipped: no ${CHROMIUM} (install it with: apt-get install chromium)`);

describe.skipIf(!haveChromium)('the engine in chromium', () => {
  let browser: Browser;
  let server: Server;
  let s: Scenario;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const served = await serve();
    server = served.server;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    const page = await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
    await page.goto(served.url);
    await page.waitForFunction(() => 'runScenario' in globalThis);
    s = await page.evaluate(() => (globalThis as unknown as { runScenario: () => Promise<Scenario> }).runScenario());
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('loads the kernels on the page, and refuses threads there with a pointer to the worker', () => {
    expect(pageErrors).toEqual([]);
    expect(s.crossOriginIsolated).toBe(true);
    expect(['relaxed', 'simd']).toContain(s.pageFlavour);
    expect(s.pageThreadsError).toMatch(/must run inside a Web Worker.*EngineClient/);
  });

  it('trains in a worker on 1 and 2 threads with bit-identical losses and weights, and samples', () => {
    expect([s.one.threads, s.two.threads]).toEqual([1, 2]);
    expect(s.one.flavour).toBe(s.pageFlavour);
    expect(s.one.steps).toEqual([1, 2, 3, 4, 5]);
    expect(s.one.result.losses).toHaveLength(5);
    expect(s.one.result.losses.every(Number.isFinite)).toBe(true);
    expect(s.two.result.losses).toEqual(s.one.result.losses);
    expect(s.two.result.checksum).toBe(s.one.result.checksum);
    expect([...s.one.sample]).toHaveLength(24);
    expect(s.one.streamed).toBe(s.one.sample);
    expect(s.two.sample).toBe(s.one.sample);
  });

  it('loads the plain-SIMD build too, whose losses differ from relaxed SIMD by rounding only', () => {
    expect(s.simd.flavour).toBe('simd');
    expect(relError(s.simd.result.losses, s.one.result.losses)).toBeLessThan(1e-4);
  });

  it('computes what Node computes, bit for bit (same kernels, same flavour)', async () => {
    const events: EngineEvent[] = [];
    const engine = new Engine((e) => events.push(e));
    await engine.receive({ type: 'init', id: 1, backend: { relaxed: s.one.flavour === 'relaxed' } });
    await engine.receive({ type: 'train', id: 2, text, config });
    await engine.receive({ type: 'sample', id: 3, ...sampleArgs });
    await engine.dispose();
    const trained = events.find((e) => e.type === 'trained');
    expect(trained?.type === 'trained' && trained.result.losses).toEqual(s.one.result.losses);
    expect(events.at(-1)).toEqual({ type: 'sampled', id: 3, text: s.one.sample });
  });
});
