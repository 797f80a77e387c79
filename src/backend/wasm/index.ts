// The wasm backend's entry point: compile the kernels once (async), then make backends from them.
// Each backend owns one shared WebAssembly.Memory that all its tensors live in.
import { compileKernels, type CompiledKernels, type SimdFlavour } from './load.ts';
import type { KernelExports } from './kernels.ts';
import { WasmBackend } from './wasm-backend.ts';

export { WasmBackend, type WasmBackendInfo } from './wasm-backend.ts';
export type { SimdFlavour } from './load.ts';

export interface WasmBackendOptions {
  /** 'auto' (default): relaxed SIMD when the runtime has it; false: plain SIMD; true: relaxed or throw. */
  relaxed?: boolean | 'auto';
  /** Upper bound of the linear memory in MiB (default and maximum 4096, wasm32's limit). */
  maxMemoryMiB?: number;
}

const PAGE = 65536;
const MAX_PAGES = 65536;

/** Compiled kernels, from which backends are made synchronously (tests, workers). */
export class WasmKernels {
  constructor(readonly compiled: CompiledKernels) {}

  get flavour(): SimdFlavour {
    return this.compiled.flavour;
  }

  createBackend(opts: Pick<WasmBackendOptions, 'maxMemoryMiB'> = {}): WasmBackend {
    const mib = opts.maxMemoryMiB ?? 4096;
    if (!(Number.isInteger(mib) && mib >= 1 && mib <= 4096)) {
      throw new Error(`maxMemoryMiB must be an integer in [1, 4096], got ${mib}.`);
    }
    const maximum = Math.min(MAX_PAGES, mib * 16);
    let memory: WebAssembly.Memory;
    try {
      memory = new WebAssembly.Memory({ initial: 1, maximum, shared: true });
    } catch (e) {
      throw new Error(
        'The wasm backend needs shared WebAssembly memory (SharedArrayBuffer); in a browser, serve the page ' +
          `cross-origin isolated (COOP/COEP headers). (${String(e)})`,
      );
    }
    const instance = new WebAssembly.Instance(this.compiled.module, { env: { memory } });
    return new WasmBackend(instance.exports as unknown as KernelExports, memory, this.compiled.flavour, maximum * PAGE);
  }
}

export async function loadWasmKernels(opts: Pick<WasmBackendOptions, 'relaxed'> = {}): Promise<WasmKernels> {
  return new WasmKernels(await compileKernels(opts.relaxed ?? 'auto'));
}

/** A WebAssembly SIMD backend (single-threaded for now). */
export async function createWasmBackend(opts: WasmBackendOptions = {}): Promise<WasmBackend> {
  return (await loadWasmKernels(opts)).createBackend(opts);
}
