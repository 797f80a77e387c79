// Bench output: a printed table and a JSON file in bench/results/, each figure beside the reference
// measured in the same run (only same-run ratios mean anything across machines).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Row {
  /** Table section (sgemm, layernorm, attention, train step, generate, memory). */
  section?: string;
  bench: string;
  case: string;
  value: number;
  unit: string;
  /** The same quantity from the reference implementation, measured in this run (if available). */
  reference?: { name: string; value: number };
  /** Times are better lower; the ratio column then shows reference/value, so > 1 always means ahead. */
  lowerIsBetter?: boolean;
  note?: string;
}

/** A goal of an issue (5, 13, 15), judged on figures measured in this run. */
export interface Goal {
  goal: string;
  /** null when a figure it needs could not be measured here (no python3-torch, one core, ...). */
  met: boolean | null;
  figures: string;
}

export function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3);
}

/** How far ahead of its reference a row is: > 1 ahead, < 1 behind, whatever the unit. */
export function speedRatio(r: Row): number | null {
  if (!r.reference) return null;
  return r.lowerIsBetter ? r.reference.value / r.value : r.value / r.reference.value;
}

export function printTable(rows: readonly Row[]): void {
  const lines = rows.map((r) => {
    const ratio = speedRatio(r);
    return [
      r.bench,
      r.case,
      `${fmtNum(r.value)} ${r.unit}`,
      r.reference ? `${fmtNum(r.reference.value)} ${r.unit} (${r.reference.name})` : '—',
      ratio !== null ? `${ratio.toFixed(2)}x` : '',
      r.note ?? '',
    ];
  });
  const head = ['bench', 'case', 'resnorm', 'reference (same run)', 'vs ref', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const show = (cols: string[]) => console.log(cols.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
  let section: string | undefined;
  rows.forEach((r, i) => {
    if (i === 0 || r.section !== section) {
      section = r.section;
      console.log(`\n== ${section ?? ''}`);
      show(head);
      show(widths.map((w) => '-'.repeat(w)));
    }
    show(lines[i]);
  });
}

export function printGoals(goals: readonly Goal[]): void {
  console.log('\n== goals (issues 5, 13, 15; this run, this machine)');
  const width = Math.max(...goals.map((g) => g.goal.length));
  for (const g of goals) {
    const verdict = g.met === null ? 'NOT MEASURED' : g.met ? 'MET' : 'NOT MET';
    console.log(`${g.goal.padEnd(width)}  ${verdict.padEnd(12)}  ${g.figures}`);
  }
}

export function saveResults(name: string, rows: readonly Row[], extra: Record<string, unknown> = {}): string {
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, ...extra, rows }, null, 2));
  return file;
}

/** Median wall time in ms of `fn` over `reps` runs, after `warmup` untimed runs (lets V8 tier up). */
export async function timeMsAsync(fn: () => Promise<unknown>, reps: number, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** timeMsAsync for a synchronous `fn` (kernels called directly). */
export function timeMs(fn: () => void, reps: number, warmup = 2): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * Median ms per call of `fn`: warms up for `warmMs`, then times batches of calls (each batch at
 * least ~1 ms so the timer's resolution does not matter) until `budgetMs` has passed.
 */
export function timeBudgetMs(fn: () => void, budgetMs: number, warmMs = Math.min(200, budgetMs / 2)): number {
  const w0 = performance.now();
  let calls = 0;
  while (calls < 2 || performance.now() - w0 < warmMs) {
    fn();
    calls++;
  }
  const perCall = (performance.now() - w0) / calls;
  const batch = Math.max(1, Math.ceil(1 / perCall));
  const samples: number[] = [];
  const t0 = performance.now();
  while (samples.length < 3 || performance.now() - t0 < budgetMs) {
    const s = performance.now();
    for (let i = 0; i < batch; i++) fn();
    samples.push((performance.now() - s) / batch);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}
