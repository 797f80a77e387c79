// The resnorm command end to end: a tiny run, its files, sample/info/eval, Ctrl-C, and the user errors
// (each one a single clear line, no stack trace, nothing lost).

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, cli, expectUserError, latestCheckpoint } from '../helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'resnorm-cli-'));
const corpus = join(tmp, 'tiny.txt');
const TINY = ['--data', corpus, '--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '16', '--batch-size', '4', '--eval-iters', '2', '--sample-length', '20'];

const run = join(tmp, 'run');
beforeAll(() => {
  writeFileSync(corpus, 'It was the best of times, it was the worst of times. '.repeat(60));
  const r = cli('train', ...TINY, '--max-iters', '12', '--eval-interval', '6', '--out', run);
  if (r.code !== 0) throw new Error(r.err);
});

describe('resnorm CLI', () => {
  it('writes a complete run directory', () => {
    for (const f of ['run.json', 'metrics.jsonl', 'checkpoints/index.json']) expect(existsSync(join(run, f)), f).toBe(true);
    const latest = latestCheckpoint(run);
    expect(latest.step).toBe(12);
    for (const f of ['config.json', 'tokenizer.json', 'model.safetensors', 'optimizer.safetensors', 'state.json']) expect(existsSync(join(latest.dir, f)), f).toBe(true);
    const metrics = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    expect(metrics.some((m) => m.valLoss !== undefined && m.step === 12)).toBe(true);
    expect(JSON.parse(readFileSync(join(latest.dir, 'state.json'), 'utf8')).step).toBe(12);
    expect(existsSync(join(run, 'lock.json')), 'the lock is released').toBe(false);
  });

  it('reports info, samples deterministically and evaluates every validation position', () => {
    expect(cli('info', run).out).toMatch(/steps\s+12 of 12/);
    const a = cli('sample', run, '--tokens', '30', '--seed', '3', '--prompt', 'It');
    const b = cli('sample', run, '--tokens', '30', '--seed', '3', '--prompt', 'It');
    expect(a.code).toBe(0);
    expect(a.out).toBe(b.out);
    expect(a.out.startsWith('It')).toBe(true);
    const e = cli('eval', run);
    expect(e.out).toMatch(/perplexity\s+\d/);
    // 10% of 3180 characters, every position but the first.
    expect(e.out).toMatch(/over 317 predicted tokens/);
  });

  it('saves a checkpoint on Ctrl-C and resumes from it', async () => {
    const out = join(tmp, 'interrupted');
    const child = spawn(process.execPath, [BIN, 'train', ...TINY, '--max-iters', '100000', '--eval-interval', '100000', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let sent = false;
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        // Once: a second Ctrl-C means "quit without saving".
        if (!sent && /step 20\//.test(stdout)) {
          sent = true;
          child.kill('SIGINT');
        }
      });
      child.on('exit', () => resolve());
    });
    expect(stdout).toMatch(/checkpoint saved\. Continue with: resnorm train --resume/);
    const step = latestCheckpoint(out).step;
    expect(step).toBeGreaterThanOrEqual(20);
    const r = cli('train', '--resume', out, '--max-iters', String(step + 3), '--sample-length', '0');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`resuming .* at step ${step}`));
  });

  it('refuses bad input with one clear line each', () => {
    expectUserError(cli('sample', run, '--prompt', 'Ω'), /character "Ω" \(U\+03A9\)/);
    expectUserError(cli('train', ...TINY, '--n-embd', '15'), /nEmbd = 15 is not divisible by nHead = 2/);
    expectUserError(cli('train', ...TINY, '--block-size', '0'), /field 'blockSize' = 0/);
    expectUserError(cli('train', ...TINY, '--norm', 'groupnorm'), /field 'norm' = "groupnorm": Invalid option: expected one of "layernorm"\|"rmsnorm"\|"dyt"\|"batchnorm"\|"none"/);
    // A design that cannot be built: one line naming the clash and the way out, not a field dump.
    expectUserError(cli('train', ...TINY, '--residual', 'deepnorm'), /^resnorm: flags is invalid:\n {2}- --residual deepnorm is DeepNorm \(Wang et al\. 2022\).*: it needs --placement post, not 'pre'$/m);
    const cfg = join(tmp, 'bad.json');
    writeFileSync(cfg, JSON.stringify({ nLayers: 2 }));
    expectUserError(cli('train', '--config', cfg), /unknown field 'nLayers'/);
    const empty = join(tmp, 'empty.txt');
    writeFileSync(empty, '  \n');
    expectUserError(cli('train', '--data', empty), /the text is empty/);
    const bin = join(tmp, 'bin.txt');
    writeFileSync(bin, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00]));
    expectUserError(cli('train', '--data', bin), /looks binary/);
    const short = join(tmp, 'short.txt');
    writeFileSync(short, 'abcdefghij'.repeat(3));
    expectUserError(cli('train', '--data', short, '--block-size', '64'), /block_size/);
    expectUserError(cli('train', ...TINY, '--out', run), /already holds a run; pass --resume/);
  });

  it('refuses a corrupt checkpoint and one that does not match its config', () => {
    const broken = join(tmp, 'broken');
    expect(cli('train', ...TINY, '--max-iters', '2', '--eval-interval', '2', '--out', broken, '--sample-length', '0').code).toBe(0);
    const latest = latestCheckpoint(broken).dir;
    const model = join(latest, 'model.safetensors');
    const bytes = readFileSync(model);
    writeFileSync(model, bytes.subarray(0, bytes.length - 10));
    expectUserError(cli('sample', broken), /model\.safetensors/);
    writeFileSync(model, bytes);
    const cfgPath = join(latest, 'config.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
    cfg.model.nEmbd = 32;
    cfg.train.nEmbd = 32;
    writeFileSync(cfgPath, JSON.stringify(cfg));
    expectUserError(cli('sample', broken), /has shape \[\d+, 16\] but the model expects \[\d+, 32\]/);
  });
});
