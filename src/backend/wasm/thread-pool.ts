// A pool of worker_threads that share the backend's WebAssembly.Memory and run their share of a kernel
// when the main thread posts one. Synchronised with Atomics on a control block inside that memory:
// the main thread writes the arguments, bumps a generation counter and wakes the workers, runs share 0
// itself, then waits until every worker has counted itself done. Node only (loaded by dynamic import);
// browsers forbid Atomics.wait on the main thread, so there the engine will have to run in a worker.
import type { Worker as NodeWorker } from 'node:worker_threads';

/** Control block layout (int32 slots). */
export const CTRL = { generation: 0, kind: 1, done: 2, args: 3 } as const;
export const CTRL_BYTES = 128;
export const JOB_MATMUL = 0;
const JOB_EXIT = -1;

// The worker's whole program, evaluated as CommonJS so no file has to be found or transpiled.
// args: a, b, c, batch, m, n, k, transA, transB, strideA, strideB, accumulate, scratch0, scratchStride, threads
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { module, memory, ctrl, tid } = workerData;
const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ctl = new Int32Array(memory.buffer, ctrl, ${CTRL_BYTES / 4});
parentPort.postMessage('ready');
let gen = 0;
for (;;) {
  Atomics.wait(ctl, ${CTRL.generation}, gen);
  gen = Atomics.load(ctl, ${CTRL.generation});
  const kind = ctl[${CTRL.kind}];
  if (kind === ${JOB_EXIT}) break;
  if (kind === ${JOB_MATMUL}) {
    const a = ${CTRL.args};
    ex.matmulPart(ctl[a], ctl[a + 1], ctl[a + 2], ctl[a + 3], ctl[a + 4], ctl[a + 5], ctl[a + 6], ctl[a + 7], ctl[a + 8],
      ctl[a + 9], ctl[a + 10], ctl[a + 11], (ctl[a + 12] >>> 0) + tid * ctl[a + 13], tid, ctl[a + 14]);
  }
  Atomics.add(ctl, ${CTRL.done}, 1);
  Atomics.notify(ctl, ${CTRL.done});
}
`;

export class ThreadPool {
  private readonly ctl: Int32Array;

  private constructor(
    readonly threads: number,
    memory: WebAssembly.Memory,
    ctrl: number,
    private readonly workers: NodeWorker[],
  ) {
    this.ctl = new Int32Array(memory.buffer, ctrl, CTRL_BYTES / 4);
  }

  /** Starts threads − 1 workers (the calling thread is the last share) and waits until each is ready. */
  static async start(threads: number, module: WebAssembly.Module, memory: WebAssembly.Memory, ctrl: number): Promise<ThreadPool> {
    const { Worker } = await import('node:worker_threads');
    const workers: NodeWorker[] = [];
    const ready: Promise<void>[] = [];
    for (let tid = 1; tid < threads; tid++) {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, ctrl, tid } });
      ready.push(
        new Promise((resolve, reject) => {
          w.once('message', () => resolve());
          w.once('error', reject);
        }),
      );
      workers.push(w);
    }
    await Promise.all(ready);
    for (const w of workers) w.unref(); // an idle pool must not keep the process alive
    return new ThreadPool(threads, memory, ctrl, workers);
  }

  /** Posts a job to the workers; returns at once (the caller runs share 0, then calls join). */
  post(kind: number, args: readonly number[]): void {
    const c = this.ctl;
    c[CTRL.kind] = kind;
    for (let i = 0; i < args.length; i++) c[CTRL.args + i] = args[i];
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
      // Spin briefly (most shares finish within microseconds of ours), then sleep on the counter.
      if (spins++ < 2000) continue;
      Atomics.wait(c, CTRL.done, d, 50);
    }
  }

  /** Stops the workers; the pool cannot be used afterwards. */
  async close(): Promise<void> {
    this.post(JOB_EXIT, []);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
