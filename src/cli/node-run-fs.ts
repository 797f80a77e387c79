// RunFs on Node's file system: the run store's reads, writes, fsyncs and renames, one call each.

import { open, readdir, readFile, rename, mkdir, rm, stat, appendFile } from 'node:fs/promises';
import type { RunFs } from '../io/run-fs.ts';
import { fsErrorCode } from '../io/run-fs.ts';

async function sync(path: string, flags: 'r' | 'r+'): Promise<void> {
  const fh = await open(path, flags);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export const nodeRunFs: RunFs = {
  async readFile(path) {
    try {
      return new Uint8Array(await readFile(path));
    } catch (e) {
      if (fsErrorCode(e) === 'ENOENT') return null;
      throw e;
    }
  },
  async writeFile(path, data) {
    const fh = await open(path, 'w');
    try {
      let off = 0;
      while (off < data.length) off += (await fh.write(data, off, data.length - off)).bytesWritten;
    } finally {
      await fh.close();
    }
  },
  async appendFile(path, data) {
    await appendFile(path, data);
  },
  syncFile: (path) => sync(path, 'r+'),
  async syncDir(path) {
    try {
      await sync(path, 'r');
    } catch (e) {
      // Windows cannot open a directory to fsync it; its renames are durable without it.
      if (fsErrorCode(e) !== 'EISDIR' && fsErrorCode(e) !== 'EPERM') throw e;
    }
  },
  rename: (from, to) => rename(from, to),
  async mkdir(path) {
    await mkdir(path, { recursive: true });
  },
  remove: (path) => rm(path, { recursive: true, force: true }),
  async list(path) {
    try {
      return await readdir(path);
    } catch (e) {
      if (fsErrorCode(e) === 'ENOENT') return null;
      throw e;
    }
  },
  async kind(path) {
    try {
      return (await stat(path)).isDirectory() ? 'dir' : 'file';
    } catch (e) {
      if (fsErrorCode(e) === 'ENOENT') return null;
      throw e;
    }
  },
};
