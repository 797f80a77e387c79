// A TensorBoard event file on Node's file system, for `resnorm train --tensorboard DIR` (live) and
// `resnorm export-tensorboard` (from a run's logs). Each call appends whole TFRecords with one write,
// so TensorBoard, which tails the file, sees each record as soon as it is written, and a killed
// trainer leaves at most a torn last record, which TensorBoard's reader stops at.

import { closeSync, fsyncSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fsErrorCode } from '../io/run-fs.ts';
import { describeFsError } from '../io/run-store.ts';
import { encodeEvent, FILE_VERSION, type TbEvent } from '../io/tensorboard/event.ts';
import { diagnosticsSummary, metricsSummary, type RunSummary } from '../io/tensorboard/run-summaries.ts';
import { tfRecords } from '../io/tensorboard/tfrecord.ts';
import { UserError } from './errors.ts';

export interface TensorBoardWriterOptions {
  /** Unix seconds at which the records' `wallTime` is 0, i.e. when this process started training; default now. */
  startTime?: number;
}

/** The n of TensorBoard's file names: a per-process counter, so that two writers never share a file. */
let fileCounter = 0;

/** events.out.tfevents.<unix seconds>.<hostname>.<pid>.<n>, as TensorBoard's (and PyTorch's) writers name them. */
export function eventFileName(unixSeconds: number, n: number): string {
  return `events.out.tfevents.${Math.floor(unixSeconds)}.${hostname()}.${process.pid}.${n}`;
}

export function isEventFileName(name: string): boolean {
  return name.startsWith('events.out.tfevents.');
}

function syncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (e) {
    // Windows cannot open a directory to fsync it; its new files are durable without it.
    if (fsErrorCode(e) !== 'EISDIR' && fsErrorCode(e) !== 'EPERM') throw e;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

export class TensorBoardWriter {
  private fd: number | null;

  private constructor(
    readonly path: string,
    fd: number,
    private readonly startTime: number,
  ) {
    this.fd = fd;
  }

  /**
   * Creates `dir` (and its parents) and a new event file in it, starting with the file_version
   * event TensorBoard identifies the file by. A directory that already holds event files is fine:
   * TensorBoard reads every file of a directory as one run, in file-name order.
   */
  static open(dir: string, o: TensorBoardWriterOptions = {}): TensorBoardWriter {
    const startTime = o.startTime ?? Date.now() / 1000;
    const fail = (e: unknown): never => {
      if (fsErrorCode(e) === undefined) throw e;
      throw new UserError(`could not create a TensorBoard event file in ${dir}: ${describeFsError(e)}; pass a directory you can write to`);
    };
    const notADir = () => new UserError(`${dir} (or a folder above it) is a file, not a directory; pass a directory for the TensorBoard event files`);
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch (e) {
      if (fsErrorCode(e) === 'ENOTDIR') throw notADir();
      if (fsErrorCode(e) !== 'ENOENT') fail(e);
    }
    if (!isDir) {
      try {
        mkdirSync(dir, { recursive: true });
      } catch (e) {
        if (fsErrorCode(e) === 'EEXIST' || fsErrorCode(e) === 'ENOTDIR') throw notADir();
        fail(e);
      }
    }
    for (;;) {
      const path = join(dir, eventFileName(Date.now() / 1000, fileCounter++));
      let fd: number;
      try {
        fd = openSync(path, 'wx'); // exclusive: never append to another writer's file
      } catch (e) {
        if (fsErrorCode(e) === 'EEXIST') continue;
        return fail(e);
      }
      const w = new TensorBoardWriter(path, fd, startTime);
      w.events([{ wallTime: startTime, step: 0, fileVersion: FILE_VERSION }]);
      w.flush();
      syncDir(dir); // the new file's name, too, survives a power loss
      return w;
    }
  }

  /**
   * A metrics.jsonl record, as the trainer logs it. An evaluation record is written when a
   * checkpoint is committed, so the file is synced then: a resume restarts from that checkpoint.
   */
  metrics(record: Record<string, unknown>): void {
    this.summary(metricsSummary(record));
    if ('valLoss' in record) this.flush();
  }

  /** A diagnostics.jsonl record; kinds without summaries (probe, attention) write nothing. */
  diagnostics(record: Record<string, unknown>): void {
    this.summary(diagnosticsSummary(record));
  }

  private summary(s: RunSummary | null): void {
    if (!s) return;
    // A record without a wallTime (a spike) is written as it happens: now is its time.
    const wallTime = s.wallTime === null ? Date.now() / 1000 : this.startTime + s.wallTime;
    this.events([{ wallTime, step: s.step, summary: s.values }]);
  }

  /** Appends events, framed as TFRecords, with one write. */
  events(events: readonly TbEvent[]): void {
    if (events.length === 0) return;
    const bytes = tfRecords(events.map(encodeEvent));
    this.io(() => {
      let off = 0;
      while (off < bytes.length) off += writeSync(this.openFd(), bytes, off, bytes.length - off);
    });
  }

  /** fsync: what was written survives a power loss. */
  flush(): void {
    this.io(() => fsyncSync(this.openFd()));
  }

  /** Syncs and closes the file; idempotent. */
  close(): void {
    if (this.fd === null) return;
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
      this.fd = null;
    }
  }

  private openFd(): number {
    if (this.fd === null) throw new Error(`TensorBoard event file ${this.path} is closed`);
    return this.fd;
  }

  private io(action: () => void): void {
    try {
      action();
    } catch (e) {
      if (fsErrorCode(e) === undefined) throw e;
      throw new UserError(`could not write TensorBoard events to ${this.path}: ${describeFsError(e)}`);
    }
  }
}
