// Bench output: a printed table and a JSON file in bench/results/, each figure beside the reference
// measured in the same run (only same-run ratios mean anything across machines).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Row {
  bench: string;
  case: string;
  value: number;
  unit: string;
  /** The same quantity from the reference implementation, measured in this run (if available). */
  reference?: { name: string; value: number };
  note?: string;
}

function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3);
}

export function printTable(rows: readonly Row[]): void {
  const lines = rows.map((r) => [
    r.bench,
    r.case,
    `${fmtNum(r.value)} ${r.unit}`,
    r.reference ? `${fmtNum(r.reference.value)} ${r.unit} (${r.reference.name})` : '—',
    r.reference ? `${(r.value / r.reference.value).toFixed(3)}x` : '',
    r.note ?? '',
  ]);
  const head = ['bench', 'case', 'resnorm', 'reference', 'ratio', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const show = (cols: string[]) => console.log(cols.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
  show(head);
  show(widths.map((w) => '-'.repeat(w)));
  lines.forEach(show);
}

export function saveResults(name: string, rows: readonly Row[], extra: Record<string, unknown> = {}): string {
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, ...extra, rows }, null, 2));
  return file;
}

/** Median wall time in ms of `fn` over `reps` runs, after `warmup` untimed runs (lets V8 tier up). */
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
