// `resnorm export-tensorboard` end to end: a real training run exported and read back by the
// independent reader (test/io/tensorboard-reader.ts), value for value against the run's logs; a torn
// last line; wall time across a resume; and the user errors.

import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cli, expectUserError, UNPRIVILEGED } from '../helpers/cli.ts';
import { decodeClean, expectHistogramOf, scalarsOf, setUpReader, type DecodedEvent } from './tensorboard-reader.ts';

const tmp = mkdtempSync(join(tmpdir(), 'resnorm-tensorboard-export-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
setUpReader(tmp);

describe('resnorm export-tensorboard', () => {
  const run = join(tmp, 'run');
  beforeAll(() => {
    chmodSync(tmp, 0o755); // the permission test below runs the command as nobody
    const r = cli('train', '--max-iters', '30', '--eval-interval', '10', '--log-interval', '5', '--n-layer', '1', '--n-embd', '32', '--n-head', '2', '--block-size', '16', '--batch-size', '4', '--sample-length', '0', '--out', run);
    if (r.code !== 0) throw new Error(r.err);
  });
  /** A log's records; a line that does not parse (torn) is not one. */
  const records = (file: string) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  const exported = (dir: string) => {
    const files = readdirSync(dir);
    expect(files.length).toBe(1);
    return decodeClean(join(dir, files[0]));
  };

  /** What the run's logs say TensorBoard must show, written out from docs/tensorboard.md's table. */
  function expectedPoints(runDir: string): Map<string, { value: number; wallTime: number }> {
    const out = new Map<string, { value: number; wallTime: number }>();
    const add = (step: number, wallTime: number, tag: string, value: unknown) => {
      if (typeof value !== 'number') return;
      expect(out.has(`${step} ${tag}`), `${tag} at step ${step} twice`).toBe(false);
      out.set(`${step} ${tag}`, { value: Math.fround(value), wallTime });
    };
    // One training process: its wallTime 0 is the last write of metrics.jsonl less the last wallTime
    // there, and diagnostics share it.
    const metrics = records(join(runDir, 'metrics.jsonl'));
    const start = statSync(join(runDir, 'metrics.jsonl')).mtimeMs / 1000 - (metrics.at(-1)!.wallTime as number);
    for (const log of ['metrics.jsonl', 'diagnostics.jsonl']) {
      let rs: Record<string, unknown>[];
      try {
        rs = records(join(runDir, log));
      } catch {
        continue; // diagnostics off: the record literals above test them
      }
      let t = start; // a record without a wallTime (a spike) takes the latest before it
      for (const r of rs) {
        const step = r.step as number;
        if (typeof r.wallTime === 'number') t = start + r.wallTime;
        if ('valLoss' in r) {
          add(step, t, 'loss/val', r.valLoss);
          add(step, t, 'loss/train_eval', r.trainLoss);
        } else if ('lr' in r) {
          for (const [tag, k] of [['loss/train', 'trainLoss'], ['lr', 'lr'], ['grad_norm', 'gradNorm'], ['tokens_per_sec', 'tokensPerSec']]) add(step, t, tag, r[k]);
        } else if (r.kind === 'step') {
          type E = Record<string, number> & { name: string };
          for (const l of r.layers as E[]) {
            add(step, t, `grad_norm/${l.name}`, l.gradNorm);
            add(step, t, `update_ratio/${l.name}`, l.updateRatio);
            add(step, t, `weight_norm/${l.name}`, l.norm);
          }
          for (const b of r.blocks as E[]) {
            add(step, t, `residual_rms/${b.name}/in`, b.rmsIn);
            add(step, t, `residual_rms/${b.name}/out`, b.rmsOut);
          }
          for (const s of r.sublayers as E[]) add(step, t, `sublayer_ratio/${s.name}`, s.ratio);
          for (const n of r.norms as E[]) {
            add(step, t, `norm/${n.name}/in_std`, n.inStd);
            add(step, t, `norm/${n.name}/out_rms`, n.outRms);
            add(step, t, `norm/${n.name}/gain_mean`, n.gainMean);
          }
          for (const a of r.attention as { name: string; entropy: number[] }[]) a.entropy.forEach((x, i) => add(step, t, `attention_entropy/${a.name}/head${i}`, x));
        } else if (r.kind === 'spike') {
          add(step, t, `spike/${r.metric as string}`, r.value);
        }
      }
    }
    return out;
  }

  function expectExportOf(runDir: string, events: DecodedEvent[]): void {
    const want = expectedPoints(runDir);
    const got = new Map<string, { value: number; wallTime: number }>();
    for (const e of events) for (const [tag, value] of Object.entries(scalarsOf(e))) got.set(`${e.step} ${tag}`, { value, wallTime: e.wall_time });
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [k, w] of want) {
      expect(got.get(k)!.value, k).toBe(w.value);
      expect(got.get(k)!.wallTime, k).toBeCloseTo(w.wallTime, 5);
    }
    for (let i = 1; i < events.length; i++) expect(events[i].wall_time).toBeGreaterThanOrEqual(events[i - 1].wall_time);
    // One gradient-norm histogram per diagnostics step record, of its parameters' norms.
    const diag = (() => {
      try {
        return records(join(runDir, 'diagnostics.jsonl')).filter((r) => r.kind === 'step');
      } catch {
        return [];
      }
    })();
    const histos = events.flatMap((e) => e.values!.filter((v) => v.kind === 'histo').map((v) => ({ step: e.step, ...v })));
    expect(histos.map((h) => [h.step, h.tag])).toEqual(diag.map((r) => [r.step, 'grad_norms']));
    diag.forEach((r, i) => expectHistogramOf(histos[i].histo!, (r.params as { gradNorm: number }[]).map((p) => p.gradNorm)));
  }

  it('exports every metric and diagnostic of a real training run', () => {
    const dir = join(tmp, 'tb', 'run');
    const r = cli('export-tensorboard', run, dir);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/wrote \d+ events \(\d+ scalar points, \d+ histograms, steps 5–30\) to .*events\.out\.tfevents\./);
    expect(r.out).toContain(`tensorboard --logdir ${dir}`);
    const events = exported(dir);
    expectExportOf(run, events);
    expect(events.some((e) => 'loss/val' in scalarsOf(e))).toBe(true);
  });

  it('skips a torn last line, saying so', () => {
    const torn = join(tmp, 'torn');
    cpSync(run, torn, { recursive: true });
    appendFileSync(join(torn, 'metrics.jsonl'), '{"step":35,"trainLoss":4.1,"lr":0.0');
    const dir = join(tmp, 'tb', 'torn');
    const r = cli('export-tensorboard', torn, dir);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/skipped 1 line of metrics\.jsonl that did not parse/);
    expectExportOf(torn, exported(dir)); // expectedPoints reads the log without its torn line
  });

  it('anchors wall time at the log’s last write, processes back to back across a resume', () => {
    const resumed = join(tmp, 'resumed');
    mkdirSync(resumed);
    cpSync(join(run, 'run.json'), join(resumed, 'run.json'));
    const lines = [
      { step: 5, trainLoss: 4, lr: 1e-4, gradNorm: 2, tokensPerSec: 100, wallTime: 1.5 },
      { step: 10, trainLoss: 3.9, valLoss: 3.95, wallTime: 4 },
      { step: 15, trainLoss: 3.8, lr: 1e-4, gradNorm: 1.9, tokensPerSec: 100, wallTime: 0.75 },
    ];
    writeFileSync(join(resumed, 'metrics.jsonl'), lines.map((l) => JSON.stringify(l) + '\n').join(''));
    const end = 1_800_000_000;
    utimesSync(join(resumed, 'metrics.jsonl'), end, end);
    const dir = join(tmp, 'tb', 'resumed');
    expect(cli('export-tensorboard', resumed, dir).code).toBe(0);
    const events = exported(dir);
    const s1 = end - 0.75;
    expect(events.map((e) => [e.step, e.wall_time])).toEqual([
      [5, s1 - 4 + 1.5],
      [10, s1 - 4 + 4],
      [15, s1 + 0.75],
    ]);
  });

  it('refuses what is not a run, a DIR that is a file, and a DIR that has event files already', () => {
    expectUserError(cli('export-tensorboard', join(tmp, 'nothing'), join(tmp, 'tb', 'x')), /run directory .*nothing does not exist/);
    mkdirSync(join(tmp, 'plain'));
    expectUserError(cli('export-tensorboard', join(tmp, 'plain'), join(tmp, 'tb', 'x')), /plain is not a resnorm run directory \(it has no run\.json\)/);
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    cpSync(join(run, 'run.json'), join(empty, 'run.json'));
    expectUserError(cli('export-tensorboard', empty, join(tmp, 'tb', 'x')), /empty has no metrics or diagnostics records yet; nothing to export/);

    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    expectUserError(cli('export-tensorboard', run, file), /a-file \(or a folder above it\) is a file, not a directory/);
    expectUserError(cli('export-tensorboard', run, join(file, 'sub')), /a-file\/sub \(or a folder above it\) is a file, not a directory/);

    const twice = join(tmp, 'tb', 'twice');
    expect(cli('export-tensorboard', run, twice).code).toBe(0);
    expectUserError(cli('export-tensorboard', run, twice), /twice already holds TensorBoard event files \(events\.out\.tfevents\.[^)]*\); remove them, or export into another directory/);
  });

  it.skipIf(UNPRIVILEGED === null)('refuses a DIR it cannot write', () => {
    const readonly = join(tmp, 'readonly');
    mkdirSync(readonly);
    chmodSync(readonly, 0o555);
    const r = spawnSync(process.execPath, [BIN, 'export-tensorboard', run, join(readonly, 'tb')], { encoding: 'utf8', ...UNPRIVILEGED });
    expectUserError({ code: r.status, out: r.stdout, err: r.stderr }, /could not create a TensorBoard event file in .*readonly\/tb: permission denied \(EACCES\); pass a directory you can write to/);
  });
});
