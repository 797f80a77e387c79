// The live dashboard in chromium (issue 11): a real `resnorm train --dashboard` in a child process; the
// page's charts fill with its data, new steps arrive while it trains, the toggles (log scale, x axis,
// smoothing) redraw, and run files that try to inject markup show as text and run nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { showToken } from '../../src/dashboard/page/format.ts';
import { startDashboard, type Dashboard } from '../../src/dashboard/server.ts';
import { HOSTILE, haveChromium, launch, makeHostileRun, openPage } from '../dashboard/fixtures/chromium.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const TINY = ['--n-layer', '2', '--n-head', '2', '--n-embd', '32', '--block-size', '16', '--batch-size', '4', '--eval-iters', '2', '--threads', '1'];
const LOGS = ['--eval-interval', '40', '--log-interval', '5', '--diag-interval', '10', '--sample-length', '40'];

/** Starts `resnorm train --dashboard` and resolves with the URL it prints. */
function trainWithDashboard(out: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn('node', [join(root, 'bin/resnorm.js'), 'train', ...TINY, ...LOGS, '--max-iters', '100000', '--out', out, '--dashboard', '--dashboard-port', '0'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  return new Promise((resolve, reject) => {
    const look = (b: Buffer) => {
      log += b.toString();
      const m = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(log);
      if (m) resolve({ child, url: m[1] });
    };
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
    child.on('exit', (code) => reject(new Error(`resnorm train exited (${code}) before printing its dashboard URL:\n${log}`)));
  });
}

const attr = (page: Page, chart: string, name: string) => page.locator(`[data-chart=${chart}]`).first().getAttribute(name);
/** Waits until an element's attribute matches a regular expression, or (given a number) exceeds it. */
const waitAttr = (page: Page, sel: string, name: string, want: RegExp | number) =>
  page.waitForFunction(
    ([s, n, re, gt]) => {
      const v = document.querySelector(s)?.getAttribute(n);
      return typeof v === 'string' && (re !== null ? new RegExp(re).test(v) : Number(v) > (gt as number));
    },
    [sel, name, want instanceof RegExp ? want.source : null, typeof want === 'number' ? want : null] as const,
    { timeout: 30_000 },
  );
/** The step the runs table shows for the first run. */
const shownStep = async (page: Page) => Number((await page.locator('[data-panel=runs] tbody tr td:nth-child(4)').first().textContent())!.replace(/,/g, ''));

describe.skipIf(!haveChromium)('the live dashboard of a run in training, in chromium', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'resnorm-live-'));
  let trainer: ChildProcess;
  let url: string;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    ({ child: trainer, url } = await trainWithDashboard(join(tmp, 'live')));
    browser = await launch();
    ({ page, errors } = await openPage(browser));
    await page.goto(url);
  });

  afterAll(async () => {
    await browser?.close();
    if (trainer && trainer.exitCode === null) {
      const exited = new Promise((r) => trainer.once('exit', r));
      trainer.kill('SIGKILL');
      await exited;
    }
    rmSync(tmp, { recursive: true, force: true });
  });

  it('draws every chart from the run’s real logs: metrics, diagnostics, attention maps, samples', async () => {
    for (const chart of ['loss', 'lr', 'grad-norm', 'speed', 'grad-heatmap', 'residual-depth', 'layer-update', 'sublayer-share', 'norm-stats', 'attention-entropy', 'attention-map']) {
      await waitAttr(page, `[data-chart=${chart}]`, 'data-points', 0);
    }
    await page.waitForSelector('[data-panel=samples] article.sample');
    expect(await page.locator('[data-panel=runs] tbody tr').count()).toBe(1);
    expect(await page.locator('[data-panel=runs] tbody td:nth-child(3)').textContent()).toBe('training');
    expect(await page.locator('.status').getAttribute('data-status')).toBe('live');
    expect(errors).toEqual([]);
  });

  it('shows new steps as the run logs them', async () => {
    const before = await shownStep(page);
    const lossX = Number(await attr(page, 'loss', 'data-x-max'));
    await page.waitForFunction((s) => Number(document.querySelector('[data-panel=runs] tbody td:nth-child(4)')!.textContent!.replace(/,/g, '')) >= s + 10, before, { timeout: 30_000 });
    await waitAttr(page, '[data-chart=loss]', 'data-x-max', lossX);
  });

  it('redraws on a log scale, by wall time, and with and without smoothing', async () => {
    await page.locator('[data-chart=loss] [data-control=log]').check();
    await waitAttr(page, '[data-chart=loss]', 'data-log', /^true$/);

    // By wall time: the last point's x is a wall time the run logged, not a step.
    const wallOf = async () => {
      const text = await page.evaluate(() => fetch('api/runs/r0/metrics.jsonl').then((r) => r.text()));
      return Math.max(...text.trim().split('\n').map((l) => (JSON.parse(l) as { wallTime: number }).wallTime));
    };
    const wallBefore = await wallOf();
    await page.locator('[data-control=x-axis]').selectOption('wall');
    await waitAttr(page, '[data-chart=loss]', 'data-x-max', /\./); // steps are integers, wall times are not
    await waitAttr(page, '[data-chart=loss]', 'data-x-max', wallBefore - 1e-9); // the page follows the log (polled)
    expect(Number(await attr(page, 'loss', 'data-x-max'))).toBeLessThanOrEqual(await wallOf());
    await page.locator('[data-control=x-axis]').selectOption('step');
    await waitAttr(page, '[data-chart=loss]', 'data-x-max', /^\d+$/);

    // Smoothing on (the default): train and validation each drawn raw and smoothed, plus the spike markers.
    expect(await attr(page, 'loss', 'data-series')).toBe('5');
    await page.locator('[data-control=smoothing]').fill('0');
    await waitAttr(page, '[data-chart=loss]', 'data-series', /^3$/);
    await page.locator('[data-control=smoothing]').fill('0.9');
    await waitAttr(page, '[data-chart=loss]', 'data-series', /^5$/);
    const shot = join(tmpdir(), 'resnorm-dashboard-live.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`screenshot of the live dashboard: ${shot}`);
    expect(errors).toEqual([]);
  });

  it('shows run names, samples, config strings and tokens that hold markup as text, and runs none of it', async () => {
    const parent = join(tmp, 'hostile');
    makeHostileRun(parent);
    const dash: Dashboard = await startDashboard({ runDirs: [parent], port: 0, token: null });
    try {
      const p = await openPage(browser);
      await p.page.goto(dash.url);
      await p.page.waitForSelector('[data-panel=samples] article.sample');
      await p.page.waitForSelector('[data-panel=config] table');
      await p.page.locator('[data-chart=attention-map] [data-control=step]').selectOption('81');
      await p.page.waitForFunction(() => document.querySelector('.attn-cols')?.textContent?.includes('<script>'));
      const text = (sel: string) => p.page.locator(sel).first().textContent();
      expect(await text('[data-panel=runs] .run-name span')).toBe(HOSTILE.name);
      expect(await text('[data-panel=samples] article.sample pre')).toBe(HOSTILE.prompt + HOSTILE.text);
      expect(await text('[data-panel=config] table')).toContain(HOSTILE.config);
      // Whitespace is made visible (␣), nothing else changed.
      expect(await text('.attn-cols')).toBe(HOSTILE.tokens.map(showToken).join(''));
      expect(await p.page.evaluate(() => ({ xss: (window as { __xss?: unknown }).__xss, imgs: document.querySelectorAll('img, b, script:not([src])').length }))).toEqual({ xss: undefined, imgs: 0 });
      expect(p.errors).toEqual([]);
      await p.page.close();
    } finally {
      await dash.close();
    }
  });
});
