// Following a run's JSON-lines logs by byte offset: what a log looks like now (its inode and size, one
// lstat), and its complete lines from an offset on, read in bounded pieces so that neither a 100 MB log
// nor a runaway line holds the event loop or the memory of a server that shares its process with training.

import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { openInRun, type LogFile } from './runs-scan.ts';

/** A log as the last poll saw it; { ino: 0, size: 0 } when it does not exist (yet). */
export interface FileStamp {
  ino: number;
  size: number;
}

export const ABSENT: FileStamp = { ino: 0, size: 0 };

/** One read's bytes: enough lines for several events, little enough to read in a few milliseconds. */
export const READ_BYTES = 1 << 20;
/** A line longer than this is skipped (and said so): no record we write comes near it. */
export const MAX_LINE_BYTES = 16 << 20;

/**
 * One lstat per log per poll: that is the whole cost of watching an idle run. A log that is a symlink is
 * followed only to a regular file inside the run (openInRun's rule).
 */
export async function stampOf(runReal: string, file: LogFile): Promise<FileStamp> {
  try {
    const s = await fsp.lstat(join(runReal, file));
    if (s.isFile()) return { ino: s.ino, size: s.size };
    if (!s.isSymbolicLink()) return ABSENT;
  } catch {
    return ABSENT;
  }
  const fh = await openInRun(runReal, file);
  if (!fh) return ABSENT;
  try {
    const s = await fh.stat();
    return { ino: s.ino, size: s.size };
  } finally {
    await fh.close();
  }
}

export interface LineChunk {
  /** Complete lines (without their newline; blank lines dropped), in order. */
  lines: string[];
  /** The byte offset of each line's first byte. */
  offsets: number[];
  /** Where the next read starts: just past the last newline consumed. */
  next: number;
  /** Bytes of lines longer than MAX_LINE_BYTES passed over. */
  skipped: number;
}

/**
 * The complete lines in [offset, end) of a log, at most about READ_BYTES of them; a last line without
 * its newline is left for a later read (a trainer writes each record with one write, so it is complete
 * soon, or it is a crash's torn line that the next resume removes).
 */
export async function readLines(runReal: string, file: LogFile, offset: number, end: number): Promise<LineChunk> {
  const out: LineChunk = { lines: [], offsets: [], next: offset, skipped: 0 };
  const fh = await openInRun(runReal, file);
  if (!fh) return out;
  try {
    let want = READ_BYTES;
    for (;;) {
      const len = Math.min(want, end - out.next);
      if (len <= 0) return out;
      const buf = Buffer.allocUnsafe(len);
      const { bytesRead } = await fh.read(buf, 0, len, out.next);
      const bytes = buf.subarray(0, bytesRead);
      const last = bytes.lastIndexOf(0x0a);
      if (last >= 0) {
        let start = 0;
        while (start <= last) {
          const nl = bytes.indexOf(0x0a, start);
          const line = bytes.toString('utf8', start, nl);
          if (line.trim() !== '') {
            out.lines.push(line);
            out.offsets.push(out.next + start);
          }
          start = nl + 1;
        }
        out.next += last + 1;
        return out;
      }
      if (bytesRead < len || out.next + bytesRead >= end) return out; // an incomplete last line: wait for it
      if (want < MAX_LINE_BYTES) {
        want *= 4; // one long line (a big attention map): read it whole
        continue;
      }
      // A line over MAX_LINE_BYTES: pass over it, a piece at a time, to its newline.
      let pos = out.next + bytesRead;
      for (;;) {
        const n = Math.min(READ_BYTES, end - pos);
        if (n <= 0) return out; // its end is not written yet: look again later, from its start
        const { bytesRead: got } = await fh.read(buf, 0, n, pos);
        if (got === 0) return out;
        const nl = buf.subarray(0, got).indexOf(0x0a);
        if (nl >= 0) {
          out.skipped += pos + nl + 1 - out.next;
          out.next = pos + nl + 1;
          break;
        }
        pos += got;
      }
      want = READ_BYTES;
    }
  } finally {
    await fh.close();
  }
}
