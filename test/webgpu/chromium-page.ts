// Runs a bundled test page in headless Debian chromium with SwiftShader as its WebGPU adapter (a CPU
// emulation: correctness, not speed), on a page served from 127.0.0.1 (WebGPU needs a secure context),
// serving the listed fixture files and the wasm kernels; the page's global function is called with the given arguments and
// its report returned. Shared by the WebGPU conformance tests.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { skipWithout } from '../helpers/requires.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const skipChromium = (): boolean => skipWithout('test/webgpu (WebGPU on SwiftShader)', existsSync(CHROMIUM), 'apt-get install chromium');
export const ROOT = join(import.meta.dirname, '..', '..');
export const SWIFTSHADER_ARGS = ['--headless=new', '--no-sandbox', '--no-first-run', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-webgpu-adapter=swiftshader'];

export interface ChromiumPage {
  /** Calls globalThis[fn](...args) on the page and returns its result; page errors fail it. */
  call<R>(fn: string, ...args: unknown[]): Promise<R>;
  close(): Promise<void>;
}

/** Bundles `entry` (relative to the repository) and opens it in chromium; `fixtures` are paths under test/fixtures. */
export async function openPage(entry: string, fixtures: readonly string[]): Promise<ChromiumPage> {
  const bundle = await build({ absWorkingDir: ROOT, entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
    external: ['node:*'], write: false, logLevel: 'silent' });
  const js = bundle.outputFiles[0].contents;
  const served = new Set(fixtures);
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/') return void res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><meta charset="utf-8"><title>webgpu</title><script type="module" src="page.js"></script>');
    if (path === '/page.js') return void res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(js);
    // The wasm backend's kernels, fetched beside the bundle (for pages that measure wasm beside WebGPU).
    if (path === '/kernels-simd.wasm' || path === '/kernels-relaxed.wasm') {
      return void res.writeHead(200, { 'Content-Type': 'application/wasm' }).end(readFileSync(join(ROOT, 'src', 'backend', 'wasm', path.slice(1))));
    }
    const f = path.slice('/fixtures/'.length);
    if (path.startsWith('/fixtures/') && served.has(f)) return void res.writeHead(200).end(readFileSync(join(ROOT, 'test', 'fixtures', f)));
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let browser: Browser | null = null;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: SWIFTSHADER_ARGS });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    return {
      async call<R>(fn: string, ...args: unknown[]): Promise<R> {
        await page.waitForFunction((f) => f in globalThis, fn);
        const r = await page.evaluate(([f, a]) => (globalThis as unknown as Record<string, (...x: unknown[]) => Promise<unknown>>)[f as string](...(a as unknown[])), [fn, args] as const);
        if (errors.length > 0) throw new Error(`the page threw: ${errors.join('; ')}`);
        return r as R;
      },
      async close() {
        await browser?.close();
        server.close();
      },
    };
  } catch (e) {
    await browser?.close();
    server.close();
    throw e;
  }
}
