// Resident memory over training: a small GPT trained for `steps` steps on the wasm backend in a fresh
// process, sampled every 100 steps (RSS, then V8's heap and the wasm allocator after a full GC).
// Issue 5 wants RSS after 1000 steps within 2% of that after 100. bench/run.ts runs this file as a
// child process so the other benches' garbage does not blur the figure; alone it prints JSON:
//   node --expose-gc --import tsx bench/memory-stability.ts [steps] [threads] [small|default|large]
// With the default or large model it also gives the peak RSS of a process that only trains it.

import { spawnSync } from 'node:child_process';
import { PerformanceObserver } from 'node:perf_hooks';
import { createWasmBackend } from '../src/backend/wasm/index.ts';
import { DEFAULT_GPT_CONFIG, GPT } from '../src/models/gpt.ts';
import { AdamW } from '../src/optim/adamw.ts';
import { Rng } from '../src/tensor/index.ts';
import { TrainStep } from '../src/train/step.ts';
import { DEFAULT_STEP_CASE, LARGE_STEP_CASE, type StepCase } from './train-step.ts';

export const SMALL: StepCase = {
  name: 'small (L2 H2 C64 T32 B8)',
  config: { ...DEFAULT_GPT_CONFIG, vocabSize: 65, nLayer: 2, nHead: 2, nEmbd: 64, blockSize: 32 },
  batch: 8,
};
const MODELS = { small: SMALL, default: DEFAULT_STEP_CASE, large: LARGE_STEP_CASE };
export type ModelName = keyof typeof MODELS;

export interface MemorySample {
  step: number;
  /** Resident set as the step leaves it (garbage included). */
  rssMiB: number;
  /** Resident set and JS heap after a full garbage collection: what the process retains. */
  rssAfterGcMiB: number;
  heapUsedMiB: number;
  /** V8 heap reserved (used or not) after that collection. */
  heapTotalMiB: number;
  /** Bytes of wasm linear memory the backend's allocator has handed out (free or live). */
  wasmReservedMiB: number;
}

export interface MemoryStability {
  model: string;
  /** Node flags of the measured process (filled in by runMemoryStability). */
  nodeFlags?: readonly string[];
  threads: number;
  samples: MemorySample[];
  msPerStep: number;
  peakRssMiB: number;
  /** Garbage collections V8 ran during the timed steps (the forced ones of the samples excluded), and their time. */
  gcCount: number;
  gcMs: number;
  /** Whether the steps were captured and replayed (TrainStep), or why not. */
  stepMode: string;
}

/**
 * The V8 flags the resnorm command runs with (bin/resnorm.js's shebang, `npm start`): a training step
 * allocates only small JS handles (tensor data lives in wasm memory), so a young generation of 1 MiB
 * semispaces costs no speed, while V8's default lets it grow to 16 MiB over the first ~800 steps.
 */
export const CLI_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

/** Runs this file in a child process with `nodeFlags`; null if it fails (the reason goes to stderr). */
export function runMemoryStability(steps: number, threads: number | 'auto', model: ModelName = 'small', nodeFlags: readonly string[] = CLI_NODE_FLAGS): MemoryStability | null {
  const args = [...nodeFlags, '--expose-gc', '--import', 'tsx', import.meta.filename, String(steps), String(threads), model];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`bench/memory-stability.ts failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return null;
  }
  return { ...(JSON.parse(r.stdout) as MemoryStability), nodeFlags };
}

async function main(steps: number, threads: number | 'auto', c: StepCase): Promise<MemoryStability> {
  const be = await createWasmBackend({ threads });
  const { config, batch } = c;
  const model = GPT.create(config, { backend: be, seed: 0 });
  const opt = new AdamW(model.store!);
  const rng = new Rng(0);
  const T = config.blockSize;
  const x = Int32Array.from({ length: batch * T }, () => rng.int(config.vocabSize));
  const y = Int32Array.from({ length: batch * T }, () => rng.int(config.vocabSize));
  const mib = (b: number) => b / 2 ** 20;
  const samples: MemorySample[] = [];
  const gc = (globalThis as { gc?: () => void }).gc;
  const stepper = new TrainStep(model, opt); // as `resnorm train` steps
  let gcCount = 0;
  let gcMs = 0;
  let sampling = false;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (sampling) continue;
      gcCount++;
      gcMs += e.duration;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const t0 = performance.now();
  for (let step = 1; step <= steps; step++) {
    await stepper.run(x, y, batch, T, { gradClip: 1 });
    if (step % 100 === 0) {
      const rss = process.memoryUsage().rss;
      await flushObserver();
      sampling = true;
      gc?.();
      await flushObserver();
      sampling = false;
      const m = process.memoryUsage();
      samples.push({ step, rssMiB: mib(rss), rssAfterGcMiB: mib(m.rss), heapUsedMiB: mib(m.heapUsed), heapTotalMiB: mib(m.heapTotal), wasmReservedMiB: mib(be.info().reservedBytes) });
    }
  }
  const msPerStep = (performance.now() - t0) / steps;
  await flushObserver();
  observer.disconnect();
  const stepMode = stepper.describe();
  await be.dispose();
  return { model: c.name, threads: be.threads, samples, msPerStep, peakRssMiB: process.resourceUsage().maxRSS / 1024, gcCount, gcMs, stepMode };
}

/** Lets queued PerformanceObserver callbacks run (they are delivered on a later tick). */
function flushObserver(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

if (import.meta.filename === process.argv[1]) {
  const steps = Number(process.argv[2] ?? 1000);
  const t = process.argv[3] ?? 'auto';
  const name = process.argv[4] ?? 'small';
  if (!(name in MODELS)) throw new Error(`Unknown model '${name}'; pass one of ${Object.keys(MODELS).join(', ')}.`);
  console.log(JSON.stringify(await main(steps, t === 'auto' ? 'auto' : Number(t), MODELS[name as ModelName])));
}
