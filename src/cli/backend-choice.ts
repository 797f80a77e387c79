// `--backend ref|wasm|webgpu|auto`: picks the backend new tensors go to. 'auto' (the default) takes the
// WebAssembly SIMD backend when this runtime can run it (saying so when it falls back to ref), and
// WebGPU instead only where an adapter exists and measurement says it is faster for the model at hand
// (backend-auto.ts: a few captured training steps timed on both; the decision printed with both
// figures). The model at hand is known only once a command has read its config and data, so auto
// starts on wasm and `train` (lm) settles it with its own model (settleAuto) before it builds it;
// every other command stays on wasm. Where there is no WebGPU (Node without Dawn, no adapter),
// nothing is measured.

import type { Backend } from '../backend/backend.ts';
import { createRefBackend } from '../backend/ref/ref-backend.ts';
import { setDefaultBackend } from '../tensor/backend-registry.ts';
import { measureAuto, type AutoDecision, type AutoProbe } from './backend-auto.ts';
import { UserError } from './errors.ts';

/** The wasm backend an 'auto' selection started on, until settleAuto decides (null: nothing pending). */
let pendingAuto: Backend | null = null;

export const BACKEND_CHOICES = ['auto', 'wasm', 'webgpu', 'ref'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/**
 * `threads`: a count, or undefined for every core ('auto'); only the wasm backend uses threads.
 * 'auto' selects wasm and leaves the WebGPU question to settleAuto.
 */
export async function selectBackend(choice: string | undefined, threads?: string): Promise<Backend> {
  pendingAuto = null;
  const nThreads = threads === undefined || threads === 'auto' ? 'auto' : Number(threads);
  if (nThreads !== 'auto' && !(Number.isInteger(nThreads) && nThreads >= 1)) throw new UserError(`--threads must be a positive integer or 'auto', got '${threads}'`);
  const c = (choice ?? 'auto') as BackendChoice;
  if (!BACKEND_CHOICES.includes(c)) throw new UserError(`--backend ${choice}: expected one of ${BACKEND_CHOICES.join(', ')}`);
  let backend: Backend;
  switch (c) {
    case 'ref':
      backend = createRefBackend();
      break;
    case 'webgpu':
      try {
        const { createWebGpuBackend } = await import('../backend/webgpu/index.ts');
        backend = await createWebGpuBackend();
      } catch (e) {
        throw new UserError(`the webgpu backend cannot run here: ${(e as Error).message}`);
      }
      break;
    case 'wasm':
    case 'auto':
      try {
        const { createWasmBackend } = await import('../backend/wasm/index.ts');
        backend = await createWasmBackend({ threads: nThreads });
      } catch (e) {
        if (c === 'wasm') throw new UserError(`the wasm backend cannot run here: ${(e as Error).message}`);
        console.error(`note: WebAssembly SIMD is not available here (${(e as Error).message.split('\n')[0]}); using the slower reference backend`);
        backend = createRefBackend();
        break;
      }
      if (c === 'auto') pendingAuto = backend;
      break;
    default: {
      const never: never = c;
      throw new UserError(`--backend ${String(never)}: expected one of ${BACKEND_CHOICES.join(', ')}`);
    }
  }
  setDefaultBackend(backend);
  return backend;
}

/**
 * Settles an 'auto' selection with the model the command is about to train: WebGPU where an adapter
 * exists and it is measured faster on `probe` (made the default backend), else the wasm it started on.
 * Returns the backend to use; without a pending auto selection, the current one, unchanged.
 */
export async function settleAuto(probe: AutoProbe, current: Backend, makeWebGpu: () => Promise<GpuBackend> = createWebGpu): Promise<Backend> {
  const wasm = pendingAuto;
  pendingAuto = null;
  if (!wasm || wasm !== current) return current;
  const chosen = await autoBetweenWasmAndWebGpu(wasm, probe, makeWebGpu);
  setDefaultBackend(chosen);
  return chosen;
}

type GpuBackend = Backend & { dispose(): Promise<void> };

async function createWebGpu(): Promise<GpuBackend> {
  const { createWebGpuBackend } = await import('../backend/webgpu/index.ts');
  return createWebGpuBackend();
}

/** The probe in words, for the decision's line: which model was timed. */
function probeWords({ model: m, batchSize }: AutoProbe): string {
  return `${m.nLayer} layers, width ${m.nEmbd}, ${m.nHead} heads, block ${m.blockSize}, vocabulary ${m.vocabSize}, batch ${batchSize}`;
}

/** wasm, or WebGPU where an adapter exists and is measured faster on `probe` (the decision printed); the loser is disposed. */
async function autoBetweenWasmAndWebGpu(wasm: Backend, probe: AutoProbe, makeWebGpu: () => Promise<GpuBackend>): Promise<Backend> {
  let webgpu: GpuBackend;
  try {
    webgpu = await makeWebGpu();
  } catch {
    return wasm; // no WebGPU here: auto is wasm, at no cost
  }
  let decision: AutoDecision;
  try {
    decision = await measureAuto(wasm, webgpu, probe);
  } catch (e) {
    // A device lost or a kernel refused mid-measurement: the run still has a backend that works.
    console.error(`auto: wasm (measuring WebGPU failed: ${(e as Error).message.split('\n')[0]})`);
    await webgpu.dispose().catch(() => {});
    return wasm;
  }
  console.error(`${decision.reason}; timed on this run's model: ${probeWords(probe)}`);
  if (decision.backend === 'webgpu') {
    await (wasm as { dispose?: () => Promise<void> }).dispose?.(); // its worker threads
    return webgpu;
  }
  await webgpu.dispose();
  return wasm;
}
