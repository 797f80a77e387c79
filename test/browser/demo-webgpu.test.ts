// The demo with ?backend=webgpu in chromium: on SwiftShader's WebGPU adapter it trains on the WebGPU
// backend and the loss falls; where WebGPU has no adapter (the GPU disabled) it trains on wasm and says
// why on the page. Skipped, saying why, where /usr/bin/chromium is absent (.ci/run installs it).
import { existsSync } from 'node:fs';
import { chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo, type Demo } from '../../src/demo/server.ts';
import { skipWithout } from '../helpers/requires.ts';

const CHROMIUM = '/usr/bin/chromium';
const skip = skipWithout('test/browser/demo-webgpu.test.ts', existsSync(CHROMIUM), 'apt-get install chromium');
const FORM = { nLayer: '1', nHead: '2', nEmbd: '32', blockSize: '16', batchSize: '4', maxIters: '12', evalInterval: '12', evalIters: '1', seed: '7', sampleLength: '0' };
const BASE_ARGS = ['--headless=new', '--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update'];

async function trainOn(demo: Demo, args: string[]): Promise<{ page: Page; close: () => Promise<void> }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...BASE_ARGS, ...args] });
  const page = await browser.newPage();
  await page.goto(`${demo.url}?backend=webgpu&threads=1`);
  await page.waitForSelector('[data-status][data-state=ready]', { timeout: 60_000 });
  for (const [k, v] of Object.entries(FORM)) await page.fill(`[data-setting=${k}]`, v);
  await page.click('[data-action=train]');
  await page.waitForSelector('[data-status][data-state=done]', { timeout: 180_000 });
  return { page, close: () => browser.close() };
}

describe.skipIf(skip)('the demo with ?backend=webgpu', () => {
  let demo: Demo;
  beforeAll(async () => {
    demo = await startDemo({ port: 0, log: () => {} });
  });
  afterAll(async () => {
    await demo?.close();
  });

  it('trains on the WebGPU backend where there is an adapter (SwiftShader), and the loss falls', async () => {
    const { page, close } = await trainOn(demo, ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-webgpu-adapter=swiftshader']);
    try {
      expect(await page.locator('[data-threads]').getAttribute('data-backend')).toBe('webgpu');
      expect(await page.locator('[data-threads]').textContent()).toMatch(/^WebGPU · .*swiftshader/i);
      const first = Number(await page.locator('[data-status]').getAttribute('data-first-loss'));
      const last = Number(await page.locator('[data-status]').getAttribute('data-loss'));
      expect(last).toBeLessThan(first);
    } finally {
      await close();
    }
  }, 240_000);

  it('falls back to wasm where WebGPU has no adapter, and says why on the page', async () => {
    const { page, close } = await trainOn(demo, ['--disable-gpu']);
    try {
      expect(await page.locator('[data-threads]').getAttribute('data-backend')).toBe('wasm');
      expect(await page.locator('[data-isolation]').textContent()).toMatch(/WebGPU is not available here \(.+\); running on WebAssembly SIMD/);
      expect(Number(await page.locator('[data-status]').getAttribute('data-step'))).toBe(12);
    } finally {
      await close();
    }
  }, 240_000);
});
