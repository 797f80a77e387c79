// Training speed in the browser beside Node, on this machine: `node --import tsx bench/browser.ts
// [--threads 1,2] [--steps 120] [--repeat 1]`. The default config (nLayer 4, nHead 4, nEmbd 128,
// blockSize 64, batchSize 12; diagnostics off, as the demo page trains) on the demo's sample text, the
// median of steps 21–120 of:
//   - step: the engine's own time for a step (Trainer's StepMetrics.ms: batch, forward, backward, AdamW);
//   - step to step: the time between successive 'step' events where they are received — by the Node
//     process for Node's Engine, by the page's main thread in chromium.
// Three setups per thread count: Node's Engine in this process; the engine worker in chromium (an
// isolated page that only trains); and the demo page itself (its Train button, its live chart drawing on
// the main thread, the step events watched through a wrapped Worker). Goals (issue 16): browser ≥ 0.9×
// Node, and the page's step-to-step time within 3% of the step time. Needs Debian's chromium.
// On a shared 2-core machine a 2-thread run slows by a third or more whenever another process takes a
// core (a thread pool waits for its slowest thread), and the load average printed says how busy it was:
// `--repeat N` runs each setup N times, interleaved, and reports the best. (The first training in a
// process is not slower: measured cold, 1 thread, 90.8 ms a step in Node and 90.1 in chromium.)
// Not part of bench/run.ts: it drives a browser.
import { cpus, loadavg } from 'node:os';
import { chromium, type Browser } from 'playwright-core';
import { startDemo } from '../src/demo/server.ts';
import { sampleText } from '../src/demo/sample-text.ts';
import { Engine } from '../src/worker/engine.ts';
import type { EngineEvent, TrainSettings } from '../src/worker/protocol.ts';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const THREADS = opt('threads', '1,2').split(',').map(Number);
const STEPS = Number(opt('steps', '120'));
const REPEAT = Number(opt('repeat', '1'));
const FIRST = 21; // steps 1–20 warm up: the step's capture, the JIT, the allocator
if (!(STEPS >= FIRST + 10) || THREADS.some((t) => !(t >= 1)) || !(REPEAT >= 1)) {
  console.error('usage: node --import tsx bench/browser.ts [--threads 1,2] [--steps 120] [--repeat 1]');
  process.exit(1);
}

const text = sampleText();
const CONFIG: TrainSettings = { nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, batchSize: 12, maxIters: STEPS, evalInterval: 100_000, evalIters: 1, diagInterval: 0 };
const TOKENS_PER_STEP = 12 * 64;

/** (arrival time ms, step, the step's own ms) of each step event. */
type Rows = [number, number, number][];

interface Timing {
  step: number;
  gap: number;
  flavour: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function summarize(rows: Rows, flavour: string): Timing {
  const at = new Map(rows.map(([t, step]) => [step, t]));
  const inRange = rows.filter(([, s]) => s >= FIRST && s <= STEPS);
  if (inRange.length !== STEPS - FIRST + 1) throw new Error(`expected steps ${FIRST}–${STEPS}, got ${inRange.length}`);
  return { step: median(inRange.map(([, , ms]) => ms)), gap: median(inRange.map(([t, s]) => t - at.get(s - 1)!)), flavour };
}

async function inNode(threads: number): Promise<Timing> {
  const rows: Rows = [];
  let flavour = '';
  const engine = new Engine((e: EngineEvent) => {
    if (e.type === 'step') rows.push([performance.now(), e.step, e.ms]);
    else if (e.type === 'ready') flavour = e.info.flavour ?? e.info.backend;
    else if (e.type === 'error') throw new Error(e.message);
  });
  try {
    await engine.receive({ type: 'init', id: 1, backend: { threads } });
    await engine.receive({ type: 'train', id: 2, text, config: CONFIG });
  } finally {
    await engine.dispose();
  }
  return summarize(rows, flavour);
}

/** The engine worker on an isolated page that does nothing else (the demo's sample.txt: served with COOP/COEP). */
async function inWorker(browser: Browser, base: string, threads: number): Promise<Timing> {
  const page = await browser.newPage();
  try {
    await page.goto(`${base}sample.txt`);
    const r = await page.evaluate(
      ({ threads, text, config }) =>
        new Promise<{ rows: [number, number, number][]; flavour: string; isolated: boolean }>((resolve, reject) => {
          const w = new Worker('/engine-worker.js', { type: 'module' });
          const rows: [number, number, number][] = [];
          let flavour = '';
          w.onmessage = (e: MessageEvent) => {
            const ev = e.data as { type: string; step: number; ms: number; message: string; info: { flavour: string } };
            if (ev.type === 'ready') {
              flavour = ev.info.flavour;
              w.postMessage({ type: 'train', id: 2, text, config });
            } else if (ev.type === 'step') rows.push([performance.now(), ev.step, ev.ms]);
            else if (ev.type === 'trained') {
              w.terminate();
              resolve({ rows, flavour, isolated: globalThis.crossOriginIsolated });
            } else if (ev.type === 'error') reject(new Error(ev.message));
          };
          w.postMessage({ type: 'init', id: 1, backend: { threads } });
        }),
      { threads, text, config: CONFIG },
    );
    if (!r.isolated) throw new Error('the bench page is not cross-origin isolated');
    return summarize(r.rows, r.flavour);
  } finally {
    await page.close();
  }
}

/** The demo page itself, trained through its form and Train button; step events watched as they reach the page. */
async function inDemoPage(browser: Browser, base: string, threads: number): Promise<Timing> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  try {
    await page.addInitScript(() => {
      const seen: [number, number, number][] = [];
      (globalThis as unknown as { __steps: typeof seen }).__steps = seen;
      const Base = globalThis.Worker;
      globalThis.Worker = class extends Base {
        constructor(url: string | URL, o?: WorkerOptions) {
          super(url, o);
          this.addEventListener('message', (e: MessageEvent) => {
            const ev = e.data as { type?: string; step: number; ms: number };
            if (ev?.type === 'step') seen.push([performance.now(), ev.step, ev.ms]);
          });
        }
      };
    });
    await page.goto(`${base}?threads=${threads}`);
    await page.waitForSelector('[data-status][data-state=ready]', { timeout: 60_000 });
    const form: Record<string, string> = { nLayer: '4', nHead: '4', nEmbd: '128', blockSize: '64', batchSize: '12', maxIters: String(STEPS), evalInterval: '100000', evalIters: '1', sampleLength: '0' };
    for (const [k, v] of Object.entries(form)) await page.fill(`[data-setting=${k}]`, v);
    await page.click('[data-action=train]');
    await page.waitForSelector('[data-status][data-state=done]', { timeout: 10 * 60_000 });
    const rows = await page.evaluate(() => (globalThis as unknown as { __steps: [number, number, number][] }).__steps);
    const shown = Number(await page.locator('[data-threads]').getAttribute('data-threads'));
    if (shown !== threads) throw new Error(`the demo page runs ${shown} threads, not ${threads}`);
    return summarize(rows, (await page.locator('[data-threads]').getAttribute('data-flavour')) ?? '?');
  } finally {
    await page.close();
  }
}

const demo = await startDemo({ port: 0 });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
const f = (v: number) => v.toFixed(1).padStart(7);
const tps = (ms: number) => String(Math.round((TOKENS_PER_STEP * 1000) / ms)).padStart(7);
try {
  // The load average says how much else ran: a thread pool's steps suffer most when a core is taken.
  const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`browser bench: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}, chromium ${browser.version()}; load average ${load()}`);
  console.log(`default config (4 layers, 4 heads, width 128, block 64, batch 12), the demo's sample text; median of steps ${FIRST}–${STEPS}${REPEAT > 1 ? `, best of ${REPEAT} runs` : ''}`);
  for (const threads of THREADS) {
    const runs: Record<'node' | 'worker' | 'page', Timing[]> = { node: [], worker: [], page: [] };
    for (let r = 0; r < REPEAT; r++) {
      // Interleaved, so that a noisy moment of a shared machine spreads over all three.
      runs.node.push(await inNode(threads));
      runs.worker.push(await inWorker(browser, demo.url, threads));
      runs.page.push(await inDemoPage(browser, demo.url, threads));
    }
    const best = (ts: Timing[]) => ts.reduce((a, b) => (b.gap < a.gap ? b : a));
    const n = best(runs.node);
    const w = best(runs.worker);
    const p = best(runs.page);
    console.log(`\n${threads} thread${threads === 1 ? '' : 's'}:                  step ms  step-to-step ms  tokens/s  step-to-step ÷ step`);
    for (const [name, t] of [
      [`Node Engine (${n.flavour})`, n],
      [`chromium worker (${w.flavour})`, w],
      [`demo page (${p.flavour})`, p],
    ] as const) {
      console.log(`  ${name.padEnd(26)}${f(t.step)}  ${f(t.gap)}          ${tps(t.gap)}   ${(t.gap / t.step).toFixed(3)}`);
    }
    const ratio = (b: Timing) => n.gap / b.gap;
    console.log(`  browser ÷ Node, tokens/s: worker ${ratio(w).toFixed(2)}×, demo page ${ratio(p).toFixed(2)}× (goal ≥ 0.9: ${ratio(p) >= 0.9 ? 'met' : 'NOT met'})`);
    const over = (p.gap / p.step - 1) * 100;
    console.log(`  the page's step to step is ${over.toFixed(1).replace(/^-0\.0$/, '0.0')}% over its step time (goal ≤ 3%: ${over <= 3 ? 'met' : 'NOT met'}); Node's ${((n.gap / n.step - 1) * 100).toFixed(1)}%`);
  }
  console.log(`\nload average at the end ${load()}`);
} finally {
  await browser.close();
  await demo.close();
}
