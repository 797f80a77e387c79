// Reports are a pure function of the results: verdicts, tables and plots from the data; the same
// results give the same bytes; no wall-clock number appears unless the experiment is about time; text
// from definitions and data is escaped; the HTML is one self-contained file.

import { describe, expect, it } from 'vitest';
import { aggregate } from '../../src/lab/aggregate.ts';
import type { Experiment } from '../../src/lab/experiment.ts';
import type { JobResult } from '../../src/lab/job.ts';
import { renderReport } from '../../src/lab/report/report.ts';
import { logTicks, niceTicks } from '../../src/lab/report/svg.ts';
import { summaryTable } from '../../src/lab/report/summary.ts';

const WALL = 98765.4321;

function result(arm: string, seed: number, loss: number, extra: Partial<JobResult> = {}): JobResult {
  return {
    version: 1,
    id: `${arm}-s${seed}`,
    arm,
    seed,
    hash: 'h',
    params: 1234,
    vocabSize: 89,
    uniformLoss: Math.log(89),
    unigramLoss: 3.07,
    maxIters: 100,
    steps: 100,
    diverged: false,
    divergedAt: null,
    finalValLoss: loss,
    finalTrainLoss: loss - 0.01,
    trainModeLoss: loss,
    curve: [
      { step: 50, trainLoss: loss + 0.5, valLoss: loss + 0.5 },
      { step: 100, trainLoss: loss - 0.01, valLoss: loss },
    ],
    metrics: { growth: 2 + seed * 0.1 },
    series: { streamRms: [1, 2, 3 + seed] },
    labels: {},
    timing: { wallSeconds: WALL, metrics: { stepMs: 11.11 + seed }, series: {}, labels: {} },
    ...extra,
  };
}

function experiment(timing: boolean): Experiment {
  const arms = [
    { id: 'good', label: 'good <b>arm</b>', config: { placement: 'pre' }, measures: ['stream-rms' as const, 'step-time' as const] },
    { id: 'bad', label: 'bad & worse', config: { placement: 'post' } },
  ];
  const plan = { base: { nLayer: 2 }, arms, seeds: 3 };
  return {
    name: 'demo',
    title: 'Demo <experiment>',
    finding: 'good beats bad',
    timing,
    paper: { citation: 'Someone 2020', found: 'good beat bad by 3 points (Table 1).' },
    differences: 'smaller',
    plans: { quick: plan, full: plan },
    claims: [
      { id: 'c1', text: 'good beats bad', conditions: [{ kind: 'less', a: { arm: 'good', metric: 'finalValLoss' }, b: { arm: 'bad', metric: 'finalValLoss' }, sd: 1 }], notes: { reproduced: 'as in the paper' } },
      { id: 'c2', text: 'good grows', conditions: [{ kind: 'above', ref: { arm: 'good', metric: 'growth' }, pass: 5, fail: 1 }] },
      { id: 'c3', text: 'bad diverges', conditions: [{ kind: 'above', ref: { arm: 'bad', metric: 'diverged' }, pass: 0.9, fail: 0.5 }] },
      ...(timing ? [{ id: 'c4', text: 'fast', conditions: [{ kind: 'below' as const, ref: { arm: 'good', metric: 'stepMs' }, pass: 20, fail: 30 }] }] : []),
    ],
    columns: [{ metric: 'growth', label: 'growth' }, ...(timing ? [{ metric: 'stepMs', label: 'step ms' }] : [])],
    figures: [
      { kind: 'curves', title: 'Validation loss' },
      { kind: 'series', title: 'RMS', series: 'streamRms', arms: ['good'], xLabel: 'block', yLabel: 'rms', logY: true },
      { kind: 'bars', title: 'Loss', metric: 'finalValLoss', yLabel: 'nats' },
    ],
  };
}

const results = [
  ...[0, 1, 2].map((s) => result('good', s, 2.0 + s * 0.01)),
  ...[0, 1, 2].map((s) => result('bad', s, 2.5 + s * 0.01, s === 0 ? { diverged: true, divergedAt: 40, finalValLoss: null } : {})),
];
const ctx = { seeds: 3, command: 'resnorm lab run demo --quick', commit: 'abc1234' };

describe('lab report', () => {
  it('decides each claim from the data and shows the criterion and the numbers', () => {
    const agg = aggregate(experiment(false), 'quick', results);
    expect(agg.claims.map((c) => c.result.verdict)).toEqual(['reproduced', 'inconclusive', 'not reproduced']);
    const { markdown } = renderReport(agg, ctx);
    expect(markdown).toContain('| good beats bad | **reproduced** |');
    expect(markdown).toContain('as in the paper');
    expect(markdown).toMatch(/pass — criterion: good <b>arm<\/b>: final val loss below bad & worse: final val loss by more than 1 pooled sd/);
    // A diverged run counts as ln V; one of three bad runs failed.
    expect(markdown).toMatch(/\| bad & worse \| 3\.17\d* ± [\d.]+ \| 1\/3 \|/);
    expect(markdown).toContain('`resnorm lab run demo --quick`');
    expect(markdown).toContain('`abc1234`');
    expect(markdown).toContain('![Validation loss: mean over seeds, the band from the lowest to the highest run.](fig-1.svg)');
  });

  it('is the same bytes for the same results, whatever the wall-clock fields say', () => {
    const a = renderReport(aggregate(experiment(false), 'quick', results), ctx);
    const later = results.map((r) => ({ ...r, timing: { ...r.timing, wallSeconds: 1, metrics: { stepMs: 999 } } }));
    const b = renderReport(aggregate(experiment(false), 'quick', later), ctx);
    expect(b).toEqual(a);
    for (const text of [a.markdown, a.html, ...a.figures.map((f) => f.svg)]) {
      expect(text).not.toContain('98765');
      expect(text).not.toContain('11.11');
    }
  });

  it('shows timing numbers, and the machine, only in a timing experiment', () => {
    const machine = { cpu: 'Test CPU', cores: 2, threadsPerProcess: 1, processes: 1, backend: 'wasm', node: '20' };
    const r = renderReport(aggregate(experiment(true), 'quick', results), { ...ctx, machine });
    expect(r.markdown).toContain('12.11 ± 1');
    expect(r.markdown).toContain('Test CPU (2 cores), wasm backend, 1 thread(s) per process');
    expect(r.markdown).not.toContain('98765');
  });

  it('escapes text and makes one self-contained HTML page with the figures inline', () => {
    const r = renderReport(aggregate(experiment(false), 'quick', results), ctx);
    expect(r.figures.map((f) => f.file)).toEqual(['fig-1.svg', 'fig-2.svg', 'fig-3.svg']);
    expect(r.html).toContain('good &lt;b&gt;arm&lt;/b&gt;');
    expect(r.html).toContain('Demo &lt;experiment&gt;');
    expect(r.html).not.toMatch(/<b>arm|<script|\ssrc=|\shref=/);
    expect(r.html.match(/<svg /g)).toHaveLength(3);
    expect(r.html).toContain('<strong class="v ok">reproduced</strong>');
    for (const f of r.figures) {
      expect(f.svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      expect(f.svg).not.toContain('<b>');
      expect(f.svg).not.toMatch(/NaN|Infinity/);
    }
  });

  it('puts axis ticks on round values', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(2.43, 3.1)).toEqual([2.6, 2.8, 3]);
    // log10 axes: decades, with 2 and 5 between when the span is short
    expect(logTicks(-0.1, 1.1).map((t) => Math.round(10 ** t * 1000) / 1000)).toEqual([1, 2, 5, 10]);
    expect(logTicks(-3, 2)).toEqual([-3, -2, -1, 0, 1, 2]);
  });

  it('summarises experiments as one Markdown table with every claim\'s verdict', () => {
    const table = summaryTable([{ agg: aggregate(experiment(false), 'quick', results), link: 'docs/lab/demo.md', partial: true }]);
    expect(table.split('\n')[0]).toBe('| experiment | finding | verdicts (quick mode) |');
    expect(table).toContain('| [demo](docs/lab/demo.md) (partial) | good beats bad | good beats bad: **reproduced**<br>good grows: **inconclusive**<br>bad diverges: **not reproduced** |');
  });

  it('says when results are missing', () => {
    const r = renderReport(aggregate(experiment(false), 'quick', results.slice(1)), { ...ctx, missing: ['good-s0'] });
    expect(r.markdown).toContain('**Partial report**: 1 job(s) have no result yet (good-s0)');
  });
});
