// The backends every parametrised suite runs against. The reference backend is the oracle;
// faster backends are added here as they land. The wasm kernels compile once (top-level await);
// each suite's `make` then creates a fresh single-threaded backend with its own memory, synchronously;
// the 2-thread backend (matmul split over worker_threads) is one shared instance.

import type { Backend } from '../../src/backend/backend.ts';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { loadWasmKernels } from '../../src/backend/wasm/index.ts';
import { coreOnly } from '../../src/backend/views.ts';

export interface NamedBackend {
  name: string;
  make: () => Backend;
}

const wasmKernels = await loadWasmKernels();
// One threaded backend, shared by the suites (its worker pool is started once; tests never free it).
const wasmThreaded = await wasmKernels.createThreadedBackend({ threads: 2 });
// 'uninit' outputs start as NaN, so an op whose kernel leaves part of its output unwritten fails.
wasmThreaded.poisonUninit = true;
const poisoned = <T extends { poisonUninit: boolean }>(be: T): T => Object.assign(be, { poisonUninit: true });

export const BACKENDS: NamedBackend[] = [
  { name: 'ref', make: createRefBackend },
  // Every fused layer composed from the required core: the proof that a new backend needs only that.
  { name: 'ref (core only)', make: () => coreOnly(createRefBackend()) },
  { name: `wasm (${wasmKernels.flavour})`, make: () => poisoned(wasmKernels.createBackend()) },
  { name: `wasm (${wasmKernels.flavour}, 2 threads)`, make: () => wasmThreaded },
];
