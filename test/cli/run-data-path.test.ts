// A run's text found from another directory (runDataPath): the path as written when it exists; else the
// same relative path beside the run directory (a demo run names its text RUN/data.txt for the folder
// it is unpacked in), or the file inside the run; else as written, for loadCorpus's message.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDataPath } from '../../src/cli/corpus-files.ts';

describe('runDataPath', () => {
  const root = mkdtempSync(join(tmpdir(), 'resnorm-data-'));
  const run = join(root, 'unpacked', 'demo-run');
  mkdirSync(run, { recursive: true });
  writeFileSync(join(run, 'data.txt'), 'some text');
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('keeps a path that exists, an absolute one and an absent field', () => {
    expect(runDataPath(join(run, 'data.txt'), run)).toBe(join(run, 'data.txt'));
    expect(runDataPath('/no/such/file.txt', run)).toBe('/no/such/file.txt');
    expect(runDataPath(undefined, run)).toBeUndefined();
  });

  it('finds RUN/data.txt beside the run, and a moved text inside it', () => {
    expect(runDataPath('demo-run/data.txt', run)).toBe(join(root, 'unpacked', 'demo-run', 'data.txt'));
    expect(runDataPath('elsewhere/data.txt', run)).toBe(join(run, 'data.txt'));
  });

  it('leaves a text that is nowhere as written, for the loader to report', () => {
    expect(runDataPath('gone/notes.txt', run)).toBe('gone/notes.txt');
  });
});
