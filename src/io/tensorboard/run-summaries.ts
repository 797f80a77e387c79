// What a run directory's records become in TensorBoard: metrics.jsonl and diagnostics.jsonl records
// (docs/run-directory.md) mapped to scalar and histogram summaries, and the records' process-relative
// wallTime mapped to the Unix seconds TensorBoard plots. The tags are listed in docs/tensorboard.md.
// Driven by the record's arrays and names only, so any model's diagnostics map the same way.

import { histogramOf, type SummaryValue, type TbEvent } from './event.ts';

/** One record's summaries; `wallTime` is the record's (seconds since its process started), null if it has none. */
export interface RunSummary {
  step: number;
  wallTime: number | null;
  values: SummaryValue[];
  /** The first summary after a record that marks a new training process (a diagnostics probe). */
  startsProcess?: true;
}

type Rec = Record<string, unknown>;

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

function scalars(out: SummaryValue[], pairs: [string, unknown][]): void {
  // A non-finite value is written as null in the logs; TensorBoard gets no point rather than a fake one.
  for (const [tag, x] of pairs) if (finite(x)) out.push({ tag, simpleValue: x });
}

function header(r: Rec): { step: number; wallTime: number | null } | null {
  if (!Number.isSafeInteger(r.step) || (r.step as number) < 0) return null;
  return { step: r.step as number, wallTime: finite(r.wallTime) ? r.wallTime : null };
}

/** A metrics.jsonl record: a step record (has `lr`) or an evaluation record (has `valLoss`). */
export function metricsSummary(r: Rec): RunSummary | null {
  const h = header(r);
  if (!h) return null;
  const values: SummaryValue[] = [];
  if ('valLoss' in r) {
    scalars(values, [['loss/val', r.valLoss], ['loss/train_eval', r.trainLoss]]);
    // The task's own measures (accuracy, BLEU, …), under eval/.
    const m = r.metrics;
    if (m !== null && typeof m === 'object' && !Array.isArray(m)) scalars(values, Object.entries(m as Rec).map(([k, v]) => [`eval/${k}`, v] as [string, unknown]));
  } else if ('lr' in r) {
    scalars(values, [['loss/train', r.trainLoss], ['lr', r.lr], ['grad_norm', r.gradNorm], ['tokens_per_sec', r.tokensPerSec], ['examples_per_sec', r.examplesPerSec]]);
  }
  return values.length > 0 ? { ...h, values } : null;
}

/**
 * The per-entry fields of a diagnostics `step` record: for each entry `{name, …}` of `array`, the
 * scalar `field` under the tag `prefix/<name>suffix`. The record's `loss` and `gradNorm` are left
 * out: metrics.jsonl has them already, under loss/train and grad_norm.
 */
const ENTRY_SCALARS: { array: string; field: string; prefix: string; suffix?: string }[] = [
  { array: 'layers', field: 'gradNorm', prefix: 'grad_norm' },
  { array: 'layers', field: 'updateRatio', prefix: 'update_ratio' },
  { array: 'layers', field: 'norm', prefix: 'weight_norm' },
  { array: 'blocks', field: 'rmsIn', prefix: 'residual_rms', suffix: '/in' },
  { array: 'blocks', field: 'rmsOut', prefix: 'residual_rms', suffix: '/out' },
  { array: 'sublayers', field: 'ratio', prefix: 'sublayer_ratio' },
  { array: 'norms', field: 'inStd', prefix: 'norm', suffix: '/in_std' },
  { array: 'norms', field: 'outRms', prefix: 'norm', suffix: '/out_rms' },
  { array: 'norms', field: 'gainMean', prefix: 'norm', suffix: '/gain_mean' },
];

function entries(r: Rec, array: string): Rec[] {
  const a = r[array];
  if (!Array.isArray(a)) return [];
  return a.filter((e): e is Rec => typeof e === 'object' && e !== null && typeof (e as Rec).name === 'string');
}

/** A diagnostics.jsonl record: `step` records and `spike` records have summaries; the other kinds none. */
export function diagnosticsSummary(r: Rec): RunSummary | null {
  const h = header(r);
  if (!h) return null;
  const values: SummaryValue[] = [];
  if (r.kind === 'step') {
    for (const s of ENTRY_SCALARS) {
      scalars(values, entries(r, s.array).map((e) => [`${s.prefix}/${e.name as string}${s.suffix ?? ''}`, e[s.field]]));
    }
    for (const e of entries(r, 'attention')) {
      const heads = Array.isArray(e.entropy) ? (e.entropy as unknown[]) : [];
      scalars(values, heads.map((x, i) => [`attention_entropy/${e.name as string}/head${i}`, x]));
    }
    const histo = histogramOf(entries(r, 'params').map((p) => p.gradNorm).filter(finite));
    if (histo) values.push({ tag: 'grad_norms', histo });
  } else if (r.kind === 'spike' && typeof r.metric === 'string') {
    scalars(values, [[`spike/${r.metric}`, r.value]]);
  }
  return values.length > 0 ? { ...h, values } : null;
}

/**
 * Splits one log's summaries (in file order) into training processes. Each process counts wallTime
 * from 0, so where it falls, a resume began (docs/run-directory.md); a diagnostics log also marks
 * each process with a probe record, which places a process's first records even without a wallTime.
 */
export function processSegments(summaries: readonly RunSummary[]): RunSummary[][] {
  const segments: RunSummary[][] = [];
  let last = -Infinity;
  for (const s of summaries) {
    if (segments.length === 0 || s.startsProcess === true || (s.wallTime !== null && s.wallTime < last)) {
      segments.push([]);
      last = -Infinity;
    }
    segments.at(-1)!.push(s);
    if (s.wallTime !== null) last = s.wallTime;
  }
  return segments;
}

/**
 * The Unix start time of each process, for a log whose last record was written at `endUnix`. The
 * logs do not say how long a run sat stopped before a resume, so the processes are laid back to
 * back: each one starts where the previous one's last record was.
 */
export function segmentStarts(segments: readonly RunSummary[][], endUnix: number): number[] {
  const starts = new Array<number>(segments.length);
  let end = endUnix;
  for (let k = segments.length - 1; k >= 0; k--) {
    starts[k] = end - lastWallTime(segments[k]);
    end = starts[k];
  }
  return starts;
}

function lastWallTime(segment: readonly RunSummary[]): number {
  let t = 0;
  for (const s of segment) if (s.wallTime !== null) t = Math.max(t, s.wallTime);
  return t;
}

/**
 * Events for one process's summaries, `start` being the Unix time of its wallTime 0. A record
 * without a wallTime (a spike) takes the latest one before it in its process (or the process's
 * start): early by at most one diagnostics interval.
 */
export function segmentEvents(segment: readonly RunSummary[], start: number): TbEvent[] {
  let t = 0;
  return segment.map((s) => {
    if (s.wallTime !== null) t = s.wallTime;
    return { wallTime: start + t, step: s.step, summary: s.values };
  });
}

export interface RunLogs {
  /** Parsed records of metrics.jsonl, in file order. */
  metrics: readonly Rec[];
  /** Parsed records of diagnostics.jsonl, in file order. */
  diagnostics: readonly Rec[];
  /** Unix seconds at which each log's last record was written (its modification time). */
  metricsEnd: number;
  diagnosticsEnd: number;
}

/**
 * Every summary of a finished (or running) run as events, in wall-time order. Both logs are split
 * into processes; when they count the same processes, the diagnostics share the metrics' start
 * times, so that one process's points line up in both, else each log is laid out from its own end.
 */
export function runEvents(logs: RunLogs): TbEvent[] {
  const of = (records: readonly Rec[], summarize: (r: Rec) => RunSummary | null) => {
    const summaries: RunSummary[] = [];
    let fresh = false; // a probe was seen: the next summary is a new process's first
    for (const r of records) {
      if (r.kind === 'probe') fresh = true;
      const s = summarize(r);
      if (!s) continue;
      summaries.push(fresh ? { ...s, startsProcess: true } : s);
      fresh = false;
    }
    return processSegments(summaries);
  };
  const m = of(logs.metrics, metricsSummary);
  const d = of(logs.diagnostics, diagnosticsSummary);
  const mStarts = segmentStarts(m, logs.metricsEnd);
  const dStarts = d.length === m.length ? mStarts : segmentStarts(d, logs.diagnosticsEnd);
  const events = [...m.flatMap((seg, k) => segmentEvents(seg, mStarts[k])), ...d.flatMap((seg, k) => segmentEvents(seg, dStarts[k]))];
  // Stable: at equal times metrics come first. Time order, not step order, so that a resumed process's
  // events follow its predecessor's, as they do in the files of a live run.
  return events.sort((a, b) => a.wallTime - b.wallTime);
}
