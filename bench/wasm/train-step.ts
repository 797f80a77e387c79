// Training-step time of the default GPT config (4 layers, C = 128, T = 64, B = 12) on the ref and wasm
// backends, with the share of each backend kernel in the wasm step (every Backend method timed).
// Run: node --import tsx bench/wasm/train-step.ts [steps] [threads]
import type { Backend } from '../../src/backend/backend.ts';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { loadWasmKernels } from '../../src/backend/wasm/index.ts';
import { DEFAULT_GPT_CONFIG, GPT } from '../../src/models/gpt.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { optimizationStep } from '../../src/train/step.ts';
import { timed } from './timed.ts';

const B = 12;
const T = DEFAULT_GPT_CONFIG.blockSize;

export async function trainStepMs(be: Backend, steps: number): Promise<number> {
  const model = GPT.create(DEFAULT_GPT_CONFIG, { backend: be });
  const opt = new AdamW(model.store!);
  const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 31) % DEFAULT_GPT_CONFIG.vocabSize);
  const tgt = Int32Array.from({ length: B * T }, (_, i) => (i * 17 + 3) % DEFAULT_GPT_CONFIG.vocabSize);
  const step = () => optimizationStep(model, opt, ids, tgt, B, T, { gradClip: 1 });
  for (let i = 0; i < 3; i++) await step(); // warm-up: let V8 tier up
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await step();
  return (performance.now() - t0) / steps;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const steps = Number(process.argv[2] ?? 20);
  const threads = Number(process.argv[3] ?? 1);
  const kernels = await loadWasmKernels();
  const times = new Map<string, number>();
  const threaded = await kernels.createThreadedBackend({ threads });
  const wasmMs = await trainStepMs(threaded, steps);
  await threaded.dispose();
  const profMs = await trainStepMs(timed(kernels.createBackend(), times), steps);
  const refMs = await trainStepMs(createRefBackend(), Math.max(1, Math.floor(steps / 10)));
  console.log(`default GPT config, B=${B} T=${T}: ref ${refMs.toFixed(1)} ms/step, wasm (${kernels.flavour}, ${threads} thread${threads > 1 ? 's' : ''}) ${wasmMs.toFixed(1)} ms/step, ` +
    `${((B * T) / wasmMs * 1000).toFixed(0)} tokens/s, ${(refMs / wasmMs).toFixed(1)}x ref`);
  const total = [...times.values()].reduce((a, b) => a + b, 0) / (steps + 3);
  console.log(`profiled step (1 thread) ${profMs.toFixed(1)} ms, of which backend calls ${total.toFixed(1)} ms:`);
  for (const [name, ms] of [...times].sort((a, b) => b[1] - a[1]).slice(0, 14)) {
    console.log(`  ${name.padEnd(22)} ${(ms / (steps + 3)).toFixed(2).padStart(7)} ms  ${((100 * ms) / (steps + 3) / profMs).toFixed(0).padStart(3)}%`);
  }
}
