// What a line chart draws, computed from the full-resolution tables: each series smoothed (EMA) on all
// its points first, then downsampled (M4) to the pixels in view, then the series of every run joined on
// one x axis as uPlot wants it. Pure: the Node tests check it, line-chart.ts draws it.

import { EmaCache } from './ema.ts';
import { m4Indices, viewRange, lowerBound } from './downsample.ts';
import type { ExportSeries } from './export.ts';
import type { Table } from './table.ts';

export type XMode = 'step' | 'wall';

export interface LineSpec {
  /** Unique within its chart. */
  id: string;
  /** The run's name (hover, downloads). */
  run: string;
  /** What the series is ('train', 'val', 'h.0.attn'). */
  label: string;
  color: string;
  dash?: number[];
  /** Draw each point (sparse series: evaluations). */
  points?: boolean;
  /** Points only, no line, never smoothed: spike markers. */
  marker?: boolean;
  /** Never smoothed: a schedule (the learning rate), which an average would only delay. */
  noSmooth?: boolean;
  table: Table;
  col: string;
}

export interface LineOptions {
  x: XMode;
  /** EMA weight in [0, 1); 0 = off. */
  smoothing: number;
  log: boolean;
  /** The x range in view, or null for all of it. */
  range: [number, number] | null;
  /** Pixel columns: M4 keeps at most ~4 points per column per series. */
  buckets: number;
}

/** One drawn series: a spec's raw curve, or its smoothed one. */
export interface DrawnSeries {
  spec: LineSpec;
  kind: 'raw' | 'smooth' | 'marker';
}

export type Column = (number | null | undefined)[];

const emaCaches = new WeakMap<Table, Map<string, EmaCache>>();

/** The smoothed copy of a table column (cached and extended incrementally). */
export function smoothed(table: Table, col: string, w: number): Float64Array | null {
  const y = table.col(col);
  if (!y) return null;
  let m = emaCaches.get(table);
  if (!m) emaCaches.set(table, (m = new Map()));
  let c = m.get(col);
  if (!c) m.set(col, (c = new EmaCache()));
  return c.get(y, table.n, w, table.epoch);
}

export function xOf(table: Table, mode: XMode): Float64Array {
  return mode === 'step' ? table.step : table.wall;
}

function isSmoothed(spec: LineSpec, o: { smoothing: number }): boolean {
  return o.smoothing > 0 && !spec.marker && !spec.noSmooth;
}

/** The uPlot series a spec becomes: markers stay markers; with smoothing, a faint raw curve and the smoothed one. */
export function drawnSeries(specs: readonly LineSpec[], o: { smoothing: number }): DrawnSeries[] {
  const out: DrawnSeries[] = [];
  for (const spec of specs) {
    if (spec.marker) out.push({ spec, kind: 'marker' });
    else if (isSmoothed(spec, o)) out.push({ spec, kind: 'raw' }, { spec, kind: 'smooth' });
    else out.push({ spec, kind: 'raw' });
  }
  return out;
}

/** The x extent of every spec's points: what "all of it" means. */
export function xExtent(specs: readonly LineSpec[], mode: XMode): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of specs) {
    const x = xOf(s.table, mode);
    for (let i = 0; i < s.table.n; i++) {
      if (Number.isFinite(x[i])) {
        lo = Math.min(lo, x[i]);
        break;
      }
    }
    for (let i = s.table.n - 1; i >= 0; i--) {
      if (Number.isFinite(x[i])) {
        hi = Math.max(hi, x[i]);
        break;
      }
    }
  }
  return lo <= hi ? [lo, hi] : null;
}

/**
 * The aligned data for uPlot: [x, ...one column per drawn series], x ascending. A value is null where
 * the series has a gap (not finite, or ≤ 0 on a log scale) and undefined where another series has a
 * point but this one has none (uPlot draws lines across undefined, not across null).
 */
export function lineData(specs: readonly LineSpec[], o: LineOptions): { series: DrawnSeries[]; data: Column[] } {
  const series = drawnSeries(specs, o);
  const parts: { x: number[]; ys: Column[] }[] = [];
  for (const spec of specs) {
    const t = spec.table;
    const y = t.col(spec.col);
    const x = xOf(t, o.x);
    // One column per drawn series (drawnSeries), whether or not the table has this column yet.
    const nCols = isSmoothed(spec, o) ? 2 : 1;
    const smooth = nCols === 2 && y ? smoothed(t, spec.col, o.smoothing) : null;
    if (!y) {
      parts.push({ x: [], ys: Array.from({ length: nCols }, () => []) });
      continue;
    }
    const [i0, i1] = o.range ? viewRange(x, t.n, o.range[0], o.range[1]) : [0, t.n];
    const idx = m4Indices(x, smooth ? [y, smooth] : [y], i0, i1, o.buckets);
    const keep = (v: number) => (Number.isFinite(v) && !(o.log && v <= 0) ? v : null);
    const xs: number[] = [];
    const ys: Column[] = Array.from({ length: nCols }, () => []);
    for (const i of idx) {
      if (!Number.isFinite(x[i])) continue;
      xs.push(x[i]);
      ys[0].push(keep(y[i]));
      if (smooth) ys[1].push(keep(smooth[i]));
    }
    parts.push({ x: xs, ys });
  }
  return { series, data: join(parts) };
}

/** Joins tables [x, ys…] (each x ascending) on the union of their x values. */
export function join(parts: readonly { x: readonly number[]; ys: readonly Column[] }[]): Column[] {
  const all: number[] = [];
  for (const p of parts) for (const v of p.x) all.push(v);
  all.sort((a, b) => a - b);
  const xs: number[] = [];
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[i - 1]) xs.push(all[i]);
  const out: Column[] = [xs];
  for (const p of parts) {
    for (const ys of p.ys) {
      const col: Column = new Array(xs.length).fill(undefined);
      let j = 0;
      for (let i = 0; i < p.x.length; i++) {
        while (xs[j] < p.x[i]) j++;
        col[j] = ys[i];
      }
      out.push(col);
    }
  }
  return out;
}

/** A spec's point nearest to x (full resolution): for the hover readout. */
export function pointNear(spec: LineSpec, mode: XMode, x: number, smoothing: number): { step: number; wall: number; value: number; smooth: number | null } | null {
  const t = spec.table;
  const y = t.col(spec.col);
  if (!y || t.n === 0) return null;
  const xs = xOf(t, mode);
  let i = lowerBound(xs, t.n, x);
  if (i >= t.n || (i > 0 && x - xs[i - 1] < xs[i] - x)) i = Math.max(0, i - 1);
  const s = isSmoothed(spec, { smoothing }) ? smoothed(t, spec.col, smoothing) : null;
  return { step: t.step[i], wall: t.wall[i], value: y[i], smooth: s ? s[i] : null };
}

/** Every point of the specs, for download (smoothed too when smoothing is on). */
export function exportSeries(specs: readonly LineSpec[], smoothing: number): ExportSeries[] {
  return specs.map((spec) => {
    const t = spec.table;
    const y = t.col(spec.col) ?? new Float64Array(0);
    const n = t.col(spec.col) ? t.n : 0;
    const s = isSmoothed(spec, { smoothing }) && n > 0 ? smoothed(t, spec.col, smoothing) : null;
    return { run: spec.run, series: spec.label, n, step: t.step, wallTime: t.wall, value: y, ...(s ? { smoothed: s } : {}) };
  });
}
