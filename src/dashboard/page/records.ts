// The records of a run's logs as the page reads them (docs/run-directory.md): every line parsed
// defensively, since a run file is input, not code. A line that does not parse, or lacks what its kind
// needs, is skipped; unknown fields are ignored; a null or missing number is NaN.

import type { ProbeRecord } from '../../train/diagnostics/records.ts';

export interface StepMetric {
  kind: 'train';
  step: number;
  wallTime: number;
  trainLoss: number;
  lr: number;
  gradNorm: number;
  tokensPerSec: number;
  /** The throughput of the tasks besides the language model (pairs, texts or images a second). */
  examplesPerSec: number;
}

export interface EvalMetric {
  kind: 'eval';
  step: number;
  wallTime: number;
  trainLoss: number;
  valLoss: number;
  /** The task's measures on the validation split (accuracy, BLEU, …): the finite numbers of `metrics`. */
  metrics: [string, number][];
}

export type MetricRecord = StepMetric | EvalMetric;

export interface Sample {
  step: number;
  wallTime: number;
  prompt: string;
  text: string;
}

export interface NamedStats {
  name: string;
  /** Every numeric field of the entry (null → NaN). */
  values: Map<string, number>;
}

export interface DiagStep {
  kind: 'step';
  step: number;
  wallTime: number;
  loss: number;
  gradNorm: number;
  layers: NamedStats[];
  blocks: NamedStats[];
  sublayers: NamedStats[];
  norms: NamedStats[];
  /** Per attention layer, the entropy of each head (nats). */
  attention: { name: string; entropy: number[] }[];
}

export interface AttentionMaps {
  kind: 'attention';
  step: number;
  tokens: string[];
  /** maps[l].heads[h][t][s]: weight of query t on key s ≤ t. */
  maps: { name: string; heads: number[][][] }[];
}

export interface Spike {
  kind: 'spike';
  step: number;
  metric: string;
  value: number;
  baseline: number;
  threshold: number;
}

/** The probe's description, as the trainer writes it. */
export type Probe = ProbeRecord;

export type DiagRecord = DiagStep | AttentionMaps | Spike | Probe;

type Obj = Record<string, unknown>;

function parseObject(line: string): Obj | null {
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : null;
  } catch {
    return null;
  }
}

/** A number, or NaN for null, absent or anything else. */
export function num(v: unknown): number {
  return typeof v === 'number' ? v : NaN;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function hasStep(o: Obj): boolean {
  return typeof o.step === 'number' && Number.isFinite(o.step);
}

export function parseMetric(line: string): MetricRecord | null {
  const o = parseObject(line);
  if (!o || !hasStep(o)) return null;
  const step = o.step as number;
  if ('lr' in o) {
    return { kind: 'train', step, wallTime: num(o.wallTime), trainLoss: num(o.trainLoss), lr: num(o.lr), gradNorm: num(o.gradNorm), tokensPerSec: num(o.tokensPerSec), examplesPerSec: num(o.examplesPerSec) };
  }
  if ('valLoss' in o) return { kind: 'eval', step, wallTime: num(o.wallTime), trainLoss: num(o.trainLoss), valLoss: num(o.valLoss), metrics: taskMetrics(o.metrics) };
  return null;
}

/** A record's `metrics` object as [name, value] pairs: finite numbers only, at most 64 of them. */
function taskMetrics(v: unknown): [string, number][] {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return [];
  return Object.entries(v as Obj)
    .filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]))
    .slice(0, 64);
}

export function parseSample(line: string): Sample | null {
  const o = parseObject(line);
  if (!o || !hasStep(o) || typeof o.text !== 'string') return null;
  return { step: o.step as number, wallTime: num(o.wallTime), prompt: str(o.prompt), text: o.text };
}

function namedStats(v: unknown): NamedStats[] {
  if (!Array.isArray(v)) return [];
  const out: NamedStats[] = [];
  for (const e of v) {
    if (typeof e !== 'object' || e === null || typeof (e as Obj).name !== 'string') continue;
    const values = new Map<string, number>();
    for (const [k, x] of Object.entries(e as Obj)) if (typeof x === 'number' || x === null) values.set(k, num(x));
    out.push({ name: (e as Obj).name as string, values });
  }
  return out;
}

function numberArray(v: unknown): number[] {
  return Array.isArray(v) ? v.map(num) : [];
}

/** heads[h][t][s], each row a list of numbers; anything malformed becomes an empty head or row. */
function heads(v: unknown): number[][][] {
  if (!Array.isArray(v)) return [];
  return v.map((h) => (Array.isArray(h) ? h.map(numberArray) : []));
}

export function parseDiag(line: string): DiagRecord | null {
  const o = parseObject(line);
  if (!o || !hasStep(o)) return null;
  const step = o.step as number;
  switch (o.kind) {
    case 'step':
      return {
        kind: 'step',
        step,
        wallTime: num(o.wallTime),
        loss: num(o.loss),
        gradNorm: num(o.gradNorm),
        layers: namedStats(o.layers),
        blocks: namedStats(o.blocks),
        sublayers: namedStats(o.sublayers),
        norms: namedStats(o.norms),
        attention: Array.isArray(o.attention)
          ? o.attention.filter((a): a is Obj => typeof a === 'object' && a !== null && typeof (a as Obj).name === 'string').map((a) => ({ name: a.name as string, entropy: numberArray(a.entropy) }))
          : [],
      };
    case 'attention': {
      if (!Array.isArray(o.tokens) || !Array.isArray(o.maps)) return null;
      const maps = o.maps
        .filter((m): m is Obj => typeof m === 'object' && m !== null && typeof (m as Obj).name === 'string')
        .map((m) => ({ name: m.name as string, heads: heads(m.heads) }));
      return { kind: 'attention', step, tokens: o.tokens.map((t) => (typeof t === 'string' ? t : String(t))), maps };
    }
    case 'spike':
      return { kind: 'spike', step, metric: str(o.metric), value: num(o.value), baseline: num(o.baseline), threshold: num(o.threshold) };
    case 'probe':
      return { kind: 'probe', step, sequences: num(o.sequences), length: num(o.length), source: str(o.source), seed: num(o.seed) };
    default:
      return null;
  }
}

/**
 * Wall time across resumes. wallTime counts from 0 in each training process, so when it falls a new
 * process has resumed the run: from then on add the time of the last record before the step it resumed
 * at (records past that step, left by the killed process, are superseded).
 */
export class RunClock {
  private steps: number[] = [];
  private times: number[] = [];
  private base = 0;
  private lastRaw = -Infinity;

  /** The run's time at a record of `step` with this process's `wallTime`; NaN in, NaN out. */
  at(step: number, wallTime: number): number {
    if (!Number.isFinite(wallTime)) return NaN;
    if (wallTime < this.lastRaw) {
      let i = this.steps.length - 1;
      while (i >= 0 && this.steps[i] >= step) i--;
      this.base = i >= 0 ? this.times[i] : 0;
    }
    this.lastRaw = wallTime;
    const t = this.base + wallTime;
    this.steps.push(step);
    this.times.push(t);
    return t;
  }
}
