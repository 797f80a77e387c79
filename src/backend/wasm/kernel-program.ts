// Step capture for the wasm backend: while a capture is open, every kernel launch, shape-metadata
// write and buffer copy the backend makes is also appended to a list; the list, replayed, redoes the
// same work without the JavaScript that issued it (tensor ops, autograd, arenas, handle checks), and
// without allocating anything, in JavaScript or in wasm memory. CUDA graphs do this for GPUs.
//
// What makes a replay valid: every launch's arguments are numbers (pointers and sizes) fixed at
// capture, so the blocks behind those pointers must still hold what the program expects. The backend
// pins every block allocated during the capture (no one else may get it until the program is
// disposed), and the caller writes the step's inputs into buffers allocated before the capture.
// A capture that saw something a replay cannot repeat (a value read back to JavaScript, a fresh
// random seed) yields no program, only the reason, and the caller stays eager.

import type { LaunchLabel, ProgramProfileLine } from '../backend.ts';
import type { JobName, KernelPool } from './thread-pool.ts';

/** A kernel export, called with plain numbers (wasm functions ignore `this`). */
export type KernelFn = (...args: number[]) => unknown;

export type Launch =
  /** A kernel run once on the calling thread. */
  | { readonly kind: 'call'; readonly fn: KernelFn; readonly args: number[] }
  /** A kernel split over the pool: workers get `args`, the calling thread runs `local` (args, tid 0, threads). */
  | { readonly kind: 'job'; readonly job: JobName; readonly fn: KernelFn; readonly args: number[]; readonly local: number[] }
  /** int32 values written at i32 index `at` (shape metadata in scratch, or host data written during capture). */
  | { readonly kind: 'write32'; readonly at: number; readonly values: Int32Array }
  /** float32 host data written at f32 index `at` during capture (constants: replayed as captured). */
  | { readonly kind: 'writeF32'; readonly at: number; readonly values: Float32Array }
  /** Bytes copied within the memory (a same-dtype cast). */
  | { readonly kind: 'copy'; readonly dst: number; readonly src: number; readonly bytes: number }
  /** n elements converted between int32 and float32 (indices in the destination's and source's element type). */
  | { readonly kind: 'convert'; readonly toFloat: boolean; readonly dst: number; readonly src: number; readonly n: number }
  /** A validation kernel (returns −1 when the data is fine); `report` throws the same error the eager call would. */
  | { readonly kind: 'check'; readonly fn: KernelFn; readonly args: number[]; readonly report: (bad: number) => void };

/** What a capture collects: the launches, the blocks it allocated, and why it cannot be replayed, if so. */
export class Recorder {
  readonly launches: Launch[] = [];
  /** Block pointer → bytes, for every block handed out while capturing. */
  readonly blocks = new Map<number, number>();
  /** Each launch's label (profiling: the call it came from), by index; null when none was set. */
  readonly labels: (LaunchLabel | null)[] = [];
  /** The first thing seen that a replay could not repeat; null while replayable. */
  unreplayable: string | null = null;
  /** The label launches get as they are recorded (CaptureKernels.labelLaunches). */
  label: LaunchLabel | null = null;

  record(l: Launch): void {
    this.launches.push(l);
    this.labels.push(this.label);
  }

  refuse(reason: string): void {
    this.unreplayable ??= reason;
  }
}

/** Views of the backend's memory, current as of the replay. */
export interface MemoryViews {
  i32: Int32Array;
  f32: Float32Array;
  u8: Uint8Array;
}

/** Re-issues launches in order: numbers into kernels, nothing allocated. */
export function replayLaunches(launches: readonly Launch[], mem: MemoryViews, pool: KernelPool | null): void {
  for (const l of launches) replayLaunch(l, mem, pool);
}

/**
 * replayLaunches with every launch timed, summed by label. A label's flops and bytes count once per
 * call, however many launches (metadata writes, the kernel) that call made.
 */
export function profileLaunches(launches: readonly Launch[], labels: readonly (LaunchLabel | null)[], mem: MemoryViews, pool: KernelPool | null): ProgramProfileLine[] {
  const lines = new Map<string, ProgramProfileLine>();
  let last: LaunchLabel | null = null;
  for (let i = 0; i < launches.length; i++) {
    const t0 = performance.now();
    replayLaunch(launches[i], mem, pool);
    const ms = performance.now() - t0;
    const label = labels[i] ?? null;
    const key = label?.key ?? '(unlabelled)';
    let line = lines.get(key);
    if (!line) lines.set(key, (line = { key, calls: 0, launches: 0, ms: 0, flops: 0, bytes: 0 }));
    line.launches++;
    line.ms += ms;
    if (label !== null && label !== last) {
      line.calls++;
      line.flops += label.flops;
      line.bytes += label.bytes;
    }
    last = label;
  }
  return [...lines.values()];
}

function replayLaunch(l: Launch, mem: MemoryViews, pool: KernelPool | null): void {
  switch (l.kind) {
    case 'call':
      l.fn.apply(null, l.args);
      break;
    case 'job':
      if (!pool) throw new Error('This kernel program was captured with worker threads, and the backend has none now.');
      pool.post(l.job, l.args);
      try {
        l.fn.apply(null, l.local);
      } finally {
        pool.join();
      }
      break;
    case 'write32':
      mem.i32.set(l.values, l.at);
      break;
    case 'writeF32':
      mem.f32.set(l.values, l.at);
      break;
    case 'copy':
      mem.u8.copyWithin(l.dst, l.src, l.src + l.bytes);
      break;
    case 'convert':
      for (let i = 0; i < l.n; i++) {
        if (l.toFloat) mem.f32[l.dst + i] = mem.i32[l.src + i];
        else mem.i32[l.dst + i] = mem.f32[l.src + i];
      }
      break;
    case 'check':
      l.report(l.fn.apply(null, l.args) as number);
      break;
  }
}

/** What the backend lends a program to run and release itself. */
export interface ProgramHost {
  replay(launches: readonly Launch[]): void;
  profile(launches: readonly Launch[], labels: readonly (LaunchLabel | null)[]): ProgramProfileLine[];
  unpin(blocks: ReadonlyMap<number, number>): void;
}

/** A replayable capture (the Backend interface's KernelProgram). */
export class WasmKernelProgram {
  private disposed = false;
  constructor(
    private readonly host: ProgramHost,
    private readonly list: readonly Launch[],
    private readonly blocks: ReadonlyMap<number, number>,
    private readonly labels: readonly (LaunchLabel | null)[],
  ) {}

  get launches(): number {
    return this.list.length;
  }

  run(): void {
    if (this.disposed) throw new Error('This kernel program was disposed; capture the step again.');
    this.host.replay(this.list);
  }

  profile(): ProgramProfileLine[] {
    if (this.disposed) throw new Error('This kernel program was disposed; capture the step again.');
    return this.host.profile(this.list, this.labels);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.host.unpin(this.blocks);
  }
}
