// `--backend webgpu` from the CLI where Node has no WebGPU (the `webgpu` package, Dawn, is the user's to
// install on a GPU machine): one message saying what to do, no stack trace, nothing written.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, expectUserError } from '../helpers/cli.ts';

describe('resnorm --backend webgpu in Node without Dawn', () => {
  it('says what WebGPU needs here and trains nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'resnorm-webgpu-'));
    try {
      const r = cli('--backend', 'webgpu', 'train', '--max-iters', '1', '--out', join(dir, 'run'));
      expectUserError(r, /the webgpu backend cannot run here: WebGPU in Node needs the `webgpu` package \(Dawn\): npm install webgpu/);
      expect(existsSync(join(dir, 'run'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
