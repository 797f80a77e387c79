// What a run directory survives, end to end through the real command: a history of checkpoints chosen
// with --step, a second trainer on a locked run, a stale lock, a torn metrics line, a full disk, a
// directory without write permission, a run from a newer resnorm or of another kind, and a format-1 run.

import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cli, expectUserError, latestCheckpoint, UNPRIVILEGED } from '../helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'resnorm-faults-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const corpus = join(tmp, 'tiny.txt');
const TINY = ['--data', corpus, '--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '16', '--batch-size', '4', '--eval-iters', '2', '--sample-length', '0'];
const run = join(tmp, 'history');

beforeAll(() => {
  writeFileSync(corpus, 'It was the best of times, it was the worst of times. '.repeat(60));
  const r = cli('train', ...TINY, '--max-iters', '20', '--eval-interval', '4', '--keep-checkpoints', '2', '--keep-best', '--out', run);
  if (r.code !== 0) throw new Error(r.err);
});

const index = (dir: string) => (JSON.parse(readFileSync(join(dir, 'checkpoints', 'index.json'), 'utf8')) as { checkpoints: { step: number; valLoss: number | null }[] }).checkpoints;

/** Starts a long `resnorm train` and resolves once it is training (so it holds the run's lock). */
function startTraining(args: string[]): Promise<{ pid: number; kill: (s: NodeJS.Signals) => Promise<void> }> {
  const child = spawn(process.execPath, [BIN, 'train', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/step \d+\//.test(out)) resolve({ pid: child.pid!, kill: (s) => (child.kill(s), exited) });
    });
    child.on('exit', (code) => reject(new Error(`training exited early (${code}): ${out}`)));
  });
}

describe('checkpoint history', () => {
  it('keeps the last N and the best, and info lists them', () => {
    const kept = index(run);
    const best = kept.reduce((a, b) => (b.valLoss !== null && (a.valLoss === null || b.valLoss < a.valLoss) ? b : a));
    expect(kept.map((e) => e.step).slice(-2)).toEqual([16, 20]);
    expect(kept.length).toBeLessThanOrEqual(3);
    expect(kept).toContain(best);
    expect(readdirSync(join(run, 'checkpoints')).length).toBe(kept.length + 1); // + index.json: nothing pruned is left
    const info = cli('info', run).out;
    for (const e of kept) expect(info).toMatch(new RegExp(`step\\s+${e.step}\\s+val loss`));
    expect(info).toMatch(/step\s+20 .*\(.*latest\)/);
    expect(info).toMatch(new RegExp(`step\\s+${best.step} .*\\(best`));
  });

  it('samples and evaluates the checkpoint that --step names', () => {
    const a = cli('sample', run, '--step', '16', '--tokens', '20', '--seed', '1');
    const b = cli('sample', run, '--step', '20', '--tokens', '20', '--seed', '1');
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(a.out).not.toBe(b.out);
    expect(cli('sample', run, '--tokens', '20', '--seed', '1').out).toBe(b.out); // latest by default
    expect(cli('eval', run, '--step', 'best').out).toMatch(/checkpoint of step \d+/);
    expectUserError(cli('sample', run, '--step', '4'), /has no checkpoint at step 4; it has steps .*16, 20/);
    expectUserError(cli('eval', run, '--step', 'soon'), /--step must be a step number, 'latest' or 'best'/);
  });
});

describe('the run lock', () => {
  it('refuses a second trainer, naming the first; takes over the lock of a killed one', async () => {
    const dir = join(tmp, 'locked');
    const first = await startTraining([...TINY, '--max-iters', '100000', '--eval-interval', '50', '--out', dir]);
    try {
      expectUserError(cli('train', '--resume', dir, '--max-iters', '100001'), new RegExp(`in use by process ${first.pid} .*resnorm train --out`));
      expect(cli('info', dir).code, 'readers need no lock').toBe(0);
    } finally {
      await first.kill('SIGKILL');
    }
    const r = cli('train', '--resume', dir, '--max-iters', String(latestCheckpoint(dir).step + 2));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/resuming .* at step \d+/);
    expect(existsSync(join(dir, 'lock.json'))).toBe(false);
  });
});

describe('faults a long run meets', () => {
  it('repairs a torn last metrics line on resume, and says so', () => {
    const dir = join(tmp, 'torn');
    cpSync(run, dir, { recursive: true });
    appendFileSync(join(dir, 'metrics.jsonl'), '{"step":21,"trainLoss":2.3');
    const r = cli('train', '--resume', dir, '--max-iters', '22');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/metrics\.jsonl ended in a torn line \(26 bytes/);
    const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(lines.every((l) => typeof JSON.parse(l).step === 'number')).toBe(true);
    expect(lines.filter((l) => JSON.parse(l).step === 22 && JSON.parse(l).valLoss !== undefined).length).toBe(1);
  });

  it('stops on a full disk with the previous checkpoint intact and the resume command', () => {
    const dir = join(tmp, 'full');
    mkdirSync(dir);
    symlinkSync('/dev/full', join(dir, 'metrics.jsonl')); // every append fails with ENOSPC
    const r = cli('train', ...TINY, '--max-iters', '20', '--log-interval', '1', '--out', dir);
    expectUserError(r, /could not append to .*metrics\.jsonl: the disk is full \(ENOSPC\)\. Training stopped; .*continue from step 0 with: resnorm train --resume/);
    rmSync(join(dir, 'metrics.jsonl'));
    const resumed = cli('train', '--resume', dir);
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.out).toMatch(/resuming .* at step 0/);

    const fresh = join(tmp, 'full-at-start');
    mkdirSync(fresh);
    symlinkSync('/dev/full', join(fresh, 'run.json.tmp'));
    expectUserError(cli('train', ...TINY, '--max-iters', '2', '--out', fresh), /cannot write in .*full-at-start: the disk is full \(ENOSPC\)/);

    // The disk fills while a checkpoint is written: its files land, the index cannot, nothing commits.
    const save = join(tmp, 'full-at-save');
    mkdirSync(join(save, 'checkpoints'), { recursive: true });
    symlinkSync('/dev/full', join(save, 'checkpoints', 'index.json.tmp'));
    expectUserError(
      cli('train', ...TINY, '--max-iters', '2', '--out', save),
      /could not save the checkpoint of step 0 in .*full-at-save: the disk is full \(ENOSPC\)\. The previous checkpoint \(none\) is intact\. Training stopped; .*then start the run again/,
    );
    expect(readdirSync(join(save, 'checkpoints')), 'the unfinished checkpoint is removed').toEqual(['index.json.tmp']);
  });

  it.skipIf(UNPRIVILEGED === null)('refuses a directory without write permission', () => {
    const dir = join(tmp, 'readonly');
    mkdirSync(dir);
    chmodSync(dir, 0o555);
    chmodSync(tmp, 0o755);
    const r = spawnSync(process.execPath, [BIN, 'train', ...TINY, '--max-iters', '2', '--out', join(dir, 'run')], { encoding: 'utf8', ...UNPRIVILEGED });
    expectUserError({ code: r.status, out: r.stdout, err: r.stderr }, /cannot create the run directory .*readonly\/run: permission denied \(EACCES\); choose another --out/);
  });

  it('refuses an --out that is a file', () => {
    expectUserError(cli('train', ...TINY, '--out', corpus), /--out .*tiny\.txt is a file; a run needs a directory of its own/);
  });

  it('refuses a run written by a newer resnorm, or of another kind', () => {
    const newer = join(tmp, 'newer');
    cpSync(run, newer, { recursive: true });
    writeFileSync(join(newer, 'run.json'), JSON.stringify({ format: 'resnorm-run', version: 99, kind: 'gpt' }));
    for (const args of [['sample', newer], ['info', newer], ['train', '--resume', newer]]) expectUserError(cli(...args), /written by a newer resnorm \(run format 99; this one reads up to 2\); upgrade resnorm/);
    writeFileSync(join(newer, 'run.json'), JSON.stringify({ format: 'resnorm-run', version: 2, kind: 'translator' }));
    expectUserError(cli('sample', newer), /holds a run of kind "translator", which this resnorm cannot read/);
    expectUserError(cli('info', join(tmp)), /is not a resnorm run directory/);
  });

  it('reads a format-1 run (files loose in the directory) and moves it to checkpoints/ when it resumes', () => {
    const old = join(tmp, 'format1');
    mkdirSync(old);
    const latest = latestCheckpoint(run).dir;
    for (const f of readdirSync(latest)) cpSync(join(latest, f), join(old, f));
    cpSync(join(run, 'metrics.jsonl'), join(old, 'metrics.jsonl'));
    expect(cli('sample', old, '--tokens', '10').code).toBe(0);
    expect(cli('info', old).out).toMatch(/step\s+20 .*format-1 run/);
    const r = cli('train', '--resume', old, '--max-iters', '21');
    expect(r.code, r.err).toBe(0);
    // The loose files are gone; step 21 ends the run, so it is evaluated and diagnosed (--sample-length 0: no samples).
    expect(readdirSync(old).sort()).toEqual(['checkpoints', 'diagnostics.jsonl', 'metrics.jsonl', 'run.json']);
    expect(index(old).map((e) => e.step)).toEqual([20, 21]);
  });
});
