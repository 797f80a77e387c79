// Download of what a chart shows, at full resolution (never the downsampled points): CSV, one row per
// point in long form (run, series, step, wall time, value, smoothed), and JSON, one object per series.

export interface ExportSeries {
  run: string;
  series: string;
  n: number;
  step: ArrayLike<number>;
  wallTime: ArrayLike<number>;
  value: ArrayLike<number>;
  /** The EMA-smoothed values, when smoothing is on. */
  smoothed?: ArrayLike<number>;
}

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. A text field that
 * starts like a formula (= + - @, tab, CR) is prefixed with ' so a spreadsheet shows it as text: run
 * names come from the file system, and a name like `=HYPERLINK(…)` must not become a live formula.
 */
export function csvField(v: string | number): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  let s = v;
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(series: readonly ExportSeries[]): string {
  const smoothed = series.some((s) => s.smoothed);
  const rows = [['run', 'series', 'step', 'wall_time_s', 'value', ...(smoothed ? ['smoothed'] : [])].join(',')];
  for (const s of series) {
    const pre = `${csvField(s.run)},${csvField(s.series)},`;
    for (let i = 0; i < s.n; i++) {
      let row = `${pre}${csvField(s.step[i])},${csvField(s.wallTime[i])},${csvField(s.value[i])}`;
      if (smoothed) row += `,${s.smoothed ? csvField(s.smoothed[i]) : ''}`;
      rows.push(row);
    }
  }
  return rows.join('\n') + '\n';
}

const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);

export function toJson(chart: string, meta: Record<string, unknown>, series: readonly ExportSeries[]): string {
  const take = (a: ArrayLike<number>, n: number) => Array.from({ length: n }, (_, i) => finiteOrNull(a[i]));
  return JSON.stringify({
    chart,
    ...meta,
    series: series.map((s) => ({
      run: s.run,
      series: s.series,
      step: take(s.step, s.n),
      wallTime: take(s.wallTime, s.n),
      value: take(s.value, s.n),
      ...(s.smoothed ? { smoothed: take(s.smoothed, s.n) } : {}),
    })),
  });
}

/** A name for a download: the chart's title, lower-case, with anything but letters and digits as '-'. */
export function fileName(title: string, ext: string): string {
  const base = title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'data';
  return `resnorm-${base}.${ext}`;
}
