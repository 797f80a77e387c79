// The browser test's page: checks the wasm kernels on the main thread, then trains the same tiny GPT in an
// engine worker on 1 and on 2 threads (Web Workers sharing memory) and samples from it. Bundled by serve.ts;
// the test calls runScenario() and compares what it returns.
import { createWasmBackend } from '../../src/backend/wasm/index.ts';
import { EngineClient, type TrainResult } from '../../src/worker/client.ts';
import { config, sampleArgs, text } from './tiny-run.ts';

export interface WorkerRun {
  threads: number;
  flavour: string;
  steps: number[];
  result: TrainResult;
  sample: string;
  streamed: string;
}

export interface Scenario {
  crossOriginIsolated: boolean;
  /** The kernels compiled on the page's main thread (one thread is allowed there). */
  pageFlavour: string;
  /** What asking for 2 threads on the main thread says. */
  pageThreadsError: string;
  one: WorkerRun;
  two: WorkerRun;
  /** 2 threads on the plain-SIMD build (no fused multiply-add). */
  simd: WorkerRun;
}

async function trainInWorker(threads: number, relaxed: boolean | 'auto' = 'auto'): Promise<WorkerRun> {
  const client = EngineClient.create(new URL('./engine-worker.js', import.meta.url), { threads, relaxed });
  try {
    const info = await client.ready;
    const steps: number[] = [];
    const result = await client.train(text, config, { onStep: (m) => steps.push(m.step) });
    let streamed = '';
    const sample = await client.sample(sampleArgs.prompt, sampleArgs.options, (t) => (streamed += t));
    return { threads: info.threads, flavour: info.flavour ?? info.backend, steps, result, sample, streamed };
  } finally {
    client.terminate();
  }
}

async function runScenario(): Promise<Scenario> {
  const page = await createWasmBackend();
  const pageFlavour = page.flavour;
  await page.dispose();
  const pageThreadsError = await createWasmBackend({ threads: 2 }).then(
    () => 'no error',
    (e: unknown) => String(e),
  );
  const one = await trainInWorker(1);
  const two = await trainInWorker(2);
  const simd = await trainInWorker(2, false);
  return { crossOriginIsolated: globalThis.crossOriginIsolated, pageFlavour, pageThreadsError, one, two, simd };
}

(globalThis as unknown as { runScenario: typeof runScenario }).runScenario = runScenario;
