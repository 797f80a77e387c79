// `resnorm train` writes diagnostics.jsonl and samples.jsonl as docs/run-directory.md says, says so in
// its last lines (with the steps still captured), and a resume repairs them as it does metrics.jsonl:
// a torn last line and records past the checkpoint it resumes from are dropped, so no step is logged twice.

import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'resnorm-diag-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const small = ['--n-layer', '2', '--n-embd', '32', '--n-head', '2', '--block-size', '16', '--batch-size', '4', '--eval-interval', '10', '--eval-iters', '2', '--log-interval', '5'];
const lines = (path: string) => readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('diagnostics.jsonl and samples.jsonl', () => {
  const run = join(tmp, 'run');

  it('are written every diagInterval steps and at evaluations, with the steps captured', () => {
    const r = cli('--backend', 'wasm', '--threads', '1', 'train', ...small, '--max-iters', '20', '--diag-interval', '4', '--sample-length', '30', '--out', run);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/steps: captured once, then replayed/);
    expect(r.out).toMatch(/diagnostics: every 4 steps and at evaluations, from a probe of 4×16 tokens/);
    const diag = lines(join(run, 'diagnostics.jsonl'));
    expect(diag[0]).toMatchObject({ kind: 'probe', sequences: 4, length: 16, source: 'validation split' });
    expect(diag.filter((d) => d.kind === 'step').map((d) => d.step)).toEqual([4, 8, 10, 12, 16, 20]);
    expect(diag.filter((d) => d.kind === 'attention').map((d) => d.step)).toEqual([10, 20]);
    const samples = lines(join(run, 'samples.jsonl'));
    expect(samples.map((s) => s.step)).toEqual([10, 20]);
    expect(typeof samples[0].text).toBe('string');
    expect((samples[0].text as string).length).toBeGreaterThan(0);
  });

  it('are repaired on resume: a torn line and records past the checkpoint go', () => {
    const path = join(run, 'diagnostics.jsonl');
    appendFileSync(path, JSON.stringify({ kind: 'step', step: 24 }) + '\n{"kind":"st'); // as a crash after step 24 would leave it
    const r = cli('--backend', 'wasm', '--threads', '1', 'train', '--resume', run, '--max-iters', '28', '--diag-interval', '4');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/diagnostics.jsonl ended in a torn line/);
    expect(r.out).toMatch(/diagnostics.jsonl: dropped 1 record\(s\) logged after step 20/);
    const steps = lines(path).filter((d) => d.kind === 'step').map((d) => d.step);
    expect(steps).toEqual([4, 8, 10, 12, 16, 20, 24, 28]);
  });

  it('are not written with --diag-interval 0', () => {
    const off = join(tmp, 'off');
    const r = cli('train', ...small, '--max-iters', '10', '--diag-interval', '0', '--sample-length', '0', '--out', off);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/diagnostics: off/);
    expect(() => readFileSync(join(off, 'diagnostics.jsonl'))).toThrow(/ENOENT/);
  });
});
