// A RunFs that fails on purpose, the way SQLite's test VFS does: it numbers every mutating operation
// (write, append, fsync, rename, mkdir, remove) and can
//   - crash after operation k: k completes, then it and every later call throw SimulatedCrash;
//     with `powerLoss`, files written but not yet fsynced are torn too (cut to a random length), as a
//     power cut loses what was only in the page cache;
//   - fail from operation k on with an errno (ENOSPC, EACCES): writes from k on throw, the process lives.
// Directory entries are not rolled back on a power loss; only file contents are modelled.

import { statSync, truncateSync } from 'node:fs';
import type { RunFs } from '../../src/io/run-fs.ts';
import { Rng } from '../../src/tensor/rng.ts';

export class SimulatedCrash extends Error {
  override name = 'SimulatedCrash';
}

export interface FaultPlan {
  crashAfter?: number;
  powerLoss?: boolean;
  /** With failCode: operations of the failing kinds from this index on throw. */
  failFrom?: number;
  failCode?: 'ENOSPC' | 'EACCES';
  seed?: number;
}

type Op = 'write' | 'append' | 'syncFile' | 'syncDir' | 'rename' | 'mkdir' | 'remove';
/** A full disk refuses data; a lost permission refuses every change. */
const FAILS: Record<NonNullable<FaultPlan['failCode']>, readonly Op[]> = {
  ENOSPC: ['write', 'append'],
  EACCES: ['write', 'append', 'rename', 'mkdir', 'remove'],
};

export class FaultFs implements RunFs {
  /** Every mutating operation attempted so far, as 'kind path'. */
  readonly log: string[] = [];
  /** Those that took effect, in order (a failed one did not; the one a crash follows did). */
  readonly done: string[] = [];
  crashed = false;
  /** Files with data not yet fsynced: path → length they had when last synced (0 if never). */
  private readonly dirty = new Map<string, number>();
  private readonly rng: Rng;

  constructor(
    private readonly inner: RunFs,
    private readonly plan: FaultPlan = {},
  ) {
    this.rng = new Rng(plan.seed ?? 1);
  }

  private async op<T>(kind: Op, path: string, action: () => Promise<T>, partial?: () => Promise<void>): Promise<T> {
    if (this.crashed) throw new SimulatedCrash(`the process is gone (after operation ${this.plan.crashAfter})`);
    const i = this.log.length;
    this.log.push(`${kind} ${path}`);
    const { failFrom, failCode } = this.plan;
    if (failCode && failFrom !== undefined && i >= failFrom && FAILS[failCode].includes(kind)) {
      await partial?.(); // a full disk takes part of a write before refusing the rest
      throw Object.assign(new Error(`${failCode}: simulated failure, ${kind} '${path}'`), { code: failCode });
    }
    const result = await action();
    this.done.push(`${kind} ${path}`);
    if (i === this.plan.crashAfter) {
      this.crashed = true;
      if (this.plan.powerLoss) this.tearUnsynced();
      throw new SimulatedCrash(`simulated crash after operation ${i} (${kind} ${path})`);
    }
    return result;
  }

  private tearUnsynced(): void {
    for (const [path, synced] of this.dirty) {
      let size: number;
      try {
        size = statSync(path).size;
      } catch {
        continue;
      }
      if (size > synced) truncateSync(path, synced + Math.floor(this.rng.uniform() * (size - synced)));
    }
  }

  private sizeOf(path: string): number {
    try {
      return statSync(path).size;
    } catch {
      return 0;
    }
  }

  readFile(path: string): Promise<Uint8Array | null> {
    if (this.crashed) throw new SimulatedCrash('the process is gone');
    return this.inner.readFile(path);
  }

  list(path: string): Promise<string[] | null> {
    if (this.crashed) throw new SimulatedCrash('the process is gone');
    return this.inner.list(path);
  }

  kind(path: string): Promise<'file' | 'dir' | null> {
    if (this.crashed) throw new SimulatedCrash('the process is gone');
    return this.inner.kind(path);
  }

  writeFile(path: string, data: Uint8Array): Promise<void> {
    return this.op(
      'write',
      path,
      async () => {
        await this.inner.writeFile(path, data);
        this.dirty.set(path, 0);
      },
      () => this.inner.writeFile(path, data.subarray(0, data.length >> 1)),
    );
  }

  appendFile(path: string, data: Uint8Array): Promise<void> {
    return this.op(
      'append',
      path,
      async () => {
        if (!this.dirty.has(path)) this.dirty.set(path, this.sizeOf(path));
        await this.inner.appendFile(path, data);
      },
      () => this.inner.appendFile(path, data.subarray(0, data.length >> 1)),
    );
  }

  syncFile(path: string): Promise<void> {
    return this.op('syncFile', path, async () => {
      await this.inner.syncFile(path);
      this.dirty.delete(path);
    });
  }

  syncDir(path: string): Promise<void> {
    return this.op('syncDir', path, () => this.inner.syncDir(path));
  }

  rename(from: string, to: string): Promise<void> {
    return this.op('rename', `${from} -> ${to}`, async () => {
      await this.inner.rename(from, to);
      const d = this.dirty.get(from);
      this.dirty.delete(from);
      if (d !== undefined) this.dirty.set(to, d);
      else this.dirty.delete(to);
    });
  }

  mkdir(path: string): Promise<void> {
    return this.op('mkdir', path, () => this.inner.mkdir(path));
  }

  remove(path: string): Promise<void> {
    return this.op('remove', path, async () => {
      await this.inner.remove(path);
      for (const p of [...this.dirty.keys()]) if (p === path || p.startsWith(path + '/')) this.dirty.delete(p);
    });
  }
}
