// The backends every parametrised suite runs against. The reference backend is the oracle;
// faster backends are added here as they land. The wasm kernels compile once (top-level await);
// each suite's `make` then creates a fresh backend with its own memory, synchronously.

import type { Backend } from '../../src/backend/backend.ts';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { loadWasmKernels } from '../../src/backend/wasm/index.ts';

export interface NamedBackend {
  name: string;
  make: () => Backend;
}

const wasmKernels = await loadWasmKernels();

export const BACKENDS: NamedBackend[] = [
  { name: 'ref', make: createRefBackend },
  { name: `wasm (${wasmKernels.flavour})`, make: () => wasmKernels.createBackend() },
];
