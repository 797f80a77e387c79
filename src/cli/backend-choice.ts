// `--backend ref|wasm|webgpu|auto`: picks the backend new tensors go to. 'auto' (the default) takes the
// WebAssembly SIMD backend when this runtime can run it (saying so when it falls back to ref), and
// WebGPU instead only where an adapter exists and measurement says it is faster for the model at hand
// (backend-auto.ts: a few captured training steps timed on both; the decision printed with both
// figures). Where there is no WebGPU (Node without Dawn, no adapter), nothing is measured.

import type { Backend } from '../backend/backend.ts';
import { createRefBackend } from '../backend/ref/ref-backend.ts';
import { setDefaultBackend } from '../tensor/backend-registry.ts';
import { modelConfigOf, parseTrainConfig } from '../train/config.ts';
import { measureAuto, type AutoDecision, type AutoProbe } from './backend-auto.ts';
import { UserError } from './errors.ts';

/**
 * What auto measures when the caller names no model: the default lm config on a character vocabulary
 * of 96 (the CLI picks the backend before a command reads its config and data).
 */
export function defaultAutoProbe(): AutoProbe {
  const c = parseTrainConfig({});
  return { model: modelConfigOf(c, 96), batchSize: c.batchSize };
}

export const BACKEND_CHOICES = ['auto', 'wasm', 'webgpu', 'ref'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/**
 * `threads`: a count, or undefined for every core ('auto'); only the wasm backend uses threads.
 * `probe`: the model auto measures where WebGPU exists (default: defaultAutoProbe()).
 */
export async function selectBackend(choice: string | undefined, threads?: string, probe?: AutoProbe): Promise<Backend> {
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
      if (c === 'auto') backend = await autoBetweenWasmAndWebGpu(backend, probe ?? defaultAutoProbe());
      break;
    default: {
      const never: never = c;
      throw new UserError(`--backend ${String(never)}: expected one of ${BACKEND_CHOICES.join(', ')}`);
    }
  }
  setDefaultBackend(backend);
  return backend;
}

/** wasm, or WebGPU where an adapter exists and is measured faster on `probe` (the decision printed); the loser is disposed. */
async function autoBetweenWasmAndWebGpu(wasm: Backend, probe: AutoProbe): Promise<Backend> {
  let webgpu: (Backend & { dispose(): Promise<void> }) | null = null;
  try {
    const { createWebGpuBackend } = await import('../backend/webgpu/index.ts');
    webgpu = await createWebGpuBackend();
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
  console.error(decision.reason);
  if (decision.backend === 'webgpu') {
    await (wasm as { dispose?: () => Promise<void> }).dispose?.(); // its worker threads
    return webgpu;
  }
  await webgpu.dispose();
  return wasm;
}
