// The page's reading of run logs (src/dashboard/page/records.ts, run-data.ts, store.ts): real logs from
// the fixture runs, resumes (wall time restarts; replayed steps replace the killed process's), resets,
// reconnections, and lines that are not records.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDiag, parseMetric, parseSample, RunClock } from '../../src/dashboard/page/records.ts';
import { diagKey, metricKey, RunData } from '../../src/dashboard/page/run-data.ts';
import { parseEvent, Store } from '../../src/dashboard/page/store.ts';

const fixture = (run: string, file: string) =>
  readFileSync(new URL(`./fixtures/page-runs/${run}/${file}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l !== '');

function loaded(run: string): RunData {
  const d = new RunData();
  for (const f of ['metrics.jsonl', 'samples.jsonl', 'diagnostics.jsonl'] as const) d.apply(f, fixture(run, f));
  return d;
}

describe('records', () => {
  it('tells step records from evaluation records, and reads null as NaN', () => {
    expect(parseMetric('{"step":10,"trainLoss":3.9,"lr":0.001,"gradNorm":null,"tokensPerSec":15234,"wallTime":0.61}')).toEqual({
      kind: 'train',
      step: 10,
      wallTime: 0.61,
      trainLoss: 3.9,
      lr: 0.001,
      gradNorm: NaN,
      tokensPerSec: 15234,
      examplesPerSec: NaN,
    });
    expect(parseMetric('{"step":250,"trainLoss":2.41,"valLoss":2.47,"wallTime":14.2,"extra":1}')).toEqual({ kind: 'eval', step: 250, wallTime: 14.2, trainLoss: 2.41, valLoss: 2.47, metrics: [] });
  });

  it("reads the other tasks' throughput and evaluation metrics, keeping only finite numbers", () => {
    expect(parseMetric('{"step":10,"trainLoss":0.6,"lr":0.001,"gradNorm":1,"examplesPerSec":320,"wallTime":2}')).toMatchObject({ kind: 'train', tokensPerSec: NaN, examplesPerSec: 320 });
    const e = parseMetric('{"step":400,"trainLoss":0.2,"valLoss":0.25,"wallTime":90,"metrics":{"accuracy":0.95,"macroF1":0.94,"bad":"x","none":null}}');
    expect(e).toMatchObject({ kind: 'eval', metrics: [['accuracy', 0.95], ['macroF1', 0.94]] });
    const d = new RunData();
    d.apply('metrics.jsonl', [
      '{"step":200,"trainLoss":0.3,"valLoss":0.35,"wallTime":40,"metrics":{"accuracy":0.9}}',
      '{"step":400,"trainLoss":0.2,"valLoss":0.25,"wallTime":90,"metrics":{"accuracy":0.95,"macroF1":0.94}}',
    ]);
    expect(d.metricNames).toEqual(['accuracy', 'macroF1']);
    expect(Array.from(d.evals.col(metricKey('accuracy'))!.subarray(0, d.evals.n))).toEqual([0.9, 0.95]);
    expect(Array.from(d.evals.col(metricKey('macroF1'))!.subarray(0, d.evals.n))).toEqual([NaN, 0.94]);
    d.reset('metrics.jsonl');
    expect(d.metricNames).toEqual([]);
  });

  it('skips what is not a record: torn lines, other JSON, missing steps', () => {
    for (const l of ['{"step":10,"trainLoss":3.9,"lr":0.0', '[1,2]', 'null', '"x"', '{"trainLoss":1,"lr":1}', '{"step":"10","lr":1}', '{"step":3}']) expect(parseMetric(l)).toBeNull();
    expect(parseSample('{"step":1,"text":5}')).toBeNull();
    expect(parseDiag('{"kind":"weird","step":1}')).toBeNull();
    expect(parseDiag('{"kind":"attention","step":1,"tokens":"ab","maps":[]}')).toBeNull();
  });

  it('reads every kind of diagnostics record of a real run', () => {
    const kinds = fixture('pre-ln', 'diagnostics.jsonl').map((l) => parseDiag(l)?.kind);
    expect(new Set(kinds)).toEqual(new Set(['probe', 'step', 'attention']));
    const step = fixture('pre-ln', 'diagnostics.jsonl').map(parseDiag).find((r) => r?.kind === 'step');
    expect(step?.kind === 'step' && step.layers.map((l) => l.name)).toEqual(['wte', 'wpe', 'h.0', 'h.1', 'ln_f']);
    expect(parseDiag('{"kind":"spike","step":731,"metric":"loss","value":4.8,"baseline":2.1,"threshold":2.9}')).toEqual({
      kind: 'spike',
      step: 731,
      metric: 'loss',
      value: 4.8,
      baseline: 2.1,
      threshold: 2.9,
    });
  });
});

describe('wall time across resumes', () => {
  it('adds the time of the last record before the step a resumed process starts at', () => {
    const c = new RunClock();
    expect([c.at(10, 1), c.at(20, 2), c.at(30, 3)]).toEqual([1, 2, 3]);
    // Killed after 30; resumed from the checkpoint at 20: its clock restarts.
    expect(c.at(22, 0.5)).toBe(2.5);
    expect(c.at(30, 1.5)).toBe(3.5);
    // A second resume, from step 30.
    expect(c.at(32, 0.25)).toBe(3.75);
    expect(c.at(40, Number.NaN)).toBeNaN();
  });

  it('makes the fixture run’s wall time increase through its resume at step 40', () => {
    const d = loaded('pre-ln');
    const raw = fixture('pre-ln', 'metrics.jsonl').map((l) => JSON.parse(l) as { wallTime: number });
    expect(raw.some((r, i) => i > 0 && r.wallTime < raw[i - 1].wallTime)).toBe(true);
    for (const t of [d.train, d.evals, d.diag]) {
      for (let i = 1; i < t.n; i++) expect(t.wall[i]).toBeGreaterThanOrEqual(t.wall[i - 1]);
    }
    expect(d.summary().step).toBe(80);
  });
});

describe('a run’s data', () => {
  it('holds the real logs as tables: metrics, evaluations, diagnostics by name, attention maps, samples', () => {
    const d = loaded('post-ln');
    expect(d.train.n).toBe(40);
    expect(d.evals.n).toBe(4);
    expect([...d.evals.step.subarray(0, 4)]).toEqual([20, 40, 60, 80]);
    expect(d.names.layers).toEqual(['wte', 'wpe', 'h.0', 'h.1']);
    expect(d.names.sublayers).toEqual(['h.0.attn', 'h.0.mlp', 'h.1.attn', 'h.1.mlp']);
    expect(d.heads.get('h.0.attn')).toBe(2);
    expect(d.diag.col(diagKey('layers', 'h.0', 'gradNorm'))![0]).toBeGreaterThan(0);
    expect(d.diag.col(diagKey('attention', 'h.1.attn', 'entropy.1'))![0]).toBeGreaterThan(0);
    expect(d.attention.map((a) => a.step)).toEqual([20, 40, 60, 80]);
    expect(d.attention[0].maps[0].heads[0][2]).toHaveLength(3);
    expect(d.samples.map((s) => s.step)).toEqual([20, 40, 60, 80]);
    expect(d.probe?.source).toBe('validation split');
    const s = d.summary();
    expect(s.valLoss).toBe(d.evals.col('valLoss')![3]);
    expect(s.bestValLoss).toBeLessThanOrEqual(s.valLoss);
  });

  it('lets records of a resumed process replace those the killed one logged past its checkpoint', () => {
    const d = new RunData();
    const m = (step: number, wallTime: number) => JSON.stringify({ step, trainLoss: step, lr: 1, gradNorm: 1, tokensPerSec: 1, wallTime });
    d.apply('metrics.jsonl', [m(10, 1), m(20, 2), JSON.stringify({ step: 20, trainLoss: 1, valLoss: 1, wallTime: 2.1 }), m(30, 3), m(40, 4)]);
    d.apply('metrics.jsonl', [m(30, 0.5), m(40, 1.5)]);
    expect([...d.train.step.subarray(0, d.train.n)]).toEqual([10, 20, 30, 40]);
    expect([...d.train.wall.subarray(0, d.train.n)]).toEqual([1, 2, 2.6, 3.6]);
    expect(d.train.epoch).toBe(1);
    expect(d.evals.n).toBe(1);
  });

  it('drops a log’s data on reset and rebuilds it from its lines', () => {
    const d = loaded('pre-ln');
    d.reset('diagnostics.jsonl');
    expect([d.diag.n, d.attention.length, d.names.layers.length, d.train.n]).toEqual([0, 0, 0, 40]);
    d.apply('diagnostics.jsonl', fixture('pre-ln', 'diagnostics.jsonl'));
    expect(d.diag.n).toBe(loaded('pre-ln').diag.n);
  });
});

describe('the store', () => {
  const runs = [
    { id: 'r0', name: 'pre-ln', path: 'runs/pre-ln', config: { train: { nLayer: 2 } }, training: false },
    { id: 'r1', name: 'post-ln', path: 'runs/post-ln', config: null, training: true },
  ];

  it('checks event data: unknown events, files and malformed runs are refused', () => {
    expect(parseEvent('hello', { runs })).toEqual({ type: 'hello', runs });
    expect(parseEvent('append', { run: 'r0', file: '../etc/passwd', offset: 0, lines: [] })).toBeNull();
    expect(parseEvent('append', { run: 'r0', file: 'metrics.jsonl', offset: 0, lines: ['a', 3] })).toEqual({ type: 'append', run: 'r0', file: 'metrics.jsonl', offset: 0, lines: ['a'] });
    expect(parseEvent('nope', {})).toBeNull();
    expect(parseEvent('runs', { runs: [{ id: 'r2', name: 3 }] })).toEqual({ type: 'runs', runs: [{ id: 'r2', name: 'r2', path: '', config: null, training: false }] });
  });

  it('follows hello, append, reset and runs, and starts over on every hello (a reconnection)', () => {
    const s = new Store();
    const lines = fixture('pre-ln', 'metrics.jsonl');
    s.apply({ type: 'hello', runs });
    s.apply({ type: 'append', run: 'r0', file: 'metrics.jsonl', offset: 0, lines: lines.slice(0, 10) });
    s.apply({ type: 'append', run: 'r0', file: 'metrics.jsonl', offset: 1234, lines: lines.slice(10) });
    expect(s.get('r0')!.train.n).toBe(40);
    s.apply({ type: 'reset', run: 'r0', file: 'metrics.jsonl' });
    expect(s.get('r0')!.train.n).toBe(0);
    s.apply({ type: 'append', run: 'r0', file: 'metrics.jsonl', offset: 0, lines });
    // The same log from offset 0 again without a reset: taken as a fresh copy, not appended twice.
    s.apply({ type: 'append', run: 'r0', file: 'metrics.jsonl', offset: 0, lines });
    expect(s.get('r0')!.train.n).toBe(40);
    s.apply({ type: 'runs', runs: runs.slice(1) });
    expect([s.get('r0'), s.runs.map((r) => r.id)]).toEqual([undefined, ['r1']]);
    s.apply({ type: 'append', run: 'r1', file: 'metrics.jsonl', offset: 0, lines });
    s.apply({ type: 'hello', runs });
    expect(s.get('r1')).toBeUndefined();
  });
});
