// One run's data on the page, built incrementally from the lines of its three logs as they arrive
// (over SSE, or from a report's inlined copy): column tables for everything plotted against steps, lists
// for the rest. A log that is reset is dropped and rebuilt from its lines, which follow again.

import { RUN_LOGS, type RunLog } from '../../io/run-store.ts';
import { parseDiag, parseMetric, parseSample, RunClock, type AttentionMaps, type Probe, type Sample, type Spike } from './records.ts';
import { Table } from './table.ts';

/** The logs the page follows: the run store's (io/run-store.ts has no Node imports, so it bundles). */
export const LOG_FILES = RUN_LOGS;
export type LogFile = RunLog;

/** The per-name groups of a diagnostics step record that the page plots. */
export const DIAG_GROUPS = ['layers', 'blocks', 'sublayers', 'norms', 'attention'] as const;
export type DiagGroup = (typeof DIAG_GROUPS)[number];

/** The column of a diagnostics table holding `prop` of entry `name` of `group`. */
export function diagKey(group: DiagGroup, name: string, prop: string): string {
  return `${group}|${name}|${prop}`;
}

/** The column of the evaluations table holding task metric `name`. */
export function metricKey(name: string): string {
  return `metric|${name}`;
}

export class RunData {
  /** Step records: columns trainLoss, lr, gradNorm, tokensPerSec, examplesPerSec. */
  train = new Table();
  /** Evaluation records: columns trainLoss, valLoss, and metricKey(name) for each task metric. */
  evals = new Table();
  /** The task metrics' names (accuracy, bleu, …), in the order first seen. */
  metricNames: string[] = [];
  /** Diagnostics step records: loss, gradNorm, and diagKey(...) columns. */
  diag = new Table();
  /** The entry names of each group, in model order (as first seen). */
  names: Record<DiagGroup, string[]> = { layers: [], blocks: [], sublayers: [], norms: [], attention: [] };
  /** Heads per attention layer (from the entropy arrays). */
  heads = new Map<string, number>();
  attention: AttentionMaps[] = [];
  spikes: Spike[] = [];
  probe: Probe | null = null;
  samples: Sample[] = [];
  /** Bumped on every change of anything here. */
  version = 0;
  private clocks = new Map<LogFile, RunClock>();

  private clock(file: LogFile): RunClock {
    let c = this.clocks.get(file);
    if (!c) this.clocks.set(file, (c = new RunClock()));
    return c;
  }

  /** Forgets what came from one log (it was truncated or replaced; its lines follow again). */
  reset(file: LogFile): void {
    this.clocks.delete(file);
    switch (file) {
      case 'metrics.jsonl':
        this.train = new Table();
        this.evals = new Table();
        this.metricNames = [];
        break;
      case 'samples.jsonl':
        this.samples = [];
        break;
      case 'diagnostics.jsonl':
        this.diag = new Table();
        this.names = { layers: [], blocks: [], sublayers: [], norms: [], attention: [] };
        this.heads.clear();
        this.attention = [];
        this.spikes = [];
        this.probe = null;
        break;
      default: {
        const never: never = file;
        throw new Error(`unknown log ${String(never)}`);
      }
    }
    this.version++;
  }

  apply(file: LogFile, lines: readonly string[]): void {
    switch (file) {
      case 'metrics.jsonl':
        for (const l of lines) this.metric(l);
        break;
      case 'samples.jsonl':
        for (const l of lines) this.sample(l);
        break;
      case 'diagnostics.jsonl':
        for (const l of lines) this.diagnostic(l);
        break;
      default: {
        const never: never = file;
        throw new Error(`unknown log ${String(never)}`);
      }
    }
    this.version++;
  }

  private metric(line: string): void {
    const r = parseMetric(line);
    if (!r) return;
    const wall = this.clock('metrics.jsonl').at(r.step, r.wallTime);
    if (r.kind === 'train') {
      // A step logged again: a resumed process replays from its checkpoint; its records replace the old.
      if (r.step <= this.train.lastStep) {
        this.train.truncateFrom(r.step);
        this.evals.truncateFrom(r.step);
      }
      this.train.push(r.step, wall, [
        ['trainLoss', r.trainLoss],
        ['lr', r.lr],
        ['gradNorm', r.gradNorm],
        ['tokensPerSec', r.tokensPerSec],
        ['examplesPerSec', r.examplesPerSec],
      ]);
    } else {
      if (r.step <= this.evals.lastStep) this.evals.truncateFrom(r.step);
      for (const [name] of r.metrics) if (!this.metricNames.includes(name)) this.metricNames.push(name);
      this.evals.push(r.step, wall, [
        ['trainLoss', r.trainLoss],
        ['valLoss', r.valLoss],
        ...r.metrics.map(([name, v]): [string, number] => [metricKey(name), v]),
      ]);
    }
  }

  private sample(line: string): void {
    const s = parseSample(line);
    if (!s) return;
    s.wallTime = this.clock('samples.jsonl').at(s.step, s.wallTime);
    while (this.samples.length > 0 && this.samples[this.samples.length - 1].step > s.step) this.samples.pop();
    this.samples.push(s);
  }

  private diagnostic(line: string): void {
    const r = parseDiag(line);
    if (!r) return;
    switch (r.kind) {
      case 'step': {
        const wall = this.clock('diagnostics.jsonl').at(r.step, r.wallTime);
        if (r.step <= this.diag.lastStep) {
          this.diag.truncateFrom(r.step);
          this.attention = this.attention.filter((a) => a.step < r.step);
          this.spikes = this.spikes.filter((s) => s.step < r.step);
        }
        const cols: [string, number][] = [
          ['loss', r.loss],
          ['gradNorm', r.gradNorm],
        ];
        for (const group of ['layers', 'blocks', 'sublayers', 'norms'] as const) {
          for (const e of r[group]) {
            this.noteName(group, e.name);
            for (const [k, v] of e.values) cols.push([diagKey(group, e.name, k), v]);
          }
        }
        for (const a of r.attention) {
          this.noteName('attention', a.name);
          this.heads.set(a.name, Math.max(this.heads.get(a.name) ?? 0, a.entropy.length));
          a.entropy.forEach((v, h) => cols.push([diagKey('attention', a.name, `entropy.${h}`), v]));
        }
        this.diag.push(r.step, wall, cols);
        break;
      }
      case 'attention':
        while (this.attention.length > 0 && this.attention[this.attention.length - 1].step >= r.step) this.attention.pop();
        this.attention.push(r);
        break;
      case 'spike':
        this.spikes.push(r);
        break;
      case 'probe':
        this.probe = r;
        break;
      default: {
        const never: never = r;
        throw new Error(`unknown record ${String(never)}`);
      }
    }
  }

  private noteName(group: DiagGroup, name: string): void {
    const list = this.names[group];
    if (!list.includes(name)) list.push(name);
  }

  /** Last train loss, last and best validation loss, last step: the runs table's "final metrics". */
  summary(): { step: number; trainLoss: number; valLoss: number; bestValLoss: number; wallTime: number } {
    const t = this.train;
    const e = this.evals;
    const val = e.col('valLoss');
    let best = NaN;
    for (let i = 0; val && i < e.n; i++) if (Number.isFinite(val[i]) && !(val[i] >= best)) best = val[i];
    const lastT = t.n - 1;
    const lastE = e.n - 1;
    const walls = [lastT >= 0 ? t.wall[lastT] : NaN, lastE >= 0 ? e.wall[lastE] : NaN].filter(Number.isFinite);
    return {
      step: Math.max(t.lastStep, e.lastStep),
      trainLoss: lastT >= 0 ? t.col('trainLoss')![lastT] : NaN,
      valLoss: lastE >= 0 ? val![lastE] : NaN,
      bestValLoss: best,
      wallTime: walls.length > 0 ? Math.max(...walls) : NaN,
    };
  }
}
