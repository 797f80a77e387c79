// The browser twin of ../thread-pool.ts: Web Workers (from a blob URL) instead of worker_threads, running
// the very same worker program on the same control block, JOBS and Atomics protocol. join() blocks in
// Atomics.wait, which browsers forbid on the main thread: the backend itself must live in a worker.
import { JOB_EXIT, PoolControl, WORKER_SOURCE } from '../thread-pool.ts';

// WORKER_SOURCE is CommonJS for worker_threads; here `require` and `parentPort` are shimmed over the
// first message, so both pools run one program and cannot drift apart.
const WEB_WORKER_SOURCE = `
self.onmessage = (e) => {
  self.onmessage = null;
  const require = () => ({ workerData: e.data, parentPort: { postMessage: (m) => self.postMessage(m) } });
  ${WORKER_SOURCE}
  self.close();
};
`;

/** True where the calling thread may block in Atomics.wait: a worker, not a page's main thread. */
export function canBlock(): boolean {
  return typeof (globalThis as { document?: unknown }).document === 'undefined';
}

export class WebThreadPool extends PoolControl {
  private constructor(
    threads: number,
    memory: WebAssembly.Memory,
    ctrl: number,
    private readonly workers: Worker[],
  ) {
    super(threads, memory, ctrl);
  }

  /** Starts threads − 1 Web Workers (the calling thread is the last share) and waits until each is ready. */
  static async start(threads: number, module: WebAssembly.Module, memory: WebAssembly.Memory, ctrl: number): Promise<WebThreadPool> {
    if (!canBlock()) {
      throw new Error(
        `A wasm backend on ${threads} threads must run inside a Web Worker (browsers forbid Atomics.wait on the page's main thread); ` +
          'run the engine in a worker (src/worker/: EngineClient) or pass threads: 1.',
      );
    }
    if (typeof Worker === 'undefined') throw new Error(`This runtime has no Web Workers, so the wasm backend cannot use ${threads} threads; pass threads: 1.`);
    const url = URL.createObjectURL(new Blob([WEB_WORKER_SOURCE], { type: 'text/javascript' }));
    const workers: Worker[] = [];
    try {
      const ready: Promise<void>[] = [];
      for (let tid = 1; tid < threads; tid++) {
        const w = new Worker(url);
        workers.push(w);
        ready.push(
          new Promise((resolve, reject) => {
            w.onmessage = () => resolve();
            w.onerror = (e) => reject(new Error(`wasm pool worker ${tid} failed to start: ${e.message}`));
          }),
        );
        w.postMessage({ module, memory, ctrl, tid, threads });
      }
      await Promise.all(ready);
    } catch (e) {
      for (const w of workers) w.terminate();
      throw e;
    } finally {
      URL.revokeObjectURL(url);
    }
    return new WebThreadPool(threads, memory, ctrl, workers);
  }

  /** Stops the workers; the pool cannot be used afterwards. */
  async close(): Promise<void> {
    this.post(JOB_EXIT, []);
    for (const w of this.workers) w.terminate();
  }
}
