// The ustar writer, checked by the system's tar (GNU tar on Debian): it lists and extracts every file
// byte for byte, with directories, empty and block-sized files, a path past ustar's 100-byte name
// field, and UTF-8 names; the writer refuses what an archive must not hold.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { treeEntries, writeTar, type TarEntry } from '../../src/io/tar.ts';
import { Rng } from '../../src/tensor/rng.ts';

const haveTar = (() => {
  try {
    execFileSync('tar', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!haveTar) console.log('test/io/tar.test.ts skipped: no tar command (apt-get install tar)');

const tmp = mkdtempSync(join(tmpdir(), 'resnorm-tar-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function randomBytes(n: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(rng.uniform() * 256));
}

describe.skipIf(!haveTar)('writeTar', () => {
  const long = `run/${'d'.repeat(60)}/${'e'.repeat(70)}/model.safetensors`; // 153 bytes: prefix + name
  const files: Record<string, Uint8Array> = {
    'run/run.json': new TextEncoder().encode('{"format": "resnorm-run"}\n'),
    'run/empty.txt': new Uint8Array(0),
    'run/checkpoints/block.bin': randomBytes(512, 1),
    'run/checkpoints/odd.bin': randomBytes(1537, 2),
    'run/Ishmael — “Call me”.txt': new TextEncoder().encode('Call me Ishmael.'),
    [long]: randomBytes(100, 3),
  };
  const dirs = ['run', 'run/checkpoints', `run/${'d'.repeat(60)}`, `run/${'d'.repeat(60)}/${'e'.repeat(70)}`];
  const entries: TarEntry[] = [...dirs.map((path) => ({ path, directory: true as const })), ...Object.entries(files).map(([path, data]) => ({ path, data }))];

  it('makes an archive that tar lists and extracts byte for byte', () => {
    const tar = writeTar(entries, { mtime: new Date('2024-05-01T12:00:00Z') });
    expect(tar.length % 512).toBe(0);
    const file = join(tmp, 'a.tar');
    writeFileSync(file, tar);
    const listed = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n');
    expect(listed.sort()).toEqual([...dirs.map((d) => `${d}/`), ...Object.keys(files)].sort());
    const out = join(tmp, 'out');
    execFileSync('mkdir', ['-p', out]);
    // --warning=all: a header tar finds odd (bad checksum, unknown type) is reported on stderr.
    execFileSync('tar', ['-xf', file, '-C', out, '--warning=all'], { stdio: ['ignore', 'ignore', 'pipe'] });
    for (const [path, data] of Object.entries(files)) {
      expect(new Uint8Array(readFileSync(join(out, path)))).toEqual(data);
      expect(statSync(join(out, path)).mtime.toISOString()).toBe('2024-05-01T12:00:00.000Z');
    }
    for (const d of dirs) expect(statSync(join(out, d)).isDirectory()).toBe(true);
    const verbose = execFileSync('tar', ['-tvf', file], { encoding: 'utf8' });
    expect(verbose).toMatch(/^-rw-r--r-- .* run\/run\.json$/m);
    expect(verbose).toMatch(/^drwxr-xr-x .* run\/checkpoints\/$/m);
  });

  it('lists each parent directory once, before the files (treeEntries)', () => {
    const tree = treeEntries([
      { path: 'r/c/s/a', data: new Uint8Array(1) },
      { path: 'r/b', data: new Uint8Array(1) },
      { path: 'r/c/t', data: new Uint8Array(1) },
    ]);
    expect(tree.map((e) => ('directory' in e ? `${e.path}/` : e.path))).toEqual(['r/', 'r/c/', 'r/c/s/', 'r/c/s/a', 'r/b', 'r/c/t']);
  });

  it('ends with two zero blocks, and pads each file to whole blocks', () => {
    const tar = writeTar([{ path: 'a', data: new Uint8Array([1, 2, 3]) }]);
    expect(tar.length).toBe(512 + 512 + 1024);
    expect(tar.subarray(512, 515)).toEqual(new Uint8Array([1, 2, 3]));
    expect(tar.subarray(515).every((b) => b === 0)).toBe(true);
  });

  it('refuses absolute paths, .., and paths ustar cannot hold', () => {
    const one = (path: string) => () => writeTar([{ path, data: new Uint8Array(1) }]);
    expect(one('/etc/passwd')).toThrow(/relative paths inside the archive only/);
    expect(one('run/../../x')).toThrow(/relative paths/);
    expect(one('')).toThrow(/relative paths/);
    expect(one('x'.repeat(101))).toThrow(/too long for a ustar archive/);
    expect(one(`${'p'.repeat(156)}/name`)).toThrow(/too long/);
  });
});
