// `resnorm lab` end to end: list, errors, and a run on the worker pool that is killed (SIGKILL, the
// whole process group) after its first checkpoint, continued by the same command — the killed job
// resumes from its checkpoint, finished ones are not redone — and that ends in a full report.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, cli, expectUserError } from '../helpers/cli.ts';

const TINY = join(import.meta.dirname, 'fixtures', 'tiny-experiment.ts');
const out = mkdtempSync(join(tmpdir(), 'lab-cli-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('resnorm lab', () => {
  it('lists the 14 experiments', () => {
    const r = cli('lab', 'list');
    expect(r.code, r.err).toBe(0);
    for (const name of ['no-residual', 'init-gradients', 'warmup', 'placement-zoo', 'layernorm-cost', 'mlp-depth']) expect(r.out).toContain(name);
  });

  it('refuses an unknown experiment and bad flags with one line', () => {
    expectUserError(cli('lab', 'run', 'no-such-thing'), /no experiment 'no-such-thing'; resnorm lab list shows them: no-residual, /);
    expectUserError(cli('lab', 'run', 'warmup', '--seeds', '0'), /--seeds must be a positive integer, got '0'/);
    expectUserError(cli('lab', 'report', TINY, '--out', out), /no results for tiny \(quick\)/);
  });

  it('continues a killed run where it stopped, and ends in a full report', async () => {
    const args = [BIN, 'lab', 'run', TINY, '--out', out, '--jobs', '2'];
    const runs = join(out, 'tiny', 'quick', 'runs');
    // First attempt: SIGKILL the command and its workers once some job has committed a checkpoint.
    const child = spawn(process.execPath, args, { detached: true, stdio: 'ignore' });
    const deadline = Date.now() + 60_000;
    const checkpointed = () => existsSync(runs) && readdirSync(runs).some((d) => existsSync(join(runs, d, 'checkpoints', 'index.json')));
    while (!checkpointed() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(checkpointed()).toBe(true);
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const before = readdirSync(join(out, 'tiny', 'quick', 'results')).filter((f) => f.endsWith('.json'));
    expect(before.length).toBeLessThan(6);

    const again = cli(...args.slice(1));
    expect(again.code, again.err + again.out).toBe(0);
    expect(again.out).toContain(`${before.length} already done`);
    expect(again.out).toMatch(/resumed at step (20|40)/);
    expect(again.out).toMatch(/report: .*report\.md and report\.html — 1 (reproduced|inconclusive|not reproduced)/);
    const md = readFileSync(join(out, 'tiny', 'report.md'), 'utf8');
    expect(md).not.toContain('Partial report');
    expect(md).toContain('| Pre-LN and Post-LN end within 0.5 nats |');
    expect(md).toMatch(/\| Pre-LN \| \d\.\d+ ± [\d.e-]+ \| \d\/3 \|/);
    expect(existsSync(join(out, 'tiny', 'report.html'))).toBe(true);
    expect(existsSync(join(out, 'tiny', 'fig-1.svg'))).toBe(true);
    // Finished runs keep their logs, not their weights.
    expect(existsSync(join(runs, 'pre-s0', 'metrics.jsonl'))).toBe(true);
    expect(existsSync(join(runs, 'pre-s0', 'checkpoints'))).toBe(false);

    // Nothing left to do: the same command only writes the report again, the same bytes.
    const third = cli(...args.slice(1));
    expect(third.code, third.err).toBe(0);
    expect(third.out).toContain('6 jobs (2 arms × 3 seeds); 6 already done');
    expect(readFileSync(join(out, 'tiny', 'report.md'), 'utf8')).toBe(md);
    const docs = join(out, 'docs');
    const rep = cli('lab', 'report', TINY, '--out', out, '--docs', docs);
    expect(rep.code, rep.err).toBe(0);
    expect(readFileSync(join(docs, 'tiny.md'), 'utf8')).toContain('](tiny/fig-1.svg)');
    expect(existsSync(join(docs, 'tiny', 'fig-1.svg'))).toBe(true);
  });
});
