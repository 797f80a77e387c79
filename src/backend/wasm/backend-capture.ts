// How the wasm backend launches kernels (on this thread, or split over its worker pool) and captures
// those launches: beginCapture … endCapture records them into a kernel program that replays them.
import type { CaptureResult, LaunchLabel, ProgramProfileLine } from '../backend.ts';
import { WasmMemory } from './backend-memory.ts';
import { profileLaunches, Recorder, replayLaunches, WasmKernelProgram, type KernelFn, type Launch } from './kernel-program.ts';
import type { JobName, KernelPool } from './thread-pool.ts';

export abstract class WasmCapture extends WasmMemory {
  private pool: KernelPool | null = null;

  /** Hands the backend its worker pool (index.ts starts it: that is async and Node-only). */
  attachPool(pool: KernelPool): void {
    if (pool.threads !== this.threads) throw new Error(`A pool of ${pool.threads} threads cannot serve a backend made for ${this.threads}.`);
    this.pool = pool;
  }

  /** Stops the worker threads, if any; the backend then runs on the calling thread only. */
  async dispose(): Promise<void> {
    const p = this.pool;
    this.pool = null;
    await p?.close();
  }

  /**
   * Runs a `*Part` kernel on every thread (share 0 here) when the pool exists and the work is big
   * enough, else once on this thread as the single share.
   */
  protected parallel(job: JobName, args: number[], work: number, minWork: number): void {
    const pool = this.pool;
    const fn = this.k[job] as (...a: number[]) => void;
    if (!pool || work < minWork) {
      this.rec?.record({ kind: 'call', fn, args: [...args, 0, 1] });
      fn(...args, 0, 1);
      return;
    }
    this.rec?.record({ kind: 'job', job, fn, args, local: [...args, 0, this.threads] });
    pool.post(job, args);
    try {
      fn(...args, 0, this.threads);
    } finally {
      pool.join(); // even when share 0 threw: no worker may still be running when the next job is posted
    }
  }

  /** Writes i32 values at the start of scratch (shape metadata); returns the pointer. */
  protected writeMeta(lists: readonly (readonly number[])[], extraBytes: number): number {
    const n = lists.reduce((s, l) => s + l.length, 0);
    const p = this.ensureScratch(4 * n + extraBytes + 64);
    let o = p >>> 2;
    for (const l of lists) for (const v of l) this.i32[o++] = v;
    this.rec?.record({ kind: 'write32', at: p >>> 2, values: this.i32.slice(p >>> 2, o) });
    return p;
  }

  /** Runs a validation kernel (−1 = fine) and reports what it found; a replay re-checks the same way. */
  protected check(fn: (...a: number[]) => number, args: number[], report: (bad: number) => void): void {
    this.rec?.record({ kind: 'check', fn: fn as KernelFn, args, report });
    report(fn(...args));
  }

  // ---- Backend: step capture ------------------------------------------------------------------
  beginCapture(): void {
    if (this.rec) throw new Error('beginCapture: a capture is already open on this backend; end it first.');
    this.rec = new Recorder();
    // Launches will point into the current kernel scratch: pinned with the rest, so a later, larger
    // scratch does not hand this block to someone else while the program lives.
    this.rec.blocks.set(this.scratchPtr, this.scratchBytes);
  }

  endCapture(): CaptureResult {
    const rec = this.rec;
    if (!rec) throw new Error('endCapture: no capture is open on this backend; call beginCapture first.');
    this.rec = null;
    if (rec.unreplayable !== null) return { program: null, reason: rec.unreplayable };
    // Every block the capture touched becomes the program's: out of the free lists, never released while pinned.
    this.pin(rec.blocks);
    const host = {
      replay: (l: readonly Launch[]) => this.replay(l),
      profile: (l: readonly Launch[], labels: readonly (LaunchLabel | null)[]) => this.profileReplay(l, labels),
      unpin: (b: ReadonlyMap<number, number>) => this.unpin(b),
    };
    return { program: new WasmKernelProgram(host, rec.launches, rec.blocks, rec.labels), reason: null };
  }

  labelLaunches(label: LaunchLabel | null): void {
    if (this.rec) this.rec.label = label;
  }

  private profileReplay(launches: readonly Launch[], labels: readonly (LaunchLabel | null)[]): ProgramProfileLine[] {
    if (this.rec) throw new Error('A kernel program cannot run while a capture is open.');
    this.refreshViews();
    return profileLaunches(launches, labels, { i32: this.i32, f32: this.f32, u8: this.u8 }, this.pool);
  }

  /** Re-issues captured launches over the current views of memory (it may have grown since). */
  private replay(launches: readonly Launch[]): void {
    if (this.rec) throw new Error('A kernel program cannot run while a capture is open.');
    this.refreshViews();
    replayLaunches(launches, { i32: this.i32, f32: this.f32, u8: this.u8 }, this.pool);
  }
}
