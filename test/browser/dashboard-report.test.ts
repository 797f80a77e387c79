// `resnorm report`'s file in chromium, opened from a file:// URL with no server (issue 11): the same
// charts as the live page for several runs overlaid, the config, the final metrics and the samples; no
// request leaves the file; run text that holds markup shows as text and runs nothing.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport } from '../../src/dashboard/report.ts';
import { HOSTILE, fixtureRuns, haveChromium, launch, makeHostileRun, openPage } from '../dashboard/fixtures/chromium.ts';

describe.skipIf(!haveChromium)('the report, from file://, in chromium', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'resnorm-report-page-'));
  const file = join(tmp, 'report.html');
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const requests: string[] = [];

  beforeAll(async () => {
    makeHostileRun(tmp);
    const { html } = await buildReport([join(fixtureRuns, 'pre-ln'), join(fixtureRuns, 'post-ln'), tmp]);
    writeFileSync(file, html);
    browser = await launch();
    ({ page, errors } = await openPage(browser));
    page.on('request', (r) => {
      if (!/^(file|data|blob):/.test(r.url())) requests.push(r.url());
    });
    await page.goto(pathToFileURL(file).href);
  });

  afterAll(async () => {
    await browser?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  const text = (sel: string) => page.locator(sel).first().textContent();

  it('draws every chart, overlaying the runs, with no server and no request', async () => {
    for (const chart of ['loss', 'lr', 'grad-norm', 'speed', 'layer-update', 'sublayer-share', 'norm-stats', 'attention-entropy', 'attention-map']) {
      await page.waitForFunction((c) => Number(document.querySelector(`[data-chart=${c}]`)?.getAttribute('data-points')) > 0, chart);
    }
    // Per run: a gradient heatmap and a residual-depth profile each.
    await page.waitForFunction(() => Array.from(document.querySelectorAll('[data-chart=grad-heatmap], [data-chart=residual-depth]')).filter((e) => Number(e.getAttribute('data-points')) > 0).length === 6);
    // Three runs, each train and validation raw and smoothed, and spike markers: 3 × 5 series.
    expect(await page.locator('[data-chart=loss]').getAttribute('data-series')).toBe('15');
    await page.locator('[data-panel=runs] input[type=checkbox]').nth(1).uncheck();
    await page.waitForFunction(() => document.querySelector('[data-chart=loss]')?.getAttribute('data-series') === '10');
    await page.locator('[data-panel=runs] input[type=checkbox]').nth(1).check();
    await page.waitForFunction(() => document.querySelector('[data-chart=loss]')?.getAttribute('data-series') === '15');
    expect(await page.locator('.status').getAttribute('data-status')).toBe('report');
    expect(requests).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('shows each run’s final metrics, its config and its samples', async () => {
    const rows = await page.locator('[data-panel=runs] tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).slice(1).map((td) => td.firstChild?.textContent ?? '')));
    // The fixture runs' last evaluation (step 80): pre-LN 3.41, post-LN 3.433 (docs/run-directory.md's records).
    expect(rows.map((r) => [r[0], r[1], r[2], r[4]])).toEqual([
      ['pre-ln', 'stopped', '80', '3.41'],
      ['post-ln', 'stopped', '80', '3.433'],
      [HOSTILE.name, 'stopped', '80', '3.433'],
    ]);
    const placement = await page.locator('[data-panel=config] tr', { hasText: 'train.placement' }).evaluate((tr) => [tr.className, ...Array.from(tr.querySelectorAll('td')).map((td) => td.textContent)]);
    expect(placement).toEqual(['differs', 'train.placement', 'pre', 'post', 'post']);
    expect(await page.locator('[data-panel=samples] article.sample').count()).toBe(4 + 4 + 5);
  });

  it('reads every run’s value at the cursor, zooms by dragging, and downloads every point', async () => {
    const plot = page.locator('[data-chart=loss] .plot');
    const box = (await plot.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.4);
    await page.waitForFunction(() => /^step \d+$/.test(document.querySelector('[data-chart=loss] .readout th')?.textContent ?? ''));
    const rows = await page.locator('[data-chart=loss] .readout tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent)));
    expect(rows.map((r) => r[0])).toEqual(['pre-ln', 'pre-ln', 'post-ln', 'post-ln', HOSTILE.name, HOSTILE.name]);
    expect(rows.every((r) => Number.isFinite(Number(r[2])))).toBe(true);

    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.5, { steps: 5 });
    await page.mouse.up();
    await page.waitForSelector('[data-chart=loss][data-zoomed]');
    expect(Number(await page.locator('[data-chart=loss]').getAttribute('data-x-max'))).toBeLessThan(80);
    await plot.dblclick();
    await page.waitForSelector('[data-chart=loss]:not([data-zoomed])');

    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-chart=loss] [data-control=csv]').click()]);
    expect(download.suggestedFilename()).toBe('resnorm-loss.csv');
    const csv = readFileSync((await download.path())!, 'utf8').trim().split('\n');
    expect(csv[0]).toBe('run,series,step,wall_time_s,value,smoothed');
    // Every point, not the downsampled ones: per run 40 steps and 4 evaluations.
    expect(csv).toHaveLength(1 + 3 * 44);
    expect(csv[1]).toMatch(/^pre-ln,train,2,0\.0\d+,4\.\d+,4\.\d+$/);
  });

  it('shows markup in run files as text and runs none of it', async () => {
    expect(await page.locator('[data-panel=samples] pre', { hasText: 'window.__xss=3' }).textContent()).toBe(HOSTILE.prompt + HOSTILE.text);
    expect(await text('[data-panel=config] table')).toContain(HOSTILE.config);
    expect(await page.evaluate(() => ({ xss: (window as { __xss?: unknown }).__xss, imgs: document.querySelectorAll('img, b').length, scripts: document.scripts.length }))).toEqual({ xss: undefined, imgs: 0, scripts: 2 });
    const shot = join(tmpdir(), 'resnorm-report.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`screenshot of the report: ${shot}`);
    expect(errors).toEqual([]);
  });
});
