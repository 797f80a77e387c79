// The README's screenshots, from real runs: `node --import tsx scripts/screenshots.ts [RUN_DIR…] [--out docs]`.
// Serves the runs with the dashboard and photographs the live page (docs/dashboard.png: runs and training
// charts); writes their report and photographs it from file:// (docs/report.png: inside the model). Then
// (and alone, without run directories) opens the browser demo, trains its default model on its sample
// text, generates from it and photographs the page (docs/demo.png).
// Needs Debian's chromium (apt-get install chromium).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { buildReport } from '../src/dashboard/report.ts';
import { startDashboard } from '../src/dashboard/server.ts';
import { startDemo } from '../src/demo/server.ts';

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const outDir = outAt >= 0 ? args[outAt + 1] : 'docs';
const runDirs = args.filter((_, i) => outAt < 0 || (i !== outAt && i !== outAt + 1));
if (runDirs.some((d) => d.startsWith('--'))) {
  console.error('usage: node --import tsx scripts/screenshots.ts [RUN_DIR…] [--out docs]');
  process.exit(1);
}

const VIEWPORT = { width: 1440, height: 1000 };

/** Until every chart on the page has drawn its points (or the time is up), then a moment to settle. */
async function settle(page: Page): Promise<void> {
  await page
    .waitForFunction(
      () => {
        const charts = Array.from(document.querySelectorAll('[data-chart]'));
        return charts.length > 0 && charts.every((c) => Number(c.getAttribute('data-points')) > 0);
      },
      undefined,
      { timeout: 60_000 },
    )
    .catch(() => console.error('some charts have no data (a run without diagnostics?); photographing anyway'));
  await page.waitForTimeout(500);
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--hide-scrollbars'],
});

/** The demo after its default training (the page's settings as a user first sees them) and a generation. */
async function demoShot(): Promise<void> {
  const demo = await startDemo({ port: 0 });
  try {
    const page = await browser.newPage({ viewport: VIEWPORT, deviceScaleFactor: 1 });
    page.on('pageerror', (e) => console.error(`demo page: ${String(e)}`));
    await page.goto(demo.url);
    await page.waitForSelector('[data-status][data-state=ready]', { timeout: 60_000 });
    await page.click('[data-action=train]');
    await page.waitForSelector('[data-status][data-state=done]', { timeout: 20 * 60_000 });
    await page.click('[data-action=generate]');
    await page.waitForSelector('[data-output=generated][data-state=done]', { timeout: 60_000 });
    await page.evaluate(() => window.scrollTo(0, 0)); // Generate scrolled it; the header is sticky
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(outDir, 'demo.png'), fullPage: true });
    console.log(`wrote ${join(outDir, 'demo.png')} (${await page.locator('[data-status]').textContent()})`);
  } finally {
    await demo.close();
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'resnorm-shots-'));
try {
  if (runDirs.length > 0) await runShots();
  await demoShot();
} finally {
  await browser.close();
  rmSync(tmp, { recursive: true, force: true });
}

async function runShots(): Promise<void> {
  const dash = await startDashboard({ runDirs, port: 0, token: null });
  try {
    const page = await browser.newPage({ viewport: VIEWPORT, deviceScaleFactor: 1 });
    await page.goto(dash.url);
    await settle(page);
    await page.screenshot({ path: join(outDir, 'dashboard.png') });
    console.log(`wrote ${join(outDir, 'dashboard.png')}`);
  } finally {
    await dash.close();
  }

  const file = join(tmp, 'report.html');
  writeFileSync(file, (await buildReport(runDirs)).html);
  const page = await browser.newPage({ viewport: VIEWPORT, deviceScaleFactor: 1 });
  await page.goto(pathToFileURL(file).href);
  await settle(page);
  // The part no other tool shows: inside the model.
  await page.locator('h2', { hasText: 'Inside the model' }).evaluate((h) => window.scrollTo(0, h.getBoundingClientRect().top + window.scrollY - 56));
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(outDir, 'report.png') });
  console.log(`wrote ${join(outDir, 'report.png')}`);
}
