// The run store on its own: which checkpoints a save keeps, how a checkpoint is chosen, what the index
// and manifest readers refuse (the index names directories to read and delete), a reader racing a
// pruning trainer, and the repair of append-only logs.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeRunFs } from '../../src/cli/node-run-fs.ts';
import { appendJsonl, repairJsonl } from '../../src/io/jsonl-log.ts';
import type { RunFs } from '../../src/io/run-fs.ts';
import { checkpointsToKeep, parseIndex, parseManifest, RunStore, RunStoreError, type CheckpointEntry } from '../../src/io/run-store.ts';
import { Rng } from '../../src/tensor/rng.ts';

const root = mkdtempSync(join(tmpdir(), 'resnorm-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const newDir = () => join(root, `run-${n++}`);
const entry = (step: number, valLoss: number | null): CheckpointEntry => ({ step, dir: `checkpoints/step-${String(step).padStart(8, '0')}`, valLoss, savedAt: '' });
const bytes = (s: string) => new TextEncoder().encode(s);

describe('keeping checkpoints', () => {
  const all = [entry(0, null), entry(100, 2.1), entry(200, 1.9), entry(300, 2.0), entry(400, null)];
  it('keeps the last N by step, and the best by validation loss when asked', () => {
    expect(checkpointsToKeep(all, { last: 2, best: false }).map((e) => e.step)).toEqual([300, 400]);
    expect(checkpointsToKeep(all, { last: 2, best: true }).map((e) => e.step)).toEqual([200, 300, 400]);
    expect(checkpointsToKeep(all, { last: 10, best: true }).map((e) => e.step)).toEqual([0, 100, 200, 300, 400]);
  });

  it('commits, prunes, and chooses by step, latest and best', async () => {
    const store = await RunStore.create(nodeRunFs, newDir(), 'gpt');
    for (const [step, val] of [[0, null], [10, 3.0], [20, 2.0], [30, 2.5], [40, null]] as const) {
      await store.commit({ 'a.txt': `step ${step}` }, { step, valLoss: val }, { last: 2, best: true });
    }
    expect((await store.checkpoints()).map((e) => e.step)).toEqual([20, 30, 40]);
    expect((await store.select('best')).step).toBe(20);
    expect((await store.select('latest')).step).toBe(40);
    const { files } = await store.load(30, ['a.txt']);
    expect(new TextDecoder().decode(files.get('a.txt'))).toBe('step 30');
    await expect(store.select(10)).rejects.toThrow(/no checkpoint at step 10; it has steps 20, 30, 40/);
    // A second save of one step replaces it, in a directory of its own.
    const again = await store.commit({ 'a.txt': 'step 40, again' }, { step: 40, valLoss: 1.0 }, { last: 2, best: true });
    expect(again.dir).toBe('checkpoints/step-00000040-2');
    expect((await store.checkpoints()).map((e) => [e.step, e.dir])).toEqual([[30, 'checkpoints/step-00000030'], [40, 'checkpoints/step-00000040-2']]);
  });

  it('says when a run has no checkpoint yet, or none evaluated', async () => {
    const store = await RunStore.create(nodeRunFs, newDir(), 'gpt');
    await expect(store.select('latest')).rejects.toThrow(/has no complete checkpoint yet/);
    await store.commit({ 'a.txt': '' }, { step: 0, valLoss: null }, { last: 1, best: false });
    await expect(store.select('best')).rejects.toThrow(/no evaluated checkpoint/);
  });
});

describe('a reader racing a trainer', () => {
  it('chooses again when the checkpoint it chose is pruned before it reads it', async () => {
    const dir = newDir();
    const store = await RunStore.create(nodeRunFs, dir, 'gpt');
    await store.commit({ 'a.txt': 'old' }, { step: 1, valLoss: null }, { last: 1, best: false });
    let pruned = false;
    // The trainer commits step 2 (pruning step 1) just as the reader opens step 1's file.
    const racing: RunFs = {
      ...nodeRunFs,
      readFile: async (path) => {
        if (!pruned && path.endsWith('step-00000001/a.txt')) {
          pruned = true;
          await store.commit({ 'a.txt': 'new' }, { step: 2, valLoss: null }, { last: 1, best: false });
        }
        return nodeRunFs.readFile(path);
      },
    };
    const reader = await RunStore.open(racing, dir);
    const { entry: e, files } = await reader.load('latest', ['a.txt']);
    expect(pruned).toBe(true);
    expect([e.step, new TextDecoder().decode(files.get('a.txt'))]).toEqual([2, 'new']);
  });

  it('calls a checkpoint damaged when a file of a listed one is missing', async () => {
    const dir = newDir();
    const store = await RunStore.create(nodeRunFs, dir, 'gpt');
    await store.commit({ 'a.txt': 'x' }, { step: 1, valLoss: null }, { last: 1, best: false });
    await expect(store.load('latest', ['a.txt', 'b.txt'])).rejects.toThrow(/b\.txt is missing, so the checkpoint of step 1 is damaged/);
  });
});

describe('the index and manifest readers', () => {
  const good = { format: 'resnorm-checkpoints', version: 1, checkpoints: [entry(1, null), entry(2, 1.5)] };
  it('reads a good index', () => {
    expect(parseIndex(bytes(JSON.stringify(good)), 'i').map((e) => e.step)).toEqual([1, 2]);
  });

  it('refuses directories outside checkpoints/, steps out of order, and malformed fields', () => {
    const bad = (c: unknown[]) => () => parseIndex(bytes(JSON.stringify({ ...good, checkpoints: c })), 'i');
    for (const dir of ['../../etc', 'checkpoints/../x', '/tmp/x', 'checkpoints/step-1', 'checkpoints/step-00000001/..']) {
      expect(bad([{ ...entry(1, null), dir }]), dir).toThrow(RunStoreError);
    }
    expect(bad([entry(2, null), entry(1, null)])).toThrow(/out of step order/);
    expect(bad([entry(1, null), entry(1, null)])).toThrow(/out of step order/);
    expect(bad([{ ...entry(1, null), valLoss: 'NaN' }])).toThrow(RunStoreError);
    expect(bad([{ ...entry(1, null), step: -1 }])).toThrow(RunStoreError);
    expect(bad([null])).toThrow(RunStoreError);
  });

  it('refuses seeded mutations of an index and a manifest with its own error, never another', () => {
    const rng = new Rng(11);
    const sources = [JSON.stringify(good), JSON.stringify({ format: 'resnorm-run', version: 2, kind: 'gpt' })];
    let decoded = 0;
    for (let i = 0; i < 600; i++) {
      const src = bytes(sources[i % 2]);
      const m = src.slice(0, rng.uniform() < 0.3 ? rng.int(src.length + 1) : src.length);
      for (let k = 0, flips = 1 + rng.int(3); k < flips && m.length > 0; k++) m[rng.int(m.length)] = rng.int(256);
      try {
        (i % 2 === 0 ? parseIndex : parseManifest)(m, 'f');
        decoded++;
      } catch (e) {
        expect(e, `case ${i}: ${String(e)}`).toBeInstanceOf(RunStoreError);
      }
    }
    expect(decoded).toBeLessThan(600);
  });
});

describe('append-only logs', () => {
  const keepUpTo = (step: number) => (r: Record<string, unknown>) => typeof r.step === 'number' && r.step <= step;

  it('drops a torn last line, unreadable lines and records past the checkpoint; keeps a whole last line without its newline', async () => {
    const path = join(newDir() + '.jsonl');
    for (let s = 1; s <= 4; s++) await appendJsonl(nodeRunFs, path, { step: s });
    const torn = '{"step":6,"loss":1.';
    writeFileSync(path, readFileSync(path, 'utf8') + 'garbage\n{"step":5}\n' + torn);
    const r = await repairJsonl(nodeRunFs, path, keepUpTo(4));
    expect(r).toEqual({ tornBytes: torn.length, corruptLines: 1, droppedRecords: 1, keptRecords: 4 });
    expect(readFileSync(path, 'utf8')).toBe('{"step":1}\n{"step":2}\n{"step":3}\n{"step":4}\n');

    writeFileSync(path, '{"step":1}\n{"step":2}');
    expect(await repairJsonl(nodeRunFs, path, keepUpTo(9))).toEqual({ tornBytes: 0, corruptLines: 0, droppedRecords: 0, keptRecords: 2 });
    expect(readFileSync(path, 'utf8')).toBe('{"step":1}\n{"step":2}\n');
    expect(await repairJsonl(nodeRunFs, path + '.missing', keepUpTo(1))).toBeNull();
  });
});
