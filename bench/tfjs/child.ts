// Child process of bench/tfjs-reference.ts: times the TF.js GPT training step (bench/tfjs/gpt.ts) on
// one TF.js backend. Reads a JSON request from argv[2]; prints one JSON object per line on stdout
// ({"event":"ready",...}, then {"event":"step",...} per step), so a parent that stops it at its time
// cap still has every step finished before that. TF.js may log its own lines; the parent skips them.

import { createRequire } from 'node:module';
import type * as TF from '@tensorflow/tfjs-core';
import { createTfGptStep, type TfGptConfig } from './gpt.ts';

export interface TfjsRequest {
  backend: 'wasm' | 'cpu';
  config: TfGptConfig;
  batch: number;
  warmup: number;
  reps: number;
}

const emit = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
const rssMiB = () => process.resourceUsage().maxRSS / 1024;

async function main(req: TfjsRequest): Promise<void> {
  // The packages' CommonJS builds ("main"), as a Node user gets them. tfjs-core's Node build has no
  // gradients: they come from its ES-module register_all_gradients (what @tensorflow/tfjs imports),
  // which tsx loads here. Kernels and gradients go to registries on globalThis, shared by both.
  const require = createRequire(import.meta.url);
  const tf = require('@tensorflow/tfjs-core') as typeof TF;
  require('@tensorflow/tfjs-core/dist/register_all_gradients');
  let flavour: string;
  if (req.backend === 'wasm') {
    const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threaded = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    flavour = `${simd ? 'SIMD' : 'no SIMD'}, ${threaded ? `${wasm.getThreadsCount()} threads` : '1 thread'}`;
  } else {
    require('@tensorflow/tfjs-backend-cpu');
    if (!(await tf.setBackend('cpu'))) throw new Error('tf.setBackend("cpu") failed');
    flavour = 'plain JS, 1 thread';
  }
  const t0 = performance.now();
  const { step, paramCount } = createTfGptStep(tf, req.config, req.batch);
  emit({ event: 'ready', version: tf.version_core, backend: tf.getBackend(), flavour, paramCount, buildMs: performance.now() - t0 });
  for (let i = 0; i < req.warmup + req.reps; i++) {
    const s = performance.now();
    const loss = step();
    emit({ event: 'step', warmup: i < req.warmup, ms: performance.now() - s, loss, tensors: tf.memory().numTensors, maxRssMiB: rssMiB() });
  }
}

main(JSON.parse(process.argv[2]) as TfjsRequest).catch((e: Error) => {
  emit({ event: 'error', message: e.message ?? String(e) });
  process.exit(1);
});
