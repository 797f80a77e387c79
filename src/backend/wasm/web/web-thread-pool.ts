// The browser twin of ../thread-pool.ts: Web Workers (from a blob URL) instead of worker_threads, running
// the very same worker program on the same control block, JOBS and Atomics protocol. join() blocks in
// Atomics.wait, which browsers forbid on the main thread: the backend itself must live in a worker.
import { ARGS_OFFSET, CTRL, JOB_EXIT, JOBS, MAX_ARGS, WORKER_SOURCE, type JobName, type ThreadPool } from '../thread-pool.ts';

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

export class WebThreadPool implements Pick<ThreadPool, 'threads' | 'post' | 'join' | 'close'> {
  private readonly ctl: Int32Array;
  private readonly args: Float64Array;

  private constructor(
    readonly threads: number,
    memory: WebAssembly.Memory,
    ctrl: number,
    private readonly workers: Worker[],
  ) {
    this.ctl = new Int32Array(memory.buffer, ctrl, ARGS_OFFSET / 4);
    this.args = new Float64Array(memory.buffer, ctrl + ARGS_OFFSET, MAX_ARGS);
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

  /** Posts a job to the workers; returns at once (the caller runs share 0, then calls join). */
  post(job: JobName | typeof JOB_EXIT, args: readonly number[]): void {
    if (args.length > MAX_ARGS) throw new Error(`A pool job takes at most ${MAX_ARGS} arguments, got ${args.length}.`);
    const c = this.ctl;
    c[CTRL.job] = job === JOB_EXIT ? JOB_EXIT : JOBS.indexOf(job);
    c[CTRL.nargs] = args.length;
    this.args.set(args);
    Atomics.store(c, CTRL.done, 0);
    Atomics.add(c, CTRL.generation, 1);
    Atomics.notify(c, CTRL.generation);
  }

  /** Blocks until every worker has finished the posted job. */
  join(): void {
    const c = this.ctl;
    const want = this.threads - 1;
    let spins = 0;
    for (;;) {
      const d = Atomics.load(c, CTRL.done);
      if (d >= want) return;
      if (spins++ < 2000) continue; // most shares finish within microseconds of ours
      Atomics.wait(c, CTRL.done, d, 50);
    }
  }

  /** Stops the workers; the pool cannot be used afterwards. */
  async close(): Promise<void> {
    this.post(JOB_EXIT, []);
    for (const w of this.workers) w.terminate();
  }
}
