// A pool of worker_threads that share the backend's WebAssembly.Memory and run their share of a kernel
// when the main thread posts one. Synchronised with Atomics on a control block inside that memory:
// the main thread writes the arguments, bumps a generation counter and wakes the workers, runs share 0
// itself, then waits until every worker has counted itself done. Node only (loaded by dynamic import);
// browsers forbid Atomics.wait on the main thread, so there the engine will have to run in a worker.
import type { Worker as NodeWorker } from 'node:worker_threads';

/**
 * The kernels a pool runs, by job number (the index here, which workers look up in this same list): each
 * takes its arguments, then (tid, threads). Checked at load against the binary's *Part exports (kernel-tables.ts).
 */
export const JOBS = [
  'matmulPart', 'attentionForwardPart', 'attentionBackwardPart', 'unaryPart', 'unaryBackwardPart', 'attentionInferencePart',
  'affinePart', 'axpyPart', 'adamwPart', 'binaryPart', 'layerNormForwardPart', 'rmsNormForwardPart', 'layerNormBackwardRowsPart',
  'layerNormBackwardChannelsPart', 'softmaxForwardPart', 'logSoftmaxForwardPart', 'softmaxBackwardPart', 'logSoftmaxBackwardPart',
  'rmsNormBackwardRowsPart', 'rmsNormBackwardChannelsPart', 'embeddingBackwardPart', 'crossEntropyRowsPart', 'crossEntropyBackwardPart',
  'columnSumsPart', 'stridedCopyPart', 'conv2dForwardPart', 'conv2dBackwardDataPart', 'conv2dBackwardFilterPart', 'maxPool2dForwardPart',
  'maxPool2dBackwardPart', 'avgPool2dForwardPart', 'avgPool2dBackwardPart',
  'attentionKeysForwardPart', 'attentionKeysBackwardPart', 'batchNormForwardPart', 'batchNormBackwardPart',
] as const;
export type JobName = (typeof JOBS)[number];

/**
 * Control block: int32 slots generation, job, done, argument count, failed (the tid of a worker whose
 * share threw, 0 = none); float64 arguments from byte 32.
 */
export const CTRL = { generation: 0, job: 1, done: 2, nargs: 3, failed: 4 } as const;
export const ARGS_OFFSET = 32;
export const MAX_ARGS = 32; // attentionBackwardPart takes 25 (every job's count is checked at load)
export const CTRL_BYTES = ARGS_OFFSET + 8 * MAX_ARGS;
export const JOB_EXIT = -1;
/**
 * Polls of the control block before a thread sleeps in Atomics.wait (tens of microseconds). A training
 * step posts hundreds of jobs a few microseconds apart; a worker that slept between them would pay a
 * futex wake-up (and, in a VM, a virtual CPU's wake-up) on each one.
 */
const SPIN = 20000;

// The worker's whole program, evaluated as CommonJS so no file has to be found or transpiled.
export const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { module, memory, ctrl, tid, threads } = workerData;
const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
const jobs = ${JSON.stringify(JOBS)}.map((name) => ex[name]);
const ctl = new Int32Array(memory.buffer, ctrl, ${ARGS_OFFSET / 4});
const args = new Float64Array(memory.buffer, ctrl + ${ARGS_OFFSET}, ${MAX_ARGS});
parentPort.postMessage('ready');
let gen = 0;
// One argument array per argument count, reused: a job allocates nothing.
const argLists = [];
for (;;) {
  for (let spin = 0; spin < ${SPIN} && Atomics.load(ctl, ${CTRL.generation}) === gen; spin++);
  Atomics.wait(ctl, ${CTRL.generation}, gen);
  gen = Atomics.load(ctl, ${CTRL.generation});
  const job = ctl[${CTRL.job}];
  if (job === ${JOB_EXIT}) break;
  const n = ctl[${CTRL.nargs}];
  const a = (argLists[n] ??= new Array(n + 2).fill(0));
  for (let i = 0; i < n; i++) a[i] = args[i];
  a[n] = tid;
  a[n + 1] = threads;
  try {
    jobs[job].apply(null, a);
  } catch {
    // A trap (an access out of bounds): counted done all the same, so the caller's join returns and throws.
    Atomics.compareExchange(ctl, ${CTRL.failed}, 0, tid);
  }
  Atomics.add(ctl, ${CTRL.done}, 1);
  Atomics.notify(ctl, ${CTRL.done});
}
`;

/** What the backend needs of a pool, whichever kind of workers it runs (Node or Web). */
export interface KernelPool {
  readonly threads: number;
  post(job: JobName, args: readonly number[]): void;
  join(): void;
  close(): Promise<void>;
}

/**
 * The control-block protocol both pools share: the caller posts a job (arguments, then a bumped
 * generation counter) and joins on the done counter. Only how workers start and stop differs.
 */
export abstract class PoolControl implements KernelPool {
  private readonly ctl: Int32Array;
  private readonly args: Float64Array;
  private posted = '';

  protected constructor(
    readonly threads: number,
    memory: WebAssembly.Memory,
    ctrl: number,
  ) {
    this.ctl = new Int32Array(memory.buffer, ctrl, ARGS_OFFSET / 4);
    this.args = new Float64Array(memory.buffer, ctrl + ARGS_OFFSET, MAX_ARGS);
  }

  /** Posts a job to the workers; returns at once (the caller runs share 0, then calls join). */
  post(job: JobName | typeof JOB_EXIT, args: readonly number[]): void {
    if (args.length > MAX_ARGS) throw new Error(`A pool job takes at most ${MAX_ARGS} arguments, got ${args.length}.`);
    const c = this.ctl;
    c[CTRL.job] = job === JOB_EXIT ? JOB_EXIT : JOBS.indexOf(job);
    c[CTRL.nargs] = args.length;
    this.args.set(args);
    this.posted = String(job);
    Atomics.store(c, CTRL.failed, 0);
    Atomics.store(c, CTRL.done, 0);
    Atomics.add(c, CTRL.generation, 1);
    Atomics.notify(c, CTRL.generation);
  }

  /**
   * Blocks until every worker has finished the posted job; throws if a worker's share threw (a worker
   * that died instead would leave this waiting for ever, every thread asleep in a futex).
   */
  join(): void {
    const c = this.ctl;
    const want = this.threads - 1;
    let spins = 0;
    for (;;) {
      const d = Atomics.load(c, CTRL.done);
      if (d >= want) {
        const tid = Atomics.exchange(c, CTRL.failed, 0);
        if (tid !== 0) {
          throw new Error(`Worker thread ${tid} of the wasm pool failed running ${this.posted}: its kernel trapped ` +
            '(such as a memory access out of bounds), so the output is incomplete.');
        }
        return;
      }
      // Spin briefly (most shares finish within microseconds of ours), then sleep on the counter.
      if (spins++ < SPIN) continue;
      Atomics.wait(c, CTRL.done, d, 50);
    }
  }

  abstract close(): Promise<void>;
}

export class ThreadPool extends PoolControl {
  private constructor(
    threads: number,
    memory: WebAssembly.Memory,
    ctrl: number,
    private readonly workers: NodeWorker[],
  ) {
    super(threads, memory, ctrl);
  }

  /** Starts threads − 1 workers (the calling thread is the last share) and waits until each is ready. */
  static async start(threads: number, module: WebAssembly.Module, memory: WebAssembly.Memory, ctrl: number): Promise<ThreadPool> {
    const { Worker } = await import('node:worker_threads');
    const workers: NodeWorker[] = [];
    const ready: Promise<void>[] = [];
    for (let tid = 1; tid < threads; tid++) {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, ctrl, tid, threads } });
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

  /** Stops the workers; the pool cannot be used afterwards. */
  async close(): Promise<void> {
    this.post(JOB_EXIT, []);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
