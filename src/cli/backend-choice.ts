// `--backend ref|wasm|webgpu|auto`: picks the backend new tensors go to. 'auto' (the default) takes the
// WebAssembly SIMD backend when this runtime can run it and says so when it falls back; it never picks
// WebGPU yet: until the fused kernels land, the core-only WebGPU backend is for conformance, not speed.

import type { Backend } from '../backend/backend.ts';
import { createRefBackend } from '../backend/ref/ref-backend.ts';
import { setDefaultBackend } from '../tensor/backend-registry.ts';
import { UserError } from './errors.ts';

export const BACKEND_CHOICES = ['auto', 'wasm', 'webgpu', 'ref'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** `threads`: a count, or undefined for every core ('auto'); only the wasm backend uses threads. */
export async function selectBackend(choice: string | undefined, threads?: string): Promise<Backend> {
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
      }
      break;
    default: {
      const never: never = c;
      throw new UserError(`--backend ${String(never)}: expected one of ${BACKEND_CHOICES.join(', ')}`);
    }
  }
  setDefaultBackend(backend);
  return backend;
}
