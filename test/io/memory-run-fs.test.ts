// The in-memory RunFs: the run store writes a whole run into it (create, commit, prune, the atomic
// index rename) and reads it back; the same store reads a real run directory copied into a read-only
// one, as the demo page does with the files a user picks; and findRunDirs finds the runs among paths.

import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeRunFs } from '../../src/cli/node-run-fs.ts';
import { findRunDirs, MemoryRunFs, normalizePath } from '../../src/io/memory-run-fs.ts';
import { fsErrorCode } from '../../src/io/run-fs.ts';
import { RunStore } from '../../src/io/run-store.ts';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null) => (b ? new TextDecoder().decode(b) : null);
const tmp = mkdtempSync(join(tmpdir(), 'resnorm-memfs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return fsErrorCode(e);
  }
  return 'no error';
}

/** Every file under `dir`, as the picked files of an <input webkitdirectory> (paths relative to its parent). */
function pick(dir: string): [string, Uint8Array][] {
  const out: [string, Uint8Array][] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push([relative(join(dir, '..'), p), new Uint8Array(readFileSync(p))]);
    }
  };
  walk(dir);
  return out;
}

describe('MemoryRunFs', () => {
  it('behaves as the RunFs contract says: nulls for missing things, implicit parents, renames, trees removed', async () => {
    const fs = new MemoryRunFs();
    expect(await fs.readFile('a/b')).toBeNull();
    expect(await fs.list('a')).toBeNull();
    expect(await fs.kind('a')).toBeNull();
    expect(await code(fs.writeFile('a/b', bytes('x')))).toBe('ENOENT'); // no parent yet, as on a disk
    await fs.mkdir('a/c');
    await fs.mkdir('a/c'); // an existing directory is fine
    await fs.writeFile('a/b', bytes('x'));
    await fs.appendFile('a/b', bytes('yz'));
    await fs.appendFile('a/c/log', bytes('1'));
    expect(text(await fs.readFile('./a//b'))).toBe('xyz');
    expect(await fs.list('a')).toEqual(['b', 'c']);
    expect(await fs.list('.')).toEqual(['a']);
    expect([await fs.kind('a'), await fs.kind('a/b'), await fs.kind('.')]).toEqual(['dir', 'file', 'dir']);
    await fs.syncFile('a/b');
    await fs.syncDir('a/c');
    expect(await code(fs.syncFile('a/nope'))).toBe('ENOENT');
    await fs.rename('a/b', 'a/c/b');
    expect(await fs.readFile('a/b')).toBeNull();
    expect(text(await fs.readFile('a/c/b'))).toBe('xyz');
    expect(await code(fs.rename('a/b', 'a/d'))).toBe('ENOENT');
    expect(await code(fs.writeFile('a/c', bytes('')))).toBe('EISDIR');
    expect(await code(fs.mkdir('a/c/b/d'))).toBe('EEXIST');
    await fs.remove('a/c');
    await fs.remove('a/c'); // a missing one is fine
    expect(await fs.list('a')).toEqual([]);
    expect(fs.entries()).toEqual([]);
    expect(() => normalizePath('a/../../etc')).toThrow(/climbs out/);
  });

  it('keeps a copy of what is written, so a reused buffer does not change a file', async () => {
    const fs = new MemoryRunFs();
    const buf = bytes('abc');
    await fs.writeFile('f', buf);
    buf[0] = 0x7a;
    expect(text(await fs.readFile('f'))).toBe('abc');
  });

  it('holds a whole run written by the run store: committed, pruned, listed, reread', async () => {
    const fs = new MemoryRunFs();
    const store = await RunStore.create(fs, 'runs/x', 'gpt');
    for (const step of [1, 2, 3]) await store.commit({ 'model.safetensors': bytes(`weights ${step}`), 'state.json': `{"step": ${step}}` }, { step, valLoss: 4 - step }, { last: 2, best: false });
    expect(fs.directories()).toEqual(['runs', 'runs/x', 'runs/x/checkpoints', 'runs/x/checkpoints/step-00000002', 'runs/x/checkpoints/step-00000003']);
    expect(fs.entries().map(([p]) => p)).toEqual([
      'runs/x/checkpoints/index.json',
      'runs/x/checkpoints/step-00000002/model.safetensors',
      'runs/x/checkpoints/step-00000002/state.json',
      'runs/x/checkpoints/step-00000003/model.safetensors',
      'runs/x/checkpoints/step-00000003/state.json',
      'runs/x/run.json',
    ]);
    const again = await RunStore.open(fs, 'runs/x');
    expect((await again.checkpoints()).map((e) => e.step)).toEqual([2, 3]);
    const { entry, files } = await again.load('latest', ['model.safetensors']);
    expect([entry.step, text(files.get('model.safetensors')!)]).toEqual([3, 'weights 3']);
  });

  it('read-only: the run store reads a picked run directory and can write nothing there', async () => {
    const dir = join(tmp, 'picked');
    const disk = await RunStore.create(nodeRunFs, dir, 'gpt');
    await disk.commit({ 'state.json': '{"step": 7}' }, { step: 7, valLoss: null }, { last: 3, best: false });
    const fs = new MemoryRunFs(pick(dir), { readOnly: true });
    expect(findRunDirs(fs.entries().map(([p]) => p))).toEqual(['picked']);
    const store = await RunStore.open(fs, 'picked');
    expect((await store.load('latest', ['state.json'])).entry.step).toBe(7);
    expect(await code(fs.writeFile('picked/x', bytes('')))).toBe('EROFS');
    expect(await code(fs.appendFile('picked/metrics.jsonl', bytes('')))).toBe('EROFS');
    expect(await code(fs.remove('picked/run.json'))).toBe('EROFS');
    expect(await code(fs.rename('picked/run.json', 'picked/y'))).toBe('EROFS');
    expect(await code(fs.mkdir('picked/new'))).toBe('EROFS');
    expect(await code(store.collectGarbage())).toBe('no error'); // nothing to remove, so nothing written
  });
});

describe('findRunDirs', () => {
  it('finds each run once, by its manifest, its index or (format 1) its loose state.json', () => {
    expect(findRunDirs(['run.json', 'checkpoints/index.json', 'checkpoints/step-00000005/state.json'])).toEqual(['.']);
    expect(findRunDirs(['runs/a/run.json', 'runs/a/checkpoints/step-00000001/state.json', 'runs/b/checkpoints/index.json', 'runs/old/state.json', 'runs/notes.txt'])).toEqual([
      'runs/a',
      'runs/b',
      'runs/old',
    ]);
    expect(findRunDirs(['x/model.safetensors', 'x/config.json'])).toEqual([]);
    expect(findRunDirs(['../evil/run.json'])).toEqual([]);
  });
});
