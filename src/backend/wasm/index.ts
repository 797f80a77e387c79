// The wasm backend's entry point: compile the kernels once (async), then make backends from them.
// Each backend owns one shared WebAssembly.Memory that all its tensors live in.
import { compileKernels, type CompiledKernels, type SimdFlavour } from './load.ts';
import { checkKernelExports } from './kernel-tables.ts';
import type { KernelExports } from './kernels.ts';
import { WasmBackend } from './wasm-backend.ts';

export { WasmBackend, type WasmBackendInfo } from './wasm-backend.ts';
export type { SimdFlavour } from './load.ts';

export interface WasmBackendOptions {
  /** 'auto' (default): relaxed SIMD when the runtime has it; false: plain SIMD; true: relaxed or throw. */
  relaxed?: boolean | 'auto';
  /**
   * Threads the kernels are split over: default 1; 'auto' = every core. worker_threads in Node, Web Workers
   * in a browser, where the backend must itself run in a worker (src/worker/).
   */
  threads?: number | 'auto';
  /** Upper bound of the linear memory in MiB (default and maximum 4096, wasm32's limit). */
  maxMemoryMiB?: number;
  /** Folder the .wasm builds are fetched from (default: beside load.ts), for bundles that move this module. */
  kernelsUrl?: string | URL;
}

const PAGE = 65536;
const MAX_PAGES = 65536;

/** Compiled kernels, from which backends are made synchronously (tests, workers). */
export class WasmKernels {
  constructor(readonly compiled: CompiledKernels) {}

  get flavour(): SimdFlavour {
    return this.compiled.flavour;
  }

  /** A single-threaded backend, made synchronously. */
  createBackend(opts: Pick<WasmBackendOptions, 'maxMemoryMiB'> = {}): WasmBackend {
    return this.makeBackend(opts.maxMemoryMiB, 1);
  }

  /** A backend whose kernels run on `threads` threads sharing its memory (worker_threads or Web Workers). */
  async createThreadedBackend(opts: Pick<WasmBackendOptions, 'maxMemoryMiB' | 'threads'> = {}): Promise<WasmBackend> {
    const threads = await resolveThreads(opts.threads);
    const be = this.makeBackend(opts.maxMemoryMiB, threads);
    if (threads > 1) {
      if (isNode()) {
        const { ThreadPool } = await import('./thread-pool.ts');
        be.attachPool(await ThreadPool.start(threads, this.compiled.module, be.memory, be.ctrlPtr));
      } else {
        const { WebThreadPool } = await import('./web/web-thread-pool.ts');
        be.attachPool(await WebThreadPool.start(threads, this.compiled.module, be.memory, be.ctrlPtr));
      }
    }
    return be;
  }

  private makeBackend(maxMemoryMiB: number | undefined, threads: number): WasmBackend {
    const mib = maxMemoryMiB ?? 4096;
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
    // Op codes, jobs and exports against the binary, before any kernel runs (kernel-tables.ts).
    checkKernelExports(instance.exports, this.compiled.flavour);
    return new WasmBackend(instance.exports as unknown as KernelExports, memory, this.compiled.flavour, maximum * PAGE, threads);
  }
}

export async function loadWasmKernels(opts: Pick<WasmBackendOptions, 'relaxed' | 'kernelsUrl'> = {}): Promise<WasmKernels> {
  return new WasmKernels(await compileKernels(opts.relaxed ?? 'auto', opts.kernelsUrl));
}

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

async function resolveThreads(threads: number | 'auto' | undefined): Promise<number> {
  if (threads === undefined || threads === 1) return 1;
  if (threads === 'auto') {
    if (isNode()) return (await import('node:os')).availableParallelism();
    // A page's main thread cannot block on its workers: one thread there, every core inside a worker.
    return typeof (globalThis as { document?: unknown }).document !== 'undefined' ? 1 : Math.max(1, navigator.hardwareConcurrency || 1);
  }
  if (!(Number.isInteger(threads) && threads >= 1 && threads <= 256)) {
    throw new Error(`threads must be an integer in [1, 256] or 'auto', got ${threads}.`);
  }
  return threads;
}

/** A WebAssembly SIMD backend; with threads > 1 its kernels are split over worker threads. */
export async function createWasmBackend(opts: WasmBackendOptions = {}): Promise<WasmBackend> {
  return (await loadWasmKernels(opts)).createThreadedBackend(opts);
}
